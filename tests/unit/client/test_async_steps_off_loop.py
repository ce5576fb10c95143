"""The async client never runs a ledger transaction on the event loop's thread.

A SQLite/PostgreSQL write can wait on another process's lock for seconds; run on the loop it would
stall every other task (issue #13 measured 3 s). The timing is a benchmark (bench row 8); this test
asserts the mechanism: every guard call of an async paid call happens on a worker thread, and those
worker threads are bounded per event loop (grok_mpp.payment.auth.STEP_THREADS).
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from grok_mpp import AsyncGrokClient
from grok_mpp.ledger import open_ledger
from grok_mpp.payment import auth


class ThreadRecordingLedger:
    """A real SQLite ledger whose state changes note the thread they ran on."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.calls: list[tuple[str, int]] = []
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name not in {"reserve", "mark_sent", "settle", "release", "outcome_unknown", "reject"}:
            return attr

        def recorded(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.calls.append((name, threading.get_ident()))
            return attr(*args, **kwargs)

        return recorded


async def test_guard_calls_run_off_the_loop_thread(gateway_env: Any, tmp_path: Path) -> None:
    ledger = ThreadRecordingLedger(open_ledger(str(tmp_path / "ledger.sqlite3")))
    loop_thread = threading.get_ident()
    async with AsyncGrokClient(guard=ledger) as grok:
        results = await asyncio.gather(
            *(grok.chat(messages=[{"role": "user", "content": f"q{i}"}], max_tokens=8) for i in range(12))
        )
    assert all(r.cost.paid for r in results)
    names = [name for name, _ in ledger.calls]
    assert names.count("reserve") == 12 and names.count("mark_sent") == 12 and names.count("settle") == 12
    threads = {ident for _, ident in ledger.calls}
    assert loop_thread not in threads, "a ledger transaction ran on the event loop"
    assert len(threads) <= auth.STEP_THREADS
