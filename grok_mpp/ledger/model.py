"""Pure ledger rules: payment states, legal transitions, budgets and the budget check.

Nothing here touches a database, so the rules that decide whether money may be committed are the
same for SQLite and PostgreSQL and can be tested without either.

Why these states: a payment attempt must be recorded *before* signing (``reserved``) so a budget can
refuse it, and *before* the credential leaves the process (``sent``) so a crash leaves a row with the
transaction hash. Only two facts ever end an attempt for good: the chain (or a receipt) says the
transfer happened, or the transaction provably can no longer land (its ``valid_before`` has
passed, Tempo expiring nonces). Until then the amount stays committed against every budget.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from grok_mpp.errors import ConfigurationError, GrokMPPError
from grok_mpp.units import UsdLike, format_usd, usd_to_base_units

RESERVED = "reserved"
SENT = "sent"
SETTLED = "settled"
REJECTED = "rejected"
OUTCOME_UNKNOWN = "outcome_unknown"
SETTLED_ONCHAIN = "settled_onchain"
RELEASED = "released"

STATES: tuple[str, ...] = (RESERVED, SENT, SETTLED, REJECTED, OUTCOME_UNKNOWN, SETTLED_ONCHAIN, RELEASED)
#: Rows whose amount definitely left the wallet.
PAID_STATES: frozenset[str] = frozenset({SETTLED, SETTLED_ONCHAIN})
#: Rows that may still turn into a payment; reconciliation works on these.
OPEN_STATES: frozenset[str] = frozenset({RESERVED, SENT, REJECTED, OUTCOME_UNKNOWN})
#: Every state except ``released`` holds budget: only a provably unspent attempt frees it.
FREEING_STATES: frozenset[str] = frozenset({RELEASED})

TRANSITIONS: dict[str, frozenset[str]] = {
    RESERVED: frozenset({SENT, RELEASED}),
    # A row left 'sent' by a crash is resolved by reconciliation straight from 'sent'.
    SENT: frozenset({SETTLED, REJECTED, OUTCOME_UNKNOWN, SETTLED_ONCHAIN, RELEASED}),
    REJECTED: frozenset({SETTLED_ONCHAIN, RELEASED}),
    OUTCOME_UNKNOWN: frozenset({SETTLED_ONCHAIN, RELEASED}),
    SETTLED: frozenset(),
    SETTLED_ONCHAIN: frozenset(),
    RELEASED: frozenset(),
}


#: States a re-sent credential's gateway receipt may settle (see ``LedgerBase.settle_resent``).
RESENT_SETTLE_FROM: frozenset[str] = frozenset({SENT, REJECTED, OUTCOME_UNKNOWN, SETTLED_ONCHAIN})


class LedgerError(GrokMPPError):
    """The ledger could not record a payment attempt (unknown reservation, storage failure)."""


class LedgerUnusableError(LedgerError, ConfigurationError):
    """The ledger cannot be trusted or reached (bad location, damaged file, wrong schema, storage
    failure). Nothing is signed while it is: a payment that cannot be recorded is not made."""


class LedgerSchemaError(LedgerUnusableError):
    """The ledger's schema is newer than this code, unreadable, or lacks a column."""


class IllegalTransitionError(LedgerError, RuntimeError):
    """A payment row was asked to move to a state its current state does not allow.

    Raised, for example, when ``release`` is called on a row that was already sent: once a signed
    transaction left the process only reconciliation may free its amount.
    """


#: Moves only chain evidence may make: once a credential left the process, nothing the client
#: itself observes can prove the money did not move, so ``release`` alone cannot free it.
RECONCILE_ONLY: frozenset[tuple[str, str]] = frozenset(
    (current, new)
    for current, targets in TRANSITIONS.items()
    for new in targets
    if new in (SETTLED_ONCHAIN, RELEASED) and current != RESERVED
)


