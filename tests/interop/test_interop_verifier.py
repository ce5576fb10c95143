"""pympp 0.16's own verifier (``Mpp.validate_credential``) judges credentials built by grok-mpp.

Runs fully offline: the verifier process has a dead RPC URL, so what is checked is exactly the
reference implementation's decoding of our challenge echo, 0x76 transaction, signature, amount,
recipient, currency and challenge-bound memo. Each tampered variant must be rejected.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from grok_mpp.chains import PATHUSD
from grok_mpp.mpp.challenge import Challenge, parse_www_authenticate
from grok_mpp.mpp.credential import parse_credential
from grok_mpp.mpp.encoding import decode_b64_json, encode_b64_json
from grok_mpp.payment.policy import PaymentPolicy, evaluate
from grok_mpp.payment.signer import sign_payment
from grok_mpp.tempo.memo import attribution_memo
from grok_mpp.wallet import Wallet

from .support import PymppValidator

pytestmark = pytest.mark.peers

AMOUNT = 6_000
GAS_PRICE = 20_000_000_000


def _policy() -> PaymentPolicy:
    return PaymentPolicy(
        chain_id=42431,
        allowed_currencies=frozenset({PATHUSD}),
        max_amount_per_call=100_000,
        realm_must_match_host=False,
    )


def _challenge(validator: PymppValidator, amount: str = "0.006") -> Challenge:
    answer = validator.call({"op": "challenge", "amount": amount, "url": "http://127.0.0.1/paid"})
    assert answer["status"] == 402, answer
    (challenge,) = parse_www_authenticate(answer["www_authenticate"])
    return challenge


def _sign(challenge: Challenge, wallet: Wallet, **evaluate_changes: Any) -> str:
    approved = evaluate(challenge, _policy(), host="127.0.0.1", now=time.time())
    if evaluate_changes:
        approved = replace(approved, **evaluate_changes)
    return sign_payment(approved, wallet, gas_price=GAS_PRICE, gas_limit=1_000_000).credential


def _reencode(credential: str, change: Callable[[dict[str, Any]], None]) -> str:
    parsed = parse_credential(credential)
    body: dict[str, Any] = {"challenge": dict(parsed.challenge), "payload": dict(parsed.payload)}
    if parsed.source is not None:
        body["source"] = parsed.source
    change(body)
    return "Payment " + encode_b64_json(body)


def test_reference_verifier_accepts_our_credential(pympp_validator: PymppValidator) -> None:
    wallet = Wallet.create()
    challenge = _challenge(pympp_validator)
    assert challenge.opaque is not None  # pympp's per-challenge nonce, echoed untouched
    assert "_mppx_scope" in challenge.request_data

    verdict = pympp_validator.call({"op": "validate", "authorization": _sign(challenge, wallet)})

    assert verdict["valid"] is True, verdict
    assert verdict["payer"] == wallet.address.lower()
    assert verdict["mode"] == "pull"
    assert verdict["request"]["amount"] == str(AMOUNT)
    assert verdict["request"]["recipient"].lower() == pympp_validator.recipient.lower()


def _tamper_request_amount(body: dict[str, Any]) -> None:
    # a different (otherwise valid) request object under the same challenge id: HMAC must fail
    request = decode_b64_json(body["challenge"]["request"])
    request["amount"] = "1"
    body["challenge"]["request"] = encode_b64_json(request)


def _tamper_expires(body: dict[str, Any]) -> None:
    body["challenge"]["expires"] = "2099-01-01T00:00:00Z"


def _tamper_tx_amount(body: dict[str, Any]) -> None:
    word = AMOUNT.to_bytes(32, "big").hex()
    signature = body["payload"]["signature"]
    assert signature.count(word) == 1
    body["payload"]["signature"] = signature.replace(word, (AMOUNT - 1).to_bytes(32, "big").hex())


def _tamper_tx_type(body: dict[str, Any]) -> None:
    body["payload"]["signature"] = "0x02" + body["payload"]["signature"][4:]


@pytest.mark.parametrize(
    ("tamper", "expected_error"),
    [
        (_tamper_request_amount, "InvalidChallengeError"),  # HMAC id no longer matches
        (_tamper_expires, "InvalidChallengeError"),
        (_tamper_tx_amount, "VerificationError"),  # "no matching payment call found"
        (_tamper_tx_type, "VerificationError"),  # "Only Tempo (0x76/0x78) transactions"
    ],
    ids=["challenge-request", "challenge-expires", "tx-amount", "tx-type"],
)
def test_reference_verifier_rejects_tampered_credential(
    pympp_validator: PymppValidator, tamper: Callable[[dict[str, Any]], None], expected_error: str
) -> None:
    challenge = _challenge(pympp_validator)
    good = _sign(challenge, Wallet.create())
    assert pympp_validator.call({"op": "validate", "authorization": good})["valid"] is True

    verdict = pympp_validator.call({"op": "validate", "authorization": _reencode(good, tamper)})

    assert verdict["valid"] is False, verdict
    assert verdict["error"] == expected_error, verdict  # rejected on substance, not syntax


def test_reference_verifier_rejects_memo_of_another_challenge(pympp_validator: PymppValidator) -> None:
    """A correctly signed payment whose memo is bound to a different challenge id."""
    challenge = _challenge(pympp_validator)
    other = _challenge(pympp_validator)
    assert other.id != challenge.id
    foreign_memo = attribution_memo(other.id, other.realm)

    verdict = pympp_validator.call(
        {"op": "validate", "authorization": _sign(challenge, Wallet.create(), memo=foreign_memo)}
    )

    assert verdict["valid"] is False, verdict
    assert "memo" in verdict["message"].lower(), verdict


def test_reference_verifier_rejects_wrong_amount_signed(pympp_validator: PymppValidator) -> None:
    """Our client pays exactly what was asked; a credential for a cheaper charge must not pass."""
    cheap = _challenge(pympp_validator, amount="0.001")
    dear = _challenge(pympp_validator, amount="0.006")
    cheap_credential = _sign(cheap, Wallet.create())

    def graft(body: dict[str, Any]) -> None:
        body["challenge"] = dear.echo()

    verdict = pympp_validator.call({"op": "validate", "authorization": _reencode(cheap_credential, graft)})
    assert verdict["valid"] is False, verdict
