"""The default ledger: one SQLite file in WAL mode, shared by threads and processes.

Why ``BEGIN IMMEDIATE``: it takes SQLite's single write lock at the start of the transaction, so
the budget read and the reservation insert of one payer can never interleave with another's, in
this process or any other. Waiting writers queue on the busy timeout instead of failing. Inside a
process one connection is shared under a lock (SQLite allows one writer anyway); a forked child
opens its own connection because SQLite connections must not cross ``fork``.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from grok_mpp.ledger.base import LedgerBase
from grok_mpp.ledger.model import LedgerError, LedgerUnusableError

DEFAULT_BUSY_TIMEOUT = 60.0


class SQLiteLedger(LedgerBase):
    """Ledger in a SQLite file (``:memory:`` works for a single process).

    Usually opened through :func:`grok_mpp.ledger.open_ledger`; see :class:`LedgerBase` for use.

    Example::

        from grok_mpp.ledger import Budget, SQLiteLedger
        with SQLiteLedger(":memory:", budget=Budget.from_usd(total="0.50")) as ledger:
            print(ledger.effective_budget(), ledger.committed())   # limits, and what is already committed
    """

    def __init__(self, path: str | Path, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path = str(path)
        self.busy_timeout = busy_timeout
        if self.path != ":memory:":
            parent = Path(self.path).expanduser().parent
            try:
                parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            except OSError as exc:
                raise LedgerUnusableError(
                    f"cannot create the ledger directory {parent}: {exc.strerror or exc}",
                    hint="set GROK_MPP_LEDGER to a path in a writable directory, or 'off'",
                ) from None
        self._pid = os.getpid()
        self._conn: sqlite3.Connection | None = self._connect()
        try:
            self._check_integrity()
            if not self._schema_current():
                with self._write() as cur:
                    self._create_schema(cur)
        except BaseException:
            self.close()
            raise

    @property
    def location(self) -> str:
        return self.path

    def _connect(self) -> sqlite3.Connection:
        creating = self.path != ":memory:" and not Path(self.path).exists()
        try:
            conn = sqlite3.connect(
                self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            self._enter_wal(conn)
            # NORMAL for most commits (WAL: no fsync per commit, still safe against a crash or
            # SIGKILL); the one commit that must survive a power cut, the 'sent' mark written
            # before the credential leaves, switches to FULL (see _write(durable=True)). Because
            # the WAL is sequential, that fsync also makes the reservation before it durable.
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            raise LedgerUnusableError(f"cannot open the spend ledger at {self.path}: {exc}",
                                      hint="set GROK_MPP_LEDGER to a writable path, or 'off'") from None
        if creating:
            with contextlib.suppress(OSError):  # payment history is private even though it holds no secret
                os.chmod(self.path, 0o600)
        return conn

    def _enter_wal(self, conn: sqlite3.Connection) -> None:
        """``PRAGMA journal_mode = WAL``, retried while another process holds the file.

        Switching the journal mode can answer SQLITE_BUSY at once, without calling the busy
        handler (several worker processes opening a fresh ledger together): wait like a busy
        timeout would instead of failing the worker.
        """
        deadline = time.monotonic() + self.busy_timeout
        delay = 0.005
        while True:
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() >= deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.1)

    def _schema_current(self) -> bool:
        with self._lock:
            cur = self._connection().cursor()
            try:
                return self._schema_is_current(cur)
            finally:
                cur.close()

    def _check_integrity(self) -> None:
        """``PRAGMA quick_check(1)``: every page and index is well formed (not cross-checked with
        the table, which ``integrity_check`` would do at many times the cost). A damaged file is
        refused before anything is signed instead of paying and failing later."""
        with self._lock:
            try:
                (verdict,) = self._connection().execute("PRAGMA quick_check(1)").fetchone()
            except sqlite3.Error as exc:
                verdict = str(exc)
        if verdict != "ok":
            raise LedgerUnusableError(
                f"the spend ledger at {self.path} is damaged ({verdict}); refusing to pay against it",
                hint="restore it from a backup (sqlite3 .recover), or point GROK_MPP_LEDGER at a new file",
            )

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise LedgerError(f"the ledger at {self.path} is closed")
        if self._pid != os.getpid():  # forked: never reuse the parent's connection
            self._pid = os.getpid()
            self._conn = self._connect()
        return self._conn

    @contextmanager
    def _write(self, *, exclusive: bool = True, durable: bool = False) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            cur = self._connection().cursor()
            try:
                if durable:
                    cur.execute("PRAGMA synchronous = FULL")
                cur.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                cur.close()
                raise LedgerUnusableError(f"the spend ledger at {self.path} is busy or unwritable: {exc}") from exc
            try:
                yield cur
                cur.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback(cur)
                raise LedgerUnusableError(f"the spend ledger at {self.path} failed: {exc}") from exc
            except BaseException:
                self._rollback(cur)
                raise
            finally:
                if durable:
                    with contextlib.suppress(sqlite3.Error):
                        cur.execute("PRAGMA synchronous = NORMAL")
                cur.close()

    @staticmethod
    def _rollback(cur: sqlite3.Cursor) -> None:
        if cur.connection.in_transaction:
            cur.execute("ROLLBACK")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            cur = self._connection().cursor()
            try:
                cur.execute("BEGIN")
                try:
                    yield cur
                finally:
                    if cur.connection.in_transaction:
                        cur.execute("COMMIT")
            except sqlite3.Error as exc:
                raise LedgerUnusableError(f"reading the spend ledger at {self.path} failed: {exc}") from exc
            finally:
                cur.close()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                if self._pid == os.getpid():
                    self._conn.close()
                self._conn = None