def check_transition(row_id: str, current: str, new: str, *, via: str) -> None:
    """Raise :class:`IllegalTransitionError` unless ``current -> new`` is allowed for ``via``.

    ``via`` is the operation asking ('mark_sent', 'settle', ..., or 'reconcile').
    """
    allowed = new in TRANSITIONS.get(current, frozenset())
    if allowed and via != "reconcile" and (current, new) in RECONCILE_ONLY:
        allowed = False
    if not allowed:
        raise IllegalTransitionError(
            f"payment {row_id} is '{current}'; '{via}' cannot move it to '{new}'",
            hint="each attempt is reserved, sent once, then concluded once",
            row_id=row_id,
            state=current,
        )


def _opt_units(value: UsdLike | None, name: str) -> int | None:
    return None if value is None else usd_to_base_units(value, name=name)


@dataclass(frozen=True, slots=True)
class Budget:
    """Spending limits in base units; ``None`` means unlimited.

    ``per_call`` caps one payment; ``total`` caps everything ever committed in the scope;
    ``per_hour`` / ``per_day`` cap what was committed in the last 3600 / 86400 seconds (rolling,
    measured from each row's reservation time).

    Example::

        from grok_mpp.ledger import Budget
        budget = Budget.from_usd(per_call="0.05", per_day="2")    # exact: "0.05" -> 50_000 base units
        print(budget.per_call, budget.stricter(Budget(per_day=1_000_000)))   # lower limit of each wins
    """

    per_call: int | None = None
    total: int | None = None
    per_hour: int | None = None
    per_day: int | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"budget {f.name} must be a non-negative int of base units or None, got {value!r}")

    @classmethod
    def from_usd(
        cls,
        *,
        per_call: UsdLike | None = None,
        total: UsdLike | None = None,
        per_hour: UsdLike | None = None,
        per_day: UsdLike | None = None,
    ) -> Budget:
        """Build a budget from USD amounts ('0.50', Decimal, int), converted exactly."""
        return cls(
            per_call=_opt_units(per_call, "per_call"),
            total=_opt_units(total, "total"),
            per_hour=_opt_units(per_hour, "per_hour"),
            per_day=_opt_units(per_day, "per_day"),
        )

    @property
    def unlimited(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))

    def stricter(self, other: Budget | None) -> Budget:
        """Combine two budgets limit by limit, keeping the lower of each (both must hold)."""
        if other is None:
            return self

        def low(a: int | None, b: int | None) -> int | None:
            return b if a is None else a if b is None else min(a, b)

        return Budget(
            per_call=low(self.per_call, other.per_call),
            total=low(self.total, other.total),
            per_hour=low(self.per_hour, other.per_hour),
            per_day=low(self.per_day, other.per_day),
        )

    def as_dict(self) -> dict[str, int | None]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Committed:
    """Base units already committed in a scope: overall and inside each rolling window."""

    total: int = 0
    last_hour: int = 0
    last_day: int = 0


HOUR = 3600
DAY = 86400


def budget_refusal(budget: Budget, amount: int, committed: Committed) -> tuple[str, int, int] | None:
    """Which limit ``amount`` would break, as ``(message, limit, already_committed)``, or None.

    ``amount`` is what the attempt may cost: the price plus the worst-case network fee.
    Pure so both backends refuse for exactly the same reasons, inside their own lock.
    """
    if budget.per_call is not None and amount > budget.per_call:
        return (f"paying {format_usd(amount)} USD exceeds the per-call budget of {format_usd(budget.per_call)} USD",
                budget.per_call, 0)
    checks = (
        ("total budget", budget.total, committed.total),
        ("hourly budget", budget.per_hour, committed.last_hour),
        ("daily budget", budget.per_day, committed.last_day),
    )
    for label, limit, used in checks:
        if limit is not None and used + amount > limit:
            return (
                f"paying {format_usd(amount)} USD would exceed the {label} of {format_usd(limit)} USD "
                f"({format_usd(used)} USD already committed)",
                limit,
                used,
            )
    return None


