"""Every way a paid call can go wrong, against the local gateway over real loopback HTTP.

One parametrized matrix (fault x sync/async client). Whatever the fault, the same invariants hold:

1. at most one payment per request: at most one signature, one credential on the wire, one
   settlement at the gateway;
2. the durable ledger (SQLite, :mod:`grok_mpp.ledger`) holds every payment the gateway settled,
   in a state that keeps its amount committed (never ``released``);
3. the caller gets a typed :class:`~grok_mpp.errors.GrokMPPError` saying what happened (paid or
   not, the transaction hash) and what to do (a hint), and neither it nor the DEBUG logs
   (grok_mpp, httpx, httpcore) contain the key, a credential or a signature.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from grok_mpp import AsyncGrokClient, GrokClient
from grok_mpp.errors import (
    GrokMPPError,
    PaymentOutcomeUnknownError,
    PaymentRejectedError,
    PolicyViolationError,
    UpstreamError,
)
from grok_mpp.ledger import SQLiteLedger
from grok_mpp.local import LocalGateway
from grok_mpp.local.faults import FAULT_HEADER

from .support import CredentialTap, SpyWallet, assert_no_secret, exception_texts, secret_needles

MSG = [{"role": "user", "content": "What is 2+3?"}]


class DuplicateChallengeGateway(LocalGateway):
    """Sends every challenge twice (two identical ``WWW-Authenticate`` lines) plus a second,
    different challenge: a client must still pay exactly one of them, once."""

    def _challenge_reply(self, amount: int, path: str, **kw: Any) -> Any:
        reply = super()._challenge_reply(amount, path, **kw)
        other = super()._challenge_reply(amount, path, **kw)
        challenge = next(v for k, v in reply.headers if k == "WWW-Authenticate")
        second = next(v for k, v in other.headers if k == "WWW-Authenticate")
        extra = (("WWW-Authenticate", challenge), ("WWW-Authenticate", second))
        return type(reply)(reply.status, reply.body, reply.headers + extra, reply.delay, reply.drop)


@dataclass(frozen=True)
class Case:
    id: str
    gateway: str = "default"  # which gateway fixture serves it
    fault: str | None = None  # X-Grok-MPP-Fault header
    timeout: float = 30.0
    error: type[GrokMPPError] | None = None
    settled: int = 1  # payments the gateway settles for this request
    ledger_state: str | None = "settled"  # final state of the (single) ledger row; None = no row
    signatures: int = 1


CASES = [
    Case("ok"),
    Case("duplicate-challenges", gateway="duplicate"),
    Case("drop-after-credential", fault="drop-connection-after-payment", error=PaymentOutcomeUnknownError,
         ledger_state="outcome_unknown"),
    Case("500-after-payment", fault="error-5xx-after-payment", error=PaymentOutcomeUnknownError,
         ledger_state="outcome_unknown"),
    Case("503-after-payment", fault="error-5xx-after-payment;status=503", error=PaymentOutcomeUnknownError,
         ledger_state="outcome_unknown"),
    Case("upstream-502-envelope", fault="upstream-502", error=UpstreamError, ledger_state="outcome_unknown"),
    Case("slow-past-timeout", fault="slow;delay=2.5", timeout=1.0, error=PaymentOutcomeUnknownError,
         ledger_state="outcome_unknown"),
    Case("second-402-after-paying", fault="second-402", error=PaymentRejectedError, ledger_state="rejected"),
    Case("credential-rejected", fault="reject-payment", error=PaymentRejectedError, settled=0,
         ledger_state="rejected"),
    Case("challenge-expiring", gateway="short_ttl", error=PolicyViolationError, settled=0, ledger_state=None,
         signatures=0),
    Case("challenge-expired", gateway="stale_clock", error=PolicyViolationError, settled=0, ledger_state=None,
         signatures=0),
]


@pytest.fixture(scope="module")
def gateways(local_gateway: LocalGateway) -> Iterator[dict[str, LocalGateway]]:
    extra = {
        "duplicate": DuplicateChallengeGateway(),
        "short_ttl": LocalGateway(ttl_seconds=3),  # inside the client's 10 s expiry margin
        "stale_clock": LocalGateway(clock=lambda: time.time() - 400),  # challenges expired 100 s ago
    }
    for gw in extra.values():
        gw.start()
    try:
        yield {"default": local_gateway, **extra}
    finally:
        for gw in extra.values():
            gw.stop()


def _run(case: Case, gw: LocalGateway, wallet: SpyWallet, ledger: SQLiteLedger, tap: CredentialTap, mode: str) -> Any:
    headers = {FAULT_HEADER: case.fault} if case.fault else {}
    kwargs: dict[str, Any] = {"wallet": wallet, "base_url": gw.url, "rpc_url": gw.rpc_url, "guard": ledger}
    if mode == "sync":
        http = httpx.Client(headers=headers, timeout=case.timeout, event_hooks={"request": [tap]})
        with GrokClient(http_client=http, **kwargs) as client, http:
            return client.chat(messages=MSG, max_tokens=20)

    async def main() -> Any:
        http = httpx.AsyncClient(headers=headers, timeout=case.timeout, event_hooks={"request": [tap.async_hook]})
        async with AsyncGrokClient(http_client=http, **kwargs) as client, http:
            return await client.chat(messages=MSG, max_tokens=20)

    return asyncio.run(main())


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fault_matrix(
    case: Case, mode: str, gateways: dict[str, LocalGateway], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    gw = gateways[case.gateway]
    wallet = SpyWallet(gw.new_funded_wallet(usd="5"))
    ledger = SQLiteLedger(tmp_path / "ledger.sqlite3")
    tap = CredentialTap()
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "grok_mpp"):
        caplog.set_level(logging.DEBUG, logger=name)

    error: GrokMPPError | None = None
    result = None
    try:
        result = _run(case, gw, wallet, ledger, tap, mode)
    except GrokMPPError as exc:  # anything else escaping is itself a failure of the test
        error = exc

    settled = [p for p in gw.payments if p.payer.lower() == wallet.address.lower()]
    rows = ledger.rows()

    # 1. at most one payment per request (and exactly what the case predicts)
    assert wallet.sign_count == case.signatures <= 1
    assert len(tap.credentials) == case.signatures
    assert len(settled) == case.settled <= 1

    # 2. the ledger holds every payment, with its amount still committed
    if case.ledger_state is None:
        assert rows == []
    else:
        (row,) = rows
        # a payment the chain shows mined is concluded by the client itself after a failed answer
        mined = case.ledger_state in ("outcome_unknown", "rejected") and case.settled
        expected = "settled_onchain" if mined else case.ledger_state
        assert row.state == expected
        assert row.tx_hash is not None and row.payer.lower() == wallet.address.lower()
        # committed = amount + network fee (actual once known, else the worst case)
        assert ledger.committed().total == row.amount + row.fee_or_bound and row.amount > 0
        if case.settled:
            assert row.fee is not None and row.fee > 0
    for payment in settled:
        matching = [r for r in rows if r.tx_hash == payment.tx_hash]
        assert matching and matching[0].amount == payment.amount and matching[0].state != "released"

    # 3. a typed error that says what happened and what to do, or a paid result
    if case.error is None:
        assert error is None and result is not None
        assert result.cost.amount == settled[0].amount and result.cost.tx_hash == settled[0].tx_hash
        assert result.cost.paid == settled[0].amount + result.cost.fee and result.cost.fee_exact
    else:
        assert isinstance(error, case.error), f"expected {case.error.__name__}, got {error!r}"
        assert error.message and error.hint, "every error must say what to do"
        assert error.paid == (case.signatures > 0)
        assert not error.retryable or not error.paid
        if case.settled:
            tx_hash = getattr(error, "tx_hash", None) or error.context.get("tx_hash")
            assert tx_hash == settled[0].tx_hash  # the caller can reconcile this exact payment
        if isinstance(error, PolicyViolationError):
            assert error.rule == "expiry"

    # secrets: nowhere in the error (str/repr/args/context/chain) nor in any DEBUG log line
    needles = secret_needles(wallet, tap.credentials)
    if error is not None:
        assert_no_secret(exception_texts(error), needles, f"{type(error).__name__} ({case.id}, {mode})")
    log_text = [r.getMessage() for r in caplog.records] + [caplog.text]
    assert_no_secret(log_text, needles, "DEBUG logs")
    ledger.close()
