"""Shared helpers for the local gateway tests: a settable clock and hand-built (bad) credentials.

Credentials are built with the Tempo primitives directly (not through the client's signer), so each
test can break exactly one rule and show the gateway refuses it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from grok_mpp.mpp.challenge import Challenge, parse_www_authenticate
from grok_mpp.mpp.charge import ChargeRequest
from grok_mpp.mpp.credential import did_pkh
from grok_mpp.mpp.encoding import encode_b64_json
from grok_mpp.tempo.memo import attribution_memo
from grok_mpp.tempo.tip20 import encode_transfer, encode_transfer_with_memo
from grok_mpp.tempo.transaction import EXPIRING_NONCE_KEY, Call, TempoTransaction
from grok_mpp.wallet import Wallet

GAS_PRICE = 20_000_000_000
GAS_LIMIT = 1_000_000
CHAT_BODY: dict[str, Any] = {"model": "grok-3-mini", "messages": [{"role": "user", "content": "what is 2+3"}]}


def chat_body(max_tokens: int | None = None, content: str = "what is 2+3") -> dict[str, Any]:
    body: dict[str, Any] = {"model": "grok-3-mini", "messages": [{"role": "user", "content": content}]}
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    return body


@dataclass
class FakeClock:
    """A clock the test moves by hand (shared by the gateway, its chain and the forged credentials)."""

    now: float = field(default_factory=lambda: float(int(time.time())))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def challenge_of(response: httpx.Response) -> Challenge:
    assert response.status_code == 402, response.text
    challenges = parse_www_authenticate(response.headers.get_list("www-authenticate"))
    assert len(challenges) == 1
    return challenges[0]


def forge(
    challenge: Challenge,
    wallet: Wallet,
    *,
    now: float,
    amount: int | None = None,
    recipient: str | None = None,
    token: str | None = None,
    chain_id: int | None = None,
    memo: bytes | None = None,
    plain_transfer: bool = False,
    valid_before: int | None = None,
    nonce_key: int = EXPIRING_NONCE_KEY,
    nonce: int = 0,
    fee_token: str | bool | None = True,
    sponsored: bool | None = None,
    envelope: bool | None = None,
    extra_calls: int = 0,
    source: str | bool | None = True,
    echo: dict[str, Any] | None = None,
    payload: dict[str, Any] | None = None,
    gas_limit: int = GAS_LIMIT,
    max_fee_per_gas: int = GAS_PRICE,
) -> str:
    """``Authorization`` value for ``challenge``; every keyword breaks (or keeps) one rule."""
    charge = ChargeRequest.from_dict(challenge.request_data)
    chain = charge.chain_id if chain_id is None else chain_id
    to = recipient or charge.recipient
    value = charge.amount if amount is None else amount
    currency = token or charge.currency
    memo = memo if memo is not None else attribution_memo(challenge.id, challenge.realm)
    data = encode_transfer(to, value) if plain_transfer else encode_transfer_with_memo(to, value, memo)
    calls = [Call(currency, data)] * (1 + extra_calls)
    is_sponsored = charge.fee_payer if sponsored is None else sponsored
    fee = (None if is_sponsored else charge.currency) if fee_token is True else fee_token or None
    tx = TempoTransaction(
        chain_id=chain,
        calls=tuple(calls),
        gas_limit=gas_limit,
        max_fee_per_gas=max_fee_per_gas,
        max_priority_fee_per_gas=max_fee_per_gas,
        nonce_key=nonce_key,
        nonce=nonce,
        valid_before=int(now) + 25 if valid_before is None else valid_before,
        fee_token=fee,
        sponsored=is_sponsored,
    )
    signed = tx.sign(wallet)
    use_envelope = is_sponsored if envelope is None else envelope
    wire = signed.fee_payer_envelope() if use_envelope else signed.raw()
    body: dict[str, Any] = {
        "challenge": echo if echo is not None else challenge.echo(),
        "payload": payload if payload is not None else {"type": "transaction", "signature": "0x" + wire.hex()},
    }
    if source is True:
        body["source"] = did_pkh(chain, wallet.address)
    elif source:
        body["source"] = source
    return "Payment " + encode_b64_json(body)
