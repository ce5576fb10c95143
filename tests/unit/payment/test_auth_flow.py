"""MPPAuth end to end against a strict MPP server on loopback, with httpx.Client and AsyncClient."""

from __future__ import annotations

import json

import httpx
import pytest

from grok_mpp.errors import (
    AmountOverCapError,
    BudgetExceededError,
    InsecureTransportError,
    NoSupportedChallengeError,
    PaymentOutcomeUnknownError,
    PaymentRejectedError,
    PolicyViolationError,
)
from grok_mpp.mpp.challenge import format_challenge
from grok_mpp.payment.auth import PAYMENT_EXTENSION, MPPAuth, sent_payment
from grok_mpp.payment.fees import fee_bound
from grok_mpp.payment.hooks import InMemoryBudget, PaymentRecord
from grok_mpp.payment.policy import PaymentPolicy
from grok_mpp.payment.signer import fee_cap_per_gas

from .conftest import SpyWallet
from .mpp_test_server import MPPTestServer

BODY = {"model": "grok-3-mini", "messages": [{"role": "user", "content": "héllo"}]}


class RecordingGuard(InMemoryBudget):
    def __init__(self, total: int | None = None) -> None:
        super().__init__(total=total)
        self.events: list[str] = []

    def reserve(self, intent):  # type: ignore[no-untyped-def]
        rid = super().reserve(intent)
        self.events.append("reserve")
        return rid

    def mark_sent(self, reservation_id, **kw):  # type: ignore[no-untyped-def]
        self.events.append("sent")

    def settle(self, reservation_id, record):  # type: ignore[no-untyped-def]
        super().settle(reservation_id, record)
        self.events.append("settle")

    def reject(self, reservation_id, **kw):  # type: ignore[no-untyped-def]
        super().reject(reservation_id, **kw)
        self.events.append("reject")

    def outcome_unknown(self, reservation_id, **kw):  # type: ignore[no-untyped-def]
        super().outcome_unknown(reservation_id, **kw)
        self.events.append("unknown")

    def release(self, reservation_id, **kw):  # type: ignore[no-untyped-def]
        super().release(reservation_id, **kw)
        self.events.append("release")


#: No RPC in these tests: the fee is unknown, so budgets hold its worst case (policy gas limit x gas price).
FEE_BOUND = fee_bound(PaymentPolicy().gas_limit, fee_cap_per_gas(PaymentPolicy().default_gas_price))


def make_auth(wallet: SpyWallet, guard: RecordingGuard | None = None, **policy: object) -> MPPAuth:
    return MPPAuth(wallet, PaymentPolicy(**policy), guard=guard or RecordingGuard())  # type: ignore[arg-type]


def test_pays_once_and_resends_identical_bytes(server: MPPTestServer, spy_wallet: SpyWallet) -> None:
    seen: list[PaymentRecord] = []
    guard = RecordingGuard()
    auth = make_auth(spy_wallet, guard)
    auth.observers.append(seen.append)
    with httpx.Client(auth=auth) as client:
        response = client.post(server.url + "/grok/chat", json=BODY)
    assert response.status_code == 200
    record = response.extensions[PAYMENT_EXTENSION]
    assert record.amount == 6000 and record.receipt_reference == record.tx_hash and record.reference_matches
    assert record.payer == spy_wallet.address and seen == [record]
    assert len(spy_wallet.signed) == 1 and server.state.credentials_seen == 1
    first, paid = server.state.bodies
    assert first == paid and json.loads(paid) == BODY
    h1, h2 = server.state.headers_seen
    assert h1["accept-payment"] == "tempo/charge" and h1["idempotency-key"] == h2["idempotency-key"]
    assert "authorization" not in response.request.headers  # the bearer credential is not left behind
    assert guard.events == ["reserve", "sent", "settle"] and guard.committed == 6000 + FEE_BOUND
    assert record.fee is None and record.total == 6000 + FEE_BOUND


async def test_async_client_uses_the_same_flow(server: MPPTestServer, spy_wallet: SpyWallet) -> None:
    async with httpx.AsyncClient(auth=make_auth(spy_wallet)) as client:
        response = await client.post(server.url + "/x", json=BODY)
    assert response.status_code == 200 and isinstance(response.extensions[PAYMENT_EXTENSION], PaymentRecord)
    assert len(spy_wallet.signed) == 1


