"""The SQLite ledger as a SpendGuard: states, budgets, windows, reports, storage format."""

from __future__ import annotations

import io
import json
import sqlite3
import sys
from pathlib import Path

import pytest

from grok_mpp.errors import BudgetExceededError, ConfigurationError
from grok_mpp.ledger import (
    Budget,
    IllegalTransitionError,
    Ledger,
    LedgerError,
    SQLiteLedger,
    default_ledger_path,
    open_ledger,
)
from grok_mpp.ledger.base import clean_detail
from grok_mpp.payment.hooks import SpendGuard

from .support import PAYER, Clock, intent, record, tx


def sent(ledger: SQLiteLedger, amount: int = 1_000, n: int = 1, valid_before: int = 2_000_000_000) -> str:
    rid = ledger.reserve(intent(amount, n=n))
    ledger.mark_sent(rid, tx_hash=tx(n).upper().replace("0X", "0x"), valid_before=valid_before, payer=PAYER.upper())
    return rid


def test_is_a_spend_guard_and_records_the_full_lifecycle(ledger: SQLiteLedger, clock: Clock) -> None:
    assert isinstance(ledger, SpendGuard)
    i = intent(6_000, n=3, max_fee=25)
    rid = ledger.reserve(i)
    row = ledger.get(rid)
    assert (row.state, row.amount, row.max_fee, row.estimate, row.model) == ("reserved", 6_000, 25, 5_990, "grok-4")
    assert (row.challenge_id, row.chain_id, row.currency, row.recipient) == ("ch-3", i.chain_id, i.currency, i.recipient)
    assert row.tx_hash is None and row.created_at == clock.now
    clock.now += 1
    ledger.mark_sent(rid, tx_hash=tx(3), valid_before=1_750_000_030, payer=PAYER)
    row = ledger.get(rid)
    assert (row.state, row.tx_hash, row.valid_before, row.payer, row.sent_at) == (
        "sent", tx(3), 1_750_000_030, PAYER, clock.now
    )
    clock.now += 1
    ledger.settle(rid, record(i, tx(3)))
    row = ledger.get(rid)
    assert row.state == "settled" and row.paid and not row.open
    assert row.receipt == {"method": "tempo", "reference": tx(3), "status": "success",
                           "timestamp": "2025-01-01T00:00:00Z"}
    assert row.receipt_reference == tx(3) and row.sponsored is False and row.concluded_at == clock.now


def test_hashes_and_addresses_are_stored_lower_case(ledger: SQLiteLedger) -> None:
    rid = sent(ledger, n=0xABC)
    row = ledger.get(rid)
    assert row.tx_hash == tx(0xABC) and row.payer == PAYER


@pytest.mark.parametrize(
    "steps",
    [
        ["settle"],  # settle before anything was sent
        ["mark_sent", "mark_sent"],
        ["mark_sent", "release"],  # once sent, only reconciliation may free the amount
        ["release", "mark_sent"],
        ["release", "release"],
        ["mark_sent", "settle", "reject"],
        ["mark_sent", "settle", "outcome_unknown"],
        ["mark_sent", "reject", "settle"],
        ["mark_sent", "outcome_unknown", "reject"],
        ["reject"],
        ["outcome_unknown"],
    ],
)
def test_illegal_transitions_raise_and_change_nothing(ledger: SQLiteLedger, steps: list[str]) -> None:
    i = intent(500)
    rid = ledger.reserve(i)
    actions = {
        "mark_sent": lambda: ledger.mark_sent(rid, tx_hash=tx(9), valid_before=1, payer=PAYER),
        "settle": lambda: ledger.settle(rid, record(i, tx(9))),
        "reject": lambda: ledger.reject(rid, status_code=402, detail="no"),
        "outcome_unknown": lambda: ledger.outcome_unknown(rid, detail="?"),
        "release": lambda: ledger.release(rid, reason="x"),
    }
    for step in steps[:-1]:
        actions[step]()
    before = ledger.get(rid)
    with pytest.raises(IllegalTransitionError):
        actions[steps[-1]]()
    assert ledger.get(rid) == before


def test_unknown_reservation_is_a_ledger_error(ledger: SQLiteLedger) -> None:
    with pytest.raises(LedgerError, match="no payment attempt"):
        ledger.mark_sent("nope", tx_hash=tx(1), valid_before=1, payer=PAYER)


def test_total_budget_counts_every_state_but_released(ledger: SQLiteLedger) -> None:
    ledger.budget = Budget(total=10_000)
    a = sent(ledger, 2_000, 1)
    ledger.settle(a, record(intent(2_000), tx(1)))  # settled: 2000
    b = sent(ledger, 2_000, 2)
    ledger.reject(b, status_code=402, detail="verification failed")  # rejected keeps its 2000
    c = sent(ledger, 2_000, 3)
    ledger.outcome_unknown(c, detail="HTTP 502")  # unknown keeps its 2000
    sent(ledger, 2_000, 4)  # in flight keeps its 2000
    d = ledger.reserve(intent(2_000, n=5))  # reserved holds 2000 -> 10000 committed
    assert ledger.committed().total == 10_000
    with pytest.raises(BudgetExceededError, match="total budget") as err:
        ledger.reserve(intent(1, n=6))
    assert err.value.context["committed"] == 10_000 and err.value.context["budget"] == 10_000
    ledger.release(d, reason="signing failed")  # nothing sent: frees exactly its amount
    assert ledger.committed().total == 8_000
    ledger.reserve(intent(2_000, n=7))
    with pytest.raises(BudgetExceededError):
        ledger.reserve(intent(1, n=8))
    assert len(ledger.rows()) == 6  # refusals leave no row


