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

    @property
    def amount(self) -> int:
        return self.intent.amount

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
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def committed(self) -> int:
        """Base units that are spent or may have been spent, plus open reservations."""
        with self._lock:
            return self._spent + sum(self._reserved.values())

    def reserve(self, intent: PaymentIntent) -> str:
        with self._lock:
            used = self._spent + sum(self._reserved.values())
            if self.total is not None and used + intent.amount > self.total:
                from grok_mpp.units import format_usd

                raise BudgetExceededError(
                    f"paying {format_usd(intent.amount)} USD would exceed the budget of "
                    f"{format_usd(self.total)} USD ({format_usd(used)} USD already committed)",
                    hint="raise the budget or start a new session",
                    amount=intent.amount,
                    budget=self.total,
                    committed=used,
                )
            rid = uuid.uuid4().hex
            self._reserved[rid] = intent.amount
            return rid

    def _commit(self, rid: str) -> None:
        with self._lock:
            self._spent += self._reserved.pop(rid, 0)

    def mark_sent(self, reservation_id: str, *, tx_hash: str, valid_before: int, payer: str) -> None:
        return None

    def settle(self, reservation_id: str, record: PaymentRecord) -> None:
        self._commit(reservation_id)

    def reject(self, reservation_id: str, *, status_code: int | None, detail: str) -> None:
        self._commit(reservation_id)

    def outcome_unknown(self, reservation_id: str, *, detail: str) -> None:
        self._commit(reservation_id)

    def release(self, reservation_id: str, *, reason: str) -> None:
        with self._lock:
            self._reserved.pop(reservation_id, None)
