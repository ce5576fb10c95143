"""The ledger logic shared by every backend: schema, budget check, state transitions, reports.

A backend only supplies a connection, its SQL dialect details (placeholder, column types) and two
transaction context managers. ``_write`` must make reservations atomic across every thread and
process that shares the store: SQLite does it with ``BEGIN IMMEDIATE`` (one writer per file),
PostgreSQL with a transaction-scoped advisory lock per budget scope. The budget check runs inside
that exclusive section, so "read what is committed, decide, insert the reservation" cannot
interleave with another payer's.

Why one module of ~650 lines: it is one idea, the life of a payment row (reserved -> sent -> settled /
rejected / outcome unknown -> reconciled) and the budget check that guards its first step. Each state
change keeps its SQL beside it, so no transition can be reviewed without the statement that makes it;
reports, reconciliation, the row model and the backends are separate modules.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Any, Self

from grok_mpp.errors import BudgetExceededError, ConfigurationError
from grok_mpp.ledger import report
from grok_mpp.ledger.model import (
    COLUMNS,
    DAY,
    HOUR,
    OPEN_STATES,
    OUTCOME_UNKNOWN,
    REJECTED,
    RELEASED,
    RESENT_SETTLE_FROM,
    RESERVED,
    SENT,
    SETTLED,
    SETTLED_ONCHAIN,
    STATES,
    Budget,
    Committed,
    LedgerError,
    LedgerRow,
    LedgerSchemaError,
    ReconcileReport,
    budget_refusal,
    check_transition,
    receipt_summary,
)
from grok_mpp.ledger.owner import current_owner
from grok_mpp.payment.fees import fee_from_receipt
from grok_mpp.payment.hooks import PaymentIntent, PaymentRecord
from grok_mpp.units import format_usd

#: Filled by the modules above this one when the package is imported (``grok_mpp.ledger``'s
#: ``__init__`` always imports them): ``open`` = factory.open_ledger, ``reconcile`` =
#: reconcile.reconcile. Injected, not imported, so this module never imports the layers built on it.
_HOOKS: dict[str, Callable[..., Any]] = {}


def register_hook(name: str, fn: Callable[..., Any]) -> None:
    """Called once by :mod:`grok_mpp.ledger.factory` and :mod:`grok_mpp.ledger.reconcile`."""
    _HOOKS[name] = fn

logger = logging.getLogger("grok_mpp.ledger")

DEFAULT_SCOPE = "default"
MAX_DETAIL = 500
#: 2 added ``fee`` (the actual network fee) and ``owner`` (the reserving process). Older ledgers are migrated on open; newer ones refused.
SCHEMA_VERSION = 2

# A server could echo what it received; never let anything shaped like a credential reach storage.
_CREDENTIAL_RE = re.compile(r"(Payment)\s+[A-Za-z0-9_\-+/=.]{16,}", re.IGNORECASE)


def clean_detail(text: str | None) -> str | None:
    """Bound the length of free text and redact anything that looks like a Payment credential."""
    if text is None:
        return None
    return _CREDENTIAL_RE.sub(r"\1 [redacted]", str(text))[:MAX_DETAIL]


_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS grok_mpp_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS grok_mpp_payments (
        id TEXT PRIMARY KEY,
        scope TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ({states})),
        endpoint TEXT NOT NULL,
        model TEXT,
        challenge_id TEXT NOT NULL,
        realm TEXT,
        origin TEXT,
        request_digest TEXT,
        amount {int} NOT NULL CHECK (amount >= 0),
        max_fee {int} NOT NULL DEFAULT 0,
        fee {int},
        estimate {int},
        currency TEXT NOT NULL,
        recipient TEXT NOT NULL,
        chain_id {int} NOT NULL,
        payer TEXT,
        tx_hash TEXT,
        valid_before {int},
        receipt_reference TEXT,
        receipt TEXT,
        owner TEXT,
        sponsored {int},
        status_code {int},
        detail TEXT,
        created_at {float} NOT NULL,
        sent_at {float},
        concluded_at {float},
        reconciled_at {float},
        updated_at {float} NOT NULL
    )""",
    """CREATE INDEX IF NOT EXISTS grok_mpp_payments_scope_state ON grok_mpp_payments (scope, state, created_at)""",
    """CREATE INDEX IF NOT EXISTS grok_mpp_payments_tx ON grok_mpp_payments (tx_hash)""",
    """CREATE TABLE IF NOT EXISTS grok_mpp_budgets (
        scope TEXT PRIMARY KEY,
        per_call {int},
        total {int},
        per_hour {int},
        per_day {int},
        updated_at {float} NOT NULL
    )""",
)

