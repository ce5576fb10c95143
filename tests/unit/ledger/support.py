"""Test helpers: payment intents, an injectable clock and a tiny JSON-RPC chain on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from grok_mpp.payment.hooks import PaymentIntent, PaymentRecord

RECIPIENT = "0x1111111111111111111111111111111111111111"
CURRENCY = "0x20c0000000000000000000000000000000000000"
PAYER = "0x2222222222222222222222222222222222222222"
CHAIN = 42431


def intent(
    amount: int = 1_000, *, endpoint: str = "/grok/chat", model: str | None = "grok-4", n: int = 0, max_fee: int = 0
) -> PaymentIntent:
    """A payment intent; ``max_fee`` 0 (a sponsored charge) keeps budget arithmetic to the amount,
    tests of network fees pass a bound explicitly."""
    return PaymentIntent(
        challenge_id=f"ch-{n}",
        realm="grok.example",
        origin="https://grok.example",
        endpoint=endpoint,
        amount=amount,
        currency=CURRENCY,
        recipient=RECIPIENT,
        chain_id=CHAIN,
        request_digest="ab" * 32,
        model=model,
        estimate=amount - 10 if amount > 10 else amount,
        max_fee=max_fee,
    )


def tx(n: int) -> str:
    return "0x" + f"{n:064x}"


def record(
    i: PaymentIntent, tx_hash: str, *, valid_before: int = 2_000_000_000, fee: int | None = None
) -> PaymentRecord:
    return PaymentRecord(
        intent=i,
        tx_hash=tx_hash,
        receipt_reference=tx_hash,
        receipt={"method": "tempo", "reference": tx_hash, "status": "success", "timestamp": "2025-01-01T00:00:00Z"},
        payer=PAYER,
        sponsored=False,
        valid_before=valid_before,
        settled_at=0.0,
        fee=fee,
    )


@dataclass
class Clock:
    """A settable clock for rolling windows and valid_before checks."""

    now: float = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


def mined(tx_hash: str, status: str = "0x1", block: int = 7) -> dict[str, Any]:
    return {
        "transactionHash": tx_hash,
        "blockNumber": hex(block),
        "blockHash": "0x" + "cd" * 32,
        "status": status,
        "gasUsed": "0x5208",
        "effectiveGasPrice": "0x4a817c800",
        "logs": [{"data": "0x" + "00" * 32}],
    }


@dataclass
class RPCState:
    chain_id: int = CHAIN
    receipts: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail: bool = False
    calls: list[str] = field(default_factory=list)


class LoopbackRPC:
    """eth_chainId and eth_getTransactionReceipt over real HTTP on 127.0.0.1 (threaded)."""

    def __init__(self, state: RPCState | None = None) -> None:
        self.state = state or RPCState()
        state_ref = self.state

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                state_ref.calls.append(body["method"])
                if state_ref.fail:
                    self.send_response(503)
                    self.end_headers()
                    return
                if body["method"] == "eth_chainId":
                    answer: dict[str, Any] = {"result": hex(state_ref.chain_id)}
                elif body["method"] == "eth_getTransactionReceipt":
                    answer = {"result": state_ref.receipts.get(body["params"][0].lower())}
                else:
                    answer = {"error": {"code": -32601, "message": "method not found"}}
                raw = json.dumps({"jsonrpc": "2.0", "id": body["id"], **answer}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def __enter__(self) -> LoopbackRPC:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@dataclass
class BudgetRace:
    """What :func:`race_for_budget` saw: reservation ids, refused thread numbers, anything else raised."""

    ok: list[str] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    other: list[BaseException] = field(default_factory=list)

    def assert_paid(self, paid: int, threads: int = 64) -> None:
        """Exactly ``paid`` distinct reservations, every other thread refused, nothing else raised."""
        assert self.other == []
        assert len(self.ok) == paid and len(set(self.ok)) == paid
        assert len(self.refused) == threads - paid


def race_for_budget(reserve: Callable[[int, PaymentIntent], str], *, amount: int, threads: int = 64) -> BudgetRace:
    """``threads`` threads released at once by a barrier, each reserving ``amount`` once via
    ``reserve(n, intent)`` (``n`` lets a test spread threads over several ledger objects).

    The shared budget race of the SQLite tests and the PostgreSQL tier: the budget check and the
    insert must be one atomic step, or more than the budget gets reserved.
    """
    from grok_mpp.errors import BudgetExceededError

    barrier = threading.Barrier(threads)
    race = BudgetRace()

    def pay(n: int) -> None:
        barrier.wait()
        try:
            race.ok.append(reserve(n, intent(amount, n=n)))
        except BudgetExceededError:
            race.refused.append(n)
        except BaseException as exc:  # surfaced by assert_paid: anything else is a bug
            race.other.append(exc)

    workers = [threading.Thread(target=pay, args=(n,)) for n in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return race


#: The ledger worker script the multi-process tests start (``worker.py`` beside this module).
WORKER = Path(__file__).with_name("worker.py")
_REPO = Path(__file__).resolve().parents[3]


def run_released_workers(worker_args: list[list[str]], *, timeout: float = 120) -> list[dict[str, Any]]:
    """Start one ``worker.py`` process per argument list, wait until each says ``ready``, release them
    all at once (so they really race), and return each one's JSON result. Any survivor is killed;
    every worker must exit 0."""
    env = {**os.environ, "PYTHONPATH": str(_REPO)}
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        for args in worker_args
    ]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        results = [json.loads(p.communicate(timeout=timeout)[0]) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert [p.returncode for p in procs] == [0] * len(procs)
    return results
