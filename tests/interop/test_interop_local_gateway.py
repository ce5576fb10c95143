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
    amounts = sum(c.amount for c in paid)
    assert chain.balance(recipient) == amounts
    spent = payer.funded - chain.balance(payer.address)
    # paid = amount + the fee read from the real chain's receipt: exactly what left the wallet
    assert all(c.fee and c.fee_exact for c in paid)
    assert spent == sum(c.paid for c in paid) == amounts + sum(c.fee for c in paid)


def test_five_fresh_clients_are_accepted_when_settling_on_anvil(anvil_mainnet: AnvilChain) -> None:
    """Each fresh client reads the gas price once and signs with viem's 1.2x headroom; the gateway
    leaves the fee cap to the node (as mppx and pympp do), so none of the five is refused."""
    from grok_mpp.payment.policy import PaymentPolicy
    from grok_mpp.payment.signer import fee_cap_per_gas

    chain = anvil_mainnet
    recipient = chain.new_address()
    node_price = int(chain.rpc("eth_gasPrice", []), 16)
    with LocalGateway(chain_id=4217, currency=PATHUSD, recipient=recipient, settle=chain.url) as gateway:
        for _ in range(5):
            payer = chain.new_account(200_000)
            with GrokClient(
                wallet=Wallet.from_key(payer.key),
                base_url=gateway.url,
                rpc_url=chain.url,
                ledger="off",
                # anvil's eth_gasPrice can exceed the default 100 gwei cap; this test is about the fee cap
                policy=PaymentPolicy(max_fee_per_gas=10**13, allow_insecure_loopback=True),
            ) as client:
                result = client.chat(messages=[{"role": "user", "content": "What is 6*7?"}], max_tokens=40)
            assert result.cost.paid and chain.receipt(result.cost.tx_hash)["status"] == "0x1"
        assert gateway.stats["rejected"] == 0 and len(gateway.payments) == 5
    assert chain.balance(recipient) == sum(p.amount for p in gateway.payments)
    assert fee_cap_per_gas(node_price) >= node_price * 6 // 5 > node_price
