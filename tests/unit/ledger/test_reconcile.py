"""Reconciliation against a JSON-RPC chain on loopback, and the crash-between-send-and-answer case."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from grok_mpp.errors import BudgetExceededError
from grok_mpp.ledger import Budget, SQLiteLedger, reconcile

from .support import PAYER, Clock, LoopbackRPC, intent, mined, record, tx

WORKER = Path(__file__).with_name("worker.py")
ROOT = Path(__file__).resolve().parents[3]


def open_row(ledger: SQLiteLedger, n: int, state: str, *, valid_before: int, amount: int = 1_000) -> str:
    rid = ledger.reserve(intent(amount, n=n))
    ledger.mark_sent(rid, tx_hash=tx(n), valid_before=valid_before, payer=PAYER)
    if state == "rejected":
        ledger.reject(rid, status_code=402, detail="verification-failed")
    elif state == "outcome_unknown":
        ledger.outcome_unknown(rid, detail="HTTP 502")
    return rid


def test_mined_receipt_settles_and_missing_receipt_waits_for_valid_before(
    ledger: SQLiteLedger, clock: Clock, rpc: LoopbackRPC
) -> None:
    vb = int(clock.now) + 25
    landed = open_row(ledger, 1, "outcome_unknown", valid_before=vb)
    lost = open_row(ledger, 2, "rejected", valid_before=vb)
    in_flight = open_row(ledger, 3, "sent", valid_before=vb)
    reverted = open_row(ledger, 4, "outcome_unknown", valid_before=vb)
    rpc.state.receipts[tx(1)] = mined(tx(1))
    rpc.state.receipts[tx(4)] = mined(tx(4), status="0x0")

    first = reconcile(ledger, rpc.url)
    assert (first.checked, sorted(first.settled), sorted(first.released)) == (4, [landed], [reverted])
    assert sorted(first.pending) == sorted([lost, in_flight]) and first.errors == []
    row = ledger.get(landed)
    assert row.state == "settled_onchain" and row.reconciled_at == clock.now
    assert row.receipt is not None and row.receipt["status"] == "0x1" and "logs" not in row.receipt
    assert ledger.get(reverted).state == "released" and "reverted" in (ledger.get(reverted).detail or "")
    assert ledger.get(lost).state == "rejected"  # before valid_before: it may still land

    second = reconcile(ledger, rpc.url, now=vb + 60)
    assert sorted(second.released) == sorted([lost, in_flight])
    assert ledger.totals() == {"paid": 1_000, "amount": 1_000, "fee": 0, "pending": 0, "count": 1, "attempts": 4,
                              "fee_unconfirmed": 0}
    assert reconcile(ledger, rpc.url, now=vb + 60).checked == 0


def test_rejected_and_unknown_keep_budget_until_reconciled(ledger: SQLiteLedger, clock: Clock, rpc: LoopbackRPC) -> None:
    ledger.budget = Budget(total=2_000)
    vb = int(clock.now) + 25
    open_row(ledger, 1, "rejected", valid_before=vb)
    open_row(ledger, 2, "outcome_unknown", valid_before=vb)
    with pytest.raises(BudgetExceededError):
        ledger.reserve(intent(1_000, n=3))
    reconcile(ledger, rpc.url)  # no receipts, but valid_before not yet passed
    with pytest.raises(BudgetExceededError):
        ledger.reserve(intent(1_000, n=3))
    clock.now = vb + 31
    report = reconcile(ledger, rpc.url)
    assert len(report.released) == 2
    ledger.reserve(intent(2_000, n=3))


def test_rpc_of_another_chain_proves_nothing(ledger: SQLiteLedger, clock: Clock, rpc: LoopbackRPC) -> None:
    rid = open_row(ledger, 1, "outcome_unknown", valid_before=int(clock.now))
    rpc.state.chain_id = 4217
    report = reconcile(ledger, rpc.url, now=clock.now + 10_000)
    assert report.pending == [rid] and "serves chain 4217" in report.errors[0]
    assert ledger.get(rid).state == "outcome_unknown"
    assert rpc.state.calls == ["eth_chainId"]


def test_rpc_failure_leaves_rows_open(ledger: SQLiteLedger, clock: Clock, rpc: LoopbackRPC) -> None:
    rid = open_row(ledger, 1, "sent", valid_before=int(clock.now))
    rpc.state.fail = True
    report = reconcile(ledger, rpc.url, now=clock.now + 10_000)
    assert report.pending == [rid] and "503" in report.errors[0]
    assert ledger.get(rid).state == "sent"


def test_abandoned_reservations_are_released_without_the_chain(ledger: SQLiteLedger, clock: Clock) -> None:
    rid = ledger.reserve(intent(1_000))
    report = reconcile(ledger, "http://127.0.0.1:9/unused", now=clock.now + 299)
    assert report.pending == [rid]
    report = reconcile(ledger, "http://127.0.0.1:9/unused", now=clock.now + 300)
    assert report.released == [rid] and report.errors == []


def test_reconcile_on_start_runs_before_the_first_reservation_and_never_raises(
    db_path: Path, clock: Clock, rpc: LoopbackRPC
) -> None:
    with SQLiteLedger(db_path, clock=clock) as first:
        stuck = open_row(first, 1, "outcome_unknown", valid_before=int(clock.now) - 100)
    rpc.state.fail = True
    with SQLiteLedger(db_path, clock=clock, rpc_url=rpc.url, reconcile_on_start=True) as second:
        assert rpc.state.calls == []  # lazily: opening does not touch the network
        second.reserve(intent(10, n=2))  # RPC down: the reservation still goes through
        assert second.get(stuck).state == "outcome_unknown"
    rpc.state.fail = False
    rpc.state.calls.clear()
    with SQLiteLedger(db_path, clock=clock, rpc_url=rpc.url, reconcile_on_start=True,
                      budget=Budget(total=1_010)) as third:
        third.reserve(intent(1_000, n=3))  # fits only because reconciliation released the stuck row
        assert third.get(stuck).state == "released"
        third.reserve(intent(0, n=4))
    assert rpc.state.calls == ["eth_chainId", "eth_getTransactionReceipt"]


def test_late_outcome_after_reconciliation(ledger: SQLiteLedger, clock: Clock, rpc: LoopbackRPC) -> None:
    """Reconciliation may conclude a row while its process still waits for the gateway."""
    vb = int(clock.now) + 25
    a = open_row(ledger, 1, "sent", valid_before=vb)
    b = open_row(ledger, 2, "sent", valid_before=vb)
    rpc.state.receipts[tx(1)] = mined(tx(1))
    reconcile(ledger, rpc.url, now=vb + 100)
    ledger.outcome_unknown(a, detail="timeout")  # weaker than the chain's verdict: ignored
    assert ledger.get(a).state == "settled_onchain"
    ledger.settle(b, record(intent(1_000, n=2), tx(2)))  # a gateway receipt beats a missing chain receipt
    assert ledger.get(b).state == "settled"


def test_crash_between_send_and_answer_is_resolved(db_path: Path, rpc: LoopbackRPC) -> None:
    """A process killed after mark_sent leaves a 'sent' row that reconciliation concludes."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    valid_before = 1_900_000_000
    children = []
    for n in (1, 2):
        child = subprocess.Popen(
            [sys.executable, str(WORKER), "crash", str(db_path), tx(n), str(valid_before)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
        )
        assert child.stdout is not None
        rid = child.stdout.readline().strip()
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=60) == -signal.SIGKILL
        children.append(rid)
    landed, lost = children
    rpc.state.receipts[tx(1)] = mined(tx(1))
    with SQLiteLedger(db_path) as ledger:
        for rid, n in ((landed, 1), (lost, 2)):
            row = ledger.get(rid)
            assert (row.state, row.tx_hash, row.valid_before, row.amount) == ("sent", tx(n), valid_before, 7_000)
        report = reconcile(ledger, rpc.url, now=valid_before - 5)
        assert report.settled == [landed] and report.pending == [lost]
        report = reconcile(ledger, rpc.url, now=valid_before + 3_600)
        assert report.released == [lost]
        assert ledger.totals() == {"paid": 7_000, "amount": 7_000, "fee": 0, "pending": 0, "count": 1, "attempts": 2,
                                  "fee_unconfirmed": 0}


