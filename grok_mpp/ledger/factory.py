"""Where the ledger lives and which backend opens it.

``GROK_MPP_LEDGER`` names a SQLite path, a ``sqlite:///`` URL, a ``postgresql://`` DSN, or ``off``.
Without it the ledger is ``$XDG_DATA_HOME/grok-mpp/ledger.sqlite3`` (``~/.local/share/...`` when
XDG_DATA_HOME is unset): one file per user, so every client, notebook and CLI call of that user
shares the same budget.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grok_mpp.errors import ConfigurationError
from grok_mpp.ledger.base import LedgerBase
from grok_mpp.ledger.model import Budget
from grok_mpp.payment.hooks import InMemoryBudget, SpendGuard

if TYPE_CHECKING:
    from grok_mpp.config import Settings

OFF_VALUES = frozenset({"off", "none", "false", "0", "no", "disabled"})
POSTGRES_PREFIXES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def default_ledger_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local" / "share")
    return Path(base) / "grok-mpp" / "ledger.sqlite3"


def is_off(value: str | None) -> bool:
    return value is not None and value.strip().lower() in OFF_VALUES


def resolve_location(path_or_dsn: str | Path | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The ledger location: the argument, else GROK_MPP_LEDGER, else the user data dir."""
    env = os.environ if environ is None else environ
    value = str(path_or_dsn) if path_or_dsn is not None else (env.get("GROK_MPP_LEDGER") or "")
    if not value.strip():
        return str(default_ledger_path(env))
    return value.strip()


def open_ledger(path_or_dsn: str | Path | None = None, **kwargs: Any) -> LedgerBase:
    """Open (creating if needed) the ledger: PostgreSQL for a postgres DSN, else SQLite.

    Keyword arguments go to the backend: ``scope``, ``budget``, ``clock``, ``rpc_url``,
    ``reconcile_on_start`` (and ``busy_timeout`` for SQLite).
    """
    location = resolve_location(path_or_dsn)
    if is_off(location):
        raise ConfigurationError("the ledger is turned off (GROK_MPP_LEDGER=off)", hint="set a path or DSN")
    if location.lower().startswith(POSTGRES_PREFIXES):
        from grok_mpp.ledger.postgres import PostgresLedger

        return PostgresLedger(location.replace("postgresql+psycopg://", "postgresql://", 1), **kwargs)
    if location.startswith("sqlite:///"):
        location = location[len("sqlite:///") :]  # sqlite:///rel/path, sqlite:////abs/path
    from grok_mpp.ledger.sqlite import SQLiteLedger

    return SQLiteLedger(location if location == ":memory:" else Path(location).expanduser(), **kwargs)


def guard_from_settings(settings: Settings) -> SpendGuard:
    """The spend guard a client uses by default: the shared ledger, or a process budget if 'off'.

    ``settings.budget`` (GROK_MPP_BUDGET_USD) becomes a total limit on top of any budget stored in
    the ledger; the per-call cap is the payment policy's job. Open rows left by a crashed run are
    reconciled before the first payment (best effort).
    """
    if is_off(settings.ledger):
        return InMemoryBudget(total=settings.budget)
    budget = Budget(total=settings.budget) if settings.budget is not None else None
    return open_ledger(settings.ledger, budget=budget, rpc_url=settings.rpc_url, reconcile_on_start=True)
