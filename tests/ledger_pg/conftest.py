"""A real, throwaway PostgreSQL server for the ledger tests.

The server runs from the Debian ``postgresql`` package's binaries (``initdb``, ``pg_ctl``) in a
temporary directory, listening on a free port on 127.0.0.1 only, with trust authentication and
fsync off (test data). PostgreSQL refuses to run as root, so as root it runs as the ``postgres``
system user the package creates. Without the binaries the tests are skipped locally and FAIL in CI
(CI=true), so a missing install step cannot pass silently. See README.md for the install commands.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

_db_numbers = itertools.count(1)


def _bin_dir() -> Path | None:
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PostgreSQL ledger tests cannot run in CI: {reason} (see tests/ledger_pg/README.md)")
    pytest.skip(f"PostgreSQL ledger tests skipped: {reason} (see tests/ledger_pg/README.md)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="grok-mpp-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.run_as: str | None = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                _unavailable("running as root and there is no 'postgres' user to run the server as")
            self.run_as = "postgres"
            shutil.chown(self.root, "postgres")
            self.root.chmod(0o700)

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stdout}\n{done.stderr}")

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "server.log"), "-w", "start")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable('psycopg is not installed (pip install "grok-mpp[postgres]")')
    bin_dir = _bin_dir()
    if bin_dir is None:
        _unavailable("PostgreSQL server binaries (initdb, pg_ctl) not found")
    server = PostgresServer(bin_dir)
    try:
        server.start()
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        server.stop()
        pytest.fail(f"could not start PostgreSQL: {exc}")
    yield server
    server.stop()


@pytest.fixture
def pg_dsn(postgres_server: PostgresServer) -> str:
    """A fresh, empty database per test."""
    import psycopg

    name = f"ledger_test_{os.getpid()}_{next(_db_numbers)}"
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return postgres_server.dsn(name)
