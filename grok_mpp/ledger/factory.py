"""Where the ledger lives and which backend opens it.

``GROK_MPP_LEDGER`` names a SQLite path, a ``sqlite:///`` URL, a ``postgresql://`` DSN, or ``off``.
Without it the ledger is ``$XDG_DATA_HOME/grok-mpp/ledger.sqlite3`` (``~/.local/share/...`` when
XDG_DATA_HOME is unset): one file per user, so every client, notebook and CLI call of that user
shares the same budget.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from grok_mpp.errors import ConfigurationError
from grok_mpp.ledger.base import DEFAULT_SCOPE, LedgerBase, register_hook
from grok_mpp.ledger.model import Budget, LedgerUnusableError
from grok_mpp.payment.hooks import InMemoryBudget, SpendGuard

if TYPE_CHECKING:
    from grok_mpp.config import Settings

OFF_VALUES = frozenset({"off", "none", "false", "0", "no", "disabled"})
POSTGRES_PREFIXES = ("postgresql://", "postgres://", "postgresql+psycopg://")
#: libpq keyword/value connection strings start with one of these keywords ("host=db dbname=x").
_LIBPQ_KEYWORD = re.compile(r"^\s*(host|hostaddr|port|dbname|user|password|service|sslmode|application_name)\s*=")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_PAIR = re.compile(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)")


def _refuse(message: str, hint: str) -> LedgerUnusableError:
    return LedgerUnusableError(message, hint=hint)


def parse_location(value: str) -> tuple[str, str]:
    """``("postgres", dsn)``, ``("sqlite", path)`` or ``("memory", ":memory:")``; anything else refused.

    Strict on purpose: a mistyped DSN (``postgress://``, a libpq keyword string) used to become a
    SQLite *file* named after the DSN, password included, with its own private budget. Errors
    never repeat the value (it may hold a password), only what is wrong with it.
    """
    text = value.strip()
    if text == ":memory:":
        return "memory", text
    if _LIBPQ_KEYWORD.match(text):
        return "postgres", _check_libpq(text)
    scheme_match = _SCHEME.match(text)
    if scheme_match is not None and len(scheme_match.group(1)) > 1:  # "C:" is a drive, not a scheme
        scheme = scheme_match.group(1).lower()
        if text.lower().startswith(POSTGRES_PREFIXES):
            return "postgres", _check_url(re.sub(r"^postgresql\+psycopg://", "postgresql://", text, flags=re.I))
        if text.startswith("sqlite:///") and len(text) > len("sqlite:///"):
            return "sqlite", text[len("sqlite:///") :]  # sqlite:///rel/path, sqlite:////abs/path
        raise _refuse(
            f"the ledger location has an unsupported scheme '{scheme[:20]}:'",
            "use a file path, sqlite:///path, postgresql://user@host/db, a libpq 'host=... dbname=...' "
            "string, or 'off'",
        )
    if "://" in text or (_PAIR.search(text) and " " in text):
        raise _refuse("the ledger location looks like a connection string but is not a valid one",
                      "postgresql://user@host:5432/db or host=... port=... dbname=... user=...")
    return "sqlite", text


def _check_url(dsn: str) -> str:
    parts = urlsplit(dsn)
    try:
        _ = parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError:
        raise _refuse("the PostgreSQL ledger URL has an invalid port", "the port must be a number 1-65535") from None
    if not (parts.hostname or parse_qs(parts.query).get("host")):
        raise _refuse("the PostgreSQL ledger URL has no host", "postgresql://user@host:5432/dbname")
    return dsn


def _check_libpq(dsn: str) -> str:
    pairs = _PAIR.findall(dsn)
    if not pairs or _PAIR.sub("", dsn).strip():
        raise _refuse("the libpq ledger connection string is malformed", "host=... port=... dbname=... user=...")
    for key, val in pairs:
        if key == "port" and not val.strip("'").isdigit():
            raise _refuse("the libpq ledger connection string has a non-numeric port", "port must be a number")
    return dsn


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
    kind, target = parse_location(location)
    if kind == "postgres":
        from grok_mpp.ledger.postgres import PostgresLedger

        return PostgresLedger(target, **kwargs)
    from grok_mpp.ledger.sqlite import SQLiteLedger

    return SQLiteLedger(target if kind == "memory" else Path(target).expanduser(), **kwargs)


def guard_from_settings(
    settings: Settings, *, scope: str | None = None, budget: int | None = None
) -> SpendGuard:
    """The spend guard a client uses by default: the shared ledger, or a process budget if 'off'.

    ``settings.budget`` (GROK_MPP_BUDGET_USD) is a ledger-wide total on top of any budget stored in
    the ledger. ``budget`` (an object's ``budget_usd``) is a total over ``scope`` only: what that
    object (or every object sharing the named scope) spends. The per-call cap is the payment
    policy's job. Open rows left by a crashed run are reconciled before the first payment (best
    effort).
    """
    if is_off(settings.ledger):
        limits = [b for b in (settings.budget, budget) if b is not None]
        return InMemoryBudget(total=min(limits) if limits else None)
    wide = Budget(total=settings.budget) if settings.budget is not None else None
    return open_ledger(
        settings.ledger,
        scope=scope or DEFAULT_SCOPE,
        budget=Budget(total=budget) if budget is not None else None,
        ledger_budget=wide,
        rpc_url=settings.rpc_url,
        reconcile_on_start=True,
    )


register_hook("open", open_ledger)
