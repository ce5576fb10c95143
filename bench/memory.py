"""5. RSS of the client process over many paid calls: flat means nothing is kept per call."""

from __future__ import annotations

import os
import time

from common import MSG, GatewayProcess, Row

from grok_mpp import GrokClient
from grok_mpp.wallet import Wallet


def _rss() -> int:
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except ImportError:  # pragma: no cover - psutil ships with the test extras
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def bench_memory(gw: GatewayProcess, wallet: Wallet, total: int) -> Row:
    checkpoint = max(total // 10, 1)
    rss: dict[int, int] = {}
    start = time.perf_counter()
    with GrokClient(wallet=wallet, base_url=gw.url, ledger="off") as client:
        for i in range(1, total + 1):
            client.chat(messages=MSG, max_tokens=16)
            if i in (checkpoint, total):
                rss[i] = _rss()
    elapsed = time.perf_counter() - start
    growth = rss[total] - rss[checkpoint]
    per_call = growth / (total - checkpoint)
    detail = [
        f"{total} paid GrokClient.chat calls over HTTP in {elapsed:.1f} s ({elapsed / total * 1000:.2f} ms each); "
        f"RSS after {checkpoint}: {rss[checkpoint] / 2**20:.1f} MiB, after {total}: {rss[total] / 2**20:.1f} MiB",
        f"growth {growth / 2**10:.0f} KiB = {per_call:.0f} bytes per call",
    ]
    flat = per_call < 100  # under 100 bytes/call: no per-call object retained
    return Row(f"5. RSS over {total} paid calls", f"{growth / 2**20:+.2f} MiB after the first {checkpoint}",
               "flat (no per-call growth)", "met" if flat else "missed", detail)
