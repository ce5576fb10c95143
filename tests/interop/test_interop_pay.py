"""grok-mpp's client pays the real reference servers on a real Tempo chain (happy paths).

Every assertion is about an effect a peer produced: the server's 200 and receipt, the chain's
receipt for our transaction hash, and TIP-20 balances read back from the chain.
"""

from __future__ import annotations

import httpx
import pytest

from grok_mpp.chains import PATHUSD
from grok_mpp.mpp.challenge import parse_www_authenticate
from grok_mpp.mpp.credential import parse_credential
from grok_mpp.payment.auth import PAYMENT_EXTENSION, MPPAuth
from grok_mpp.payment.hooks import PaymentRecord
from grok_mpp.payment.policy import PaymentPolicy
from grok_mpp.wallet import Wallet

from .support import AnvilChain, PeerServer, RequestLog

pytestmark = pytest.mark.peers

AMOUNT_USD = "0.01"
AMOUNT = 10_000


def moderato_policy() -> PaymentPolicy:
    return PaymentPolicy(
        chain_id=42431,
        allowed_currencies=frozenset({PATHUSD}),
        max_amount_per_call=100_000,
        allow_insecure_loopback=True,
        realm_must_match_host=False,
    )


def _assert_settled(chain: AnvilChain, record: PaymentRecord, payer: str) -> None:
    receipt = chain.receipt(record.tx_hash)
    assert receipt is not None, "the chain does not know our transaction hash"
    assert receipt["status"] == "0x1"
    assert receipt["from"].lower() == payer.lower()


def test_pays_reference_server(unsponsored_server: PeerServer, anvil: AnvilChain) -> None:
    server = unsponsored_server
    payer = anvil.new_account(1_000_000)
    wallet = Wallet.from_key(payer.key)
    log = RequestLog()
    recipient_before = anvil.balance(server.recipient)

    auth = MPPAuth(wallet=wallet, policy=moderato_policy(), rpc_url=anvil.url)
    with httpx.Client(auth=auth, event_hooks={"request": [log.hook]}, timeout=60) as client:
        response = client.post(server.url(amount=AMOUNT_USD), json={"prompt": "hi"})

    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True}
    record = response.extensions[PAYMENT_EXTENSION]
    assert isinstance(record, PaymentRecord)
    assert record.amount == AMOUNT
    assert not record.sponsored
    assert record.receipt_reference is not None
    assert record.receipt_reference.lower() == record.tx_hash.lower()
    assert record.payer.lower() == payer.address.lower()
    _assert_settled(anvil, record, payer.address)

    assert anvil.balance(server.recipient) - recipient_before == AMOUNT
    fee = payer.funded - AMOUNT - anvil.balance(payer.address)
    assert 0 < fee <= record.intent.max_fee  # the fee is real and within what we allowed
    assert len(log.credentials) == 1  # exactly one paid retry


async def test_async_client_pays_mppx(mppx_server: PeerServer, anvil: AnvilChain) -> None:
    payer = anvil.new_account(500_000)
    recipient_before = anvil.balance(mppx_server.recipient)
    auth = MPPAuth(wallet=Wallet.from_key(payer.key), policy=moderato_policy(), rpc_url=anvil.url)

    async with httpx.AsyncClient(auth=auth, timeout=60) as client:
        response = await client.post(mppx_server.url(amount=AMOUNT_USD), json={"n": 1})

    assert response.status_code == 200, response.text
    record = response.extensions[PAYMENT_EXTENSION]
    assert record.receipt_reference.lower() == record.tx_hash.lower()
    _assert_settled(anvil, record, payer.address)
    assert anvil.balance(mppx_server.recipient) - recipient_before == AMOUNT


def test_sponsored_payment_needs_only_the_amount(mppx_sponsored_server: PeerServer, anvil: AnvilChain) -> None:
    """With a fee payer the payer's whole balance can be the charged amount: the sponsor pays gas."""
    server = mppx_sponsored_server
    payer = anvil.new_account(AMOUNT)  # exactly the amount, nothing for fees
    recipient_before = anvil.balance(server.recipient)
    log = RequestLog()

    auth = MPPAuth(wallet=Wallet.from_key(payer.key), policy=moderato_policy(), rpc_url=anvil.url)
    with httpx.Client(auth=auth, event_hooks={"request": [log.hook]}, timeout=60) as client:
        response = client.post(server.url(amount=AMOUNT_USD), json={})

    assert response.status_code == 200, response.text
    record = response.extensions[PAYMENT_EXTENSION]
    assert record.sponsored
    assert record.intent.max_fee == 0
    assert anvil.balance(payer.address) == 0
    assert anvil.balance(server.recipient) - recipient_before == AMOUNT
    # the server co-signed and broadcast the final 0x76; its receipt names that transaction
    assert record.receipt_reference is not None
    settled = anvil.receipt(record.receipt_reference)
    assert settled is not None and settled["status"] == "0x1"
    assert settled["from"].lower() == payer.address.lower()
    # what we sent was the 0x78 fee-payer envelope
    (credential,) = log.credentials
    assert parse_credential(credential).payload["signature"].startswith("0x78")


def test_locus_shaped_challenge_on_mainnet_chain(locus_like_server: PeerServer, anvil_mainnet: AnvilChain) -> None:
    """Chain 4217 with the default policy (mainnet pin, realm must equal the host we called)."""
    server = locus_like_server
    chain = anvil_mainnet
    probe = httpx.post(server.url(amount=AMOUNT_USD), json={}, timeout=30)
    assert probe.status_code == 402
    (challenge,) = parse_www_authenticate(probe.headers.get_list("www-authenticate"))
    # the shape Locus sends: realm = host, description, ms expiry, no opaque, chainId 4217
    assert challenge.realm == "127.0.0.1"
    assert challenge.opaque is None
    assert challenge.description == "Locus MPP: grok/chat"
    assert challenge.request_data["methodDetails"] == {"chainId": 4217}
    assert challenge.expires is not None and challenge.expires.endswith("Z")

    payer = chain.new_account(200_000)
    recipient_before = chain.balance(server.recipient)
    auth = MPPAuth(wallet=Wallet.from_key(payer.key), policy=PaymentPolicy(), rpc_url=chain.url)
    with httpx.Client(auth=auth, timeout=60) as client:
        response = client.post(server.url(amount=AMOUNT_USD), json={})

    assert response.status_code == 200, response.text
    record = response.extensions[PAYMENT_EXTENSION]
    assert record.intent.chain_id == 4217
    assert record.receipt_reference.lower() == record.tx_hash.lower()
    _assert_settled(chain, record, payer.address)
    assert chain.balance(server.recipient) - recipient_before == AMOUNT
