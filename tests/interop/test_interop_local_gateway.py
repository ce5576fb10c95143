"""The local gateway settling on a REAL Tempo node (anvil) instead of its in-process ledger.

Proves the emulator's own verification and broadcast path produces transactions a Tempo node
executes, with the typed client paying it exactly as it would pay Locus (chain 4217 shape, pathUSD
since anvil has no USDC.e).
"""

from __future__ import annotations

from typing import Any

import pytest

from grok_mpp import GrokClient
from grok_mpp.chains import PATHUSD
from grok_mpp.local import LocalGateway
from grok_mpp.wallet import Wallet

from .support import AnvilChain

pytestmark = pytest.mark.peers


def test_client_pays_local_gateway_settling_on_anvil(anvil_mainnet: AnvilChain) -> None:
    chain = anvil_mainnet
    payer = chain.new_account(500_000)
    recipient = chain.new_address()
    with LocalGateway(chain_id=4217, currency=PATHUSD, recipient=recipient, settle=chain.url) as gateway:
        with GrokClient(
            wallet=Wallet.from_key(payer.key), base_url=gateway.url, rpc_url=chain.url, ledger="off"
        ) as client:
            first = client.chat(messages=[{"role": "user", "content": "What is 6*7?"}], max_tokens=40)
            second = client.web_search(messages=[{"role": "user", "content": "tempo"}], max_tokens=40)
    paid: list[Any] = [first.cost, second.cost]
    assert "42" in first.text and second.citations
    for cost in paid:
        receipt = chain.receipt(cost.tx_hash)
        assert receipt is not None and receipt["status"] == "0x1"
    total = sum(c.paid for c in paid)
    assert chain.balance(recipient) == total
    spent = payer.funded - chain.balance(payer.address)
    assert total < spent < total + 2 * 10_000  # amounts plus two real network fees
