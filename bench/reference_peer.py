"""6. A full paid call on a real chain: grok-mpp's client vs pympp's client, same pympp server.

Both clients pay the pympp 0.16 reference server (tests/peers/pympp_server.py) settling on an anvil
``--network tempo`` chain, started with the interop tier's own helpers (tests/interop/support.py):
once mining every transaction at once (the protocol's overhead, no block wait) and once with the
tier's 0.5 s blocks (what a real call waits; the block phase makes that figure noisy). Calls alternate one by one (ours, pympp's, ours, ...) so chain and
machine drift hit both alike. Each client counts its own round trips to the server and its calls
to the chain; pympp's client runs in the peers venv (bench/_pympp_client.py).
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import subprocess
import time
from typing import Any

import httpx
from common import PEERS_PY, REPO, Row, ms

from grok_mpp.chains import PATHUSD
from grok_mpp.payment.auth import MPPAuth
from grok_mpp.payment.policy import PaymentPolicy
from grok_mpp.wallet import Wallet

NAME = "6. full paid call on anvil, ours vs pympp's client (pympp server)"
TARGET = "<= pympp's client (wall); fewer chain calls"
BLOCK_TIME = 0.5  # anvil --block-time in tests/interop/support.py


def _start_anvil(block_time: float | None) -> Any:
    """anvil as tests/interop/support.py starts it; ``block_time=None`` mines each transaction at once."""
    from tests.interop.support import _LISTENING, MODERATO, AnvilChain, PeerProcess, require_anvil, start_anvil

    if block_time == BLOCK_TIME:
        return start_anvil(MODERATO)
    args = [str(require_anvil()), "--network", "tempo", "--hardfork", "T4", "--chain-id", str(MODERATO),
            "--host", "127.0.0.1", "--port", "0"]
    process = PeerProcess("anvil(automine)", args)
    port = int(process.wait_for(_LISTENING).group(1))
    return AnvilChain(url=f"http://127.0.0.1:{port}", chain_id=MODERATO, process=process)


def bench_reference_peer(n: int) -> Row:
    import pytest

    from tests.interop.support import start_pympp

    runs: dict[str, dict[str, Any]] = {}
    for label, block_time in (("automine", None), ("0.5 s blocks", BLOCK_TIME)):
        chain = server = None
        try:
            chain = _start_anvil(block_time)
            server = start_pympp(chain, realm="pympp.test")
            runs[label] = _compare(chain, server, n, random_phase=block_time is not None)
        except (Exception, pytest.skip.Exception, pytest.fail.Exception) as exc:
            return Row(NAME, "not run", TARGET, "n/a", [f"anvil or the pympp peer unavailable or failed ({label}): "
                                                        f"{exc} (tests/peers/setup.sh)"])
        finally:
            if server is not None:
                server.process.stop()
            if chain is not None:
                chain.process.stop()
    return _report(runs, n)


class _Ours:
    """grok-mpp's MPPAuth on an httpx.AsyncClient, counting requests by destination."""

    def __init__(self, key: str, rpc_url: str, server_url: str) -> None:
        self.counts = {"server": 0, "chain": 0}
        self.paid_at = 0.0
        self.rpc_url, self.server_url = rpc_url, server_url
        policy = PaymentPolicy(chain_id=42431, allowed_currencies=frozenset({PATHUSD}), max_amount_per_call=100_000,
                               allow_insecure_loopback=True, realm_must_match_host=False)
        self.loop = asyncio.new_event_loop()
        self.http = httpx.AsyncClient(auth=MPPAuth(Wallet.from_key(key), policy, rpc_url=rpc_url), timeout=60,
                                      event_hooks={"request": [self._count]})

    async def _count(self, request: httpx.Request) -> None:
        self.counts["chain" if str(request.url).startswith(self.rpc_url) else "server"] += 1
        if "authorization" in request.headers:
            self.paid_at = time.perf_counter()

    def call(self) -> dict[str, Any]:
        self.counts.update(server=0, chain=0)
        cpu, start = time.process_time(), time.perf_counter()
        response = self.loop.run_until_complete(self.http.post(self.server_url, json={"prompt": "hi"}))
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        return {"status": response.status_code, "wall_s": wall, "cpu_s": cpu, "to_credential_s": self.paid_at - start,
                "server_requests": self.counts["server"], "chain_calls": self.counts["chain"]}

    def close(self) -> None:
        self.loop.run_until_complete(self.http.aclose())
        self.loop.close()


