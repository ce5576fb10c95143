"""The CPU optimizations of the signing path change no byte (see bench/README.md for their effect).

* ``grok_mpp.tempo.rlpenc`` replaces pyrlp's encoder: equal output for every bytes/int/list tree;
* ``Wallet.sign_hash`` signs with one cached coincurve key instead of eth-account's per-call key
  pair: the same 65 bytes as eth-account for any digest;
* ``sign_payment`` hashes the wire bytes it already has: the same hash as ``SignedTempoTransaction.tx_hash``.
"""

from __future__ import annotations

import time

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