_SELECT = f"SELECT {', '.join(COLUMNS)} FROM grok_mpp_payments"  # noqa: S608 - constant column list


class LedgerBase(ABC):
    """A durable :class:`~grok_mpp.payment.hooks.SpendGuard` with budgets and spend reports.

    One row per payment attempt (see :mod:`grok_mpp.ledger.model` for the states), tagged with
    the ``scope`` that paid it. Two levels of limits, both checked atomically at reservation:

    * ledger-wide: the budget stored for the ``"default"`` scope (``grok-mpp ledger budget set``)
      and ``ledger_budget`` (``GROK_MPP_BUDGET_USD``) count every row of every scope;
    * per scope: for a named scope (an object's ``budget_scope``, or the private scope a client
      with ``budget_usd`` gets), ``budget`` and the budget stored for that scope count only the
      rows of that scope. In the ``"default"`` scope ``budget`` is ledger-wide too.

    The stricter limit wins. ``clock`` is injectable so rolling windows can be tested without waiting.

    Example::

        from grok_mpp import GrokClient
        from grok_mpp.ledger import Budget, open_ledger
        with open_ledger(budget=Budget.from_usd(per_call="0.05", per_day="1")) as ledger:  # GROK_MPP_LEDGER
            with GrokClient(ledger=ledger) as grok:       # each payment is recorded before it is signed
                grok.chat(messages=[{"role": "user", "content": "Hi"}], max_tokens=32)
            print(ledger.totals(), ledger.summary(by="model"))
    """

    placeholder = "?"
    int_type = "INTEGER"
    float_type = "REAL"
    for_update = ""

    def __init__(
        self,
        *,
        scope: str = DEFAULT_SCOPE,
        budget: Budget | None = None,
        ledger_budget: Budget | None = None,
        clock: Callable[[], float] = time.time,
        rpc_url: str | None = None,
        reconcile_on_start: bool = False,
    ) -> None:
        if not isinstance(scope, str) or not scope.strip() or len(scope) > 200:
            raise ConfigurationError(f"budget scope must be a non-empty name of at most 200 characters, got {scope!r}")
        self.scope = scope
        self.budget = budget
        self.ledger_budget = ledger_budget
        self.clock = clock
        self.rpc_url = rpc_url
        self._lock = threading.RLock()
        self._reconcile_pending = reconcile_on_start

    # -- backend hooks ---------------------------------------------------------------------------
    @abstractmethod
    def _write(self, *, exclusive: bool = True, durable: bool = False) -> AbstractContextManager[Any]:
        """A cursor inside a write transaction; ``exclusive`` serializes reservations of the scope;
        ``durable`` asks the backend to make this commit survive a power cut (the 'sent' mark)."""

    @abstractmethod
    def _read(self) -> AbstractContextManager[Any]:
        """A cursor inside a read-only consistent snapshot."""

    @abstractmethod
    def close(self) -> None: ...

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the ledger lives, safe to print (no password)."""

    @classmethod
    def open(cls, path_or_dsn: str | Path | None = None, **kwargs: Any) -> LedgerBase:
        """Open the ledger at a path or DSN (see :func:`grok_mpp.ledger.open_ledger`)."""
        ledger: LedgerBase = _HOOKS["open"](path_or_dsn, **kwargs)
        return ledger

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.location!r}, scope={self.scope!r})"

    # -- SQL helpers -----------------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    def _exec(self, cur: Any, sql: str, params: Iterable[Any] = ()) -> Any:
        cur.execute(self._sql(sql), tuple(params))
        return cur

    def _schema_statements(self) -> list[str]:
        states = ", ".join(f"'{s}'" for s in STATES)
        return [s.format(int=self.int_type, float=self.float_type, states=states) for s in _SCHEMA]

    def _schema_is_current(self, cur: Any) -> bool:
        """True when the schema needs no change (read-only check, so opening a ledger does not
        queue behind another process's write lock); any doubt -> False, and the write path decides."""
        try:
            got = self._exec(cur, "SELECT value FROM grok_mpp_meta WHERE name = 'schema_version'").fetchone()
            if got is None or str(got[0]) != str(SCHEMA_VERSION):
                return False
            self._exec(cur, f"{_SELECT} LIMIT 0").fetchall()
        except Exception:  # missing tables, damaged schema: let _create_schema say what is wrong
            return False
        return True

    def _create_schema(self, cur: Any) -> None:
        """Create or migrate the schema, then prove the table has every column this code reads.

        A ledger written by a newer grok-mpp (higher schema version) or whose table lost a column
        is refused here, at open, before anything can be signed: paying against a ledger we cannot
        read correctly would break the budget and the record.
        """
        for statement in self._schema_statements():
            cur.execute(statement)
        got = self._exec(cur, "SELECT value FROM grok_mpp_meta WHERE name = 'schema_version'").fetchone()
        try:
            version = SCHEMA_VERSION if got is None else int(got[0])
        except (TypeError, ValueError):
            raise LedgerSchemaError(
                f"the ledger at {self.location} has an unreadable schema version {got[0]!r}",
                hint="restore it from a backup or point GROK_MPP_LEDGER at a new file",
            ) from None
        if version > SCHEMA_VERSION:
            raise LedgerSchemaError(
                f"the ledger at {self.location} has schema version {version}, newer than this grok-mpp "
                f"understands ({SCHEMA_VERSION}); refusing to pay against it",
                hint="upgrade grok-mpp, or use another ledger (GROK_MPP_LEDGER)",
                version=version,
            )
        if version < 2:
            self._exec(cur, f"ALTER TABLE grok_mpp_payments ADD COLUMN fee {self.int_type}")
            self._exec(cur, "ALTER TABLE grok_mpp_payments ADD COLUMN owner TEXT")
        self._exec(
            cur,
            "INSERT INTO grok_mpp_meta (name, value) VALUES ('schema_version', ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (str(SCHEMA_VERSION),),
        )
        try:
            self._exec(cur, f"{_SELECT} LIMIT 0").fetchall()
        except Exception as exc:
            raise LedgerSchemaError(
                f"the ledger at {self.location} does not have the expected columns ({exc})",
                hint="the table was altered by hand or damaged; restore it or use a new ledger",
            ) from None

    # -- budgets ---------------------------------------------------------------------------------
    def _stored_budget(self, cur: Any, scope: str) -> Budget | None:
        got = self._exec(
            cur, "SELECT per_call, total, per_hour, per_day FROM grok_mpp_budgets WHERE scope = ?", (scope,)
        ).fetchone()
        if got is None:
            return None
        return Budget(*(None if v is None else int(v) for v in got))

    def get_budget(self, scope: str | None = None) -> Budget | None:
        """The budget stored in the ledger for ``scope`` (shared by every process), if any."""
        with self._read() as cur:
            return self._stored_budget(cur, scope or self.scope)

    def set_budget(self, budget: Budget | None, scope: str | None = None) -> None:
        """Store (or with ``None`` remove) the shared budget of ``scope``."""
        scope = scope or self.scope
        with self._write() as cur:
            if budget is None:
                self._exec(cur, "DELETE FROM grok_mpp_budgets WHERE scope = ?", (scope,))
                return
            self._exec(
                cur,
                "INSERT INTO grok_mpp_budgets (scope, per_call, total, per_hour, per_day, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (scope) DO UPDATE SET per_call = excluded.per_call, "
                "total = excluded.total, per_hour = excluded.per_hour, per_day = excluded.per_day, "
                "updated_at = excluded.updated_at",
                (scope, budget.per_call, budget.total, budget.per_hour, budget.per_day, self.clock()),
            )

    def scoped(self, scope: str, budget: Budget | None = None) -> LedgerBase:
        """A view of this ledger that records under ``scope`` with its own ``budget`` (same storage,
        same connection: closing the view closes the ledger)."""
        view = copy.copy(self)
        LedgerBase.__init__(view, scope=scope, budget=budget, ledger_budget=self.ledger_budget, clock=self.clock,
                            rpc_url=self.rpc_url, reconcile_on_start=False)
        view._lock = self._lock  # one connection, one lock
        return view

    def effective_budget(self) -> Budget:
        """The limits of this ledger's scope (in the default scope: the ledger-wide limits)."""
        if self.scope == DEFAULT_SCOPE:
            return (self.get_budget() or Budget()).stricter(self.budget).stricter(self.ledger_budget)
        return (self.get_budget() or Budget()).stricter(self.budget)

    def _limits(self, cur: Any) -> list[tuple[Budget, str]]:
        """(budget, scope it counts) pairs a reservation must satisfy; ``"default"`` = every row."""
        wide = (self._stored_budget(cur, DEFAULT_SCOPE) or Budget()).stricter(self.ledger_budget)
        if self.scope == DEFAULT_SCOPE:
            return [(wide.stricter(self.budget), DEFAULT_SCOPE)]
        own = (self._stored_budget(cur, self.scope) or Budget()).stricter(self.budget)
        return [(wide, DEFAULT_SCOPE), (own, self.scope)]

    def _committed(self, cur: Any, scope: str, now: float) -> Committed:
        # A row holds amount + fee (the worst case until the actual is known); a released row only
        # the fee of a mined-but-reverted transaction. Same rule as LedgerRow.committed.
        held = f"(CASE WHEN state = '{RELEASED}' THEN COALESCE(fee, 0) ELSE amount + COALESCE(fee, max_fee) END)"
        got = self._exec(
            cur,
            f"SELECT COALESCE(SUM({held}), 0), "  # noqa: S608 - constant expression
            f"COALESCE(SUM(CASE WHEN created_at > ? THEN {held} ELSE 0 END), 0), "
            f"COALESCE(SUM(CASE WHEN created_at > ? THEN {held} ELSE 0 END), 0) "
            "FROM grok_mpp_payments" + ("" if scope == DEFAULT_SCOPE else " WHERE scope = ?"),
            (now - HOUR, now - DAY) if scope == DEFAULT_SCOPE else (now - HOUR, now - DAY, scope),
        ).fetchone()
        return Committed(total=int(got[0]), last_hour=int(got[1]), last_day=int(got[2]))

    def committed(self, now: float | None = None) -> Committed:
        """Base units committed in this scope (every scope for ``"default"``): amount + fee of every
        row but released ones, overall and per rolling window."""
        with self._read() as cur:
            return self._committed(cur, self.scope, self.clock() if now is None else now)

    # -- SpendGuard ------------------------------------------------------------------------------
    def reserve(self, intent: PaymentIntent) -> str:
        """Record the attempt before signing, or raise BudgetExceededError (nothing recorded)."""
        self._maybe_reconcile_on_start()
        now = self.clock()
        # Time-prefixed so rows reserved in the same clock tick still list in reservation order.
        rid = f"{time.time_ns():016x}{uuid.uuid4().hex[:16]}"
        with self._write() as cur:
            for budget, scope in self._limits(cur):
                if budget.unlimited:
                    continue
                committed = self._committed(cur, scope, now)
                refusal = budget_refusal(budget, intent.amount + intent.max_fee, committed)
                if refusal is not None:
                    message, limit, used = refusal
                    where = "ledger-wide" if scope == DEFAULT_SCOPE else f"scope '{scope}'"
                    raise BudgetExceededError(
                        f"{message} ({where}; price {format_usd(intent.amount)} + network fee up to "
                        f"{format_usd(intent.max_fee)} USD)",
                        hint=f"raise the budget (grok-mpp ledger budget set) or wait; ledger {self.location}",
                        amount=intent.amount,
                        budget=limit,
                        committed=used,
                        scope=scope,
                    )
            values = {
                "id": rid,
                "scope": self.scope,
                "state": RESERVED,
                "endpoint": intent.endpoint,
                "model": intent.model,
                "challenge_id": intent.challenge_id,
                "realm": intent.realm,
                "origin": intent.origin,
                "request_digest": intent.request_digest,
                "amount": intent.amount,
                "max_fee": intent.max_fee,
                "estimate": intent.estimate,
                "currency": intent.currency.lower(),
                "recipient": intent.recipient.lower(),
                "chain_id": intent.chain_id,
                "owner": current_owner(),
                "created_at": now,
                "updated_at": now,
            }
            names = ", ".join(values)
            marks = ", ".join("?" for _ in values)
            self._exec(cur, f"INSERT INTO grok_mpp_payments ({names}) VALUES ({marks})", values.values())  # noqa: S608
        return rid

    def _transition(
        self, rid: str, new: str, *, via: str, after_reconcile: str = "raise", durable: bool = False, **updates: Any
    ) -> None:
        """Move one row to ``new`` in one transaction (row-locked where the backend can).

        ``after_reconcile`` says what to do when reconciliation already concluded the row while its
        own process still waited for an answer: ``"raise"`` (the default: an illegal transition),
        ``"apply"`` (a gateway receipt is stronger evidence than a missing chain receipt) or
        ``"ignore"`` (a late, weaker outcome must not overwrite the chain's verdict).
        """
        now = self.clock()
        with self._write(exclusive=False, durable=durable) as cur:
            got = self._exec(cur, f"{_SELECT} WHERE id = ?{self.for_update}", (rid,)).fetchone()
            if got is None:
                raise LedgerError(f"no payment attempt {rid!r} in ledger {self.location}", row_id=rid)
            row = LedgerRow.from_db(got)
            reconciled = row.reconciled_at is not None and row.state in (SETTLED_ONCHAIN, RELEASED)
            if reconciled and after_reconcile == "ignore":
                logger.info("payment %s was already reconciled as %s; ignoring late '%s'", rid, row.state, via)
                return
            resent = after_reconcile == "resent" and row.state in RESENT_SETTLE_FROM
            if not (resent or (reconciled and after_reconcile == "apply")):
                check_transition(rid, row.state, new, via=via)
            updates["state"] = new
            updates["updated_at"] = now
            assignments = ", ".join(f"{name} = ?" for name in updates)
            self._exec(
                cur,
                f"UPDATE grok_mpp_payments SET {assignments} WHERE id = ? AND state = ?",  # noqa: S608
                [*updates.values(), rid, row.state],
            )

    def mark_sent(self, reservation_id: str, *, tx_hash: str, valid_before: int, payer: str) -> None:
        """Record the transaction about to leave. Refused (before anything is sent) when another row
        already claims this transaction hash: two rows for one transfer would count it twice."""
        others = [r.id for r in self.rows_for_tx(tx_hash) if r.id != reservation_id]
        if others:
            raise LedgerError(
                f"transaction {tx_hash} is already recorded by payment {others[0]}; refusing to send it again",
                hint="nothing was sent for this attempt",
                row_id=reservation_id,
            )
        now = self.clock()
        self._transition(
            reservation_id, SENT, via="mark_sent", durable=True,
            tx_hash=tx_hash.lower(), valid_before=int(valid_before), payer=payer.lower(), sent_at=now,
        )

    def settle(self, reservation_id: str, record: PaymentRecord) -> None:
        """A 2xx with a receipt: the amount left the wallet."""
        self._transition(
            reservation_id, SETTLED, via="settle", after_reconcile="apply",
            receipt=json.dumps(record.receipt, sort_keys=True, separators=(",", ":")) if record.receipt else None,
            receipt_reference=record.receipt_reference,
            sponsored=int(record.sponsored),
            fee=record.fee,
            concluded_at=self.clock(),
        )

    def settle_resent(self, reservation_id: str, record: PaymentRecord) -> None:
        """A 2xx with a receipt for a credential RE-SENT by a retry of the same request (the retry
        invariant, grok_mpp.payment.pending): the row left 'outcome_unknown' / 'rejected' by the
        first attempt is settled by the same transaction, not duplicated."""
        self._transition(
            reservation_id, SETTLED, via="settle_resent", after_reconcile="resent",
            receipt=json.dumps(record.receipt, sort_keys=True, separators=(",", ":")) if record.receipt else None,
            receipt_reference=record.receipt_reference,
            sponsored=int(record.sponsored),
            concluded_at=self.clock(),
            **({} if record.fee is None else {"fee": int(record.fee)}),  # type: ignore[arg-type]
        )

    def reject(self, reservation_id: str, *, status_code: int | None, detail: str) -> None:
        """The server refused the credential; the signed transaction may still land until valid_before."""
        self._transition(
            reservation_id, REJECTED, via="reject", after_reconcile="ignore",
            status_code=status_code, detail=clean_detail(detail), concluded_at=self.clock(),
        )

    def outcome_unknown(self, reservation_id: str, *, detail: str) -> None:
        """No definitive answer after sending; the amount stays committed until reconciled."""
        self._transition(
            reservation_id, OUTCOME_UNKNOWN, via="outcome_unknown", after_reconcile="ignore",
            detail=clean_detail(detail), concluded_at=self.clock(),
        )

    def release(self, reservation_id: str, *, reason: str) -> None:
        """Nothing was sent: the amount is free again. Illegal once the row is 'sent'."""
        self._transition(
            reservation_id, RELEASED, via="release", detail=clean_detail(reason), concluded_at=self.clock()
        )

    def mark_reconciled(
        self,
        reservation_id: str,
        *,
        settled: bool,
        detail: str,
        chain_receipt: dict[str, Any] | None = None,
        fee: int | None = None,
    ) -> None:
        """Conclude an open row from chain evidence (used by :func:`grok_mpp.ledger.reconcile`).

        A mined receipt also gives the actual network fee (paid even when the transfer reverted).
        """
        now = self.clock()
        updates: dict[str, Any] = {"detail": clean_detail(detail), "reconciled_at": now}
        if chain_receipt is not None:
            updates["receipt"] = json.dumps(chain_receipt, sort_keys=True, separators=(",", ":"))
            if fee is None:
                row = self.get(reservation_id)
                fee = 0 if row.max_fee == 0 else fee_from_receipt(chain_receipt, row.payer or "")
        if fee is not None:
            updates["fee"] = fee
        self._transition(reservation_id, SETTLED_ONCHAIN if settled else RELEASED, via="reconcile", **updates)

    def record_fee(self, reservation_id: str, fee: int) -> bool:
        """Fill in the actual network fee of a row whose fee was unknown; False if already known."""
        with self._write(exclusive=False) as cur:
            cur = self._exec(
                cur, "UPDATE grok_mpp_payments SET fee = ?, updated_at = ? WHERE id = ? AND fee IS NULL",
                (int(fee), self.clock(), reservation_id),
            )
            return bool(cur.rowcount)

    def confirm_onchain(
        self, reservation_id: str, *, fee: int | None, receipt: dict[str, Any] | None = None, settled: bool = True
    ) -> None:
        """The client found its transaction mined after a failed answer (502, 5xx, dropped
        connection): conclude the row now from that chain evidence, with its actual fee."""
        verdict = "mined with status 0x1" if settled else "mined but reverted"
        self.mark_reconciled(
            reservation_id, settled=settled, fee=fee, detail=f"confirmed by the paying client: transaction {verdict}",
            chain_receipt=receipt_summary(receipt) if receipt else None,
        )

    # -- reconciliation --------------------------------------------------------------------------
    def reconcile(self, rpc_url: str | None = None, *, now: float | None = None, **kwargs: Any) -> ReconcileReport:
        """Resolve open rows against the chain (see :func:`grok_mpp.ledger.reconcile.reconcile`)."""
        report: ReconcileReport = _HOOKS["reconcile"](self, rpc_url or self.rpc_url, now=now, **kwargs)
        return report

    def _maybe_reconcile_on_start(self) -> None:
        """Before the first reservation, resolve rows a crashed run left open (best effort).

        Lazily so that opening a ledger for a report never touches the network, and only when
        open rows exist. A failing RPC leaves the rows open and the call proceeds.
        """
        if not self._reconcile_pending:
            return
        with self._lock:
            if not self._reconcile_pending:
                return
            self._reconcile_pending = False
        try:
            if self.rows(state=OPEN_STATES, limit=1):
                result = self.reconcile()
                if result.errors:
                    logger.warning("ledger reconciliation left rows open: %s", "; ".join(result.errors))
        except Exception as exc:  # best effort by contract: never block a payment on it
            logger.warning("ledger reconciliation at start failed: %s", exc)

    # -- reports ---------------------------------------------------------------------------------
    def get(self, reservation_id: str) -> LedgerRow:
        with self._read() as cur:
            got = self._exec(cur, f"{_SELECT} WHERE id = ?", (reservation_id,)).fetchone()
        if got is None:
            raise LedgerError(f"no payment attempt {reservation_id!r} in ledger {self.location}")
        return LedgerRow.from_db(got)

    def unanswered(self, *, request_digest: str, payer: str, origin: str) -> list[LedgerRow]:
        """Rows (any budget scope) for the same request body, payer and origin that were sent and
        ended without an answer, oldest first: what another process (or an earlier run) paid for
        this request and never got the answer of. Used by the auth flow's retry invariant across
        processes; 'sent' rows are excluded (they may be in flight).

        'outcome_unknown' / 'rejected' rows always; 'settled_onchain' rows (the chain, or the paying
        client right after the failed answer, showed the transfer landed, yet no answer came) while
        their validity window is recent, so another process does not pay anew while the first one
        may still re-send the same credential. Budget scopes do not matter here: the same request
        is the same request whichever object sends it."""
        with self._read() as cur:
            found = self._exec(
                cur,
                f"{_SELECT} WHERE (state IN (?, ?) OR (state = ? AND valid_before > ?)) "
                "AND request_digest = ? AND payer = ? AND origin = ? ORDER BY created_at, id",
                (OUTCOME_UNKNOWN, REJECTED, SETTLED_ONCHAIN, int(self.clock()) - 60,
                 request_digest, payer.lower(), origin),
            ).fetchall()
        return [LedgerRow.from_db(r) for r in found]

    def rows_for_tx(self, tx_hash: str) -> list[LedgerRow]:
        """Every row (any scope) claiming ``tx_hash``, oldest first; at most one in a healthy ledger."""
        with self._read() as cur:
            found = self._exec(
                cur, f"{_SELECT} WHERE tx_hash = ? ORDER BY created_at, id", (tx_hash.lower(),)
            ).fetchall()
        return [LedgerRow.from_db(r) for r in found]

    def rows(
        self,
        *,
        state: str | Iterable[str] | None = None,
        since: float | None = None,
        until: float | None = None,
        scope: str | None = None,
        limit: int | None = None,
    ) -> list[LedgerRow]:
        """Rows oldest first; every scope unless ``scope`` is given; ``since``/``until`` are Unix times."""
        where: list[str] = []
        params: list[Any] = []
        if state is not None:
            states = [state] if isinstance(state, str) else list(state)
            where.append(f"state IN ({', '.join('?' for _ in states)})")
            params.extend(states)
        if since is not None:
            where.append("created_at >= ?")
            params.append(since)
        if until is not None:
            where.append("created_at < ?")
            params.append(until)
        if scope is not None:
            where.append("scope = ?")
            params.append(scope)
        sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY created_at, id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self._read() as cur:
            return [LedgerRow.from_db(r) for r in self._exec(cur, sql, params).fetchall()]

    def summary(self, by: str = "day", since: float | None = None) -> list[dict[str, Any]]:
        """Spend grouped by ``day`` (UTC), ``model`` or ``endpoint``; integers in base units."""
        return report.summarize(self.rows(since=since), by)

    def totals(self, since: float | None = None) -> dict[str, int]:
        """``paid`` (settled), ``pending`` (open rows), ``count`` (paid rows), ``attempts``."""
        return report.totals(self.rows(since=since))

    def to_csv(self, target: str | Path | IO[str], since: float | None = None) -> int:
        """Export every row to a CSV path or open text file; return the number of rows written."""
        rows = self.rows(since=since)
        if isinstance(target, str | Path):
            with open(target, "w", newline="", encoding="utf-8") as handle:
                return report.write_csv(rows, handle)
        return report.write_csv(rows, target)

    def to_dataframe(self, since: float | None = None) -> Any:
        """The rows as a pandas DataFrame (pandas is optional and not a dependency)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(
                "Ledger.to_dataframe() needs pandas, which grok-mpp does not install: pip install pandas "
                "(or use Ledger.to_csv / Ledger.rows)"
            ) from exc
        return pd.DataFrame([row.as_dict() for row in self.rows(since=since)], columns=list(COLUMNS))