class _Theirs:
    def __init__(self, key: str, rpc_url: str, server_url: str) -> None:
        from signing import _coincurve_overlay

        overlay = _coincurve_overlay()  # pympp at its best: coincurve importable, as ours has it
        env = {"PYTHONPATH": str(overlay)} if overlay else {}
        import os

        self.with_coincurve = overlay is not None
        self.proc = subprocess.Popen([str(PEERS_PY), str(REPO / "bench" / "_pympp_client.py")], text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=REPO,
                                     env={**os.environ, **env})
        self._send(json.dumps({"url": server_url, "key": key, "rpc_url": rpc_url, "chain_id": 42431}))

    def _send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def call(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        self._send("go")
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("pympp's client exited")
        return json.loads(line)  # type: ignore[no-any-return]

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _compare(chain: Any, server: Any, n: int, *, random_phase: bool) -> dict[str, Any]:
    url = server.url("/paid")
    ours = _Ours(chain.new_account(10_000_000).key, chain.url, url)
    theirs = _Theirs(chain.new_account(10_000_000).key, chain.url, url)
    try:
        first = {"ours": ours.call(), "pympp": theirs.call()}  # warm-up: chain id, gas price, balance caches
        runs: dict[str, list[dict[str, Any]]] = {"ours": [], "pympp": []}
        phase = random.Random(16)
        for _ in range(n):
            # A call that starts right after a block waits a whole block for inclusion, one that
            # starts late waits less. Each call ends just after the block that settled it, so
            # sleeping the same random delay before both calls of a pair starts them at the same
            # block phase: the pair sees the same block wait, and the phase varies over pairs.
            delay = phase.uniform(0, BLOCK_TIME) if random_phase else 0.0
            for side, client in (("ours", ours), ("pympp", theirs)):
                time.sleep(delay)
                runs[side].append(client.call())  # type: ignore[attr-defined]
    finally:
        ours.close()
        theirs.close()
    bad = [r for side in (*runs.values(), list(first.values())) for r in side if r["status"] != 200]
    if bad:
        raise RuntimeError(f"non-200 answers: {bad[:3]}")
    out: dict[str, Any] = {"coincurve": theirs.with_coincurve}
    for side, rows in runs.items():
        out[side] = {key: statistics.median(r[key] for r in rows) for key in ("wall_s", "cpu_s", "to_credential_s")}
        out[side]["server_requests"] = sum(r["server_requests"] for r in rows) / n
        out[side]["chain_calls"] = sum(r["chain_calls"] for r in rows) / n
        out[side]["first_chain_calls"] = first[side]["chain_calls"]
    return out


def _report(runs: dict[str, dict[str, Any]], n: int) -> Row:
    fast, real = runs["automine"], runs["0.5 s blocks"]
    o, t = fast["ours"], fast["pympp"]
    ratio = o["wall_s"] / t["wall_s"]
    real_ratio = real["ours"]["wall_s"] / real["pympp"]["wall_s"]
    detail = [
        f"median wall per paid call, anvil mining each transaction at once (client + server + settlement "
        f"overhead, no block wait): grok-mpp {ms(o['wall_s'])}, pympp {ms(t['wall_s'])} = {ratio:.2f}x",
        f"median wall per paid call, anvil with 0.5 s blocks (Tempo-like; each pair of calls started at the same "
        f"random block phase, so the block wait, 0-500 ms, dominates both): grok-mpp {ms(real['ours']['wall_s'])}, pympp "
        f"{ms(real['pympp']['wall_s'])} = {real_ratio:.2f}x",
        f"from the call's start until the paid retry leaves the client (402 round trip, chain calls, signing; "
        f"median, automine): grok-mpp {ms(o['to_credential_s'])}, pympp {ms(t['to_credential_s'])}",
        f"client CPU per paid call (median, automine): grok-mpp {ms(o['cpu_s'])}, pympp {ms(t['cpu_s'])}"
        f"{' (with coincurve)' if fast['coincurve'] else ' (pure-Python secp256k1)'}",
        f"round trips to the server per payment: grok-mpp {o['server_requests']:.1f}, pympp "
        f"{t['server_requests']:.1f} (402, then the paid retry)",
        f"chain (JSON-RPC) calls per payment after the first: grok-mpp {o['chain_calls']:.1f} (gas price and balance "
        f"cached 30 s), pympp {t['chain_calls']:.1f} (eth_gasPrice + eth_estimateGas every payment); first payment: "
        f"grok-mpp {o['first_chain_calls']}, pympp {t['first_chain_calls']}",
        f"n = {n} paid calls per client per chain after one warm-up call, alternating; every answer 200 (settled)",
    ]
    result = (f"{ms(o['wall_s'])} vs {ms(t['wall_s'])} = {ratio:.2f}x (automine), {real_ratio:.2f}x (0.5 s blocks); "
              f"chain calls per payment {o['chain_calls']:.1f} vs {t['chain_calls']:.1f}")
    verdict = "met" if ratio <= 1.0 and o["chain_calls"] < t["chain_calls"] else "missed"
    return Row(NAME, result, TARGET, verdict, detail)
