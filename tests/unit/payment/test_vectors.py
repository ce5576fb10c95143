"""Byte-exact vectors (reference notes mpp.md 2.3 and 2.7; pytempo and ox agree on them)."""

from __future__ import annotations

import pytest

from grok_mpp.chains import USDCE
from grok_mpp.errors import TransactionDecodeError
from grok_mpp.tempo.memo import attribution_memo, memo_matches
from grok_mpp.tempo.tip20 import decode_transfer, encode_transfer_with_memo
from grok_mpp.tempo.transaction import Call, build_charge_transaction, decode_transaction
from grok_mpp.wallet import Wallet

from .conftest import VECTOR_KEY

CHALLENGE_ID = "Nj-GLXw3oMT93iz6wt7pDR7-SRWicOc-ggLTARwNRJk"
REALM = "openweather.mpp.paywithlocus.com"
RECIPIENT = "0x060b0fB0Be9d90557577B3AEE480711067149Ff0"
MEMO = "ef1ed71201502dd48b2e82a63ce2a700000000000000000000615c888e03d053"
CALLDATA = (
    "95777d59000000000000000000000000060b0fb0be9d90557577b3aee480711067149ff0"
    "0000000000000000000000000000000000000000000000000000000000001770" + MEMO
)
SIGNED = (
    "76f901168210798504a817c8008504a817c800830f4240f87ef87c9420c000000000000000000000b9537d11c60e8b5080b864"
    + CALLDATA
    + "c0a0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80846ab13b80809420c000000000000000000000"
    "b9537d11c60e8b5080c0b84111b7c49a0dc8dbb0bc628e0aa23d0226f43a89fa1e2423df30bb71f4245b000a1c87a6cdfe36852f7484a6"
    "088ac0d2b0f95ea3373c1b2919e1789cfd6eb60f111c"
)


def _tx(sponsored: bool = False):  # type: ignore[no-untyped-def]
    data = encode_transfer_with_memo(RECIPIENT, 6000, bytes.fromhex(MEMO))
    return build_charge_transaction(
        chain_id=4217,
        calls=[Call(USDCE, data)],
        fee_token=USDCE,
        sponsored=sponsored,
        gas_limit=1_000_000,
        max_fee_per_gas=20_000_000_000,
        max_priority_fee_per_gas=10_000_000_000 if sponsored else None,
        valid_before=1790000000,
    )


def test_vector_key_address() -> None:
    assert Wallet.from_key(VECTOR_KEY).address == "0xFCAd0B19bB29D4674531d6f115237E16AfCE377c"


def test_attribution_memo_vectors() -> None:
    assert attribution_memo(CHALLENGE_ID, REALM).hex() == MEMO
    assert (
        attribution_memo("challenge-123", "api.example.com").hex()
        == "ef1ed712011ece072f76bd8b82350e00000000000000000000eb18f2d4402269"
    )
    assert memo_matches(bytes.fromhex(MEMO), CHALLENGE_ID, REALM)
    assert not memo_matches(bytes.fromhex(MEMO), CHALLENGE_ID + "x", REALM)
    assert not memo_matches(bytes.fromhex(MEMO), CHALLENGE_ID, "evil.example")


def test_client_id_changes_only_the_client_slot() -> None:
    plain = attribution_memo("id", "realm")
    tagged = attribution_memo("id", "realm", "my-agent")
    assert plain[:15] == tagged[:15] and plain[25:] == tagged[25:] and plain[15:25] != tagged[15:25]


def test_calldata_vector() -> None:
    assert encode_transfer_with_memo(RECIPIENT, 6000, bytes.fromhex(MEMO)).hex() == CALLDATA


def test_unsponsored_transaction_vector() -> None:
    tx = _tx()
    assert tx.sender_hash().hex() == "0341a1b020215ba43c1338c539fface06f9ea8f74393df20553d5ff27c59a9d5"
    signed = tx.sign(Wallet.from_key(VECTOR_KEY))
    assert signed.raw().hex() == SIGNED
    assert signed.tx_hash() == "0xb27ac1579c5343f8474e0b124e1c8539134367a08f73a72f19522fcc629057c3"


def test_sponsored_vector_and_envelope() -> None:
    tx = _tx(sponsored=True)
    assert tx.sender_hash().hex() == "bcfac17d4081e1ab2d10e1915437bd7b1b1a3ff4202d2382606fb943c334a9b5"
    envelope = tx.sign(Wallet.from_key(VECTOR_KEY)).fee_payer_envelope().hex()
    assert envelope.startswith("78f90116")
    assert "846ab13b80808094fcad0b19bb29d4674531d6f115237e16afce377cc0b84137194efb902dc" in envelope
    assert envelope.endswith("6de8b1c")


def test_decode_round_trip_recovers_sender() -> None:
    wallet = Wallet.from_key(VECTOR_KEY)
    for sponsored in (False, True):
        signed = _tx(sponsored).sign(wallet)
        raw = signed.fee_payer_envelope() if sponsored else signed.raw()
        decoded = decode_transaction(raw)
        assert decoded.signed.sender == wallet.address.lower()
        assert decoded.tx.sponsored is sponsored
        transfer = decode_transfer(decoded.tx.calls[0].data)
        assert (transfer.to, transfer.amount, transfer.memo) == (RECIPIENT.lower(), 6000, bytes.fromhex(MEMO))


@pytest.mark.parametrize(
    "raw",
    [b"", b"\x02\xc0", bytes.fromhex("76c0"), bytes.fromhex(SIGNED) + b"\x00", bytes.fromhex(SIGNED)[:-1]],
)
def test_decode_rejects_garbage(raw: bytes) -> None:
    with pytest.raises(TransactionDecodeError):
        decode_transaction(raw)


def test_tampered_transaction_recovers_another_sender() -> None:
    raw = bytearray(bytes.fromhex(SIGNED))
    idx = raw.find(bytes.fromhex("1770"))  # the amount 6000
    raw[idx + 1] = 0x71  # 6001
    try:
        decoded = decode_transaction(bytes(raw))
    except TransactionDecodeError:
        return
    assert decoded.signed.sender != "0xfcad0b19bb29d4674531d6f115237e16afce377c"


def test_transfer_decoder_rejects_trailing_bytes() -> None:
    with pytest.raises(TransactionDecodeError):
        decode_transfer(bytes.fromhex(CALLDATA) + b"\x00")
