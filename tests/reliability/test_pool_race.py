"""64 threads sharing one GrokClient on loopback: no paid call loses its answer (issue 12).

httpcore's pool can close a connection it already assigned to a waiting request
(https://github.com/encode/httpcore/issues/1110): with httpx's default limits (100 connections,
20 keep-alive) 4-10 of 7,680 calls died with ``ReadError: [Errno 9] Bad file descriptor``, about
half of them after the gateway had settled (paid, no answer). ``GrokClient`` now configures its
pool so that path is never taken (see ``grok_mpp.gateway.client._pool_limits``).

Bounded: 64 threads x 80 calls = 5,120 paid calls against a local gateway of its own, counted at
the gateway (settlements) and at the caller (answers). Marked ``load`` so it can be deselected;
the fast tier (``-m "not peers and not postgres"``) runs it.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from grok_mpp import GrokClient
from grok_mpp.local import LocalGateway
from grok_mpp.payment.hooks import InMemoryBudget

THREADS = 64
CALLS_PER_THREAD = 80

pytestmark = pytest.mark.load


def test_sixty_four_threads_one_client_no_paid_call_without_answer() -> None:
    with LocalGateway() as gw:
        wallet = gw.new_funded_wallet(usd="200")
        errors: list[str] = []
        answered: list[str] = []
        lock = threading.Lock()
        with GrokClient(wallet=wallet, base_url=gw.url, rpc_url=gw.rpc_url, guard=InMemoryBudget()) as client:

            def worker(i: int) -> None:
                for j in range(CALLS_PER_THREAD):
                    try:  # distinct questions: each call is its own logical request
                        result = client.chat(messages=[{"role": "user", "content": f"t{i} q{j}"}], max_tokens=8)
                    except Exception as exc:  # every failure is counted and shown
                        with lock:
                            errors.append(repr(exc)[:200])
                    else:
                        with lock:
                            answered.append(str(result.cost.tx_hash))

            started = time.monotonic()
            with ThreadPoolExecutor(THREADS) as pool:
                list(pool.map(worker, range(THREADS)))
            elapsed = time.monotonic() - started
        settled = {p.tx_hash for p in gw.payments if p.payer.lower() == wallet.address.lower()}
    total = THREADS * CALLS_PER_THREAD
    print(f"{total} paid calls from {THREADS} threads in {elapsed:.1f} s; errors: {len(errors)}")
    paid_without_answer = settled - set(answered)
    assert not paid_without_answer, f"{len(paid_without_answer)} settled payments without an answer: {errors[:3]}"
    assert errors == [] and len(answered) == len(settled) == total