def test_second_402_after_paying_is_not_paid_again(server: MPPTestServer, spy_wallet: SpyWallet) -> None:
    server.state.behaviour = "second-402"
    guard = RecordingGuard()
    with httpx.Client(auth=make_auth(spy_wallet, guard)) as client, pytest.raises(PaymentRejectedError) as err:
        client.post(server.url + "/x", json=BODY)
    assert len(spy_wallet.signed) == 1 and server.state.credentials_seen == 1
    assert err.value.tx_hash and err.value.paid and not err.value.retryable
    assert guard.events == ["reserve", "sent", "reject"] and guard.committed == 6000 + FEE_BOUND


def test_5xx_after_payment_is_outcome_unknown(server: MPPTestServer, spy_wallet: SpyWallet) -> None:
    server.state.behaviour = "5xx"
    guard = RecordingGuard()
    with httpx.Client(auth=make_auth(spy_wallet, guard)) as client, pytest.raises(PaymentOutcomeUnknownError) as err:
        client.post(server.url + "/x", json=BODY)
    assert err.value.response.status_code == 500  # type: ignore[attr-defined]
    assert guard.events[-1] == "unknown" and len(spy_wallet.signed) == 1


@pytest.mark.parametrize("use_async", [False, True])
async def test_dropped_connection_after_payment(server: MPPTestServer, spy_wallet: SpyWallet, use_async: bool) -> None:
    server.state.behaviour = "drop"
    guard = RecordingGuard()
    auth = make_auth(spy_wallet, guard)
    if use_async:
        async with httpx.AsyncClient(auth=auth) as aclient:
            request = aclient.build_request("POST", server.url + "/x", json=BODY)
            with pytest.raises(httpx.TransportError):
                await aclient.send(request)
    else:
        with httpx.Client(auth=auth) as client:
            request = client.build_request("POST", server.url + "/x", json=BODY)
            with pytest.raises(httpx.TransportError):
                client.send(request)
    sent = sent_payment(request)
    assert sent is not None and sent.tx_hash.startswith("0x")
    assert guard.events == ["reserve", "sent", "unknown"] and len(spy_wallet.signed) == 1


def test_403_rejection(server: MPPTestServer, spy_wallet: SpyWallet) -> None:
    server.state.behaviour = "reject"
    with httpx.Client(auth=make_auth(spy_wallet)) as client, pytest.raises(PaymentRejectedError) as err:
        client.post(server.url + "/x", json=BODY)
    assert err.value.status_code == 403 and err.value.problem.code == "verification-failed"


@pytest.mark.parametrize(
    ("state", "policy", "error", "rule"),
    [
        ({"chain_id": 42431}, {}, PolicyViolationError, "chain"),
        ({"currency": "0x20c0000000000000000000000000000000000001"}, {}, PolicyViolationError, "currency"),
        ({"amount": 100_001}, {}, AmountOverCapError, "cap"),
        ({"amount": 5000}, {"max_amount_per_call": 4999}, AmountOverCapError, "cap"),
        ({}, {"allowed_recipients": frozenset({"0x" + "ab" * 20})}, PolicyViolationError, "recipient"),
        ({"expires_in": 5}, {}, PolicyViolationError, "expiry"),
        ({"expires_in": -60}, {}, PolicyViolationError, "expiry"),
        ({"realm": "evil.example"}, {}, PolicyViolationError, "realm"),
        ({"fee_payer": True}, {"allow_fee_payer": False}, PolicyViolationError, "fee_payer"),
        ({"extra_request": {"methodDetails": {"chainId": 4217, "supportedModes": ["push"]}}}, {}, PolicyViolationError, "mode"),
        (
            {"extra_request": {"methodDetails": {"chainId": 4217, "splits": [{"amount": "6000", "recipient": "0x" + "cd" * 20}]}}},
            {},
            PolicyViolationError,
            "splits",
        ),
    ],
)
def test_policy_refusals_sign_nothing(
    server: MPPTestServer, spy_wallet: SpyWallet, state: dict, policy: dict, error: type, rule: str
) -> None:
    for key, value in state.items():
        setattr(server.state, key, value)
    guard = RecordingGuard()
    with httpx.Client(auth=make_auth(spy_wallet, guard, **policy)) as client, pytest.raises(error) as err:
        client.post(server.url + "/x", json=BODY)
    assert err.value.rule == rule
    assert spy_wallet.signed == [] and server.state.credentials_seen == 0 and guard.events == []
    assert not err.value.paid


