"""Hostile 402 challenges through the full client (sync and async): ZERO signatures, every time.

The challenges come from a real HTTP server on loopback (``HostileServer``) except for the two
origins that cannot exist on this machine (a non-loopback plain-HTTP host), which use an httpx mock
transport. A spy wraps a real funded wallet and counts ``sign_hash`` calls; the server counts
``Authorization`` headers. tests/unit/payment covers each policy rule on the bare ``MPPAuth``; this
file drives the same attacks and the header-level ones through ``GrokClient``/``AsyncGrokClient``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from grok_mpp import AsyncGrokClient, GrokClient
from grok_mpp.chains import PATHUSD, USDCE
from grok_mpp.errors import (
    AmountOverCapError,
    ChallengeParseError,
    GatewayError,
    GrokMPPError,
    InsecureTransportError,
    NoSupportedChallengeError,
    PolicyViolationError,
)
from grok_mpp.mpp.challenge import format_challenge
from grok_mpp.mpp.encoding import b64url_encode, encode_b64_json
from grok_mpp.payment.hooks import InMemoryBudget
from grok_mpp.payment.policy import PaymentPolicy
from grok_mpp.wallet import Wallet

from .support import HostileServer, SpyWallet

MSG = [{"role": "user", "content": "hi"}]
RECIPIENT = "0x060b0fb0be9d90557577b3aee480711067149ff0"
STRANGER = "0x" + "66" * 20


def request_b64(**overrides: Any) -> str:
    details = {"chainId": 4217, **overrides.pop("details", {})}
    request = {"amount": "6000", "currency": USDCE, "recipient": RECIPIENT, "methodDetails": details, **overrides}
    return encode_b64_json(request, canonical=True)


def challenge(realm: str = "127.0.0.1", **params: str) -> str:
    expires = (datetime.now(UTC) + timedelta(minutes=5)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    base = {"id": "hostile-1", "realm": realm, "method": "tempo", "intent": "charge", "request": request_b64(),
            "expires": expires}
    base.update(params)
    return format_challenge(base)


@dataclass(frozen=True)
class Hostile:
    id: str
    headers: list[tuple[str, str]]
    error: type[GrokMPPError]
    status: int = 402
    policy: dict[str, Any] = field(default_factory=dict)
    rule: str | None = None


def www(*values: str) -> list[tuple[str, str]]:
    return [("WWW-Authenticate", v) for v in values]


HOSTILE = [
    Hostile("wrong-chain", www(challenge(request=request_b64(details={"chainId": 42431}))), PolicyViolationError,
            rule="chain"),
    Hostile("token-of-another-chain", www(challenge(request=request_b64(currency=PATHUSD))), PolicyViolationError,
            policy={"allowed_currencies": frozenset({USDCE})}, rule="currency"),
    Hostile("wrong-token", www(challenge(request=request_b64(currency="0x" + "20c0" + "99" * 18))),
            PolicyViolationError, rule="currency"),
    Hostile("wrong-recipient", www(challenge(request=request_b64(recipient=STRANGER))), PolicyViolationError,
            policy={"allowed_recipients": frozenset({RECIPIENT})}, rule="recipient"),
    Hostile("amount-over-cap", www(challenge(request=request_b64(amount="100001"))), AmountOverCapError, rule="cap"),
    Hostile("amount-over-uint256", www(challenge(request=request_b64(amount=str(2**256)))), ChallengeParseError),
    Hostile("negative-amount", www(challenge(request=request_b64(amount="-5"))), ChallengeParseError),
    Hostile("split-to-stranger",
            www(challenge(request=request_b64(details={"splits": [{"amount": "10", "recipient": STRANGER}]}))),
            PolicyViolationError, policy={"allowed_recipients": frozenset({RECIPIENT})}, rule="recipient"),
    Hostile("splits-eat-the-amount",
            www(challenge(request=request_b64(details={"splits": [{"amount": "6000", "recipient": RECIPIENT}]}))),
            PolicyViolationError, rule="splits"),
    Hostile("too-many-splits",
            www(challenge(request=request_b64(details={"splits": [{"amount": "1", "recipient": RECIPIENT}] * 11}))),
            ChallengeParseError),
    Hostile("oversized-header", www(challenge(description="x" * 70_000)), ChallengeParseError),
    Hostile("oversized-request-param", www(challenge(request="A" * 40_000)), ChallengeParseError),
    Hostile("too-many-challenges", www(*[challenge(id=f"c{i}") for i in range(20)]), ChallengeParseError),
    Hostile("bad-base64", www(challenge(request="eyJ!!!")), ChallengeParseError),
    Hostile("standard-base64-alphabet", www(challenge(request="eyJh+/==")), ChallengeParseError),
    Hostile("bad-json", www(challenge(request=b64url_encode(b'{"amount": 6000,'))), ChallengeParseError),
    Hostile("json-not-object", www(challenge(request=b64url_encode(b'["6000"]'))), ChallengeParseError),
    Hostile("float-amount", www(challenge(request=b64url_encode(b'{"amount":0.006,"currency":"' + USDCE.encode()
                                                                + b'","recipient":"' + RECIPIENT.encode() + b'"}'))),
            ChallengeParseError),
    Hostile("duplicate-param", www(challenge() + ', amount="1"' + ', request="' + request_b64(amount="1") + '"'),
            ChallengeParseError),
    Hostile("realm-of-another-host", www(challenge(realm="grok.mpp.paywithlocus.com")), PolicyViolationError,
            rule="realm"),
    Hostile("already-expired", www(challenge(expires="2020-01-01T00:00:00.000Z")), PolicyViolationError,
            rule="expiry"),
    Hostile("fee-payer-not-bool", www(challenge(request=request_b64(details={"feePayer": "yes"}))),
            ChallengeParseError),
    Hostile("push-mode-only", www(challenge(request=request_b64(details={"supportedModes": ["push"]}))),
            PolicyViolationError, rule="mode"),
    Hostile("unsupported-method-only", www(challenge(method="evm")), NoSupportedChallengeError),
    Hostile("payment-scheme-without-params", www("Payment"), ChallengeParseError),
    Hostile("402-without-payment-challenge", www('Bearer realm="x"'), GatewayError),
    Hostile("redirect-to-another-origin", [("Location", "http://localhost:9/grok/chat")], GatewayError, status=307),
]


@pytest.fixture(scope="module")
def hostile_server() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


@pytest.fixture
def spy() -> SpyWallet:
    return SpyWallet(Wallet.create())


def _call(mode: str, spy: SpyWallet, base_url: str, policy: PaymentPolicy, guard: InMemoryBudget, **http: Any) -> None:
    kwargs: dict[str, Any] = {"wallet": spy, "base_url": base_url, "policy": policy, "guard": guard,
                              "rpc_url": None}
    if mode == "sync":
        with GrokClient(http_client=httpx.Client(timeout=10, **http), **kwargs) as client:
            client.chat(messages=MSG)
        return

    async def main() -> None:
        async with AsyncGrokClient(http_client=httpx.AsyncClient(timeout=10, **http), **kwargs) as client:
            await client.chat(messages=MSG)

    asyncio.run(main())


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("case", HOSTILE, ids=[c.id for c in HOSTILE])
def test_hostile_challenge_signs_nothing(case: Hostile, mode: str, hostile_server: HostileServer, spy: SpyWallet) -> None:
    hostile_server.answer = (case.status, case.headers)
    before = hostile_server.credentials_seen
    guard = InMemoryBudget()
    policy = PaymentPolicy(**{"gas_limit": 1_000_000, **case.policy})
    with pytest.raises(GrokMPPError) as err:
        _call(mode, spy, hostile_server.url, policy, guard)
    assert isinstance(err.value, case.error), repr(err.value)
    if case.rule is not None:
        assert err.value.rule == case.rule  # type: ignore[attr-defined]
    assert spy.sign_count == 0
    assert hostile_server.credentials_seen == before
    assert guard.committed == 0
    assert not err.value.paid and str(err.value)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_redirect_followed_by_a_user_client_is_refused(mode: str, hostile_server: HostileServer, spy: SpyWallet) -> None:
    """A user-supplied client that follows redirects lands on another origin's 402: refused unsigned."""
    hostile_server.answer = (402, www(challenge(realm="localhost")))
    front = HostileServer()
    front.answer = (307, [("Location", hostile_server.url.replace("127.0.0.1", "localhost") + "/grok/chat")])
    before = hostile_server.credentials_seen
    with front, pytest.raises(InsecureTransportError, match="redirect"):
        _call(mode, spy, front.url, PaymentPolicy(), InMemoryBudget(), follow_redirects=True)
    assert spy.sign_count == 0 and hostile_server.credentials_seen == before and front.credentials_seen == 0


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_plain_http_to_a_remote_host_is_refused(mode: str, spy: SpyWallet) -> None:
    """Non-loopback hosts cannot be reached here, so only this origin uses a mock transport."""
    header = challenge(realm="grok.example")
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(402, headers={"WWW-Authenticate": header})

    transport: Any = httpx.MockTransport(answer)
    with pytest.raises(InsecureTransportError, match=r"http://"):
        _call(mode, spy, "http://grok.example", PaymentPolicy(), InMemoryBudget(), transport=transport)
    assert spy.sign_count == 0 and len(seen) == 1 and "authorization" not in seen[0].headers
