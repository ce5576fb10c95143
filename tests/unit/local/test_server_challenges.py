"""ChallengeIssuer (HMAC binding, wire shape) and the pure verifier's checks that HTTP tests cannot reach."""

from __future__ import annotations

from typing import Any

import pytest

from grok_mpp.chains import PATHUSD, USDCE
from grok_mpp.local.challenges import ChallengeIssuer, payment_required, rfc3339_ms
from grok_mpp.local.verifier import ReplayGuard, VerificationError, verify
from grok_mpp.mpp.challenge import format_challenge, parse_www_authenticate
from grok_mpp.mpp.credential import parse_credential
from grok_mpp.mpp.encoding import decode_b64_json, encode_b64_json
from grok_mpp.payment.policy import PaymentPolicy, evaluate
from grok_mpp.wallet import Wallet

from .gw_support import FakeClock, forge

RECIPIENT = "0x1234567890abcdef1234567890abcdef12345678"
NOW = 1_790_000_000.0


def _issuer(**kw: Any) -> ChallengeIssuer:
    args: dict[str, Any] = {
        "secret": b"s" * 32,
        "realm": "127.0.0.1",
        "recipient": RECIPIENT,
        "currency": USDCE,
        "chain_id": 4217,
    }
    args.update(kw)
    return ChallengeIssuer(**args)


def test_hmac_id_matches_the_mpp_conformance_vector() -> None:
    # mpp.md section 1.2 / pympp tests/test_challenge_id.py
    issuer = ChallengeIssuer(b"test-secret-key-12345", "api.example.com", RECIPIENT, PATHUSD, 4217)
    request = encode_b64_json({"amount": "1000000", "currency": PATHUSD, "recipient": RECIPIENT}, canonical=True)
    params = {"realm": "api.example.com", "method": "tempo", "intent": "charge", "request": request}
    assert issuer.challenge_id(params) == "XmJ98SdsAdzwP9Oa-8In322Uh6yweMO6rywdomWk_V4"


def test_issued_challenge_round_trips_and_binds_every_field() -> None:
    issuer = _issuer(ttl_seconds=300)
    params = issuer.issue(6000, http_method="POST", path="/grok/chat", now=NOW)
    assert list(params) == ["id", "realm", "method", "intent", "request", "description", "expires"]
    assert params["expires"] == rfc3339_ms(NOW + 300) == "2026-09-21T14:18:20.000Z"
    assert decode_b64_json(params["request"]) == {
        "amount": "6000",
        "currency": USDCE,
        "recipient": RECIPIENT,
        "methodDetails": {"chainId": 4217},
    }
    challenge = parse_www_authenticate([format_challenge(params)])[0]
    assert challenge.echo() == params and issuer.verify_binding(challenge.echo())
    for name in ("realm", "method", "intent", "request", "expires"):
        tampered = dict(params, **{name: params[name] + "x"})
        assert not issuer.verify_binding(tampered), name
    assert not issuer.verify_binding(dict(params, opaque="e30"))  # an added opaque changes the binding
    assert not _issuer(secret=b"t" * 32).verify_binding(params)
    assert not issuer.verify_binding({k: v for k, v in params.items() if k != "request"})
    assert evaluate(challenge, PaymentPolicy(), host="127.0.0.1", now=NOW).charge.amount == 6000


def test_same_millisecond_challenges_get_distinct_ids() -> None:
    issuer = _issuer()
    ids = {issuer.issue(6000, http_method="POST", path="/grok/chat", now=NOW)["id"] for _ in range(50)}
    assert len(ids) == 50


def test_sponsored_challenge_and_problem_body() -> None:
    params = _issuer(fee_payer=True).issue(1, http_method="POST", path="/grok/tts", now=NOW)
    assert decode_b64_json(params["request"])["methodDetails"] == {"chainId": 4217, "feePayer": True}
    body = payment_required(params)
    assert body["type"] == "https://paymentauth.org/problems/payment-required"
    assert body["status"] == 402 and body["challengeId"] == params["id"] and "127.0.0.1" in body["detail"]
    assert "secret" not in repr(_issuer()) and "ssss" not in repr(_issuer())
    with pytest.raises(ValueError):
        ChallengeIssuer(b"short", "r", RECIPIENT, USDCE, 4217)


