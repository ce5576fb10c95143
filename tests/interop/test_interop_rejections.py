"""Credentials the real servers must reject, and how grok-mpp's client behaves when they do.

* a replayed credential is rejected and the client does not pay a second time;
* a plain ``transfer`` without the challenge-bound memo is rejected and no money moves;
* a payer who cannot cover the charge gets a clear, non-retryable error and no second payment.
"""

from __future__ import annotations

import time

import httpx
import pytest

from grok_mpp.chains import PATHUSD
from grok_mpp.errors import GrokMPPError, InsufficientFundsError, PaymentRejectedError
from grok_mpp.mpp.challenge import parse_www_authenticate
from grok_mpp.mpp.credential import build_credential, did_pkh
from grok_mpp.payment.auth import PAYMENT_EXTENSION, MPPAuth
from grok_mpp.payment.policy import PaymentPolicy
from grok_mpp.tempo.tip20 import encode_transfer
from grok_mpp.tempo.transaction import Call, build_charge_transaction
from grok_mpp.wallet import Wallet

from .support import AnvilChain, PeerServer, RequestLog

pytestmark = pytest.mark.peers

AMOUNT_USD = "0.01"
AMOUNT = 10_000
REJECTED = {"pympp": 403, "mppx": 402}  # pympp answers terminal failures with 403, mppx with 402


def _policy() -> PaymentPolicy:
    return PaymentPolicy(
        chain_id=42431,
        allowed_currencies=frozenset({PATHUSD}),
        max_amount_per_call=100_000,
        allow_insecure_loopback=True,
        realm_must_match_host=False,
    )


def test_replayed_credential_rejected_and_not_paid_again(unsponsored_server: PeerServer, anvil: AnvilChain) -> None:
    server = unsponsored_server
    payer = anvil.new_account(1_000_000)
    wallet = Wallet.from_key(payer.key)
    url, body = server.url(amount=AMOUNT_USD), {"q": "replay"}

    first_log = RequestLog()
    auth = MPPAuth(wallet, _policy(), rpc_url=anvil.url)
    with httpx.Client(auth=auth, event_hooks={"request": [first_log.hook]}, timeout=60) as client:
        first = client.post(url, json=body)
    assert first.status_code == 200, first.text
    (used,) = first_log.credentials
    balance_after_first = anvil.balance(payer.address)
    recipient_after_first = anvil.balance(server.recipient)

    # 1. a raw replay of the spent credential
    replay = httpx.post(url, json=body, headers={"Authorization": used}, timeout=60)
    assert replay.status_code == REJECTED[server.name], replay.text
    assert "payment-receipt" not in replay.headers

    # 2. our client's paid retry carries the spent credential (swapped in on the wire): the server
    #    rejects it and the client raises instead of signing and sending another payment
    second_log = RequestLog()
    second_log.swap_credential = used
    auth = MPPAuth(wallet, _policy(), rpc_url=anvil.url)
    with httpx.Client(auth=auth, event_hooks={"request": [second_log.hook]}, timeout=60) as client:
        with pytest.raises(PaymentRejectedError) as caught:
            client.post(url, json=body)
    error = caught.value
    assert error.status_code == REJECTED[server.name]
    assert error.retryable is False
    assert len(second_log.to(server.base_url)) == 2  # the unpaid request and ONE paid retry
    assert len(second_log.credentials) == 1

    anvil.wait_blocks(2)
    assert anvil.balance(payer.address) == balance_after_first
    assert anvil.balance(server.recipient) == recipient_after_first
    assert error.tx_hash is not None
    assert anvil.receipt(error.tx_hash) is None  # the never-delivered transaction did not land


