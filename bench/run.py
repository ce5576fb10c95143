#!/usr/bin/env python
"""grok-mpp benchmarks: run them, print the table, write bench/README.md from bench/README.template.md.

Run ``.venv/bin/python bench/run.py`` (or ``./dev bench``); ``--quick`` for a short run, ``--only 16``
for some measurements. These are measurements, not tests: nothing here fails on a missed target,
the table says "missed" and the text says why.

One module per measurement (this file only drives them and renders the report):

====  ===================  ===================================================================
 1    signing.py           client CPU challenge -> credential, ours vs pympp (+ pure fallback)
 2    overhead.py          paid POST vs unpaid POST on the local gateway
 3    concurrency.py       64-way vs sequential, async and threads, three latencies
 4    imports.py           adapter import time vs its framework's own modules, vs langchain-xai
 5    memory.py            RSS over many paid calls
 6    reference_peer.py    full paid call on anvil, ours vs pympp's client, pympp server
 7    ledger_load.py       throughput with the ledger on (SQLite, PostgreSQL) vs off
 8    ledger_load.py       event-loop lag of the async client under ledger contention
 9    transport.py         httpx pool limits, trust_env, client construction at 64-way
====  ===================  ===================================================================

Shared pieces: common.py (row type, the gateway process), load.py (the many-calls driver). Helper
processes: _gateway_proc.py, _our_cpu.py, _pympp_cpu.py, _pympp_client.py, _ledger_contender.py.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from common import REPO, GatewayProcess, Row
from concurrency import bench_concurrency
from imports import bench_imports
from ledger_load import bench_ledger_throughput, bench_loop_lag
from memory import bench_memory
from overhead import bench_overhead
from reference_peer import bench_reference_peer
from signing import bench_cpu
from transport import bench_transport

from grok_mpp.wallet import Wallet

README = Path(__file__).with_name("README.md")
GATEWAY_STEPS = set("2357789")


def machine_facts(started: float, load_before: str) -> list[str]:
    from eth_keys.backends import get_backend

    from grok_mpp import wallet as wallet_module

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load_after = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load_after = "unknown"
    fast = wallet_module._coincurve is not None
    return [
        f"CPU: {cpu}, {os.cpu_count()} cores; Python {platform.python_version()} on {platform.system()}",
        f"eth-keys backend: {type(get_backend()).__name__}; grok-mpp Wallet signs with "
        f"{'a cached coincurve key' if fast else 'a cached eth-keys pure-Python key (coincurve missing)'}",
        f"httpx {httpx.__version__}; date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"the run took {(time.monotonic() - started) / 60:.1f} min",
        f"load average (1/5/15 min) before the run: {load_before}; after: {load_after}",
    ]


def render(rows: list[Row]) -> tuple[str, str]:
    table = ["| measurement | result | target | verdict |", "| --- | --- | --- | --- |"]
    table += [f"| {r.name} | {r.result} | {r.target} | {r.verdict} |" for r in rows]
    details = []
    for r in rows:
        details.append(f"**{r.name}**\n")
        details += [f"- {d}" for d in r.detail]
        details.append("")
    return "\n".join(table), "\n".join(details)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sample sizes (a few minutes)")
    parser.add_argument("--no-readme", action="store_true", help="print only, do not rewrite bench/README.md")
    parser.add_argument("--only", default="123456789", help="which measurements to run, e.g. 16")
    args = parser.parse_args()
    q = args.quick
    started = time.monotonic()
    try:
        load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load_before = "unknown"
    rows: list[Row] = []
    wallet = Wallet.create()
    gw: GatewayProcess | None = None
    if set(args.only) & GATEWAY_STEPS:
        gw = GatewayProcess({wallet.address: 1_000_000 * 10**6})
    try:
        steps: list[tuple[str, Callable[[], Row]]] = [
            ("1", lambda: bench_cpu(300 if q else 2000)),
            ("2", lambda: bench_overhead(gw, wallet, 50 if q else 300)),  # type: ignore[arg-type]
            ("3", lambda: bench_concurrency(gw, wallet, 20 if q else 64, 64 if q else 256)),  # type: ignore[arg-type]
            ("4", lambda: bench_imports(allow_install=not q, runs=3 if q else 7)),
            ("5", lambda: bench_memory(gw, wallet, 2000 if q else 10_000)),  # type: ignore[arg-type]
            ("6", lambda: bench_reference_peer(5 if q else 20)),
            ("7", lambda: bench_ledger_throughput(gw, wallet, 64 if q else 256)),  # type: ignore[arg-type]
            ("8", lambda: bench_loop_lag(gw, wallet, 128 if q else 256)),  # type: ignore[arg-type]
            ("9", lambda: bench_transport(gw, wallet, 128 if q else 256, 1 if q else 3)),  # type: ignore[arg-type]
        ]
        for key, step in steps:
            if key in args.only:
                print(f"running {key} ...", file=sys.stderr, flush=True)
                rows.append(step())
    finally:
        if gw is not None:
            gw.stop()
    table, details = render(rows)
    print(table)
    print()
    print(details)
    if not args.no_readme:
        write_readme(table, details, machine_facts(started, load_before), q)


def write_readme(table: str, details: str, facts: list[str], quick: bool) -> None:
    template = (Path(__file__).with_name("README.template.md")).read_text()
    text = (
        template.replace("{{TABLE}}", table)
        .replace("{{DETAILS}}", details)
        .replace("{{FACTS}}", "\n".join(f"- {f}" for f in facts))
        .replace("{{MODE}}", "quick (`--quick`)" if quick else "full")
    )
    README.write_text(text)
    print(f"wrote {README.relative_to(REPO)}", file=sys.stderr)


if __name__ == "__main__":
    main()
