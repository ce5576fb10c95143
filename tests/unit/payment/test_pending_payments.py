"""The retry invariant and truthful errors, against the local gateway on loopback (issue 12).

* a retry of a request whose answer was lost re-sends the SAME credential: one transaction, and if
  the first attempt never reached the server the retry completes it (one payment, one answer);
* after the validity window the chain is asked before anything new is signed;
* distinct transactions even for one shared challenge; no two ledger rows for one hash;
* ``paid`` is true with the transaction hash whenever the credential went out (garbage or empty
  2xx body, a failing ledger, a receipt that says ``failed``), and the CLI exit code follows;
* no error is its own cause; every LangChain twin is its core class and a LangChain ``ModelError``.
"""

from __future__ import annotations

import asyncio
import inspect
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.exceptions import ModelError

from grok_mpp import AsyncGrokClient, GrokClient
from grok_mpp import errors as core
from grok_mpp.cli import EXIT_PAYMENT, EXIT_REFUSED, exit_code
from grok_mpp.errors import (
    GrokMPPError,
    InsufficientFundsError,
    PaymentNotRecordedError,
    PaymentOutcomeUnknownError,
    PaymentPendingError,
    ReceiptMismatchError,
)
from grok_mpp.ledger import SQLiteLedger
from grok_mpp.ledger.model import LedgerError
from grok_mpp.local import LocalGateway
from grok_mpp.mpp.challenge import parse_www_authenticate
from grok_mpp.mpp.encoding import encode_b64_json
from grok_mpp.payment.pending import PENDING, PendingPayments, request_fingerprint
from grok_mpp.payment.policy import PaymentPolicy, evaluate
from grok_mpp.payment.signer import sign_payment
from grok_mpp.wallet import Wallet
from langchain_grok_mpp.errors import to_langchain_error

MSG = [{"role": "user", "content": "What is 2+3?"}]


