"""9. The HTTP stack at 64-way async: which httpx settings and client-reuse patterns cost what.

On loopback most of the async client's CPU per paid call is the HTTP stack (httpcore's pool,
anyio, h11, httpx), not payment code. This measures what is adjustable from outside the client:
httpx's pool limits, ``trust_env``, and what building a client costs (an ``httpx.AsyncClient``
builds an SSL context, loading the CA bundle, even for http:// URLs). Each variant drives the same
``AsyncGrokClient`` through ``http_client=``; new TCP connections are counted via httpcore's
``trace`` extension. No setting is changed in grok_mpp by this file: it reports.
"""

from __future__ import annotations

import ssl
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx
from common import GatewayProcess, Row, ms
from load import CLIENT_LIMITS, LoadResult, run_async

from grok_mpp.wallet import Wallet

NAME = "9. HTTP stack at 64-way async: pool limits, trust_env, client reuse"
L = httpx.Limits
DEFAULT = "httpx defaults (100 connections, 20 kept alive)"
OWN_POOL = "the client's own pool (no http_client=)"


def _variants() -> dict[str, Callable[..., httpx.AsyncClient | None]]:
    own = f"the clients' pool ({CLIENT_LIMITS.max_connections} connections, all kept alive)"
    return {
        own: lambda **kw: httpx.AsyncClient(timeout=60, limits=CLIENT_LIMITS, **kw),
        "the same, trust_env=False": lambda **kw: httpx.AsyncClient(timeout=60, limits=CLIENT_LIMITS,
                                                                    trust_env=False, **kw),
        DEFAULT: lambda **kw: httpx.AsyncClient(timeout=60, **kw),
        "64 connections, 64 kept alive": lambda **kw: httpx.AsyncClient(
            timeout=60, limits=L(max_connections=64, max_keepalive_connections=64), **kw),
        "16 connections, 16 kept alive": lambda **kw: httpx.AsyncClient(
            timeout=60, limits=L(max_connections=16, max_keepalive_connections=16), **kw),
    }


def _median_result(results: list[LoadResult]) -> dict[str, float]:
    return {
        "calls_per_s": statistics.median(r.calls_per_s for r in results),
        "client_cpu": statistics.median(r.client_cpu for r in results),
        "gateway_cpu": statistics.median(r.gateway_cpu for r in results),
        "connections": statistics.median(r.new_connections or 0 for r in results),
        "clean": all(r.clean for r in results),
    }


def _construction_cpu(n: int = 30) -> dict[str, float]:
    shared = ssl.create_default_context()
    makers: dict[str, Callable[[], Any]] = {
        "httpx.AsyncClient()": lambda: httpx.AsyncClient(),
        "httpx.AsyncClient(trust_env=False)": lambda: httpx.AsyncClient(trust_env=False),
        "httpx.AsyncClient(verify=<one shared SSLContext>)": lambda: httpx.AsyncClient(verify=shared),
    }
    out = {}
    for name, make in makers.items():
        make()
        samples = []
        for _ in range(n):
            start = time.process_time()
            make()
            samples.append(time.process_time() - start)
        out[name] = statistics.median(samples)
    return out


def bench_transport(gw: GatewayProcess, wallet: Wallet, calls: int, reps: int) -> Row:
    detail = []
    scenarios = (("loopback", None), ("500 ms latency", "slow;delay=0.5"))
    table: dict[tuple[str, str], dict[str, float]] = {}
    for label, fault in scenarios:
        variants = _variants()
        if fault is None:
            variants[OWN_POOL] = lambda **kw: None
        runs: dict[str, list[LoadResult]] = {k: [] for k in variants}
        for _ in range(reps):  # round-robin: drift in machine load hits every variant alike
            for name, make in variants.items():
                runs[name].append(run_async(gw, wallet, calls, 64, fault=fault, make_http=make,
                                            count_connections=True))
        for name, results in runs.items():
            m = _median_result(results)
            table[(label, name)] = m
            conns = "connections not counted" if name == OWN_POOL else f"{m['connections']:.0f} new TCP connections"
            detail.append(f"{label}, {name}: {m['calls_per_s']:.1f} calls/s, CPU per paid call client "
                          f"{ms(m['client_cpu'])} / gateway {ms(m['gateway_cpu'])}, {conns} for {calls} calls "
                          f"({2 * calls} requests){'' if m['clean'] else ', FAILURES'}")
    built = _construction_cpu()
    detail.append("building a client (CPU, median of 30): " + "; ".join(f"`{k}` {ms(v)}" for k, v in built.items()))
    detail.append(f"medians of {reps} runs per variant, {calls} paid calls each, 64 in flight, variants interleaved; "
                  "'FAILURES' marks a variant where a call failed (httpx's 100/20 default pool is exposed to "
                  "encode/httpcore#1110, see gateway/client.py)")
    own = next(iter(_variants()))
    slow_d, slow_o = table[("500 ms latency", DEFAULT)], table[("500 ms latency", own)]
    loop_d, loop_o = table[("loopback", DEFAULT)], table[("loopback", own)]
    loop_t = table[("loopback", "the same, trust_env=False")]
    failures = [f"{label}: {name}" for (label, name), m in table.items() if not m["clean"]]
    result = (f"500 ms latency: httpx's default pool (20 kept alive) opens {slow_d['connections']:.0f} TCP connections "
              f"for {calls} calls, the clients' pool {slow_o['connections']:.0f} (gateway CPU per call "
              f"{ms(slow_d['gateway_cpu'])} vs {ms(slow_o['gateway_cpu'])}, client {ms(slow_d['client_cpu'])} vs "
              f"{ms(slow_o['client_cpu'])}); loopback client CPU per call: httpx default {ms(loop_d['client_cpu'])}, "
              f"clients' pool {ms(loop_o['client_cpu'])}, + trust_env=False {ms(loop_t['client_cpu'])}; building an "
              f"AsyncClient {ms(built['httpx.AsyncClient()'])} CPU"
              + (f"; FAILED calls in {', '.join(failures)}" if failures else ""))
    return Row(NAME, result, "(measurement; recommendation in the text below)", "report", detail)
