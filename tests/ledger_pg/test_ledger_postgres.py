"""The PostgreSQL ledger against a real server: same behaviour as SQLite, budgets atomic across
connections, threads and processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from unit.ledger.support import (
    PAYER,
    Clock,
    LoopbackRPC,
    intent,
    mined,
    race_for_budget,
    record,
    run_released_workers,
    tx,
)

from grok_mpp.errors import BudgetExceededError
from grok_mpp.ledger import Budget, IllegalTransitionError, open_ledger, reconcile
from grok_mpp.ledger.postgres import PostgresLedger

pytestmark = pytest.mark.postgres



@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(pg_dsn: str, clock: Clock) -> Iterator[PostgresLedger]:
    led = open_ledger(pg_dsn, clock=clock)
    assert isinstance(led, PostgresLedger)
    yield led
    led.close()


def test_lifecycle_and_illegal_transitions(ledger: PostgresLedger, clock: Clock) -> None:
    i = intent(6_000, n=1)
    rid = ledger.reserve(i)
    ledger.mark_sent(rid, tx_hash=tx(1), valid_before=123, payer=PAYER)
    with pytest.raises(IllegalTransitionError):
        ledger.release(rid, reason="too late: it was sent")
    ledger.settle(rid, record(i, tx(1)))
    row = ledger.get(rid)
    assert (row.state, row.amount, row.tx_hash, row.valid_before, row.created_at) == (
        "settled", 6_000, tx(1), 123, clock.now
    )
    assert row.receipt is not None and row.receipt["reference"] == tx(1) and row.sponsored is False
    with pytest.raises(IllegalTransitionError):
        ledger.reject(rid, status_code=402, detail="x")
    assert ledger.get(rid) == row


def test_budget_states_windows_and_release(ledger: PostgresLedger, clock: Clock) -> None:
    ledger.set_budget(Budget(total=5_000, per_hour=3_000, per_call=2_000))
    with pytest.raises(BudgetExceededError, match="per-call"):
        ledger.reserve(intent(2_001))
    a = ledger.reserve(intent(2_000, n=1))
    ledger.mark_sent(a, tx_hash=tx(1), valid_before=1, payer=PAYER)
    ledger.outcome_unknown(a, detail="HTTP 502")  # keeps its budget
    b = ledger.reserve(intent(1_000, n=2))
    with pytest.raises(BudgetExceededError, match="hourly"):
        ledger.reserve(intent(1, n=3))
    ledger.release(b, reason="signing failed")
    ledger.reserve(intent(1_000, n=4))
    clock.now += 3_600
    ledger.reserve(intent(2_000, n=5))
    with pytest.raises(BudgetExceededError, match="total"):
        ledger.reserve(intent(1, n=6))
    c = ledger.committed()
    assert (c.total, c.last_hour, c.last_day) == (5_000, 2_000, 5_000)


def test_reports_and_reconcile(ledger: PostgresLedger, clock: Clock, tmp_path: Path) -> None:
    vb = int(clock.now) + 25
    for n, model in ((1, "grok-4"), (2, "grok-3-mini")):
        rid = ledger.reserve(intent(1_000 * n, model=model, n=n))
        ledger.mark_sent(rid, tx_hash=tx(n), valid_before=vb, payer=PAYER)
        ledger.outcome_unknown(rid, detail="connection dropped")
    with LoopbackRPC() as rpc:
        rpc.state.receipts[tx(2)] = mined(tx(2))
        report = reconcile(ledger, rpc.url, now=vb + 3_600)
    assert len(report.settled) == 1 and len(report.released) == 1 and report.errors == []
    assert ledger.totals() == {"paid": 2_000, "amount": 2_000, "fee": 0, "pending": 0, "count": 1, "attempts": 2,
                               "fee_unconfirmed": 0}
    assert {g["model"]: g["paid"] for g in ledger.summary(by="model")} == {"grok-4": 0, "grok-3-mini": 2_000}
    assert ledger.summary(by="day")[0]["day"] == "2025-06-15"
    assert ledger.to_csv(tmp_path / "x.csv") == 2


def test_64_threads_over_8_connections_pay_at_most_10(pg_dsn: str) -> None:
    amount = 6_000
    ledgers = [open_ledger(pg_dsn) for _ in range(8)]
    try:
        ledgers[0].set_budget(Budget(total=10 * amount))
        race = race_for_budget(lambda n, i: ledgers[n % 8].reserve(i), amount=amount)
        race.assert_paid(10)
        assert {r.id for r in ledgers[0].rows()} == set(race.ok)
    finally:
        for led in ledgers:
            led.close()


def test_four_processes_times_16_against_a_budget_for_10(pg_dsn: str) -> None:
    with open_ledger(pg_dsn) as admin:
        admin.set_budget(Budget(total=10 * 500))
    results = run_released_workers([["reserve", pg_dsn, "16", "500"]] * 4)
    ids = [rid for r in results for rid in r["ok"]]
    assert len(ids) == 10 and sum(r["refused"] for r in results) == 54
    with open_ledger(pg_dsn) as check:
        assert check.committed().total == 5_000


def test_repr_shows_where_without_password(pg_dsn: str) -> None:
    with open_ledger(pg_dsn) as led:
        assert "postgres@127.0.0.1" in repr(led)


def test_fees_scopes_and_libpq_keyword_dsn(pg_dsn: str, clock: Clock) -> None:
    """Spend truth on PostgreSQL: amount + fee committed and reported, object scopes and the
    ledger-wide budget, and the libpq keyword form of the DSN opening the same database."""
    from urllib.parse import urlsplit

    parts = urlsplit(pg_dsn)
    keyword_dsn = f"host={parts.hostname} port={parts.port} user={parts.username} dbname={parts.path.lstrip('/')}"
    with open_ledger(keyword_dsn, clock=clock) as admin, \
            open_ledger(pg_dsn, clock=clock, scope="agent", budget=Budget(total=3_000)) as agent:
        assert isinstance(admin, PostgresLedger)
        admin.set_budget(Budget(total=10_000))  # ledger-wide
        rid = agent.reserve(intent(1_000, max_fee=1_500))
        assert agent.committed().total == 2_500  # amount + worst-case fee
        agent.mark_sent(rid, tx_hash=tx(7), valid_before=123, payer=PAYER)
        agent.settle(rid, record(intent(1_000, max_fee=1_500), tx(7), fee=600))
        assert agent.committed().total == admin.committed().total == 1_600  # settled to the actual fee
        with pytest.raises(BudgetExceededError, match="scope 'agent'"):
            agent.reserve(intent(1_000, max_fee=1_500))  # 1_600 + 2_500 > 3_000
        admin.reserve(intent(8_000))  # the default scope is ledger-wide: 1_600 + 8_000 <= 10_000
        with pytest.raises(BudgetExceededError, match="ledger-wide"):
            open_ledger(pg_dsn, clock=clock, scope="other").reserve(intent(1_000))
        assert admin.totals()["paid"] == 1_600 and admin.totals()["fee"] == 600
