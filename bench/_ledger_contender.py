"""Another writer on the same SQLite ledger file: holds SQLite's write lock HOLD_MS of every PERIOD_MS.

Usage: ``python bench/_ledger_contender.py LEDGER_PATH HOLD_MS PERIOD_MS``. Prints ``READY`` once the
ledger file exists and runs until stdin closes. It stands for any slow writer a shared ledger can
have (a reconcile run, a report, another worker's burst, a slow disk): while it holds the lock, a
client's reserve/settle waits on SQLite's busy timeout. Only the sqlite3 module and the file are
used, no grok_mpp internals, so the benchmark keeps working whatever the ledger code does.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
import time


def main(path: str, hold_ms: float, period_ms: float) -> None:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    stop = threading.Event()

    def wait_for_eof() -> None:
        sys.stdin.read()
        stop.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()
    print("READY", flush=True)
    while not stop.is_set():
        conn.execute("BEGIN IMMEDIATE")
        time.sleep(hold_ms / 1000)
        conn.execute("COMMIT")
        time.sleep(max(period_ms - hold_ms, 0) / 1000)
    conn.close()


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), float(sys.argv[3]))
