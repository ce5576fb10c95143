"""The local gateway refuses every bad credential over real HTTP, and no money moves when it does.

Credentials are hand-built with grok_mpp.tempo (tests/unit/local/gw_support.py) so each case breaks
exactly one rule; ``test_forged_good_credential_is_accepted`` shows the helper builds valid ones, so
every refusal below is caused by the broken rule and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from grok_mpp.chains import PATHUSD
from grok_mpp.local import LocalGateway
from grok_mpp.local.chain import GAS_USED, fee_for
from grok_mpp.mpp.challenge import Challenge
from grok_mpp.mpp.charge import ChargeRequest
from grok_mpp.mpp.credential import did_pkh
from grok_mpp.mpp.problem import parse_problem
from grok_mpp.mpp.receipt import parse_receipt
from grok_mpp.tempo.memo import attribution_memo
from grok_mpp.wallet import Wallet

from .gw_support import GAS_PRICE, FakeClock, challenge_of, chat_body, forge

FEE = fee_for(GAS_USED, GAS_PRICE)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def gw(clock: FakeClock) -> Iterator[LocalGateway]:
    with LocalGateway(clock=clock) as gateway:
        yield gateway


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


@pytest.fixture
def wallet(gw: LocalGateway) -> Wallet:
    return gw.new_funded_wallet("1")


def _post(
    client: httpx.Client, gw: LocalGateway, body: dict[str, Any], authorization: str | None = None
) -> httpx.Response:
    headers = {"Authorization": authorization} if authorization else {}
    return client.post(gw.url + "/grok/chat", json=body, headers=headers)


def _challenge(client: httpx.Client, gw: LocalGateway, body: dict[str, Any] | None = None) -> Challenge:
    return challenge_of(_post(client, gw, body or chat_body()))


def _assert_refused(response: httpx.Response, old: Challenge, code: str, detail: str) -> None:
    assert response.status_code == 402
    problem = parse_problem(response.content, response.headers.get("content-type"))
    assert problem is not None and problem.code == code, response.text
    assert detail in (problem.detail or ""), problem.detail
    fresh = challenge_of(response)  # like mppx: a refusal carries a fresh challenge
    assert fresh.id != old.id and problem.extra["challengeId"] == fresh.id
    assert response.headers["cache-control"] == "no-store"
    assert "payment-receipt" not in response.headers


def test_forged_good_credential_is_accepted(
    gw: LocalGateway, client: httpx.Client, wallet: Wallet, clock: FakeClock
) -> None:
    challenge = _challenge(client, gw)
    amount = ChargeRequest.from_dict(challenge.request_data).amount
    response = _post(client, gw, chat_body(), forge(challenge, wallet, now=clock.now))
    assert response.status_code == 200, response.text
    assert response.json()["success"] is True
    receipt = parse_receipt(response.headers["payment-receipt"])
    assert receipt.reference == gw.payments[0].tx_hash
    assert gw.balance(wallet.address) == 1_000_000 - amount - FEE
    assert gw.balance(gw.recipient) == amount


OTHER = Wallet.create().address

# (forge keyword arguments, problem code, detail fragment). ``AMOUNT`` / ``NOW`` are placeholders.
CASES: dict[str, tuple[dict[str, Any], str, str]] = {
    "wrong-amount": ({"amount": "AMOUNT-1"}, "verification-failed", "transfer amount"),
    "plain-transfer-without-memo": ({"plain_transfer": True}, "verification-failed", "transferWithMemo"),
    "wrong-recipient": ({"recipient": OTHER}, "verification-failed", "recipient"),
    "wrong-chain": ({"chain_id": 42431}, "verification-failed", "chain id"),
    "wrong-token": ({"token": PATHUSD}, "verification-failed", "charge currency"),
    "memo-for-another-challenge": ({"memo": "OTHER_MEMO"}, "verification-failed", "memo is not bound"),
    "not-expiring-nonce": ({"nonce_key": 7}, "verification-failed", "expiring nonce"),
    "nonzero-nonce": ({"nonce": 1}, "verification-failed", "expiring nonce"),
    "valid-before-too-far": ({"valid_before": "NOW+60"}, "verification-failed", "valid_before"),
    "valid-before-too-close": ({"valid_before": "NOW+2"}, "verification-failed", "valid_before"),
    "fee-token-not-currency": ({"fee_token": PATHUSD}, "verification-failed", "fee token"),
    "fee-payer-envelope-unrequested": ({"sponsored": True}, "verification-failed", "not sponsored"),
    "two-calls": ({"extra_calls": 1}, "verification-failed", "exactly one call"),
    "source-names-someone-else": ({"source": did_pkh(4217, OTHER)}, "verification-failed", "source"),
    "max-fee-below-gas-price": ({"max_fee_per_gas": 1}, "verification-failed", "max fee per gas"),
    "gas-limit-too-low": ({"gas_limit": 21_000}, "verification-failed", "gas limit"),
    "push-mode-hash": ({"payload": {"type": "hash", "hash": "0x" + "11" * 32}}, "verification-failed", "payload type"),
    "bad-hex": ({"payload": {"type": "transaction", "signature": "0xzz"}}, "malformed-credential", "hex"),
    "eip1559-not-tempo": ({"payload": {"type": "transaction", "signature": "0x02c0"}}, "verification-failed", "0x02"),
    "garbage-rlp": ({"payload": {"type": "transaction", "signature": "0x76ffff"}}, "malformed-credential", "decode"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_credential_is_refused_and_moves_nothing(
    case: str, gw: LocalGateway, client: httpx.Client, wallet: Wallet, clock: FakeClock
) -> None:
    kwargs, code, detail = CASES[case]
    challenge = _challenge(client, gw)
    amount = ChargeRequest.from_dict(challenge.request_data).amount
    resolved = dict(kwargs)
    if resolved.get("amount") == "AMOUNT-1":
        resolved["amount"] = amount - 1
    if resolved.get("memo") == "OTHER_MEMO":
        resolved["memo"] = attribution_memo("some-other-challenge", challenge.realm)
    if isinstance(resolved.get("valid_before"), str):
        resolved["valid_before"] = int(clock.now) + int(resolved["valid_before"].split("+")[1])
    response = _post(client, gw, chat_body(), forge(challenge, wallet, now=clock.now, **resolved))
    _assert_refused(response, challenge, code, detail)
    assert gw.payments == []
    assert gw.balance(wallet.address) == 1_000_000
    assert gw.balance(gw.recipient) == 0
    assert gw.stats["rejected"] == 1


def test_forged_challenge_id_is_refused(
    gw: LocalGateway, client: httpx.Client, wallet: Wallet, clock: FakeClock
) -> None:
    challenge = _challenge(client, gw)
    echo = challenge.echo()
    echo["id"] = echo["id"][:-2] + ("AA" if not echo["id"].endswith("AA") else "BB")
    response = _post(client, gw, chat_body(), forge(challenge, wallet, now=clock.now, echo=echo))
    _assert_refused(response, challenge, "invalid-challenge", "forged")
    assert gw.balance(wallet.address) == 1_000_000


def test_lowered_amount_in_echoed_request_breaks_the_hmac(
    gw: LocalGateway, client: httpx.Client, wallet: Wallet, clock: FakeClock
) -> None:
    from grok_mpp.mpp.encoding import encode_b64_json

    challenge = _challenge(client, gw)
    echo = challenge.echo()
    cheaper = dict(challenge.request_data, amount="1")
    echo["request"] = encode_b64_json(cheaper, canonical=True)
    response = _post(client, gw, chat_body(), forge(challenge, wallet, now=clock.now, echo=echo, amount=1))
    _assert_refused(response, challenge, "invalid-challenge", "HMAC")
    assert gw.payments == []


def test_challenge_from_another_gateway_is_refused(
    gw: LocalGateway, client: httpx.Client, wallet: Wallet, clock: FakeClock
) -> None:
    with LocalGateway(clock=clock, recipient=gw.recipient) as other:  # same realm and recipient, other secret
        foreign = challenge_of(_post(client, other, chat_body()))
    response = _post(client, gw, chat_body(), forge(foreign, wallet, now=clock.now))
    _assert_refused(response, foreign, "invalid-challenge", "forged")
    assert gw.balance(wallet.address) == 1_000_000


def test_expired_challenge_is_refused(gw: LocalGateway, client: httpx.Client, wallet: Wallet, clock: FakeClock) -> None:
    challenge = _challenge(client, gw)
    clock.advance(gw.issuer.ttl_seconds + 1)
    response = _post(client, gw, chat_body(), forge(challenge, wallet, now=clock.now))
    _assert_refused(response, challenge, "payment-expired", "expired")
    assert gw.balance(wallet.address) == 1_000_000


def test_replayed_credential_settles_once(
    gw: LocalGateway, client: httpx.Client, wallet: Wallet, clock: FakeClock
) -> None:
    challenge = _challenge(client, gw)
    amount = ChargeRequest.from_dict(challenge.request_data).amount
    credential = forge(challenge, wallet, now=clock.now)
    assert _post(client, gw, chat_body(), credential).status_code == 200
    again = _post(client, gw, chat_body(), credential)
    _assert_refused(again, challenge, "invalid-challenge", "already been used")
    assert len(gw.payments) == 1
    assert gw.balance(wallet.address) == 1_000_000 - amount - FEE


def test_body_changed_between_challenge_and_paid_retry(
    gw: LocalGateway, client: httpx.Client, wallet: Wallet, clock: FakeClock
) -> None:
    cheap, dear = chat_body(max_tokens=16), chat_body(max_tokens=20_000)
    challenge = _challenge(client, gw, cheap)
    assert (
        ChargeRequest.from_dict(challenge.request_data).amount
        < ChargeRequest.from_dict(_challenge(client, gw, dear).request_data).amount
    )
    response = _post(client, gw, dear, forge(challenge, wallet, now=clock.now))
    _assert_refused(response, challenge, "verification-failed", "does not match the price")
    assert gw.payments == [] and gw.balance(wallet.address) == 1_000_000


def test_insufficient_balance_moves_nothing(gw: LocalGateway, client: httpx.Client, clock: FakeClock) -> None:
    challenge = _challenge(client, gw)
    amount = ChargeRequest.from_dict(challenge.request_data).amount
    poor = Wallet.create()
    gw.fund(poor.address, amount + FEE - 1)  # one base unit short of amount + fee
    response = _post(client, gw, chat_body(), forge(challenge, poor, now=clock.now))
    _assert_refused(response, challenge, "verification-failed", "insufficient balance")
    assert gw.balance(poor.address) == amount + FEE - 1
    assert gw.balance(gw.recipient) == 0 and gw.payments == []


def test_malformed_and_duplicate_credentials(gw: LocalGateway, client: httpx.Client) -> None:
    challenge = _challenge(client, gw)
    response = _post(client, gw, chat_body(), "Payment !!!not-base64!!!")
    _assert_refused(response, challenge, "malformed-credential", "base64url")
    two = client.post(
        gw.url + "/grok/chat",
        json=chat_body(),
        headers=[("Authorization", "Payment abc"), ("Authorization", "Payment def")],
    )
    assert two.status_code == 400
    # another scheme is not a payment attempt: just a challenge
    assert _post(client, gw, chat_body(), "Bearer xyz").status_code == 402


def test_sponsored_gateway_requires_and_cosigns_the_fee_payer_envelope(client: httpx.Client, clock: FakeClock) -> None:
    with LocalGateway(clock=clock, fee_payer=True) as gw:
        wallet = gw.new_funded_wallet("1")
        sponsor_before = gw.balance(gw.fee_payer_address)
        challenge = _challenge(client, gw)
        assert challenge.request_data["methodDetails"] == {"chainId": 4217, "feePayer": True}
        amount = ChargeRequest.from_dict(challenge.request_data).amount

        self_paid = forge(challenge, wallet, now=clock.now, sponsored=False)
        refused = _post(client, gw, chat_body(), self_paid)
        _assert_refused(refused, challenge, "verification-failed", "0x78")

        fresh = challenge_of(refused)
        ok = _post(client, gw, chat_body(), forge(fresh, wallet, now=clock.now))
        assert ok.status_code == 200, ok.text
        assert gw.balance(wallet.address) == 1_000_000 - amount  # the payer pays no gas
        assert gw.balance(gw.fee_payer_address) == sponsor_before - FEE
        payment = gw.payments[0]
        assert payment.sponsored and payment.receipt["feePayer"] == gw.fee_payer_address
        assert parse_receipt(ok.headers["payment-receipt"]).reference == payment.reference