class Rewrite(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Real loopback transport; ``on_paid(request, send)`` decides what a PAID request gets back."""

    def __init__(self, on_paid: Callable[[int, Callable[[], httpx.Response]], httpx.Response]) -> None:
        self.sync = httpx.HTTPTransport()
        self.async_ = httpx.AsyncHTTPTransport()
        self.on_paid = on_paid
        self.paid_requests = 0
        self.paid_keys: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if "authorization" not in request.headers:
            return self.sync.handle_request(request)
        self.paid_requests += 1
        self.paid_keys.append(request.headers.get("idempotency-key"))

        def send() -> httpx.Response:
            response = self.sync.handle_request(request)
            response.read()
            return response

        return self.on_paid(self.paid_requests, send)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "authorization" not in request.headers:
            return await self.async_.handle_async_request(request)
        self.paid_requests += 1

        def unavailable() -> httpx.Response:
            raise NotImplementedError("async tests only drop paid requests")

        return self.on_paid(self.paid_requests, unavailable)


def _lose_first(n: int, send: Callable[[], httpx.Response]) -> httpx.Response:
    if n == 1:  # the first paid request never reaches the server
        raise httpx.ReadError("[Errno 9] Bad file descriptor")
    return send()


def _body(content: bytes, receipt: Callable[[str], str] | None = None) -> Callable[..., httpx.Response]:
    def on_paid(n: int, send: Callable[[], httpx.Response]) -> httpx.Response:
        response = send()
        headers = dict(response.headers)
        headers.pop("content-length", None)
        if receipt is not None:
            headers["payment-receipt"] = receipt(headers.get("payment-receipt", ""))
        return httpx.Response(response.status_code, headers=headers, content=content)

    return on_paid


@pytest.fixture
def wallet(local_gateway: LocalGateway) -> Wallet:
    return local_gateway.new_funded_wallet(usd="5")


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[SQLiteLedger]:
    led = SQLiteLedger(tmp_path / "l.sqlite3")
    yield led
    led.close()


def _client(gw: LocalGateway, wallet: Wallet, ledger: Any, transport: Any = None, **kw: Any) -> GrokClient:
    http = httpx.Client(transport=transport, timeout=30) if transport is not None else None
    return GrokClient(http_client=http, wallet=wallet, base_url=gw.url, rpc_url=gw.rpc_url, guard=ledger, **kw)


def _settled(gw: LocalGateway, wallet: Wallet) -> list[Any]:
    return [p for p in gw.payments if p.payer.lower() == wallet.address.lower()]


def test_retry_completes_a_lost_request_with_the_same_transaction(
    local_gateway: LocalGateway, wallet: Wallet, ledger: SQLiteLedger
) -> None:
    transport = Rewrite(_lose_first)
    with _client(local_gateway, wallet, ledger, transport) as client:
        with pytest.raises(PaymentOutcomeUnknownError) as first:
            client.chat(messages=MSG, max_tokens=20)
        assert _settled(local_gateway, wallet) == []  # it never arrived
        result = client.chat(messages=MSG, max_tokens=20)  # the caller's retry
    (payment,) = _settled(local_gateway, wallet)
    assert result.text and result.cost.tx_hash == first.value.tx_hash == payment.tx_hash
    assert transport.paid_keys[0] and transport.paid_keys == [transport.paid_keys[0]] * 2  # same Idempotency-Key
    (row,) = ledger.rows()
    assert row.state == "settled" and row.tx_hash == payment.tx_hash
    assert not [e for e in PENDING.unresolved() if e.tx_hash == payment.tx_hash]  # resolved by the answer


def test_async_retry_through_a_second_client_reuses_the_payment(
    local_gateway: LocalGateway, wallet: Wallet, ledger: SQLiteLedger
) -> None:
    """Like ``with_fallbacks`` to a second model: another client object, the same pending store."""
    transport = Rewrite(_lose_first)

    async def main() -> Any:
        kw: dict[str, Any] = {"wallet": wallet, "base_url": local_gateway.url, "rpc_url": local_gateway.rpc_url,
                              "guard": ledger}
        async with AsyncGrokClient(http_client=httpx.AsyncClient(transport=transport), **kw) as first:
            with pytest.raises(PaymentOutcomeUnknownError):
                await first.chat(messages=MSG, max_tokens=20)
        async with AsyncGrokClient(**kw) as second:
            return await second.chat(messages=MSG, max_tokens=20)

    result = asyncio.run(main())
    (payment,) = _settled(local_gateway, wallet)
    assert result.cost.tx_hash == payment.tx_hash


def _fail_once(gw: LocalGateway, wallet: Wallet, ledger: Any, **kw: Any) -> PaymentOutcomeUnknownError:
    http = httpx.Client(headers={"X-Grok-MPP-Fault": "error-5xx-after-payment"}, timeout=30)
    with GrokClient(http_client=http, wallet=wallet, base_url=gw.url, rpc_url=gw.rpc_url, guard=ledger, **kw) as c:
        with pytest.raises(PaymentOutcomeUnknownError) as info:
            c.chat(messages=MSG, max_tokens=20)
    return info.value


def _entry(tx_hash: str) -> Any:
    (entry,) = [e for e in PENDING.unresolved() if e.tx_hash == tx_hash]
    return entry


def _expire(ledger: SQLiteLedger, tx_hash: str, *, in_process: bool = True) -> None:
    """As if the validity window had passed: for the in-process entry and the ledger row."""
    past = int(time.time()) - 60
    if in_process:
        _entry(tx_hash).valid_before = past
    with sqlite3.connect(ledger.path) as db:
        db.execute("UPDATE grok_mpp_payments SET valid_before = ? WHERE tx_hash = ?", (past, tx_hash.lower()))


def test_after_the_window_the_chain_is_asked_before_paying_again(
    local_gateway: LocalGateway, wallet: Wallet, ledger: SQLiteLedger
) -> None:
    first = _fail_once(local_gateway, wallet, ledger)
    _expire(ledger, first.tx_hash)
    with _client(local_gateway, wallet, ledger) as client:
        result = client.chat(messages=MSG, max_tokens=20)  # landed on chain -> resolved -> paid anew
    settled = _settled(local_gateway, wallet)
    assert [p.tx_hash for p in settled] == [first.tx_hash, result.cost.tx_hash]
    assert not [e for e in PENDING.unresolved() if e.tx_hash == first.tx_hash]


def test_without_a_chain_to_ask_the_retry_is_refused(
    local_gateway: LocalGateway, wallet: Wallet, ledger: SQLiteLedger
) -> None:
    first = _fail_once(local_gateway, wallet, ledger)
    _expire(ledger, first.tx_hash)
    with GrokClient(wallet=wallet, base_url=local_gateway.url, rpc_url=None, guard=ledger) as client:
        client.auth.rpc_url = None
        with pytest.raises(PaymentPendingError, match="chain could not be asked") as info:
            client.chat(messages=MSG, max_tokens=20)
    assert info.value.paid and info.value.tx_hash == first.tx_hash
    assert len(_settled(local_gateway, wallet)) == 1 and len(ledger.rows()) == 1


def test_near_the_end_of_the_window_the_retry_waits(
    local_gateway: LocalGateway, wallet: Wallet, ledger: SQLiteLedger
) -> None:
    first = _fail_once(local_gateway, wallet, ledger)
    entry = _entry(first.tx_hash)
    entry.valid_before = int(time.time()) + 1  # too late to re-send, too early to trust the chain
    with _client(local_gateway, wallet, ledger) as client, pytest.raises(PaymentPendingError) as info:
        client.chat(messages=MSG, max_tokens=20)
    assert info.value.retry_after == entry.valid_before + 5 and info.value.tx_hash == first.tx_hash
    assert len(_settled(local_gateway, wallet)) == 1


def test_another_process_is_blocked_by_the_ledger_then_resolves_from_the_chain(
    local_gateway: LocalGateway, wallet: Wallet, ledger: SQLiteLedger
) -> None:
    """A second process shares only the ledger: it cannot re-send the credential (never stored), so
    inside the window it refuses; after it, it asks the chain, concludes the row and pays anew."""
    first = _fail_once(local_gateway, wallet, ledger)
    PENDING.resolve(_entry(first.tx_hash))  # the in-process memory is gone, as in another process
    with _client(local_gateway, wallet, ledger) as client:
        with pytest.raises(PaymentPendingError, match="ledger holds") as info:
            client.chat(messages=MSG, max_tokens=20)
        assert info.value.tx_hash == first.tx_hash and info.value.retry_after
        _expire(ledger, first.tx_hash, in_process=False)
        result = client.chat(messages=MSG, max_tokens=20)
    assert [p.tx_hash for p in _settled(local_gateway, wallet)] == [first.tx_hash, result.cost.tx_hash]
    assert [r.state for r in ledger.rows()] == ["settled_onchain", "settled"]


def test_a_different_request_is_not_blocked(local_gateway: LocalGateway, wallet: Wallet, ledger: SQLiteLedger) -> None:
    _fail_once(local_gateway, wallet, ledger)
    with _client(local_gateway, wallet, ledger) as client:
        other = client.chat(messages=[{"role": "user", "content": "And 3+4?"}], max_tokens=20)
    assert other.cost.paid and len(_settled(local_gateway, wallet)) == 2


def test_fingerprint_ignores_json_key_order_but_not_payer_or_body() -> None:
    base = {"method": "POST", "origin": "https://g", "target": "/grok/chat", "payer": "0xA", "chain_id": 4217}
    a = request_fingerprint(content=b'{"a":1,"b":[1,2]}', **base)  # type: ignore[arg-type]
    assert a == request_fingerprint(content=b'{ "b": [1, 2], "a": 1 }', **base)  # type: ignore[arg-type]
    assert a != request_fingerprint(content=b'{"a":2,"b":[1,2]}', **base)  # type: ignore[arg-type]
    assert a != request_fingerprint(content=b'{"a":1,"b":[1,2]}', **{**base, "payer": "0xB"})  # type: ignore[arg-type]


def test_leases_give_each_retry_its_own_payment() -> None:
    store = PendingPayments()
    entries = [_fake_entry(store, "fp", i) for i in range(2)]
    one, two, three = store.checkout("fp"), store.checkout("fp"), store.checkout("fp")
    assert {one, two} == set(entries) and three is None
    store.give_back(one)  # type: ignore[arg-type]
    assert store.checkout("fp") is one
    store.resolve(two)  # type: ignore[arg-type]
    assert len(store) == 1


def _fake_entry(store: PendingPayments, fp: str, i: int) -> Any:
    from grok_mpp.payment.pending import PendingPayment

    entry = PendingPayment(fp, "Authorization", "Payment secret", f"0x{i:064x}", 0, False, None, "r", None)
    store.add(entry)
    assert "secret" not in repr(entry)
    return entry


def test_one_challenge_signed_twice_gives_two_transactions() -> None:
    from datetime import UTC, datetime, timedelta

    from grok_mpp.mpp.challenge import format_challenge

    request = {"amount": "6000", "currency": "0x20c000000000000000000000b9537d11c60e8b50",
               "recipient": "0x060b0fb0be9d90557577b3aee480711067149ff0", "methodDetails": {"chainId": 4217}}
    expires = (datetime.now(UTC) + timedelta(minutes=5)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    header = format_challenge({"id": "same", "realm": "h", "method": "tempo", "intent": "charge",
                               "request": encode_b64_json(request, canonical=True), "expires": expires})
    (challenge,) = parse_www_authenticate([header])
    approved = evaluate(challenge, PaymentPolicy(), host="h", now=time.time())
    wallet = Wallet.create()
    hashes = {sign_payment(approved, wallet, gas_price=1, gas_limit=1_000_000).tx_hash for _ in range(200)}
    assert len(hashes) == 200


def test_a_second_row_for_one_transaction_is_refused_before_sending(ledger: SQLiteLedger) -> None:
    from tests.unit.ledger.support import intent  # the ledger tests' own PaymentIntent factory

    first, second = ledger.reserve(intent(500)), ledger.reserve(intent(500))
    ledger.mark_sent(first, tx_hash="0x" + "11" * 32, valid_before=1, payer="0x" + "22" * 20)
    with pytest.raises(LedgerError, match="already recorded"):
        ledger.mark_sent(second, tx_hash="0x" + "11" * 32, valid_before=1, payer="0x" + "22" * 20)
    assert ledger.get(second).state == "reserved"


# -- errors tell the truth ----------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"<html>bad gateway</html>", b""], ids=["garbage", "empty"])
def test_bad_body_after_a_settled_payment_is_a_paid_error(
    content: bytes, local_gateway: LocalGateway, wallet: Wallet, ledger: SQLiteLedger
) -> None:
    with _client(local_gateway, wallet, ledger, Rewrite(_body(content))) as client:
        with pytest.raises(GrokMPPError) as info:
            client.chat(messages=MSG, max_tokens=20)
    (payment,) = _settled(local_gateway, wallet)
    error = info.value
    assert error.paid and not error.retryable
    assert getattr(error, "tx_hash", None) == payment.tx_hash == error.context["tx_hash"]
    assert exit_code(error) == EXIT_PAYMENT
    assert ledger.rows()[0].state == "settled"


def test_ledger_failure_after_sending_is_a_paid_error(local_gateway: LocalGateway, wallet: Wallet) -> None:
    class BrokenLedger:
        def reserve(self, intent: Any) -> str:
            return "r1"

        def mark_sent(self, *a: Any, **k: Any) -> None:
            return None

        def settle(self, *a: Any, **k: Any) -> None:
            raise LedgerError("disk full")

        reject = outcome_unknown = release = settle

    with _client(local_gateway, wallet, BrokenLedger()) as client, pytest.raises(PaymentNotRecordedError) as info:
        client.chat(messages=MSG, max_tokens=20)
    (payment,) = _settled(local_gateway, wallet)
    assert info.value.paid and info.value.tx_hash == payment.tx_hash
    assert info.value.response is not None and info.value.response.status_code == 200
    assert exit_code(info.value) == EXIT_PAYMENT


def test_failed_receipt_is_never_recorded_as_settled(
    local_gateway: LocalGateway, wallet: Wallet, ledger: SQLiteLedger
) -> None:
    def failed(raw: str) -> str:
        return encode_b64_json({"status": "failed", "method": "tempo", "reference": "0x" + "cd" * 32})

    def on_paid(n: int, send: Callable[[], httpx.Response]) -> httpx.Response:
        response = send()
        return _body(response.content, failed)(n, lambda: response)

    transport = Rewrite(on_paid)
    with _client(local_gateway, wallet, ledger, transport) as client, pytest.raises(ReceiptMismatchError) as info:
        client.chat(messages=MSG, max_tokens=20)
    (payment,) = _settled(local_gateway, wallet)
    assert info.value.tx_hash == payment.tx_hash != info.value.receipt_reference  # ours, not the server's claim
    assert info.value.paid and info.value.receipt_status == "failed"
    # never 'settled' on the server's word; the client asked the chain, which shows our transfer landed
    (row,) = ledger.rows()
    assert row.state == "settled_onchain" and row.reconciled_at is not None and row.fee


def test_receipt_naming_another_transaction_never_becomes_our_tx_hash(
    local_gateway: LocalGateway, wallet: Wallet, ledger: SQLiteLedger
) -> None:
    other = "0x" + "ab" * 32

    def rename(n: int, send: Callable[[], httpx.Response]) -> httpx.Response:
        response = send()
        headers = dict(response.headers)
        headers.pop("content-length", None)
        headers["payment-receipt"] = encode_b64_json({"status": "success", "method": "tempo", "reference": other})
        return httpx.Response(response.status_code, headers=headers, content=response.content)

    with _client(local_gateway, wallet, ledger, Rewrite(rename)) as client:
        result = client.chat(messages=MSG, max_tokens=20)
    (payment,) = _settled(local_gateway, wallet)
    assert result.cost.tx_hash == payment.tx_hash and result.cost.receipt_mismatch
    assert result.cost.receipt_reference == other


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    assert exc is None, f"cause chain loops at {exc!r}"
    return seen


@pytest.mark.parametrize("fault", ["drop-connection-after-payment", "error-5xx-after-payment", "upstream-502"])
def test_cause_chains_are_acyclic(fault: str, local_gateway: LocalGateway, wallet: Wallet, ledger: Any) -> None:
    http = httpx.Client(headers={"X-Grok-MPP-Fault": fault}, timeout=30)
    with GrokClient(http_client=http, wallet=wallet, base_url=local_gateway.url, rpc_url=local_gateway.rpc_url,
                    guard=ledger) as client, pytest.raises(GrokMPPError) as info:
        client.chat(messages=MSG, max_tokens=20)
    chain = _chain(info.value)
    assert info.value.__cause__ is not info.value
    twin = to_langchain_error(info.value)
    twin.__cause__ = info.value
    assert _chain(twin)[1:] == chain


def _core_error_classes() -> list[type[GrokMPPError]]:
    classes = [c for _, c in inspect.getmembers(core, inspect.isclass) if issubclass(c, GrokMPPError)]
    return [*classes, LedgerError]


@pytest.mark.parametrize("cls", _core_error_classes(), ids=lambda c: c.__name__)
def test_every_langchain_twin_is_its_core_class_and_a_model_error(cls: type[GrokMPPError]) -> None:
    exc = cls.__new__(cls)
    exc.__dict__.update(message="m", hint=None, context={})
    exc.args = ("m",)
    twin = to_langchain_error(exc)
    assert isinstance(twin, cls) and isinstance(twin, ModelError)
    assert twin.is_retryable == (exc.retryable and not exc.paid)  # type: ignore[attr-defined]


def test_refusals_before_signing_exit_3() -> None:
    assert exit_code(InsufficientFundsError("short")) == EXIT_REFUSED
    assert exit_code(core.PolicyViolationError("no", rule="header")) == EXIT_REFUSED
    assert exit_code(PaymentPendingError("pending")) == EXIT_PAYMENT


def test_sponsored_payment_without_receipt_for_our_hash_is_never_taken_as_unlanded(tmp_path: Path) -> None:
    """With a fee payer the transaction lands under a hash including the sponsor's signature: no
    receipt for OUR hash proves nothing, so after the window the retry is refused, not re-paid."""
    with LocalGateway(fee_payer=True) as gw:
        wallet = gw.new_funded_wallet(usd="5")
        ledger = SQLiteLedger(tmp_path / "s.sqlite3")
        try:
            first = _fail_once(gw, wallet, ledger)
            entry = _entry(first.tx_hash)
            assert entry.sponsored
            _expire(ledger, first.tx_hash)
            with _client(gw, wallet, ledger) as client, pytest.raises(PaymentPendingError) as info:
                client.chat(messages=MSG, max_tokens=20)
            assert info.value.tx_hash == first.tx_hash
            assert len(_settled(gw, wallet)) == 1  # landed once under the sponsor's hash; not paid again
        finally:
            ledger.close()
