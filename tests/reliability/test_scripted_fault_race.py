"""A scripted fault hits exactly the call that consumed it, even when identical calls race.

The local gateway used to decide a scripted fault from ``Script.peek`` (the queue head, before
settlement) and consume the answer with ``Script.take`` (after settlement). Two identical calls in
flight together both peeked the one queued ``drop-connection-after-payment``: both connections were
dropped, both payers got ``PaymentOutcomeUnknownError``, yet the gateway recorded the second payment
as answered by the synthetic model (seen with ``ChatGrokMPP.batch`` of one prompt x16 and 8 queued
faults: 16 payments, 0 answers). Users count faults and answers with ``grok_spend`` in their own
tests, so the record must match what happened on the wire.

Deterministic: settlement waits on a barrier, so both calls are between peek and take together.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from grok_mpp import GrokClient
from grok_mpp.errors import PaymentOutcomeUnknownError
from grok_mpp.local.script import fault

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


@pytest.mark.grok_gateway(fallback="synthetic")
def test_one_queued_fault_drops_one_of_two_racing_identical_calls(
    grok_env: Any, grok_script: Any, grok_spend: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    grok_script.queue("chat", fault("drop-connection-after-payment"))
    chain = grok_env.local_chain
    settle = chain.settle
    barrier = threading.Barrier(2, timeout=10)

    def settle_together(*args: Any, **kwargs: Any) -> Any:
        barrier.wait()
        return settle(*args, **kwargs)

    monkeypatch.setattr(chain, "settle", settle_together)
    client = GrokClient()

    def call(_: int) -> str:
        try:
            return client.chat(messages=[{"role": "user", "content": "same"}], model="grok-3-mini", max_tokens=32).text
        except PaymentOutcomeUnknownError as exc:
            return f"dropped {exc.tx_hash}"

    try:
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(call, range(2)))
    finally:
        client.close()

    dropped = [r for r in results if r.startswith("dropped")]
    assert len(dropped) == 1, results
    grok_spend.assert_payments(2)
    labels = sorted((p.scripted or "synthetic", p.fault or "-") for p in grok_spend.payments)
    assert labels == [("fault:drop-connection-after-payment", "drop-connection-after-payment"), ("synthetic", "-")]
    faulted = next(p for p in grok_spend.payments if p.fault)
    assert dropped[0] == f"dropped {faulted.tx_hash}"
    grok_script.assert_exhausted()
