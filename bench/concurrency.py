"""3. 64 concurrent vs sequential paid calls (async tasks and threads), ledger off, three latencies."""

from __future__ import annotations

from common import GatewayProcess, Row, ms
from load import run_async, run_threads

from grok_mpp.wallet import Wallet

NAME = "3. 64 concurrent vs sequential paid calls"
SCENARIOS = (
    ("loopback, no latency", None),
    ("100 ms simulated upstream latency", "slow;delay=0.1"),
    # A real paid call waits for on-chain settlement before the answer (Tempo blocks are ~0.5 s;
    # reference servers wait for inclusion) plus the model itself: 500 ms is a low estimate.
    ("500 ms simulated settlement + model latency", "slow;delay=0.5"),
)
REALISTIC = SCENARIOS[2][0]


def bench_concurrency(gw: GatewayProcess, wallet: Wallet, seq_calls: int, par_calls: int) -> Row:
    detail = []
    ratios: dict[tuple[str, str], float] = {}
    collisions_ok = True
    for label, fault in SCENARIOS:
        seq = run_async(gw, wallet, seq_calls, 1, fault=fault)
        collisions_ok &= seq.clean
        for kind in ("async", "threads"):
            if kind == "async":
                par = run_async(gw, wallet, par_calls, 64, fault=fault)
            else:
                par = run_threads(gw, wallet, par_calls, 64, fault=fault)
            ratio = par.calls_per_s / seq.calls_per_s
            ratios[(label, kind)] = ratio
            collisions_ok &= par.clean
            client = "AsyncGrokClient, 64 tasks" if kind == "async" else "GrokClient, 64 threads"
            detail.append(
                f"{label}, {client}: sequential {seq.calls_per_s:.1f} calls/s ({seq_calls} calls), 64-way "
                f"{par.calls_per_s:.1f} calls/s ({par_calls} calls) = {ratio:.1f}x; distinct tx hashes "
                f"{par.distinct_hashes}/{par_calls}, failures {par.failures}; CPU per paid call: client "
                f"{ms(par.client_cpu)}, gateway {ms(par.gateway_cpu)}"
            )
    best = max(ratios[(REALISTIC, "async")], ratios[(REALISTIC, "threads")])
    loop, mid = SCENARIOS[0][0], SCENARIOS[1][0]
    result = (
        f"threads: {ratios[(loop, 'threads')]:.1f}x / {ratios[(mid, 'threads')]:.1f}x / "
        f"{ratios[(REALISTIC, 'threads')]:.1f}x; async: {ratios[(loop, 'async')]:.1f}x / "
        f"{ratios[(mid, 'async')]:.1f}x / {ratios[(REALISTIC, 'async')]:.1f}x "
        f"(loopback / 100 ms / 500 ms); nonce collisions: {'none' if collisions_ok else 'SOME'}"
    )
    if not collisions_ok:
        verdict = "missed (collisions or failures)"
    elif min(ratios[(REALISTIC, "async")], ratios[(REALISTIC, "threads")]) >= 20:
        verdict = "met at 500 ms only" if min(ratios[(mid, "async")], ratios[(mid, "threads")]) < 20 else "met"
    elif best >= 20:
        verdict = "partly: one client kind at 500 ms only"
    else:
        verdict = "missed"
    return Row(NAME, result, ">= 20x, 0 collisions", verdict, detail)