# --- pure verifier ----------------------------------------------------------------------------------


def _credential(issuer: ChallengeIssuer, clock: FakeClock, wallet: Wallet, **kw: Any) -> Any:
    params = issuer.issue(6000, http_method="POST", path="/grok/chat", now=clock.now)
    challenge = parse_www_authenticate([format_challenge(params)])[0]
    return parse_credential(forge(challenge, wallet, now=clock.now, **kw))


def test_verifier_accepts_a_good_credential_and_reports_the_payer() -> None:
    clock, wallet, issuer = FakeClock(NOW), Wallet.create(), _issuer()
    verified = verify(
        _credential(issuer, clock, wallet), issuer, expected_amount=6000, now=clock.now, replay=ReplayGuard()
    )
    assert verified.payer == wallet.address.lower() and verified.amount == 6000 and not verified.sponsored
    assert verified.tx_hash == verified.signed.tx_hash() and "signature" not in repr(verified)


def test_verifier_refuses_a_replayed_transaction_under_a_new_claim() -> None:
    clock, wallet, issuer = FakeClock(NOW), Wallet.create(), _issuer()
    credential = _credential(issuer, clock, wallet)
    replay = ReplayGuard()
    verified = verify(credential, issuer, expected_amount=6000, now=clock.now, replay=replay)
    replay.claim("another-challenge", verified.tx_hash, keep_until=NOW + 600, now=NOW)
    with pytest.raises(VerificationError, match="replay") as info:
        verify(credential, issuer, expected_amount=6000, now=clock.now, replay=replay)
    assert info.value.code == "verification-failed"
    with pytest.raises(VerificationError, match="already been used"):
        replay.claim(verified.challenge_id, verified.tx_hash, keep_until=NOW + 600, now=NOW)
    replay.claim(verified.challenge_id, "0x" + "00" * 32, keep_until=NOW + 600, now=NOW)
    with pytest.raises(VerificationError, match="challenge has already been used"):
        verify(credential, issuer, expected_amount=6000, now=clock.now, replay=replay)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"valid_before": None}, None),  # control: default valid_before is accepted
        ({"fee_token": None}, "fee token"),
        ({"source": "did:pkh:eip155:42431:SELF"}, "source"),
        ({"source": "not-a-did"}, "source"),
    ],
)
def test_verifier_details(kwargs: dict[str, Any], fragment: str | None) -> None:
    clock, wallet, issuer = FakeClock(NOW), Wallet.create(), _issuer()
    if kwargs.get("source") == "did:pkh:eip155:42431:SELF":
        kwargs = {"source": f"did:pkh:eip155:42431:{wallet.address}"}
    credential = _credential(issuer, clock, wallet, **kwargs)
    if fragment is None:
        verify(credential, issuer, expected_amount=6000, now=clock.now, replay=ReplayGuard())
        return
    with pytest.raises(VerificationError, match=fragment):
        verify(credential, issuer, expected_amount=6000, now=clock.now, replay=ReplayGuard())


def test_sponsored_verifier_wants_the_envelope() -> None:
    clock, wallet, issuer = FakeClock(NOW), Wallet.create(), _issuer(fee_payer=True)
    verified = verify(
        _credential(issuer, clock, wallet), issuer, expected_amount=6000, now=clock.now, replay=ReplayGuard()
    )
    assert verified.sponsored and verified.signed.tx.fee_token is None
    self_paid = _credential(issuer, clock, wallet, sponsored=False)
    with pytest.raises(VerificationError, match="0x78"):
        verify(self_paid, issuer, expected_amount=6000, now=clock.now, replay=ReplayGuard())


def test_verifier_checks_the_clock_it_is_given() -> None:
    clock, wallet, issuer = FakeClock(NOW), Wallet.create(), _issuer()
    credential = _credential(issuer, clock, wallet)
    with pytest.raises(VerificationError, match="valid_before"):  # 23 s later the tx is too close to expiry
        verify(credential, issuer, expected_amount=6000, now=clock.now + 23, replay=ReplayGuard())
    with pytest.raises(VerificationError) as info:
        verify(credential, issuer, expected_amount=6000, now=clock.now + 301, replay=ReplayGuard())
    assert info.value.code == "payment-expired"