def test_budget_refusal_signs_nothing(server: MPPTestServer, spy_wallet: SpyWallet) -> None:
    guard = RecordingGuard(total=2 * (6000 + FEE_BOUND) - 1)  # room for one payment and its worst-case fee
    with httpx.Client(auth=make_auth(spy_wallet, guard)) as client:
        assert client.post(server.url + "/x", json=BODY).status_code == 200
        with pytest.raises(BudgetExceededError, match="exceed the budget"):
            client.post(server.url + "/x", json=BODY)
    assert len(spy_wallet.signed) == 1 and guard.committed == 6000 + FEE_BOUND


def _mock_402(header: str) -> httpx.MockTransport:
    return httpx.MockTransport(lambda req: httpx.Response(402, headers={"WWW-Authenticate": header}))


def test_plain_http_to_remote_host_refused(spy_wallet: SpyWallet) -> None:
    # Non-loopback hosts cannot exist here, so the 402 comes from a mock transport.
    from .test_challenge import ch

    with httpx.Client(auth=make_auth(spy_wallet), transport=_mock_402(ch(realm="example.com"))) as client:
        with pytest.raises(InsecureTransportError, match="http://"):
            client.post("http://example.com/grok/chat", json=BODY)
    assert spy_wallet.signed == []


def test_redirect_to_another_origin_is_refused(server: MPPTestServer, spy_wallet: SpyWallet) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(307, headers={"Location": server.url + "/x"})

    mounts = {"https://front.example": httpx.MockTransport(handler)}
    with httpx.Client(auth=make_auth(spy_wallet), mounts=mounts, follow_redirects=True) as client:
        with pytest.raises(InsecureTransportError, match="redirect"):
            client.post("https://front.example/grok/chat", json=BODY)
    assert spy_wallet.signed == [] and server.state.credentials_seen == 0


def test_unsupported_method_refused(spy_wallet: SpyWallet) -> None:
    header = format_challenge({"id": "a", "realm": "example.com", "method": "stripe", "intent": "charge", "request": "e30"})
    with httpx.Client(auth=make_auth(spy_wallet), transport=_mock_402(header)) as client:
        with pytest.raises(NoSupportedChallengeError, match="stripe/charge"):
            client.post("https://example.com/x", json=BODY)
    assert spy_wallet.signed == []


def test_402_without_payment_challenge_is_returned_untouched(spy_wallet: SpyWallet) -> None:
    with httpx.Client(auth=make_auth(spy_wallet), transport=_mock_402('Bearer realm="x"')) as client:
        assert client.post("https://example.com/x", json=BODY).status_code == 402
    assert spy_wallet.signed == []


def test_gas_price_comes_from_rpc_and_is_capped(server: MPPTestServer, spy_wallet: SpyWallet) -> None:
    calls = []

    def rpc(request: httpx.Request) -> httpx.Response:
        calls.append(json.loads(request.content)["method"])
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": 1, "result": hex(200_000_000_000)})

    auth = MPPAuth(spy_wallet, PaymentPolicy(), rpc_url="https://rpc.example/")  # type: ignore[arg-type]
    mounts = {"https://rpc.example": httpx.MockTransport(rpc)}
    with httpx.Client(auth=auth, mounts=mounts) as client, pytest.raises(PolicyViolationError, match="gas price"):
        client.post(server.url + "/x", json=BODY)
    assert calls == ["eth_gasPrice"] and spy_wallet.signed == []


def test_receipt_naming_another_transaction_is_flagged(
    server: MPPTestServer, spy_wallet: SpyWallet, caplog: pytest.LogCaptureFixture
) -> None:
    server.state.behaviour = "wrong-receipt"
    with httpx.Client(auth=make_auth(spy_wallet)) as client:
        response = client.post(server.url + "/x", json=BODY)
    record = response.extensions[PAYMENT_EXTENSION]
    assert response.status_code == 200 and not record.reference_matches
    assert record.receipt_reference == "0x" + "ab" * 32 and record.tx_hash != record.receipt_reference
    assert "differs from our transaction" in caplog.text