@dataclass
class ReconcileReport:
    """Row ids per outcome, plus human-readable errors (RPC failures, chain mismatches)."""

    checked: int = 0
    settled: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: Paid rows whose unknown network fee was filled in from the chain receipt.
    fees: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def receipt_summary(receipt: dict[str, Any]) -> dict[str, Any]:
    """The few receipt fields worth keeping next to the row (no logs, no bloom)."""
    keys = ("transactionHash", "blockNumber", "blockHash", "status", "gasUsed", "effectiveGasPrice", "from", "to",
            "feePayer", "feeToken")
    return {k: receipt[k] for k in keys if k in receipt}


# Columns of the payments table, in order. The schema, the row type and CSV export share this list.
COLUMNS: tuple[str, ...] = (
    "id",
    "scope",
    "state",
    "endpoint",
    "model",
    "challenge_id",
    "realm",
    "origin",
    "request_digest",
    "amount",
    "max_fee",
    "fee",
    "estimate",
    "currency",
    "recipient",
    "chain_id",
    "payer",
    "tx_hash",
    "valid_before",
    "receipt_reference",
    "receipt",
    "owner",
    "sponsored",
    "status_code",
    "detail",
    "created_at",
    "sent_at",
    "concluded_at",
    "reconciled_at",
    "updated_at",
)


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One payment attempt as stored. Amounts in base units; times are Unix seconds (UTC)."""

    id: str
    scope: str
    state: str
    endpoint: str
    model: str | None
    challenge_id: str
    realm: str | None
    origin: str | None
    request_digest: str | None
    amount: int
    max_fee: int
    estimate: int | None
    currency: str
    recipient: str
    chain_id: int
    payer: str | None
    tx_hash: str | None
    valid_before: int | None
    receipt_reference: str | None
    receipt: dict[str, Any] | None
    sponsored: bool | None
    status_code: int | None
    detail: str | None
    created_at: float
    sent_at: float | None
    concluded_at: float | None
    reconciled_at: float | None
    updated_at: float
    #: The actual network fee (chain receipt); None while unknown (``max_fee`` is the bound).
    fee: int | None = None
    #: ``host:pid:start`` of the process that reserved the row (see :mod:`grok_mpp.ledger.owner`).
    owner: str | None = None

    @classmethod
    def from_db(cls, values: tuple[Any, ...] | list[Any]) -> LedgerRow:
        """A stored row; a value this code cannot read is a typed :class:`LedgerSchemaError`."""
        try:
            data = dict(zip(COLUMNS, values, strict=True))
            data["receipt"] = json.loads(data["receipt"]) if data["receipt"] else None
            data["sponsored"] = None if data["sponsored"] is None else bool(data["sponsored"])
            for name in ("amount", "max_fee", "chain_id"):
                data[name] = int(data[name])
            data["fee"] = None if data["fee"] is None else int(data["fee"])
            for name in ("created_at", "updated_at"):
                data[name] = float(data[name])
            return cls(**data)
        except (TypeError, ValueError) as exc:  # JSONDecodeError is a ValueError
            row_id = values[0] if values else "?"
            raise LedgerSchemaError(
                f"ledger row {str(row_id)[:40]!r} holds a value this grok-mpp cannot read ({type(exc).__name__})",
                hint="the ledger was edited by hand or damaged; restore it or use a new ledger",
            ) from None

    @property
    def paid(self) -> bool:
        return self.state in PAID_STATES

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def fee_or_bound(self) -> int:
        """The actual network fee, or the worst case reserved while it is unknown."""
        return self.max_fee if self.fee is None else self.fee

    @property
    def spent(self) -> int:
        """Base units that left the wallet: amount + fee for paid rows; the fee alone for a
        transaction that was mined but reverted (released with a fee); 0 otherwise."""
        if self.state in PAID_STATES:
            return self.amount + self.fee_or_bound
        return (self.fee or 0) if self.state == RELEASED else 0

    @property
    def committed(self) -> int:
        """What the row holds against budgets: amount + fee (or its bound) unless released."""
        return (self.fee or 0) if self.state == RELEASED else self.amount + self.fee_or_bound

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in COLUMNS}
