"""Durable spend ledger: every payment attempt recorded, budgets enforced across processes.

``open_ledger()`` (or ``Ledger.open()``) returns a :class:`LedgerBase` that implements the
:class:`~grok_mpp.payment.hooks.SpendGuard` protocol: SQLite in WAL mode by default,
PostgreSQL for a ``postgresql://`` DSN. See :mod:`grok_mpp.ledger.model` for states and budgets,
:mod:`grok_mpp.ledger.reconcile` for resolving attempts whose outcome is unknown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# Bottom-up: model (pure rules) -> owner -> base (shared SQL) -> sqlite / postgres -> reconcile
# (chain evidence) -> factory (which backend, from settings). base never imports the layers above
# it; reconcile and factory register themselves with it (base.register_hook).
from grok_mpp.ledger.base import DEFAULT_SCOPE, LedgerBase
from grok_mpp.ledger.factory import default_ledger_path, guard_from_settings, open_ledger
from grok_mpp.ledger.model import (
    OPEN_STATES,
    PAID_STATES,
    STATES,
    Budget,
    Committed,
    IllegalTransitionError,
    LedgerError,
    LedgerRow,
)
from grok_mpp.ledger.reconcile import ReconcileReport, reconcile
from grok_mpp.ledger.sqlite import SQLiteLedger

if TYPE_CHECKING:
    from grok_mpp.ledger.postgres import PostgresLedger

#: The ledger type ``open_ledger`` returns; ``Ledger.open(path_or_dsn, ...)`` opens one.
Ledger = LedgerBase


def __getattr__(name: str) -> Any:
    # PostgresLedger stays importable by name without importing psycopg-related code eagerly.
    if name == "PostgresLedger":
        from grok_mpp.ledger.postgres import PostgresLedger

        return PostgresLedger
    raise AttributeError(name)


__all__ = [
    "DEFAULT_SCOPE",
    "OPEN_STATES",
    "PAID_STATES",
    "STATES",
    "Budget",
    "Committed",
    "IllegalTransitionError",
    "Ledger",
    "LedgerBase",
    "LedgerError",
    "LedgerRow",
    "PostgresLedger",
    "ReconcileReport",
    "SQLiteLedger",
    "default_ledger_path",
    "guard_from_settings",
    "open_ledger",
    "reconcile",
]