def test_refusal_writes_nothing(ledger: SQLiteLedger, db_path: Path) -> None:
    ledger.budget = Budget(total=5)
    with pytest.raises(BudgetExceededError):
        ledger.reserve(intent(6))
    assert ledger.rows() == []


def test_per_call_cap(ledger: SQLiteLedger) -> None:
    ledger.budget = Budget(per_call=1_000)
    ledger.reserve(intent(1_000))
    with pytest.raises(BudgetExceededError, match="per-call"):
        ledger.reserve(intent(1_001))


def test_rolling_windows_follow_the_clock(ledger: SQLiteLedger, clock: Clock) -> None:
    ledger.budget = Budget(per_hour=3_000, per_day=5_000)
    start = clock.now
    ledger.reserve(intent(2_000, n=1))
    clock.now = start + 1_800
    ledger.reserve(intent(1_000, n=2))
    with pytest.raises(BudgetExceededError, match="hourly"):
        ledger.reserve(intent(1, n=3))
    clock.now = start + 3_600  # the first row left the hour window (strictly older than an hour)
    ledger.reserve(intent(2_000, n=4))
    assert ledger.committed().last_hour == 3_000
    clock.now = start + 3 * 3_600
    with pytest.raises(BudgetExceededError, match="daily"):
        ledger.reserve(intent(1, n=5))
    clock.now = start + 86_400
    ledger.reserve(intent(1_500, n=6))
    c = ledger.committed()
    assert (c.total, c.last_hour, c.last_day) == (6_500, 1_500, 4_500)


def test_stored_budget_is_shared_and_the_stricter_limit_wins(db_path: Path, clock: Clock) -> None:
    with SQLiteLedger(db_path, clock=clock) as admin:
        admin.set_budget(Budget(total=5_000, per_call=2_000))
    with SQLiteLedger(db_path, clock=clock, budget=Budget(total=3_000)) as a, SQLiteLedger(db_path, clock=clock) as b:
        assert a.effective_budget() == Budget(total=3_000, per_call=2_000)
        assert b.get_budget() == Budget(total=5_000, per_call=2_000)
        a.reserve(intent(2_000))
        with pytest.raises(BudgetExceededError, match="per-call"):
            b.reserve(intent(2_001))
        b.reserve(intent(2_000))  # b sees a's reservation: 4000 of 5000
        with pytest.raises(BudgetExceededError):
            a.reserve(intent(1))  # a's own limit 3000 is stricter
        with pytest.raises(BudgetExceededError):
            b.reserve(intent(1_001))
        b.set_budget(None)
        b.reserve(intent(10_000))


def test_scopes_have_separate_budgets(db_path: Path) -> None:
    with SQLiteLedger(db_path, scope="team-a") as a, SQLiteLedger(db_path, scope="team-b") as b:
        a.set_budget(Budget(total=1_000))
        a.reserve(intent(1_000))
        b.reserve(intent(50_000))  # team-b has no budget and does not see team-a's spend
        with pytest.raises(BudgetExceededError):
            a.reserve(intent(1))
        assert {r.scope for r in a.rows()} == {"team-a", "team-b"}
        assert [r.amount for r in a.rows(scope="team-b")] == [50_000]


def test_reports_and_csv(ledger: SQLiteLedger, clock: Clock, tmp_path: Path) -> None:
    start = clock.now  # 2025-06-15 UTC
    for n, (amount, model, endpoint) in enumerate(
        [(1_000, "grok-4", "/grok/chat"), (2_000, "grok-3-mini", "/grok/chat"), (500, None, "/grok/tts")]
    ):
        rid = ledger.reserve(intent(amount, model=model, endpoint=endpoint, n=n))
        ledger.mark_sent(rid, tx_hash=tx(n), valid_before=1, payer=PAYER)
        ledger.settle(rid, record(intent(amount), tx(n)))
    clock.now = start + 86_400
    rid = sent(ledger, 4_000, 10)
    ledger.outcome_unknown(rid, detail="HTTP 502")
    assert ledger.totals() == {"paid": 3_500, "amount": 3_500, "fee": 0, "pending": 4_000, "count": 3, "attempts": 4,
                               "fee_unconfirmed": 3}
    days = ledger.summary(by="day")
    assert [(d["day"], d["paid"], d["pending"]) for d in days] == [("2025-06-15", 3_500, 0), ("2025-06-16", 0, 4_000)]
    models = {g["model"]: g["paid"] for g in ledger.summary(by="model")}
    assert models == {"grok-4": 1_000, "grok-3-mini": 2_000, "-": 500}  # the open grok-4 row is pending, not paid
    endpoints = {g["endpoint"]: g["attempts"] for g in ledger.summary(by="endpoint", since=start + 1)}
    assert endpoints == {"/grok/chat": 1}
    assert ledger.totals(since=start + 1)["pending"] == 4_000

    path = tmp_path / "out.csv"
    assert ledger.to_csv(path) == 4
    buffer = io.StringIO()
    assert ledger.to_csv(buffer) == 4
    assert buffer.getvalue() == path.read_bytes().decode("utf-8")
    import csv

    parsed = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert [p["state"] for p in parsed] == ["settled", "settled", "settled", "outcome_unknown"]
    assert parsed[0]["amount"] == "1000" and parsed[0]["created_at"] == "2025-06-15T15:06:40.000Z"
    assert json.loads(parsed[0]["receipt"])["reference"] == tx(0) and parsed[3]["receipt"] == ""
    assert parsed[2]["model"] == ""


