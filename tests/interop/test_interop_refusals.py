"""Challenges the policy must refuse before anything is signed, issued by the real servers.

Each test wraps the wallet in a signature counter and logs every request on the wire, so "refused
before signing" means: zero signatures, no credential sent, no balance moved.
"""

from __future__ import annotations

import httpx
import pytest

from grok_mpp.chains import PATHUSD
from grok_mpp.errors import AmountOverCapError, PaymentRefusedError, PolicyViolationError
from grok_mpp.payment.auth import MPPAuth
from grok_mpp.payment.policy import PaymentPolicy
from grok_mpp.wallet import Wallet

from .support import ALPHAUSD, AnvilChain, CountingSigner, PeerServer, RequestLog

pytestmark = pytest.mark.peers


def _policy(**overrides: object) -> PaymentPolicy:
    base: dict[str, object] = {
        "chain_id": 42431,
        "allowed_currencies": frozenset({PATHUSD}),
        "max_amount_per_call": 100_000,
        "allow_insecure_loopback": True,
        "realm_must_match_host": False,
    }
    base.update(overrides)
    return PaymentPolicy(**base)  # type: ignore[arg-type]


def _attempt(
    server: PeerServer, chain: AnvilChain, policy: PaymentPolicy, **query: object
) -> tuple[PaymentRefusedError, CountingSigner, RequestLog]:
    payer = chain.new_account(200_000)
    signer = CountingSigner(Wallet.from_key(payer.key))
    log = RequestLog()
    recipient_before = chain.balance(server.recipient)
    auth = MPPAuth(signer, policy, rpc_url=chain.url)  # type: ignore[arg-type]
    with httpx.Client(auth=auth, event_hooks={"request": [log.hook]}, timeout=30) as client:
        with pytest.raises(PaymentRefusedError) as caught:
            client.post(server.url(**query), json={"q": 1})
    assert signer.signatures == 0, "a refused challenge must not be signed"
    assert log.credentials == [], "no credential may leave the client"
    assert len(log.sent) == 1  # only the unpaid first request
    assert chain.balance(payer.address) == payer.funded
    assert chain.balance(server.recipient) == recipient_before
    assert not caught.value.paid
    return caught.value, signer, log


def test_soon_expiring_challenge_refused(unsponsored_server: PeerServer, anvil: AnvilChain) -> None:
    error, _, _ = _attempt(unsponsored_server, anvil, _policy(), amount="0.01", expires_in=3)
    assert isinstance(error, PolicyViolationError)
    assert error.rule == "expiry"


def test_already_expired_challenge_refused(mppx_server: PeerServer, anvil: AnvilChain) -> None:
    error, _, _ = _attempt(mppx_server, anvil, _policy(expiry_margin_seconds=0.0), amount="0.01", expires_in=-30)
    assert isinstance(error, PolicyViolationError)
    assert error.rule == "expiry"


def test_wrong_chain_refused(unsponsored_server: PeerServer, anvil: AnvilChain) -> None:
    """Client pinned to mainnet 4217, server charging on 42431."""
    error, _, _ = _attempt(unsponsored_server, anvil, _policy(chain_id=4217), amount="0.01")
    assert isinstance(error, PolicyViolationError)
    assert error.rule == "chain"
    assert "42431" in str(error) and "4217" in str(error)


def test_unlisted_currency_refused(mppx_server: PeerServer, anvil: AnvilChain) -> None:
    """The server asks for AlphaUSD; the client only accepts pathUSD."""
    error, _, _ = _attempt(mppx_server, anvil, _policy(), amount="0.01", currency=ALPHAUSD)
    assert isinstance(error, PolicyViolationError)
    assert error.rule == "currency"


def test_amount_over_cap_refused(unsponsored_server: PeerServer, anvil: AnvilChain) -> None:
    error, _, _ = _attempt(unsponsored_server, anvil, _policy(max_amount_per_call=50_000), amount="0.06")
    assert isinstance(error, AmountOverCapError)
    assert error.context["amount"] == 60_000
