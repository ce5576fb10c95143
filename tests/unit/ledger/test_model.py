"""Pure ledger rules: transitions, budgets, reconciliation decisions, report aggregation."""

from __future__ import annotations

import itertools

import pytest

from grok_mpp.errors import ConfigurationError
from grok_mpp.ledger.model import (
    OPEN_STATES,
    PAID_STATES,
    RECONCILE_ONLY,
    STATES,
    TRANSITIONS,
    Budget,
    Committed,
    IllegalTransitionError,
    LedgerRow,
    budget_refusal,
    check_transition,
)
from grok_mpp.ledger.reconcile import decide, decide_unsent
from grok_mpp.ledger.report import summarize, totals

from .support import mined, tx


def test_every_state_has_a_transition_entry_and_terminal_states_are_closed() -> None:
    assert set(TRANSITIONS) == set(STATES)
    for state in PAID_STATES | {"released"}:
        assert state not in OPEN_STATES
    assert TRANSITIONS["released"] == frozenset()


@pytest.mark.parametrize(("current", "new"), list(itertools.product(STATES, STATES)))
def test_check_transition_matches_the_table(current: str, new: str) -> None:
    if new in TRANSITIONS[current]:
        check_transition("r", current, new, via="reconcile")
    else:
        with pytest.raises(IllegalTransitionError, match=f"'{current}'"):
            check_transition("r", current, new, via="reconcile")
    if new in TRANSITIONS[current] and (current, new) not in RECONCILE_ONLY:
        check_transition("r", current, new, via="release")
    else:
        with pytest.raises(IllegalTransitionError):
            check_transition("r", current, new, via="release")


def test_only_reconciliation_frees_or_settles_a_sent_payment() -> None:
    assert ("sent", "released") in RECONCILE_ONLY and ("outcome_unknown", "released") in RECONCILE_ONLY
    assert ("reserved", "released") not in RECONCILE_ONLY
    assert all(new in {"released", "settled_onchain"} for _, new in RECONCILE_ONLY)


def test_budget_from_usd_is_exact_and_validates() -> None:
    b = Budget.from_usd(per_call="0.05", total="10", per_hour=0.1, per_day="2.5")
    assert b == Budget(per_call=50_000, total=10_000_000, per_hour=100_000, per_day=2_500_000)
    with pytest.raises(ConfigurationError):
        Budget.from_usd(total="0.0000001")
    with pytest.raises(ValueError, match="non-negative"):
        Budget(total=-1)
    with pytest.raises(ValueError, match="non-negative"):
        Budget(total=1.5)  # type: ignore[arg-type]
    assert Budget().unlimited and not b.unlimited


def test_stricter_keeps_the_lower_limit_of_each() -> None:
    a = Budget(total=100, per_hour=None, per_day=50)
    b = Budget(total=80, per_hour=10, per_day=None, per_call=5)
    assert a.stricter(b) == Budget(per_call=5, total=80, per_hour=10, per_day=50)
    assert a.stricter(None) == a


@pytest.mark.parametrize(
    ("budget", "amount", "committed", "refused_by"),
    [
        (Budget(total=10), 4, Committed(total=6), None),
        (Budget(total=10), 5, Committed(total=6), "total"),
        (Budget(per_call=3), 4, Committed(), "per-call"),
        (Budget(per_call=4), 4, Committed(), None),
        (Budget(per_hour=5), 2, Committed(total=100, last_hour=4, last_day=50), "hourly"),
        (Budget(per_day=50), 2, Committed(total=100, last_hour=0, last_day=49), "daily"),
        (Budget(per_day=51), 2, Committed(total=100, last_hour=0, last_day=49), None),
    ],
)
def test_budget_refusal(budget: Budget, amount: int, committed: Committed, refused_by: str | None) -> None:
    got = budget_refusal(budget, amount, committed)
    if refused_by is None:
        assert got is None
    else:
        assert got is not None and refused_by in got[0]


def row(state: str, amount: int, *, model: str | None = "m", endpoint: str = "/grok/chat", created: float = 0,
        valid_before: int | None = 100, tx_hash: str | None = tx(1)) -> LedgerRow:
    return LedgerRow(
        id=f"{state}{amount}{created}", scope="default", state=state, endpoint=endpoint, model=model,
        challenge_id="c", realm=None, origin=None, request_digest=None, amount=amount, max_fee=0,
        estimate=amount + 1, currency="0x", recipient="0x", chain_id=1, payer=None, tx_hash=tx_hash,
        valid_before=valid_before, receipt_reference=None, receipt=None, sponsored=None, status_code=None,
        detail=None, created_at=created, sent_at=None, concluded_at=None, reconciled_at=None, updated_at=created,
    )


def test_decide_from_chain_answers() -> None:
    r = row("outcome_unknown", 5, valid_before=1000)
    assert decide(r, mined(tx(1)), now=0).action == "settle"
    reverted = decide(r, mined(tx(1), status="0x0"), now=0)
    assert reverted.action == "release" and "reverted" in reverted.detail
    assert decide(r, None, now=999).action == "wait"
    assert decide(r, None, now=1000 + 29, grace=30).action == "wait"
    assert decide(r, None, now=1000 + 30, grace=30).action == "release"
    assert decide(row("sent", 5, valid_before=None), None, now=10**12).action == "wait"


def test_decide_unsent_waits_for_abandonment() -> None:
    r = row("reserved", 5, created=100, tx_hash=None)
    assert decide_unsent(r, 100 + 299, stale_after=300).action == "wait"
    assert decide_unsent(r, 100 + 300, stale_after=300).action == "release"


def test_summarize_groups_and_totals() -> None:
    day = 86400
    rows = [
        row("settled", 10, model="a", created=0),
        row("settled_onchain", 7, model="b", created=10),
        row("sent", 3, model="a", created=day + 1),
        row("released", 100, model="a", created=day + 2),
        row("rejected", 2, model=None, endpoint="/grok/x", created=day + 3),
    ]
    by_day = summarize(rows, "day")
    assert [g["day"] for g in by_day] == ["1970-01-01", "1970-01-02"]
    assert by_day[0] == {"day": "1970-01-01", "attempts": 2, "payments": 2, "paid": 17, "amount": 17,
                         "fee": 0, "pending": 0, "released": 0, "estimated": 19}
    assert (by_day[1]["paid"], by_day[1]["pending"], by_day[1]["released"]) == (0, 5, 100)
    by_model = {g["model"]: g for g in summarize(rows, "model")}
    assert by_model["a"]["paid"] == 10 and by_model["-"]["pending"] == 2
    by_endpoint = {g["endpoint"]: g for g in summarize(rows, "endpoint")}
    assert by_endpoint["/grok/x"]["attempts"] == 1
    assert totals(rows) == {"paid": 17, "amount": 17, "fee": 0, "pending": 5, "count": 2, "attempts": 5,
                            "fee_unconfirmed": 2}
    with pytest.raises(ValueError, match="by"):
        summarize(rows, "week")
