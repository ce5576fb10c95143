"""Challenges naming an unpayable recipient or a credential header other than Payment-Authorization.

A zero or precompile recipient makes the transfer revert or burn (the payer loses at least the
fee); a ``header=`` naming ``Host``, ``Content-Length`` or a custom header would put the bearer
credential where it must not go. Through the full client, sync and async: zero signatures, and the
hostile server sees exactly one request (the unpaid one), so zero credentials were sent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from grok_mpp import AsyncGrokClient, GrokClient
from grok_mpp.errors import PolicyViolationError
from grok_mpp.payment.hooks import InMemoryBudget
from grok_mpp.payment.policy import PaymentPolicy, evaluate
from grok_mpp.wallet import Wallet

from .support import HostileServer, SpyWallet
from .test_hostile_challenges import challenge, request_b64, www

RECIPIENTS = {
    "zero": "0x" + "00" * 20,
    "ecrecover-0x01": "0x" + "00" * 19 + "01",
    "precompile-0x0a": "0x" + "00" * 19 + "0a",
    "p256-0x0100": "0x" + "00" * 18 + "0100",
    "tip20-token-pathusd": "0x20c0000000000000000000000000000000000000",
    "tip20-token-usdce": "0x20c000000000000000000000b9537d11c60e8b50",
    "fee-manager": "0xfeec000000000000000000000000000000000000",
}
HEADERS = ["Host", "Content-Length", "X-Payment-Credential", "Authorization", "Cookie", "Payment-Authorization-X"]


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer() as hostile:
        yield hostile


def _call(mode: str, spy: SpyWallet, base_url: str) -> None:
    kwargs: dict[str, Any] = {"wallet": spy, "base_url": base_url, "policy": PaymentPolicy(), "guard": InMemoryBudget(),
                              "rpc_url": None}
    if mode == "sync":
        with GrokClient(http_client=httpx.Client(timeout=10), **kwargs) as client:
            client.chat(messages=[{"role": "user", "content": "hi"}])
        return

    async def main() -> None:
        async with AsyncGrokClient(http_client=httpx.AsyncClient(timeout=10), **kwargs) as client:
            await client.chat(messages=[{"role": "user", "content": "hi"}])

    asyncio.run(main())


def _assert_nothing_sent(mode: str, server: HostileServer, rule: str) -> None:
    spy = SpyWallet(Wallet.create())
    before = server.requests
    with pytest.raises(PolicyViolationError) as err:
        _call(mode, spy, server.url)
    assert err.value.rule == rule and not err.value.paid
    assert spy.sign_count == 0
    assert server.requests - before == 1  # the unpaid request only: no credential in any header


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("recipient", list(RECIPIENTS), ids=list(RECIPIENTS))
def test_unpayable_recipient_is_refused_before_signing(mode: str, recipient: str, server: HostileServer) -> None:
    server.answer = (402, www(challenge(request=request_b64(recipient=RECIPIENTS[recipient]))))
    _assert_nothing_sent(mode, server, "recipient")


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_unpayable_split_recipient_is_refused(mode: str, server: HostileServer) -> None:
    details = {"splits": [{"amount": "10", "recipient": "0x" + "00" * 20}]}
    server.answer = (402, www(challenge(request=request_b64(details=details))))
    _assert_nothing_sent(mode, server, "recipient")


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("header", HEADERS)
def test_credential_header_other_than_payment_authorization_is_refused(
    mode: str, header: str, server: HostileServer
) -> None:
    server.answer = (402, www(challenge(header=header)))
    _assert_nothing_sent(mode, server, "header")


def test_payment_authorization_header_is_accepted_case_insensitively() -> None:
    from grok_mpp.mpp.challenge import parse_www_authenticate

    for name in ("Payment-Authorization", "payment-authorization"):
        (parsed,) = parse_www_authenticate([challenge(header=name)])
        approved = evaluate(parsed, PaymentPolicy(), host="127.0.0.1", now=time.time())
        assert approved.challenge.credential_header == name
