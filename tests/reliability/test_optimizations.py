"""The CPU optimizations of the signing path change no byte (see bench/README.md for their effect).

* ``grok_mpp.tempo.rlpenc`` replaces pyrlp's encoder: equal output for every bytes/int/list tree;
* ``Wallet.sign_hash`` signs with one cached coincurve key instead of eth-account's per-call key
  pair: the same 65 bytes as eth-account for any digest;
* ``sign_payment`` hashes the wire bytes it already has: the same hash as ``SignedTempoTransaction.tx_hash``;
* a transaction's ten shared fields are RLP-encoded once per signing and reused by the sender hash, the
  wire form and the fee-payer forms: the same bytes as pyrlp encoding each full field list.
"""

from __future__ import annotations

import time
from dataclasses import replace

import rlp
from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st

from grok_mpp.chains import USDCE
from grok_mpp.mpp.challenge import format_challenge, parse_www_authenticate
from grok_mpp.mpp.encoding import encode_b64_json
from grok_mpp.payment.policy import PaymentPolicy, select_challenge
from grok_mpp.payment.signer import sign_payment
from grok_mpp.tempo import rlpenc
from grok_mpp.tempo.hashing import keccak256
from grok_mpp.tempo.transaction import Call, TempoTransaction
from grok_mpp.wallet import Wallet