def test_transfer_without_memo_rejected_and_nothing_moves(unsponsored_server: PeerServer, anvil: AnvilChain) -> None:
    """A valid 0x76 paying the right amount, but with plain ``transfer`` (no attribution memo)."""
    server = unsponsored_server
    payer = anvil.new_account(500_000)
    wallet = Wallet.from_key(payer.key)
    url, body = server.url(amount=AMOUNT_USD), {"q": "memo"}
    recipient_before = anvil.balance(server.recipient)

    unpaid = httpx.post(url, json=body, timeout=30)
    assert unpaid.status_code == 402
    (challenge,) = parse_www_authenticate(unpaid.headers.get_list("www-authenticate"))
    recipient = challenge.request_data["recipient"]
    assert int(challenge.request_data["amount"]) == AMOUNT

    tx = build_charge_transaction(
        chain_id=42431,
        calls=[Call(PATHUSD, encode_transfer(recipient, AMOUNT))],
        fee_token=PATHUSD,
        sponsored=False,
        gas_limit=1_000_000,
        max_fee_per_gas=int(anvil.rpc("eth_gasPrice", []), 16),
        valid_before=int(time.time()) + 25,
    )
    signed = tx.sign(wallet)
    credential = build_credential(
        challenge,
        {"type": "transaction", "signature": "0x" + signed.raw().hex()},
        source=did_pkh(42431, wallet.address),
    )
    answer = httpx.post(url, json=body, headers={"Authorization": credential}, timeout=60)

    assert answer.status_code == REJECTED[server.name], answer.text
    assert "memo" in answer.text.lower()
    assert "payment-receipt" not in answer.headers
    anvil.wait_blocks(2)
    assert anvil.receipt(signed.tx_hash()) is None  # both servers reject before broadcasting
    assert anvil.balance(payer.address) == payer.funded
    assert anvil.balance(server.recipient) == recipient_before


@pytest.mark.parametrize("funded", [0, AMOUNT // 2], ids=["empty", "half"])
def test_insufficient_balance_fails_once_and_final(
    unsponsored_server: PeerServer, anvil: AnvilChain, funded: int
) -> None:
    """The server cannot settle; the client must end with a final error after ONE credential.

    What the peers answer here (so what the client can know): pympp 0.16 raises a 500
    ``internal-payment-error`` (its broadcast failed with "insufficient fee token balance", a
    detail it deliberately hides), mppx 0.11 answers 402 "no matching transfer found" (its
    pre-broadcast simulation failed). Neither says "insufficient balance".

    With half the amount the transaction still lands and REVERTS: the recipient gets nothing but
    the payer loses the network fee (observed on both servers). Only a client-side balance check
    before signing can avoid that (see the xfail test below).
    """
    server = unsponsored_server
    payer = anvil.new_account(funded)
    log = RequestLog()
    recipient_before = anvil.balance(server.recipient)
    auth = MPPAuth(Wallet.from_key(payer.key), _policy(), rpc_url=anvil.url)

    with httpx.Client(auth=auth, event_hooks={"request": [log.hook]}, timeout=60) as client:
        with pytest.raises(GrokMPPError) as caught:
            response = client.post(server.url(amount=AMOUNT_USD), json={"q": "poor"})
            pytest.fail(f"expected an error, got {response.status_code} {response.extensions.get(PAYMENT_EXTENSION)}")
    error = caught.value

    assert error.retryable is False
    assert len(log.credentials) <= 1  # never paid twice
    assert len(log.to(server.base_url)) <= 2
    anvil.wait_blocks(2)
    assert anvil.balance(server.recipient) == recipient_before  # the charge never moved
    lost = funded - anvil.balance(payer.address)
    tx_hash = getattr(error, "tx_hash", None)
    landed = anvil.receipt(tx_hash) if tx_hash else None
    if funded == 0:
        assert lost == 0 and landed is None  # cannot even pay the fee: rejected by the node
    elif landed is not None:
        assert landed["status"] == "0x0"  # mined but reverted: only the fee was spent
        assert 0 < lost < AMOUNT
    else:
        assert lost == 0


def test_insufficient_balance_refused_before_signing(mppx_server: PeerServer, anvil: AnvilChain) -> None:
    """Desired: balanceOf(currency) < amount + max fee -> InsufficientFundsError, nothing sent."""
    payer = anvil.new_account(AMOUNT // 2)
    log = RequestLog()
    auth = MPPAuth(Wallet.from_key(payer.key), _policy(), rpc_url=anvil.url)
    with httpx.Client(auth=auth, event_hooks={"request": [log.hook]}, timeout=60) as client:
        with pytest.raises(InsufficientFundsError) as caught:
            client.post(mppx_server.url(amount=AMOUNT_USD), json={"q": "poor"})
    assert caught.value.retryable is False
    assert log.credentials == []
    assert anvil.balance(payer.address) == AMOUNT // 2
