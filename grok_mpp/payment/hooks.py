"""The seams between the payment flow and whoever tracks money (budgets, ledger, cost callbacks).

The auth flow calls a :class:`SpendGuard` at four moments of every payment attempt:

1. ``reserve(intent)`` after the policy accepted a challenge and BEFORE anything is signed. A guard
   enforces budgets here (atomically) and raises :class:`~grok_mpp.errors.BudgetExceededError` to
   refuse. It returns an opaque reservation id.
2. ``mark_sent(rid, tx_hash, valid_before)`` right before the credential leaves the process, so a
   crash after this point leaves a row that reconciliation can resolve by tx hash.
3. exactly one of ``settle(rid, record)`` (2xx with receipt), ``reject(rid, ...)`` (server refused
   the credential), ``outcome_unknown(rid, ...)`` (transport error or 5xx after sending) or
   ``release(rid, reason)`` (nothing was sent: signing or pre-send checks failed).
4. optionally ``confirm_onchain(rid, fee=..., receipt=...)`` when the client itself found the
   transaction mined after a failed answer (502, 5xx, dropped connection): the money moved.

Budgets count ``amount + max_fee`` (the worst-case network fee) from ``reserve`` on and settle to
``amount + fee`` once the actual fee is known (``PaymentRecord.fee``).

Observers (:class:`PaymentObserver`) only watch settled payments; they feed cost callbacks and
instrumentation events and must never raise into the payment path.

Amounts are integers in the token's base units (6 decimals for TIP-20 stablecoins).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from grok_mpp.errors import BudgetExceededError

logger = logging.getLogger("grok_mpp.payment")


@dataclass(frozen=True, slots=True)
class PaymentIntent:
    """What is about to be paid, known before signing."""

    challenge_id: str
    realm: str
    origin: str
    endpoint: str
    amount: int
    currency: str
    recipient: str
    chain_id: int
    request_digest: str
    model: str | None = None
    estimate: int | None = None
    max_fee: int = 0


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    """A payment the server accepted (2xx). Holds no key and no credential."""

    intent: PaymentIntent
    tx_hash: str
    receipt_reference: str | None
    receipt: dict[str, Any] | None
    payer: str
    sponsored: bool
    valid_before: int
    settled_at: float
    #: Network fee actually paid (from the chain receipt), 0 when sponsored, None if unknown.
    fee: int | None = None

    @property
    def amount(self) -> int:
        return self.intent.amount

    @property
    def fee_or_bound(self) -> int:
        """The actual fee, or its worst case when the chain could not be asked."""
        return self.intent.max_fee if self.fee is None else self.fee

    @property
    def total(self) -> int:
        """What left the wallet: amount plus network fee (the bound if the actual is unknown)."""
        return self.intent.amount + self.fee_or_bound

    @property
    def reference_matches(self) -> bool:
        """False when an unsponsored payment's receipt names another transaction than ours."""
        return self.sponsored or self.receipt_reference is None or self.receipt_reference.lower() == self.tx_hash

    @property
    def amount_usd(self) -> str:
        from grok_mpp.units import format_usd

        return format_usd(self.intent.amount)


@runtime_checkable
class SpendGuard(Protocol):
    """Budget enforcement and durable bookkeeping around one payment attempt."""

    def reserve(self, intent: PaymentIntent) -> str: ...

    def mark_sent(self, reservation_id: str, *, tx_hash: str, valid_before: int, payer: str) -> None: ...

    def settle(self, reservation_id: str, record: PaymentRecord) -> None: ...

    def reject(self, reservation_id: str, *, status_code: int | None, detail: str) -> None: ...

    def outcome_unknown(self, reservation_id: str, *, detail: str) -> None: ...

    def release(self, reservation_id: str, *, reason: str) -> None: ...


PaymentObserver = Callable[[PaymentRecord], None]


def notify_observers(observers: list[PaymentObserver], record: PaymentRecord) -> None:
    """Call every observer; an observer's bug must not turn a paid call into an error."""
    for observer in observers:
        try:
            observer(record)
        except Exception:  # observers are user code: log, never propagate into the paid path
            logger.exception("payment observer %r failed", observer)


@dataclass
class InMemoryBudget:
    """A process-local :class:`SpendGuard`: an optional total budget, thread-safe.

    Used when no ledger is configured. Amounts that may have been spent (sent, rejected after
    sending, outcome unknown) stay counted: only ``release`` (nothing sent) returns them.
    """

    total: int | None = None
    _spent: int = 0
    _reserved: dict[str, int] = field(default_factory=dict)
    _max_fee: dict[str, int] = field(default_factory=dict)
    _confirmed_bounds: dict[str, tuple[int, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def committed(self) -> int:
        """Base units that are spent or may have been spent, plus open reservations."""
        with self._lock:
            return self._spent + sum(self._reserved.values())

    def reserve(self, intent: PaymentIntent) -> str:
        with self._lock:
            used = self._spent + sum(self._reserved.values())
            needed = intent.amount + intent.max_fee
            if self.total is not None and used + needed > self.total:
                from grok_mpp.units import format_usd

                raise BudgetExceededError(
                    f"paying {format_usd(intent.amount)} USD (+ network fee up to {format_usd(intent.max_fee)}) "
                    f"would exceed the budget of {format_usd(self.total)} USD ({format_usd(used)} USD already committed)",
                    hint="raise the budget or start a new session",
                    amount=intent.amount,
                    budget=self.total,
                    committed=used,
                )
            rid = uuid.uuid4().hex
            self._reserved[rid] = needed
            self._max_fee[rid] = intent.max_fee
            return rid

    def _commit(self, rid: str, fee: int | None = None) -> None:
        """Move a reservation to spent, replacing its worst-case fee by the actual one if known."""
        with self._lock:
            held = self._reserved.pop(rid, None)
            bound = self._max_fee.pop(rid, 0)
            if held is not None:
                self._spent += held if fee is None else held - bound + fee

    def mark_sent(self, reservation_id: str, *, tx_hash: str, valid_before: int, payer: str) -> None:
        return None

    def settle(self, reservation_id: str, record: PaymentRecord) -> None:
        self._commit(reservation_id, record.fee)

    def _commit_open(self, rid: str) -> None:
        with self._lock:
            if rid in self._max_fee:
                bound = self._max_fee[rid]
                self._confirmed_bounds[rid] = (self._reserved.get(rid, bound) - bound, bound)
        self._commit(rid)

    def reject(self, reservation_id: str, *, status_code: int | None, detail: str) -> None:
        self._commit_open(reservation_id)

    def outcome_unknown(self, reservation_id: str, *, detail: str) -> None:
        self._commit_open(reservation_id)

    def confirm_onchain(
        self, reservation_id: str, *, fee: int | None, receipt: dict[str, Any] | None = None, settled: bool = True
    ) -> None:
        """The transaction was found mined after a failed answer: count what it really cost.

        ``settled`` False means it reverted: only the fee left the wallet.
        """
        with self._lock:
            held = self._confirmed_bounds.pop(reservation_id, None)
            if held is None:
                return
            amount, bound = held
            actual = (amount if settled else 0) + (bound if fee is None else fee)
            self._spent += actual - (amount + bound)

    def release(self, reservation_id: str, *, reason: str) -> None:
        with self._lock:
            self._reserved.pop(reservation_id, None)
            self._max_fee.pop(reservation_id, None)