TREES = st.recursive(
    st.binary(max_size=70) | st.integers(min_value=0, max_value=2**300),
    lambda kids: st.lists(kids, max_size=8),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(TREES)
def test_rlpenc_equals_pyrlp(tree: object) -> None:
    assert rlpenc.encode(tree) == rlp.encode(tree)


def test_rlpenc_long_lengths_and_refusals() -> None:
    for size in (55, 56, 255, 256, 70_000):
        assert rlpenc.encode(b"\x99" * size) == rlp.encode(b"\x99" * size)
        assert rlpenc.encode([b"\x01"] * size) == rlp.encode([b"\x01"] * size)
    for bad in (-1, "text", 1.5, None):
        try:
            rlpenc.encode(bad)
        except (TypeError, ValueError):
            continue
        raise AssertionError(f"{bad!r} must be refused")


def _reference_fields(tx: TempoTransaction, fee_token: bytes, fee_payer: object) -> list[object]:
    """The 13 fields as the module docstring lists them, built independently of the encoder's split."""
    return [tx.chain_id, tx.max_priority_fee_per_gas, tx.max_fee_per_gas, tx.gas_limit,
            [[bytes.fromhex(c.to[2:]), c.value, c.data] for c in tx.calls], [], tx.nonce_key, tx.nonce,
            b"" if tx.valid_before is None else tx.valid_before, b"" if tx.valid_after is None else tx.valid_after,
            fee_token, fee_payer, []]


_ADDRESSES = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
_UINT = st.integers(min_value=0, max_value=2**256 - 1)
_TRANSACTIONS = st.builds(
    TempoTransaction,
    chain_id=st.integers(min_value=1, max_value=2**64),
    calls=st.lists(st.builds(Call, to=_ADDRESSES, data=st.binary(max_size=200), value=_UINT), min_size=1,
                   max_size=3).map(tuple),
    gas_limit=_UINT, max_fee_per_gas=_UINT, max_priority_fee_per_gas=_UINT, nonce_key=_UINT, nonce=_UINT,
    valid_before=st.none() | _UINT, valid_after=st.none() | _UINT, fee_token=st.none() | _ADDRESSES,
    sponsored=st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(_TRANSACTIONS, st.none() | st.tuples(st.integers(0, 1), _UINT, _UINT))
def test_fields_encoded_once_equal_full_pyrlp_encodings(tx: TempoTransaction, fee_payer_sig: object) -> None:
    token = b"" if tx.fee_token is None else bytes.fromhex(tx.fee_token[2:])
    sender_fields = _reference_fields(tx, b"", b"\x00") if tx.sponsored else _reference_fields(tx, token, b"")
    assert tx.sender_hash() == keccak256(b"\x76" + rlp.encode(sender_fields))
    signed = tx.sign(_WALLET)
    if fee_payer_sig is not None:
        signed = replace(signed, fee_payer_signature=fee_payer_sig)
    sender = bytes.fromhex(_WALLET.address[2:])
    fee_payer = b"" if fee_payer_sig is None else list(fee_payer_sig)  # type: ignore[call-overload]
    assert signed.raw() == b"\x76" + rlp.encode([*_reference_fields(tx, token, fee_payer), signed.signature])
    assert signed.fee_payer_envelope() == b"\x78" + rlp.encode([*_reference_fields(tx, b"", sender), signed.signature])
    assert signed.fee_payer_hash() == keccak256(b"\x78" + rlp.encode(_reference_fields(tx, token, sender)))
    # a copy with another transaction must not reuse the first one's cached encoding
    other = TempoTransaction(chain_id=tx.chain_id + 1, calls=tx.calls, gas_limit=tx.gas_limit,
                             max_fee_per_gas=tx.max_fee_per_gas, max_priority_fee_per_gas=tx.max_priority_fee_per_gas)
    moved = replace(signed, tx=other, fee_payer_signature=None)
    assert moved.raw() == b"\x76" + rlp.encode([*_reference_fields(other, b"", b""), signed.signature])


_KEY = "0x" + "4c" * 32
_WALLET = Wallet.from_key(_KEY)
_ACCOUNT = Account.from_key(_KEY)


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_cached_key_signatures_equal_eth_account(digest: bytes) -> None:
    reference = _ACCOUNT.unsafe_sign_hash(digest)
    expected = reference.r.to_bytes(32, "big") + reference.s.to_bytes(32, "big") + bytes([reference.v])
    assert _WALLET.sign_hash(digest) == expected


def test_signed_payment_hash_is_the_transaction_hash() -> None:
    for fee_payer in (False, True):
        header = format_challenge({
            "id": "opt", "realm": "127.0.0.1", "method": "tempo", "intent": "charge",
            "request": encode_b64_json({"amount": "6000", "currency": USDCE, "recipient": "0x" + "22" * 20,
                                        "methodDetails": {"chainId": 4217, "feePayer": fee_payer}}),
        })
        approved = select_challenge(parse_www_authenticate([header]), PaymentPolicy(), host="127.0.0.1",
                                    now=time.time())
        signed = sign_payment(approved, _WALLET, gas_price=20_000_000_000, gas_limit=1_000_000)
        assert signed.tx_hash == signed.signed.tx_hash()


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=1, max_value=2**256 - 2**129))
def test_wallet_address_and_key_match_eth_account(secret: int) -> None:
    key = "0x" + secret.to_bytes(32, "big").hex()
    wallet = Wallet.from_key(key)
    assert wallet.address == Account.from_key(key).address
    assert wallet.export_private_key() == key


def test_importing_the_client_does_not_import_eth_account() -> None:
    """eth-account (eth-keyfile, py_ecc: ~0.8 s) is only for keystores; the paid path must not load it."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, grok_mpp.gateway.client, grok_mpp.payment.auth; "
            "print(sorted(m for m in ('eth_account', 'py_ecc', 'rlp') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"


def test_importing_an_adapter_does_not_import_the_http_and_payment_stack() -> None:
    """``from <adapter> import <model>`` loads no httpx, payment flow or ledger: ``GrokClients``
    imports them when a model is built (settings validation) or first called (bench/README.md 4)."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys\n"
            "from llama_index_grok_mpp import GrokMPP\n"
            "from langchain_grok_mpp import ChatGrokMPP\n"
            "print(sorted(m for m in ('httpx', 'grok_mpp.config', 'grok_mpp.gateway.client', "
            "'grok_mpp.payment.auth', 'grok_mpp.ledger') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"
