"""7. Throughput with the durable ledger on vs off; 8. event-loop lag of the async client under ledger contention.

Both drive the public client API only (``AsyncGrokClient`` / ``GrokClient`` with ``ledger=<path or
DSN>``), so they measure whatever the ledger and client code do at the time of the run.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import REPO, GatewayProcess, Row, ms
from load import LoadResult, run_async, run_threads

from grok_mpp.wallet import Wallet

NAME_THROUGHPUT = "7. throughput, ledger on vs off (64-way, loopback)"
NAME_LAG = "8. event-loop lag of AsyncGrokClient, SQLite ledger under contention"
HOLD_MS, PERIOD_MS = 50, 100  # the contender holds the write lock half of the time, 50 ms at a stretch
TICK = 0.005
# Calls wait 200 ms at the gateway (as real ones wait for settlement and the model), so the loop is
# mostly idle and a late tick means something blocked it, not that 64 CPU-bound tasks saturate it.
LAG_FAULT = "slow;delay=0.2"


def _postgres() -> tuple[Any, str] | tuple[None, str]:
    """A throwaway PostgreSQL server (the PostgreSQL test tier's helper) or why there is none."""
    try:
        import psycopg  # noqa: F401

        from tests.ledger_pg.conftest import PostgresServer, _bin_dir
    except ImportError as exc:
        return None, f"not measured: {exc}"
    bin_dir = _bin_dir()
    if bin_dir is None:
        return None, "not measured: PostgreSQL server binaries (initdb, pg_ctl) not found (tests/ledger_pg/README.md)"
    try:
        server = PostgresServer(bin_dir)
        server.start()
    except BaseException as exc:  # pytest.skip/fail from the helper, or a failed start
        return None, f"not measured: could not start PostgreSQL ({exc})"
    return server, "started"


def bench_ledger_throughput(gw: GatewayProcess, wallet: Wallet, calls: int) -> Row:
    detail: list[str] = []
    results: dict[tuple[str, str], LoadResult] = {}
    pg, pg_status = _postgres()
    with tempfile.TemporaryDirectory(prefix="grok-mpp-bench-") as tmp:
        ledgers: dict[str, Callable[[], Any]] = {
            "off": lambda: "off",
            "SQLite": lambda: str(Path(tmp) / f"ledger-{time.monotonic_ns()}.db"),
        }
        if pg is not None:
            ledgers["PostgreSQL"] = lambda: pg.dsn()
        try:
            for kind in ("async", "threads"):
                for name, ledger in ledgers.items():
                    run = run_async if kind == "async" else run_threads
                    results[(kind, name)] = run(gw, wallet, calls, 64, ledger=ledger())
        finally:
            if pg is not None:
                pg.stop()
    ratios = []
    for kind in ("async", "threads"):
        off = results[(kind, "off")]
        client = "AsyncGrokClient, 64 tasks" if kind == "async" else "GrokClient, 64 threads"
        parts = []
        for name in ledgers:
            r = results[(kind, name)]
            ratio = r.calls_per_s / off.calls_per_s
            if name != "off":
                ratios.append((f"{kind} {name}", ratio))
            parts.append(f"{name} {r.calls_per_s:.1f} calls/s ({ratio:.2f}x), client CPU per call "
                         f"{ms(r.client_cpu)}{'' if r.clean else f', FAILURES {r.failures}'}")
        detail.append(f"{client}, {calls} paid calls: " + "; ".join(parts))
    detail.append(f"PostgreSQL: {pg_status} (local server from the Debian package, fsync off, loopback)"
                  if pg is not None else f"PostgreSQL: {pg_status}")
    detail.append("ledger 'off' = the in-memory budget; SQLite = a fresh WAL file per run (synchronous=FULL), "
                  "PostgreSQL = one database for all runs; the gateway process is shared by all runs")
    worst = min(r for _, r in ratios)
    result = ", ".join(f"{label} {ratio:.2f}x" for label, ratio in ratios) + " of ledger-off throughput"
    clean = all(r.clean for r in results.values())
    verdict = "met" if worst >= 0.8 and clean else "missed"
    return Row(NAME_THROUGHPUT, result, ">= 0.8x ledger off", verdict, detail)


def _lag_probe(samples: list[float]) -> Callable[[], Any]:
    async def probe() -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(TICK)
            samples.append(time.perf_counter() - start - TICK)

    return probe


def _pctl(values: list[float], q: float) -> float:
    if len(values) < 2:
        return max(values, default=0.0)
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def bench_loop_lag(gw: GatewayProcess, wallet: Wallet, calls: int) -> Row:
    rows: dict[str, tuple[list[float], LoadResult]] = {}
    with tempfile.TemporaryDirectory(prefix="grok-mpp-bench-") as tmp:
        for label in ("ledger off", "SQLite ledger", "SQLite ledger + contending writer"):
            samples: list[float] = []
            path = str(Path(tmp) / f"{len(rows)}.db")
            ledger = "off" if label == "ledger off" else path
            contender = None
            if label.endswith("writer"):
                # the ledger file must exist first: one client call creates it
                run_async(gw, wallet, 1, 1, ledger=path, fault=LAG_FAULT)
                contender = subprocess.Popen([sys.executable, str(REPO / "bench" / "_ledger_contender.py"), path,
                                              str(HOLD_MS), str(PERIOD_MS)], stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, text=True, cwd=REPO)
                assert contender.stdout is not None
                contender.stdout.readline()
            try:
                load = run_async(gw, wallet, calls, 64, ledger=ledger, fault=LAG_FAULT, during=_lag_probe(samples))
            finally:
                if contender is not None:
                    assert contender.stdin is not None
                    contender.stdin.close()
                    contender.wait(timeout=30)
            rows[label] = (samples, load)
    detail = []
    for label, (samples, load) in rows.items():
        detail.append(f"{label}: tick lag p50 {ms(_pctl(samples, 50))}, p99 {ms(_pctl(samples, 99))}, max "
                      f"{ms(max(samples))} ({len(samples)} ticks); {load.calls_per_s:.1f} paid calls/s"
                      f"{'' if load.clean else f', FAILURES {load.failures}'}")
    detail.append(f"a task sleeping {TICK * 1000:.0f} ms in a loop on the client's event loop records how late it "
                  f"wakes up while 64 tasks make {calls} paid calls (loopback, each answered after a simulated 200 ms "
                  f"latency, so the loop is mostly idle); the contending writer is another "
                  f"process holding the SQLite file's write lock {HOLD_MS} ms of every {PERIOD_MS} ms "
                  f"(bench/_ledger_contender.py)")
    base = _pctl(rows["ledger off"][0], 99)
    worst = _pctl(rows["SQLite ledger + contending writer"][0], 99)
    worst_max = max(rows["SQLite ledger + contending writer"][0])
    result = (f"p99 lag: ledger off {ms(base)}, SQLite {ms(_pctl(rows['SQLite ledger'][0], 99))}, "
              f"SQLite + contending writer {ms(worst)} (max {ms(worst_max)})")
    target = f"contended p99 <= 2x ledger off and max < {HOLD_MS} ms (no wait on the lock blocks the loop)"
    verdict = "met" if worst <= 2 * base and worst_max < HOLD_MS / 1000 else "missed"
    return Row(NAME_LAG, result, target, verdict, detail)
