"""Ledger cost per payment and event-loop lag of the async client (issue 13 measurements).

    PYTHONPATH=. python bench/ledger_costs.py ledger [payments]   # ms per reserve/sent/settle on SQLite
    PYTHONPATH=. python bench/ledger_costs.py lag                 # max loop lag in three contention cases

Count fdatasyncs per payment with ``strace -f -c -e trace=fdatasync,fsync`` around the first form.
Only public APIs are used, so the same script measures an older checkout (PYTHONPATH=<checkout>).
Loop lag: a ticker task sleeps 1 ms in a loop and records how late it wakes; the async client pays
the local gateway meanwhile. Cases: (1) 4 threads paying with sync clients on the same ledger
file, (2) another process holding the SQLite write lock for 3 s, (3) reconcile-on-start with an
open row and a JSON-RPC endpoint that accepts connections but never answers.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

MSG = [{"role": "user", "content": "What is 2+3?"}]


def bench_ledger(count: int) -> None:
    from grok_mpp.ledger import SQLiteLedger
    from grok_mpp.payment.hooks import PaymentIntent, PaymentRecord

    payer = "0x" + "22" * 20
    with tempfile.TemporaryDirectory() as tmp, SQLiteLedger(Path(tmp) / "l.sqlite3") as ledger:
        times = []
        for n in range(count):
            intent = PaymentIntent(
                challenge_id=f"c{n}", realm="r", origin="http://127.0.0.1", endpoint="/grok/chat", amount=1000,
                currency="0x20c0000000000000000000000000000000000000", recipient="0x" + "11" * 20,
                chain_id=4217, request_digest="ab" * 32, max_fee=7300,
            )
            tx = "0x" + f"{n:064x}"
            t0 = time.perf_counter()
            rid = ledger.reserve(intent)
            ledger.mark_sent(rid, tx_hash=tx, valid_before=2_000_000_000, payer=payer)
            ledger.settle(rid, PaymentRecord(intent, tx, None, None, payer, False, 0, 0.0))
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    print(f"ledger: payments={count} median_ms={statistics.median(times):.3f} p95_ms={times[int(count * .95)]:.3f}")


async def _measure(work: Any) -> float:
    """Max lateness of a 1 ms ticker while ``work(client)`` runs. The client is built before the
    ticker starts: its constructor (wallet, SSL context, ledger open: ~50 ms, once) is reported
    apart from the lag of paying."""
    client = await work.setup()
    lags: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            t0 = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append((time.perf_counter() - t0 - 0.001) * 1000)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)  # the ticker runs before the work starts (a blocking constructor counts)
    try:
        await work(client)
    finally:
        stop.set()
        await task
        if client is not None:
            await client.aclose()
    return max(lags)


def _silent_rpc() -> tuple[socket.socket, str]:
    """A TCP server that accepts and never answers (an RPC 'not answering')."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    threading.Thread(target=lambda: [held.append(server.accept()[0]) for _ in range(16)], daemon=True).start()
    return server, f"http://127.0.0.1:{server.getsockname()[1]}/"


def bench_lag() -> None:
    from grok_mpp import AsyncGrokClient, GrokClient
    from grok_mpp.ledger import open_ledger
    from grok_mpp.local import LocalGateway

    with LocalGateway() as gw, tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "ledger.sqlite3")
        wallet = gw.new_funded_wallet(usd="50")
        kw = {"wallet": wallet, "base_url": gw.url, "rpc_url": gw.rpc_url, "ledger": db}

        # 1. sync payers on the same ledger
        stop = threading.Event()

        def sync_payer() -> None:
            with GrokClient(**kw) as c:
                while not stop.is_set():
                    c.chat(messages=MSG, max_tokens=8)

        def pay_async(n: int, before: Any = None, **over: Any) -> Any:
            async def work(c: Any) -> None:
                for _ in range(n):
                    await c.chat(messages=MSG, max_tokens=8)

            async def setup() -> Any:
                client = AsyncGrokClient(**{**kw, **over})
                if before is not None:
                    before()
                return client

            work.setup = setup  # type: ignore[attr-defined]
            return work

        async def idle(_: Any) -> None:
            await asyncio.sleep(3)

        async def no_client() -> Any:
            return None

        idle.setup = no_client  # type: ignore[attr-defined]

        threads = [threading.Thread(target=sync_payer) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            # the floor: GIL contention alone (the same 4 threads, the loop only runs the ticker)
            floor = asyncio.run(_measure(idle))
            lag = asyncio.run(_measure(pay_async(40)))
        finally:
            stop.set()
            for t in threads:
                t.join()
        print(f"lag: sync payers on the same ledger: max {lag:.1f} ms (GIL floor, no async payments: {floor:.1f} ms)")

        t0 = time.perf_counter()
        AsyncGrokClient(**kw)
        print(f"constructor (once per client; not in the lag figures): {(time.perf_counter() - t0) * 1000:.1f} ms")

        # 2. another process holds the write lock for 3 s
        holders: list[subprocess.Popen[str]] = []

        def lock_for_3s() -> None:  # after the client is built: the payments meet the lock
            holder = subprocess.Popen(
                [sys.executable, "-c",
                 "import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1], isolation_level=None);"
                 "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(3); c.execute('COMMIT')",
                 db],
                stdout=subprocess.PIPE, text=True,
            )
            assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
            holders.append(holder)

        t0 = time.perf_counter()
        lag = asyncio.run(_measure(pay_async(3, before=lock_for_3s)))
        (holder,) = holders
        took = time.perf_counter() - t0
        holder.wait()
        print(f"lag: another process holds the ledger lock 3 s: max {lag:.1f} ms (3 payments took {took:.1f} s)")

        # 3. reconcile-on-start against an RPC that never answers
        server, dead_rpc = _silent_rpc()
        with open_ledger(db) as seed:  # an open row so reconcile-on-start has to ask the chain
            from grok_mpp.payment.hooks import PaymentIntent

            rid = seed.reserve(PaymentIntent("c", "r", "o", "/grok/chat", 1, gw.currency, "0x" + "11" * 20,
                                             gw.chain_id if hasattr(gw, "chain_id") else 4217, "ab" * 32))
            seed.mark_sent(rid, tx_hash="0x" + "ab" * 32, valid_before=int(time.time()) + 600, payer=wallet.address)
        ledger = open_ledger(db, rpc_url=dead_rpc, reconcile_on_start=True)
        lag = asyncio.run(_measure(pay_async(1, ledger=ledger)))
        ledger.close()
        server.close()
        print(f"lag: reconcile-on-start with an RPC that never answers: max {lag:.1f} ms")


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "ledger"
    if mode == "ledger":
        bench_ledger(int(sys.argv[2]) if len(sys.argv) > 2 else 300)
    else:
        bench_lag()
