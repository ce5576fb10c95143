"""LocalChain settlement rules, the JSON-RPC emulation at /rpc, and RemoteChain settlement.

RemoteChain is exercised against a second gateway's /rpc (a real JSON-RPC peer over loopback), both
self-paid and sponsored (the settling gateway co-signs as fee payer; the node recovers and charges it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from grok_mpp.chains import PATHUSD, USDCE
from grok_mpp.errors import ConfigurationError, PaymentRejectedError
from grok_mpp.local import InsufficientBalanceError, LocalChain, LocalGateway
from grok_mpp.local.chain import GAS_USED, ChainError, cosign_as_fee_payer, fee_for
from grok_mpp.payment.auth import PAYMENT_EXTENSION, MPPAuth
from grok_mpp.payment.policy import PaymentPolicy
from grok_mpp.tempo.memo import attribution_memo
from grok_mpp.tempo.rpc import balance_of_body
from grok_mpp.tempo.tip20 import TRANSFER_TOPIC, TRANSFER_WITH_MEMO_TOPIC, encode_transfer, encode_transfer_with_memo
from grok_mpp.tempo.transaction import Call, SignedTempoTransaction, build_charge_transaction
from grok_mpp.wallet import Wallet

from .gw_support import GAS_PRICE, chat_body

FEE = fee_for(GAS_USED, GAS_PRICE)


def _transfer(
    wallet: Wallet,
    to: str,
    amount: int,
    *,
    token: str = USDCE,
    chain_id: int = 4217,
    memo: bool = True,
    sponsored: bool = False,
    valid_in: int = 20,
) -> SignedTempoTransaction:
    data = encode_transfer_with_memo(to, amount, attribution_memo("c", "r")) if memo else encode_transfer(to, amount)
    tx = build_charge_transaction(
        chain_id=chain_id,
        calls=[Call(token, data)],
        fee_token=token,
        sponsored=sponsored,
        gas_limit=1_000_000,
        max_fee_per_gas=GAS_PRICE,
        valid_before=int(time.time()) + valid_in,
    )
    return tx.sign(wallet)


def _rpc(url: str, method: str, *params: Any) -> dict[str, Any]:
    answer = httpx.post(url, json={"jsonrpc": "2.0", "id": 7, "method": method, "params": list(params)}).json()
    assert answer["id"] == 7
    return answer


@pytest.fixture(scope="module")
def node() -> Iterator[LocalGateway]:
    with LocalGateway() as gateway:
        yield gateway


# --- LocalChain ---------------------------------------------------------------------------------


def test_local_chain_executes_atomically_and_keeps_receipts() -> None:
    chain = LocalChain(4217, [USDCE, PATHUSD])
    payer, to = Wallet.create(), Wallet.create().address
    chain.fund(payer.address, 10_000)
    signed = _transfer(payer, to, 4_000)
    receipt = chain.submit(signed)
    assert receipt["transactionHash"] == signed.tx_hash() and receipt["status"] == "0x1"
    assert receipt["feePayer"] == payer.address.lower() and receipt["feeToken"] == USDCE
    topics = [log["topics"][0] for log in receipt["logs"]]
    assert topics == [TRANSFER_TOPIC, TRANSFER_WITH_MEMO_TOPIC]
    assert int(receipt["logs"][0]["data"], 16) == 4_000
    assert chain.balance(payer.address) == 10_000 - 4_000 - FEE and chain.balance(to) == 4_000
    assert chain.receipt(signed.tx_hash()) == receipt
    with pytest.raises(ChainError, match="already known"):
        chain.submit(signed)
    assert chain.balance(payer.address) == 10_000 - 4_000 - FEE


def test_local_chain_refuses_without_moving_anything() -> None:
    chain = LocalChain(4217, [USDCE, PATHUSD])
    payer, to = Wallet.create(), Wallet.create().address
    chain.fund(payer.address, 4_000 + FEE - 1)
    with pytest.raises(InsufficientBalanceError, match="insufficient balance"):
        chain.submit(_transfer(payer, to, 4_000))
    with pytest.raises(ChainError, match="chain id"):
        chain.submit(_transfer(payer, to, 1, chain_id=42431))
    with pytest.raises(ChainError, match="valid_before"):
        chain.submit(_transfer(payer, to, 1, valid_in=2))
    with pytest.raises(ChainError, match="sponsored"):
        chain.submit(_transfer(payer, to, 1, sponsored=True))  # no fee payer signature yet
    assert chain.balance(payer.address) == 4_000 + FEE - 1 and chain.balance(to) == 0
    assert chain.block_number == 1


def test_local_chain_charges_the_fee_payer_of_a_cosigned_transaction() -> None:
    chain = LocalChain(4217, [USDCE])
    payer, sponsor, to = Wallet.create(), Wallet.create(), Wallet.create().address
    chain.fund(payer.address, 4_000)
    chain.fund(sponsor.address, FEE)
    cosigned = cosign_as_fee_payer(_transfer(payer, to, 4_000, sponsored=True), sponsor, USDCE)
    receipt = chain.submit(cosigned)
    assert receipt["feePayer"] == sponsor.address.lower()
    assert chain.balance(payer.address) == 0 and chain.balance(sponsor.address) == 0 and chain.balance(to) == 4_000


# --- JSON-RPC -----------------------------------------------------------------------------------


def test_rpc_read_methods(node: LocalGateway) -> None:
    url = node.rpc_url
    assert _rpc(url, "eth_chainId")["result"] == hex(4217)
    assert _rpc(url, "eth_gasPrice")["result"] == hex(GAS_PRICE)
    assert int(_rpc(url, "eth_blockNumber")["result"], 16) >= 1
    assert int(_rpc(url, "eth_estimateGas", {})["result"], 16) == GAS_USED
    assert _rpc(url, "eth_getTransactionReceipt", "0x" + "ab" * 32)["result"] is None
    who = Wallet.create().address
    node.fund(who, 1234)
    balance = httpx.post(url, json=balance_of_body(USDCE, who)).json()["result"]
    assert int(balance, 16) == 1234
    assert _rpc(url, "eth_call", {"to": "0x" + "11" * 20, "data": "0x70a08231"})["error"]["code"] == -32000
    assert _rpc(url, "eth_nope")["error"]["code"] == -32601
    batch = httpx.post(url, json=[{"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, {"id": 2}]).json()
    assert batch[0]["result"] == hex(4217) and batch[1]["error"]["code"] == -32600
    assert httpx.post(url, content=b"{oops").json()["error"]["code"] == -32700


def test_rpc_local_fund_and_send_raw_transaction_sync(node: LocalGateway) -> None:
    payer, to = Wallet.create(), Wallet.create().address
    funded = _rpc(node.rpc_url, "local_fund", payer.address, 50_000)
    assert int(funded["result"], 16) == 50_000 == node.balance(payer.address)
    signed = _transfer(payer, to, 10_000, memo=False)  # a plain TIP-20 transfer is fine on chain
    answer = _rpc(node.rpc_url, "eth_sendRawTransactionSync", "0x" + signed.raw().hex())
    assert answer["result"]["transactionHash"] == signed.tx_hash() and answer["result"]["status"] == "0x1"
    assert node.balance(to) == 10_000 and node.balance(payer.address) == 40_000 - FEE
    receipt = _rpc(node.rpc_url, "eth_getTransactionReceipt", signed.tx_hash())["result"]
    assert receipt["status"] == "0x1" and receipt["blockNumber"] == answer["result"]["blockNumber"]
    replay = _rpc(node.rpc_url, "eth_sendRawTransactionSync", "0x" + signed.raw().hex())
    assert "already known" in replay["error"]["message"]
    broke = _rpc(node.rpc_url, "eth_sendRawTransactionSync", "0x" + _transfer(payer, to, 10**9).raw().hex())
    assert "insufficient balance" in broke["error"]["message"] and node.balance(to) == 10_000
    envelope = _rpc(node.rpc_url, "eth_sendRawTransaction", "0x" + signed.fee_payer_envelope().hex())
    assert "0x76" in envelope["error"]["message"]


# --- RemoteChain ----------------------------------------------------------------------------------


@pytest.mark.parametrize("sponsored", [False, True], ids=["self-paid", "sponsored"])
def test_gateway_settles_on_a_remote_node(node: LocalGateway, sponsored: bool) -> None:
    sponsor = Wallet.create()
    node.fund(sponsor.address, 1_000_000)
    with LocalGateway(settle=node.rpc_url, fee_payer=sponsored, fee_payer_wallet=sponsor) as gw:
        assert gw.rpc_url == node.rpc_url and "settle=rpc" in repr(gw)
        wallet = Wallet.create()
        node.fund(wallet.address, 1_000_000)
        auth = MPPAuth(wallet, PaymentPolicy(chain_id=4217), rpc_url=gw.rpc_url)
        with httpx.Client(auth=auth, timeout=10) as client:
            response = client.post(gw.url + "/grok/chat", json=chat_body())
        assert response.status_code == 200, response.text
        record = response.extensions[PAYMENT_EXTENSION]
        settled = gw.payments[0]
        receipt = _rpc(node.rpc_url, "eth_getTransactionReceipt", settled.reference)["result"]
        assert receipt["status"] == "0x1"
        assert gw.balance(wallet.address) == node.balance(wallet.address)  # read through eth_call
        if sponsored:
            assert receipt["feePayer"] == sponsor.address.lower()
            assert node.balance(wallet.address) == 1_000_000 - record.amount
            assert node.balance(sponsor.address) == 1_000_000 - FEE
        else:
            assert settled.reference == record.tx_hash
            assert node.balance(wallet.address) == 1_000_000 - record.amount - FEE
        assert node.balance(gw.recipient) == record.amount


def test_remote_settlement_refusal_is_a_402_and_moves_nothing(node: LocalGateway) -> None:
    with LocalGateway(settle=node.rpc_url) as gw:
        wallet = Wallet.create()  # never funded on the node
        auth = MPPAuth(wallet, PaymentPolicy(chain_id=4217))
        with httpx.Client(auth=auth, timeout=10) as client, pytest.raises(PaymentRejectedError) as info:
            client.post(gw.url + "/grok/chat", json=chat_body())
        assert info.value.status_code == 402
        assert "insufficient balance" in (info.value.problem.detail or "")
        assert gw.payments == [] and node.balance(gw.recipient) == 0


def test_remote_chain_id_mismatch_refuses_to_start(node: LocalGateway) -> None:
    gw = LocalGateway(settle=node.rpc_url, chain_id=42431)
    with pytest.raises(ConfigurationError, match="chain 4217"):
        gw.start()
