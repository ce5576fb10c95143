"""Approved charge + wallet -> signed Tempo transaction and credential (pure, no I/O).

Two requests can receive the very same challenge (mppx issues identical ids, HMACs and
millisecond expiries to simultaneous identical requests). Everything else in the transaction
(memo, amount, gas price, ``valid_before`` in whole seconds) is then equal too, so both would sign
byte-identical transactions: one settles, the other is refused as a replay while the client
believes it paid. Every signature therefore gets a distinct ``valid_after`` (a past timestamp, so
it never delays inclusion): a process-wide counter, started at a random offset so two processes
rarely share values. Tempo, mppx 0.11 and pympp 0.16 accept a past ``valid_after`` and settle
several distinct transactions against one challenge (verified on anvil, tests/interop).
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, replace

from grok_mpp.mpp.credential import build_credential, did_pkh
from grok_mpp.payment.policy import ApprovedCharge
from grok_mpp.tempo.hashing import keccak256
from grok_mpp.tempo.tip20 import encode_transfer_with_memo
from grok_mpp.tempo.transaction import Call, HashSigner, SignedTempoTransaction, build_charge_transaction


@dataclass(frozen=True, slots=True)
class SignedPayment:
    """Everything about one signed payment. ``credential`` is a bearer secret: never log it."""

    header_name: str
    credential: str
    tx_hash: str
    signed: SignedTempoTransaction
    valid_before: int
    max_fee: int

    def __repr__(self) -> str:
        return f"SignedPayment(tx_hash={self.tx_hash}, valid_before={self.valid_before})"


#: valid_after = valid_before - VALID_AFTER_LAG - (counter mod VALID_AFTER_SPAN): always in the past.
VALID_AFTER_LAG = 3600
VALID_AFTER_SPAN = 2**20
_valid_after_counter = itertools.count(secrets.randbelow(VALID_AFTER_SPAN))  # next() is atomic in CPython


def distinct_valid_after(valid_before: int) -> int:
    """A past ``valid_after`` no other signature of this process used in the last ~12 days."""
    return valid_before - VALID_AFTER_LAG - next(_valid_after_counter) % VALID_AFTER_SPAN


def build_calls(approved: ApprovedCharge) -> list[Call]:
    """Primary ``transferWithMemo`` plus one per split leg, all on the charge currency."""
    charge = approved.charge
    calls = [Call(charge.currency, encode_transfer_with_memo(charge.recipient, charge.primary_amount, approved.memo))]
    for leg in charge.splits:
        calls.append(Call(charge.currency, encode_transfer_with_memo(leg.recipient, leg.amount, leg.memo or approved.memo)))
    return calls


#: Headroom over the node's current gas price, as viem (mppx) signs: ``baseFee * 1.2``. Signing at
#: exactly the price read a moment ago fails as soon as the base fee ticks up before settlement.
FEE_CAP_NUMERATOR, FEE_CAP_DENOMINATOR = 6, 5


def fee_cap_per_gas(gas_price: int) -> int:
    """``maxFeePerGas`` to sign for a node gas price: 1.2x, rounded up. The chain charges the base fee."""
    return -(-gas_price * FEE_CAP_NUMERATOR // FEE_CAP_DENOMINATOR)


def sign_payment(
    approved: ApprovedCharge,
    signer: HashSigner,
    *,
    gas_price: int,
    gas_limit: int,
    valid_after: int | None = None,
) -> SignedPayment:
    """Sign the charge. Sponsored charges get the 0x78 fee-payer envelope, others a 0x76 transaction
    that pays its own fee in the charge currency. ``valid_after`` defaults to a distinct past value
    (see the module docstring) so no two signatures are ever the same transaction."""
    tx = build_charge_transaction(
        chain_id=approved.chain_id,
        calls=build_calls(approved),
        fee_token=approved.charge.currency,
        sponsored=approved.sponsored,
        gas_limit=gas_limit,
        max_fee_per_gas=fee_cap_per_gas(gas_price),
        valid_before=approved.valid_before,
    )
    tx = replace(tx, valid_after=distinct_valid_after(approved.valid_before) if valid_after is None else valid_after)
    signed = tx.sign(signer)
    raw = signed.raw()  # encoded once: it is both the unsponsored wire form and what the tx hash covers
    wire = signed.fee_payer_envelope() if approved.sponsored else raw
    payload = {"type": "transaction", "signature": "0x" + wire.hex()}
    credential = build_credential(approved.challenge, payload, source=did_pkh(approved.chain_id, signer.address))
    max_fee = 0 if approved.sponsored else (gas_limit * fee_cap_per_gas(gas_price) + 10**12 - 1) // 10**12
    return SignedPayment(
        header_name=approved.challenge.credential_header,
        credential=credential,
        tx_hash="0x" + keccak256(raw).hex(),
        signed=signed,
        valid_before=approved.valid_before,
        max_fee=max_fee,
    )
