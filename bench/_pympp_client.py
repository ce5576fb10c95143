"""pympp 0.16's own client paying the pympp server, one call per ``go`` line (run in .venv-peers).

First stdin line: ``{"url": ..., "key": <hex>, "rpc_url": ..., "chain_id": <int>}``. Then for every
``go`` line it makes one paid POST through pympp's ``PaymentTransport`` (the engine behind
``mpp.client.Mpp``) and prints one JSON line: ``{"status", "wall_s", "cpu_s", "server_requests",
"chain_calls", "pympp"}``. Round trips to the server are counted by the inner httpx transport,
chain calls by wrapping the two RPC helpers pympp's tempo client calls (``_rpc_call``:
eth_chainId, cached, and eth_gasPrice; ``estimate_gas``: eth_estimateGas). Nothing is stubbed: the
RPC goes to the anvil chain. Exits at end of input.

One accommodation: pympp 0.16 signs ``valid_before = now + 60`` s, and a chain before Tempo's T11
hardfork (anvil ``--hardfork T4``, what the interop tier runs) accepts such an expiring-nonce
transaction into the pool but never mines it (the window is 30 s there; reference note
tempo-testing.md). The paid retry then times out with a 500 after 30 s. So the lifetime is set to
25 s, what grok-mpp signs, through pympp's own module constant.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from importlib.metadata import version
from typing import Any

import httpx


async def main() -> None:
    cfg = json.loads(sys.stdin.readline())
    from mpp.client import PaymentTransport
    from mpp.methods.tempo import TempoAccount
    from mpp.methods.tempo import client as tempo_client

    counts = {"server": 0, "chain": 0}
    rpc_call, estimate_gas = tempo_client._rpc_call, tempo_client.estimate_gas

    async def counted_rpc(*args: Any, **kwargs: Any) -> Any:
        counts["chain"] += 1
        return await rpc_call(*args, **kwargs)

    async def counted_estimate(*args: Any, **kwargs: Any) -> Any:
        counts["chain"] += 1
        return await estimate_gas(*args, **kwargs)

    tempo_client.EXPIRING_NONCE_VALID_BEFORE_SECS = 25  # see the module docstring
    tempo_client._rpc_call = counted_rpc  # type: ignore[attr-defined]
    tempo_client.estimate_gas = counted_estimate  # type: ignore[attr-defined]

    paid_at = [0.0]

    class Counting(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            counts["server"] += 1
            if "authorization" in request.headers:
                paid_at[0] = time.perf_counter()
            return await super().handle_async_request(request)

    method = tempo_client.charge(account=TempoAccount.from_key(cfg["key"]), chain_id=int(cfg["chain_id"]),
                                 rpc_url=cfg["rpc_url"])
    transport = PaymentTransport([method], inner=Counting())
    async with httpx.AsyncClient(transport=transport, timeout=60) as client:
        for line in sys.stdin:
            if line.strip() != "go":
                continue
            counts.update(server=0, chain=0)
            cpu, start = time.process_time(), time.perf_counter()
            response = await client.post(cfg["url"], json={"prompt": "hi"})
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            print(json.dumps({"status": response.status_code, "wall_s": wall, "cpu_s": cpu,
                              "to_credential_s": paid_at[0] - start,
                              "server_requests": counts["server"], "chain_calls": counts["chain"],
                              "pympp": version("pympp")}), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
