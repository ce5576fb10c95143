"""A paid answer is never lost to the fee lookup.

After a 2xx the client asks the chain for the receipt to learn the exact network fee. If that
RPC call fails at the transport level (connection refused, timeout), the answer that was paid for
must still be returned and the ledger row settled with the fee unknown (worst-case bound kept,
reconcile fills it). Before, the transport error escaped the driver: the answer was dropped, the
row stayed 'sent', and a retry signed a second payment.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from grok_mpp import AsyncGrokClient, GrokClient
from grok_mpp.ledger import open_ledger


def _dead_rpc_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/rpc"  # nothing listens there any more


MSG = [{"role": "user", "content": "What is 2+3?"}]


def test_sync_answer_survives_a_dead_rpc_at_the_fee_lookup(gateway_env: Any, tmp_path: Path) -> None:
    db = str(tmp_path / "ledger.sqlite3")
    with GrokClient(ledger=db) as grok:
        grok.chat(messages=MSG, max_tokens=8)  # warms the gas price, gas estimate and balance caches
        grok.auth.rpc_url = _dead_rpc_url()
        settled_before = len(gateway_env.payments)
        result = grok.chat(messages=[{"role": "user", "content": "And 3+4?"}], max_tokens=8)
    assert result.text and result.cost.tx_hash
    assert result.cost.amount and not result.cost.fee_exact  # fee unknown, bound reported
    assert len(gateway_env.payments) == settled_before + 1
    row = next(r for r in open_ledger(db).rows() if r.tx_hash == result.cost.tx_hash)
    assert row.state == "settled"


async def test_async_answer_survives_a_dead_rpc_at_the_fee_lookup(gateway_env: Any, tmp_path: Path) -> None:
    db = str(tmp_path / "ledger.sqlite3")
    async with AsyncGrokClient(ledger=db) as grok:
        await grok.chat(messages=MSG, max_tokens=8)
        grok.auth.rpc_url = _dead_rpc_url()
        result = await grok.chat(messages=[{"role": "user", "content": "And 5+6?"}], max_tokens=8)
    assert result.text and result.cost.tx_hash and not result.cost.fee_exact
    row = next(r for r in open_ledger(db).rows() if r.tx_hash == result.cost.tx_hash)
    assert row.state == "settled"