def test_rows_filters(ledger: SQLiteLedger, clock: Clock) -> None:
    a = ledger.reserve(intent(1, n=1))
    clock.now += 10
    b = sent(ledger, 2, 2)
    assert [r.id for r in ledger.rows()] == [a, b]
    assert [r.id for r in ledger.rows(state="sent")] == [b]
    assert [r.id for r in ledger.rows(state=["sent", "reserved"], limit=1)] == [a]
    assert [r.id for r in ledger.rows(since=clock.now)] == [b]
    assert [r.id for r in ledger.rows(until=clock.now)] == [a]


def test_to_dataframe_without_pandas_explains(ledger: SQLiteLedger, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        ledger.to_dataframe()


def test_to_dataframe_with_pandas(ledger: SQLiteLedger) -> None:
    pytest.importorskip("pandas")
    sent(ledger, 1_234, 1)
    frame = ledger.to_dataframe()
    assert list(frame["amount"]) == [1_234] and frame["state"][0] == "sent"


def test_detail_is_bounded_and_credentials_are_redacted(ledger: SQLiteLedger) -> None:
    credential = "Payment eyJjaGFsbGVuZ2UiOnsiaWQiOiJhYmMifSwicGF5bG9hZCI6e319"
    assert clean_detail(f"server said: {credential} is bad") == "server said: Payment [redacted] is bad"
    rid = sent(ledger)
    ledger.reject(rid, status_code=403, detail=f"echo {credential} " + "x" * 2_000)
    detail = ledger.get(rid).detail
    assert detail is not None and "eyJ" not in detail and len(detail) == 500


def test_open_ledger_picks_backend_and_default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_ledger_path() == tmp_path / "xdg" / "grok-mpp" / "ledger.sqlite3"
    assert default_ledger_path({"HOME": "/home/u"}) == Path("/home/u/.local/share/grok-mpp/ledger.sqlite3")
    monkeypatch.delenv("GROK_MPP_LEDGER")
    with open_ledger() as led:
        assert isinstance(led, SQLiteLedger) and led.location == str(default_ledger_path())
    assert (tmp_path / "xdg" / "grok-mpp" / "ledger.sqlite3").exists()
    monkeypatch.setenv("GROK_MPP_LEDGER", str(tmp_path / "env.sqlite3"))
    with Ledger.open() as led:
        assert led.location == str(tmp_path / "env.sqlite3")
    with open_ledger(f"sqlite:///{tmp_path}/url.sqlite3") as led:
        assert led.location == f"{tmp_path}/url.sqlite3"
    with pytest.raises(ConfigurationError, match="off"):
        open_ledger("off")


def test_storage_is_wal_with_integer_amounts(ledger: SQLiteLedger, db_path: Path) -> None:
    sent(ledger, 123_456_789, 1)
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("SELECT typeof(amount), typeof(valid_before) FROM grok_mpp_payments").fetchone() == (
            "integer", "integer"
        )
    assert oct(db_path.stat().st_mode & 0o777) == "0o600"


def test_closed_ledger_refuses(db_path: Path) -> None:
    led = SQLiteLedger(db_path)
    led.close()
    with pytest.raises(LedgerError, match="closed"):
        led.reserve(intent())
    assert "ledger.sqlite3" in repr(led)


def test_postgres_dsn_password_is_redacted() -> None:
    from grok_mpp.ledger.postgres import redact_dsn

    assert redact_dsn("postgresql://u:s3cret@db.example:5432/x") == "postgresql://u:***@db.example:5432/x"
    assert redact_dsn("postgresql://u@db.example/x") == "postgresql://u@db.example/x"
    assert redact_dsn("host=db password=s3cret dbname=x") == "host=db password=*** dbname=x"


def test_missing_psycopg_is_a_clear_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(ConfigurationError, match=r"grok-mpp\[postgres\]"):
        open_ledger("postgresql://nobody@127.0.0.1:1/none")
