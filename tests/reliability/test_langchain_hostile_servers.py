"""Hostile 402 servers seen from LangChain: ``ChatGrokMPP.with_retry()`` signs nothing, sends nothing.

tests/reliability/test_hostile_challenges.py drives the attacks through the core clients; this file
drives a representative set through the LangChain model inside ``with_retry`` (default: retry on
any Exception), sync and async, and checks the adapter's error contract: the raised error is the
core class (``except PolicyViolationError`` works) AND a ``langchain_core`` ``ModelError``, says
nothing was paid, and the hostile server never saw an ``Authorization`` header.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.exceptions import ModelError

from grok_mpp.errors import (
    AmountOverCapError,
    ChallengeParseError,
    GatewayError,
    GrokMPPError,
    NoSupportedChallengeError,
    PolicyViolationError,
)
from grok_mpp.wallet import Wallet
from langchain_grok_mpp import ChatGrokMPP

from .support import HostileServer, SpyWallet
from .test_hostile_challenges import challenge, request_b64, www

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

CASES: dict[str, tuple[int, list[tuple[str, str]], type[GrokMPPError]]] = {
    "wrong-chain": (402, www(challenge(request=request_b64(details={"chainId": 42431}))), PolicyViolationError),
    "wrong-token": (402, www(challenge(request=request_b64(currency="0x" + "20c0" + "99" * 18))),
                    PolicyViolationError),
    "zero-recipient": (402, www(challenge(request=request_b64(recipient="0x" + "00" * 20))), PolicyViolationError),
    "header-host": (402, www(challenge(header="Host")), PolicyViolationError),
    "amount-above-cap": (402, www(challenge(request=request_b64(amount="100001"))), AmountOverCapError),
    "huge-amount-string": (402, www(challenge(request=request_b64(amount="9" * 5000))), ChallengeParseError),
    "negative-amount": (402, www(challenge(request=request_b64(amount="-1"))), ChallengeParseError),
    "float-amount": (402, www(challenge(request=request_b64(amount="0.5"))), ChallengeParseError),
    "expired": (402, www(challenge(expires="2020-01-01T00:00:00.000Z")), PolicyViolationError),
    "realm-mismatch": (402, www(challenge(realm="grok.mpp.paywithlocus.com")), PolicyViolationError),
    "session-intent-only": (402, www(challenge(intent="session")), NoSupportedChallengeError),
    "duplicate-param": (402, www(challenge() + ', request="' + request_b64(amount="1") + '"'), ChallengeParseError),
    "redirect": (307, [("Location", "https://grok.example/grok/chat")], GatewayError),
}


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer() as hostile:
        yield hostile


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_langchain_model_signs_and_sends_nothing_to_a_hostile_server(
    case: str, mode: str, server: HostileServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("GROK_MPP_LEDGER", str(tmp_path / "ledger.sqlite3"))
    status, headers, expected = CASES[case]
    server.answer = (status, headers)
    spy = SpyWallet(Wallet.create())
    seen = server.credentials_seen
    llm = ChatGrokMPP(wallet=spy, base_url=server.url, model="grok-3-mini", max_tokens=16)
    runnable = llm.with_retry(stop_after_attempt=2, wait_exponential_jitter=False)
    with pytest.raises(expected) as err:
        if mode == "sync":
            runnable.invoke("hi")
        else:
            asyncio.run(runnable.ainvoke("hi"))
    assert isinstance(err.value, ModelError), type(err.value).__mro__
    assert not err.value.paid
    assert spy.sign_count == 0
    assert server.credentials_seen == seen


def test_a_redirect_is_reported_as_one(server: HostileServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """A 3xx is not an answer: the error names the redirect and where it points (was: 'neither chat choices')."""
    monkeypatch.setenv("GROK_MPP_LEDGER", str(tmp_path / "ledger.sqlite3"))
    server.answer = (301, [("Location", "https://grok.example/grok/chat")])
    llm = ChatGrokMPP(wallet=SpyWallet(Wallet.create()), base_url=server.url, model="grok-3-mini", max_tokens=16)
    with pytest.raises(GatewayError) as err:
        llm.invoke("hi")
    message = str(err.value)
    assert "redirect" in message and "https://grok.example/grok/chat" in message, message
    assert err.value.status_code == 301 and not err.value.paid
