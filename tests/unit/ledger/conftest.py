from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from grok_mpp.ledger import SQLiteLedger

from .support import Clock, LoopbackRPC


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.sqlite3"


@pytest.fixture
def ledger(db_path: Path, clock: Clock) -> Iterator[SQLiteLedger]:
    with SQLiteLedger(db_path, clock=clock) as led:
        yield led


@pytest.fixture
def rpc() -> Iterator[LoopbackRPC]:
    with LoopbackRPC() as server:
        yield server