def test_reconcile_uses_a_given_http_client(ledger: SQLiteLedger, clock: Clock, rpc: LoopbackRPC) -> None:
    rid = open_row(ledger, 1, "sent", valid_before=int(clock.now))
    rpc.state.receipts[tx(1)] = mined(tx(1))
    with httpx.Client() as http:
        report = ledger.reconcile(rpc.url, http=http)
        assert not http.is_closed
    assert report.settled == [rid]


def test_fees_come_from_the_chain_receipt(ledger: SQLiteLedger, clock: Clock, rpc: LoopbackRPC) -> None:
    """A row paid while no RPC answered keeps the worst-case fee in budgets and reports until
    reconciliation reads the actual one; a reverted transaction still cost its fee."""
    actual = -(-0x5208 * 0x4A817C800 // 10**12)  # gasUsed * effectiveGasPrice, rounded up: 421
    i = intent(5_000, n=1, max_fee=2_000)
    paid = ledger.reserve(i)
    ledger.mark_sent(paid, tx_hash=tx(1), valid_before=int(clock.now) + 60, payer=PAYER)
    ledger.settle(paid, record(i, tx(1)))  # fee unknown
    reverted = ledger.reserve(intent(3_000, n=2, max_fee=2_000))
    ledger.mark_sent(reverted, tx_hash=tx(2), valid_before=int(clock.now) + 60, payer=PAYER)
    ledger.outcome_unknown(reverted, detail="HTTP 502")
    assert ledger.totals()["paid"] == 7_000 and ledger.totals()["fee_unconfirmed"] == 1
    assert ledger.committed().total == 7_000 + 5_000
    rpc.state.receipts[tx(1)] = mined(tx(1))
    rpc.state.receipts[tx(2)] = mined(tx(2), status="0x0")
    report = reconcile(ledger, rpc.url)
    assert report.fees == [paid] and report.released == [reverted] and report.errors == []
    assert ledger.get(paid).fee == actual and ledger.get(reverted).fee == actual
    totals = ledger.totals()
    assert totals == {"paid": 5_000 + 2 * actual, "amount": 5_000, "fee": 2 * actual, "pending": 0, "count": 1,
                      "attempts": 2, "fee_unconfirmed": 0}
    assert ledger.committed().total == 5_000 + 2 * actual  # a reverted transaction still holds its fee
    assert reconcile(ledger, rpc.url).fees == []  # nothing left to fill
