"""The same ledger on PostgreSQL (psycopg 3, optional extra ``grok-mpp[postgres]``).

For several machines sharing one budget. Reservations are serialized with one ledger-wide
transaction-scoped advisory lock (``pg_advisory_xact_lock``; ledger-wide limits span scopes): it is released by COMMIT or ROLLBACK,
so a crashed client can never leave it held, and it needs no budget row to exist. Other state
changes lock only their own row (``SELECT ... FOR UPDATE``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from grok_mpp.errors import ConfigurationError
from grok_mpp.ledger.base import LedgerBase
from grok_mpp.ledger.model import LedgerError, LedgerUnusableError

# First key of the two-key advisory lock: a constant naming this application ("gmpp").
LOCK_NAMESPACE = 0x676D7070  # fits in int4
_SCHEMA_LOCK = 0


def redact_dsn(dsn: str) -> str:
    """The DSN without its password, for reprs, logs and errors."""
    if "://" in dsn:
        parts = urlsplit(dsn)
        if parts.password is not None:
            host = parts.hostname or ""
            netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
            return urlunsplit(parts._replace(netloc=netloc))
        return dsn
    return re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", dsn)


def _import_psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise ConfigurationError(
            "a PostgreSQL ledger needs psycopg 3, which is not installed",
            hint='pip install "grok-mpp[postgres]" (or psycopg[binary])',
        ) from exc
    return psycopg


class PostgresLedger(LedgerBase):
    """Ledger in a PostgreSQL database given by a libpq DSN (``postgresql://user@host/db``)."""

    placeholder = "%s"
    int_type = "BIGINT"
    float_type = "DOUBLE PRECISION"
    for_update = " FOR UPDATE"

    def __init__(self, dsn: str, *, connect_timeout: int = 10, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._psycopg = _import_psycopg()
        self._dsn_display = redact_dsn(dsn)
        try:
            self._conn: Any = self._psycopg.connect(dsn, autocommit=True, connect_timeout=connect_timeout)
        except self._psycopg.Error as exc:
            # psycopg's message names host and user, never the password.
            raise LedgerUnusableError(
                f"cannot connect to the PostgreSQL ledger {self._dsn_display}: {redact_dsn(str(exc))}"
            ) from None
        with self._transaction() as cur:
            # Concurrent CREATE TABLE IF NOT EXISTS can still collide in the catalog: serialize it.
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, _SCHEMA_LOCK))
            self._create_schema(cur)

    @property
    def location(self) -> str:
        return self._dsn_display

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._lock:
            if self._conn is None:
                raise LedgerError(f"the ledger at {self._dsn_display} is closed")
            try:
                with self._conn.transaction(), self._conn.cursor() as cur:
                    yield cur
            except self._psycopg.Error as exc:
                raise LedgerUnusableError(f"the PostgreSQL ledger {self._dsn_display} failed: {exc}") from exc

    @contextmanager
    def _write(self, *, exclusive: bool = True, durable: bool = False) -> Iterator[Any]:
        with self._transaction() as cur:
            if not durable:
                # Same rule as SQLite: only the 'sent' mark must be flushed before its commit
                # returns; the server's WAL is sequential, so that flush also covers the
                # reservation before it, and a lost settle leaves a 'sent' row reconciliation
                # resolves from the chain. A client crash loses nothing either way.
                cur.execute("SET LOCAL synchronous_commit TO OFF")
            if exclusive:
                # One lock for the whole ledger: ledger-wide limits count every scope's rows, so two
                # scopes' reservations must not interleave either (held for one short transaction).
                cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_NAMESPACE, "grok_mpp:reserve"))
            yield cur

    @contextmanager
    def _read(self) -> Iterator[Any]:
        with self._transaction() as cur:
            yield cur

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
