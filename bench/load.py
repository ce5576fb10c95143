"""Many paid calls against the local gateway process: the driver shared by measurements 3, 7, 8 and 9.

``run_async`` drives one ``AsyncGrokClient`` from ``width`` concurrent asyncio tasks, ``run_threads``
one sync ``GrokClient`` from ``width`` threads (what LangChain's ``batch()`` does). Both use only the
public client API, so they keep measuring whatever the client does after internal changes (ledger,
pool configuration). Besides calls/s they report client CPU per call (``time.process_time`` of this
process, all threads), gateway CPU per call, failures and whether every transaction hash was
distinct (no nonce collisions).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
from common import MSG, GatewayProcess

from grok_mpp import AsyncGrokClient, GrokClient
from grok_mpp.gateway.client import POOL_CONNECTIONS
from grok_mpp.local.faults import FAULT_HEADER
from grok_mpp.wallet import Wallet

#: The pool the clients build for themselves (gateway/client.py: keep-alive slots == connections).
#: The benchmarks pass their own httpx client (for fault headers and connection counting) with it.
CLIENT_LIMITS = httpx.Limits(max_connections=POOL_CONNECTIONS, max_keepalive_connections=POOL_CONNECTIONS)


@dataclass
class LoadResult:
    calls: int
    calls_per_s: float
    client_cpu: float  # seconds per call, this process
    gateway_cpu: float  # seconds per call, the gateway process
    distinct_hashes: int
    failures: int
    new_connections: int | None = None  # TCP connects seen by httpcore's trace extension, if counted

    @property
    def clean(self) -> bool:
        return self.failures == 0 and self.distinct_hashes == self.calls


def fault_headers(fault: str | None) -> dict[str, str]:
    return {FAULT_HEADER: fault} if fault else {}


class ConnectionCounter:
    """Counts new TCP connections via httpcore's public ``trace`` request extension (an httpx event
    hook puts it on every request, including the auth flow's paid retry)."""

    def __init__(self) -> None:
        self.count = 0

    async def _atrace(self, name: str, info: dict[str, Any]) -> None:
        if name == "connection.connect_tcp.started":
            self.count += 1

    def _trace(self, name: str, info: dict[str, Any]) -> None:
        if name == "connection.connect_tcp.started":
            self.count += 1

    async def async_hook(self, request: httpx.Request) -> None:
        request.extensions["trace"] = self._atrace

    def hook(self, request: httpx.Request) -> None:
        request.extensions["trace"] = self._trace


async def _run_async(gw: GatewayProcess, wallet: Wallet, calls: int, width: int, *, fault: str | None,
                     ledger: Any, make_http: Callable[..., httpx.AsyncClient | None] | None,
                     count_connections: bool, during: Callable[[], Any] | None) -> LoadResult:
    counter = ConnectionCounter() if count_connections else None
    hooks = {"request": [counter.async_hook]} if counter else {}
    make = make_http or (lambda **kw: httpx.AsyncClient(timeout=60, limits=CLIENT_LIMITS, **kw))
    http = make(headers=fault_headers(fault), event_hooks=hooks)
    hashes: list[str] = []
    failures = 0
    async with AsyncGrokClient(wallet=wallet, base_url=gw.url, ledger=ledger, http_client=http) as client:
        await client.chat(messages=MSG, max_tokens=16)  # warm-up: gas price and balance caches, a connection
        sem = asyncio.Semaphore(width)

        async def one() -> None:
            nonlocal failures
            async with sem:
                try:
                    result = await client.chat(messages=MSG, max_tokens=16)
                except Exception:
                    failures += 1
                    return
                hashes.append(result.cost.tx_hash or "")

        side = asyncio.ensure_future(during()) if during else None
        if counter:
            counter.count = 0
        gw0, cpu0, start = gw.cpu(), time.process_time(), time.perf_counter()
        await asyncio.gather(*(one() for _ in range(calls)))
        elapsed, cpu, gw_cpu = time.perf_counter() - start, time.process_time() - cpu0, gw.cpu() - gw0
        if side:
            side.cancel()
    if http is not None:
        await http.aclose()
    return LoadResult(calls, calls / elapsed, cpu / calls, gw_cpu / calls, len(set(hashes)), failures,
                      counter.count if counter else None)


def run_async(gw: GatewayProcess, wallet: Wallet, calls: int, width: int, *, fault: str | None = None,
              ledger: Any = "off", make_http: Callable[..., httpx.AsyncClient | None] | None = None,
              count_connections: bool = False, during: Callable[[], Any] | None = None) -> LoadResult:
    """``calls`` paid chats, ``width`` in flight, on a fresh event loop. ``make_http(**kw)`` builds the
    httpx client (default: ``httpx.AsyncClient`` with the clients' own pool limits; ``None`` lets the
    client build its own, without fault headers or connection counting); ``during`` is
    a coroutine function run alongside (e.g. a loop-lag probe), cancelled at the end."""
    return asyncio.run(_run_async(gw, wallet, calls, width, fault=fault, ledger=ledger, make_http=make_http,
                                  count_connections=count_connections, during=during))


def run_threads(gw: GatewayProcess, wallet: Wallet, calls: int, width: int, *, fault: str | None = None,
                ledger: Any = "off") -> LoadResult:
    """The sync GrokClient shared by ``width`` threads."""
    http = httpx.Client(timeout=60, headers=fault_headers(fault), limits=CLIENT_LIMITS)
    hashes: list[str] = []
    failures = 0
    with GrokClient(wallet=wallet, base_url=gw.url, ledger=ledger, http_client=http) as client, http:
        client.chat(messages=MSG, max_tokens=16)

        def one(_: int) -> None:
            nonlocal failures
            try:
                hashes.append(client.chat(messages=MSG, max_tokens=16).cost.tx_hash or "")
            except Exception:
                failures += 1

        gw0, cpu0, start = gw.cpu(), time.process_time(), time.perf_counter()
        with ThreadPoolExecutor(width) as pool:
            list(pool.map(one, range(calls)))
        elapsed, cpu, gw_cpu = time.perf_counter() - start, time.process_time() - cpu0, gw.cpu() - gw0
    return LoadResult(calls, calls / elapsed, cpu / calls, gw_cpu / calls, len(set(hashes)), failures)
