"""Tempo transactions (EIP-2718 type 0x76) and the 0x78 fee-payer envelope, sans-I/O.

eth-account cannot serialize type 0x76, so the encoding lives here, on RLP (:mod:`rlpenc` to encode,
pyrlp's strict decoder to decode) + keccak + a ``sign_hash`` signer. Field order (Tempo ``rlp_encode_fields``)::

    [chain_id, max_priority_fee_per_gas, max_fee_per_gas, gas_limit, calls, access_list,
     nonce_key, nonce, valid_before, valid_after, fee_token, FEE_PAYER_SLOT, authorization_list]

* unsponsored sender hash: ``keccak(0x76 || rlp(fields))`` with fee_token set and FEE_PAYER_SLOT empty;
* sponsored sender hash: fee_token encoded empty and FEE_PAYER_SLOT the single byte 0x00;
* wire: ``0x76 || rlp(fields + [sender_signature])`` (65 bytes r||s||v, v = 27/28);
* fee-payer hand-off: ``0x78 || rlp(fields[:10] + [empty fee_token, sender_address, auth_list, sig])``.

The byte-exact vector in the reference notes (section 2.7) is locked in tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from grok_mpp.errors import TransactionDecodeError
from grok_mpp.tempo import rlpenc
from grok_mpp.tempo.hashing import keccak256

TEMPO_TX_TYPE = 0x76
FEE_PAYER_ENVELOPE_TYPE = 0x78
EXPIRING_NONCE_KEY = 2**256 - 1
_EMPTY = b""
_TEMPO_PREFIX = bytes([TEMPO_TX_TYPE])
_FEE_PAYER_PREFIX = bytes([FEE_PAYER_ENVELOPE_TYPE])
_SPONSORED_SENDER_TAIL = rlpenc.encode_items([_EMPTY, b"\x00", []])


class HashSigner(Protocol):
    """Anything that signs a 32-byte hash with secp256k1 and returns r||s||v (v = 27/28)."""

    @property
    def address(self) -> str: ...

    def sign_hash(self, digest: bytes) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Call:
    to: str
    data: bytes
    value: int = 0

    def fields(self) -> list[Any]:
        return [_addr(self.to), self.value, self.data]


@dataclass(frozen=True, slots=True)
class TempoTransaction:
    chain_id: int
    calls: tuple[Call, ...]
    gas_limit: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    nonce_key: int = EXPIRING_NONCE_KEY
    nonce: int = 0
    valid_before: int | None = None
    valid_after: int | None = None
    fee_token: str | None = None
    sponsored: bool = False
    access_list: tuple[Any, ...] = field(default=())

    def _head(self) -> bytes:
        """RLP of the ten fields every form shares (``chain_id`` .. ``valid_after``), without a list header.

        The sender hash, the wire form and the fee-payer forms differ only in the last slots, so
        :meth:`sign` encodes this once and :class:`SignedTempoTransaction` reuses it (see
        :func:`rlpenc.encode_items`): signing used to RLP-encode the same fields twice.
        """
        return rlpenc.encode_items([
            self.chain_id,
            self.max_priority_fee_per_gas,
            self.max_fee_per_gas,
            self.gas_limit,
            [c.fields() for c in self.calls],
            list(self.access_list),
            self.nonce_key,
            self.nonce,
            _EMPTY if self.valid_before is None else self.valid_before,
            _EMPTY if self.valid_after is None else self.valid_after,
        ])

    def _sender_hash(self, head: bytes) -> bytes:
        # sponsored: fee token empty, fee-payer slot 0x00; else the fee token and an empty fee-payer slot
        # (0x80); both end with the empty authorization list (0xc0)
        tail = _SPONSORED_SENDER_TAIL if self.sponsored else rlpenc.encode(_opt_addr(self.fee_token)) + b"\x80\xc0"
        return keccak256(_TEMPO_PREFIX + rlpenc.wrap_list(head + tail))

    def sender_hash(self) -> bytes:
        """The hash the sender signs (commits to the fee token only when not sponsored)."""
        return self._sender_hash(self._head())

    def sign(self, signer: HashSigner) -> SignedTempoTransaction:
        head = self._head()
        signature = signer.sign_hash(self._sender_hash(head))
        if len(signature) != 65:
            raise ValueError("secp256k1 signature must be 65 bytes r||s||v")
        return SignedTempoTransaction(self, signature, signer.address.lower(), encoded_head=(self, head))


@dataclass(frozen=True, slots=True)
class SignedTempoTransaction:
    tx: TempoTransaction
    signature: bytes
    sender: str
    fee_payer_signature: tuple[int, int, int] | None = None
    # (tx, tx._head()) as computed by TempoTransaction.sign; used only while it belongs to self.tx
    # (dataclasses.replace(..., tx=other) keeps the pair, whose first item then no longer matches).
    encoded_head: tuple[TempoTransaction, bytes] | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        return f"SignedTempoTransaction(sender={self.sender}, chain_id={self.tx.chain_id}, calls={len(self.tx.calls)})"

    def _head(self) -> bytes:
        cached = self.encoded_head
        return cached[1] if cached is not None and cached[0] is self.tx else self.tx._head()

    def raw(self) -> bytes:
        """Wire form 0x76 (what an unsponsored credential carries and what the chain executes)."""
        fee_payer = _EMPTY if self.fee_payer_signature is None else list(self.fee_payer_signature)
        tail = rlpenc.encode_items([_opt_addr(self.tx.fee_token), fee_payer, [], self.signature])
        return _TEMPO_PREFIX + rlpenc.wrap_list(self._head() + tail)

    def fee_payer_envelope(self) -> bytes:
        """0x78 hand-off form for sponsored charges: the sender address sits in the fee-payer slot."""
        tail = rlpenc.encode_items([_EMPTY, _addr(self.sender), [], self.signature])
        return _FEE_PAYER_PREFIX + rlpenc.wrap_list(self._head() + tail)

    def tx_hash(self) -> str:
        return "0x" + keccak256(self.raw()).hex()

    def fee_payer_hash(self) -> bytes:
        """What a sponsor signs: fee token included, sender address in the fee-payer slot."""
        tail = rlpenc.encode_items([_opt_addr(self.tx.fee_token), _addr(self.sender), []])
        return keccak256(_FEE_PAYER_PREFIX + rlpenc.wrap_list(self._head() + tail))

    def with_fee_payer(self, fee_token: str, signature: bytes) -> SignedTempoTransaction:
        """Attach a sponsor's signature (r||s||v) for the given fee token (local gateway side)."""
        tx = replace(self.tx, fee_token=fee_token.lower())
        unsigned = replace(self, tx=tx)
        v = signature[64] - 27 if signature[64] >= 27 else signature[64]
        return replace(
            unsigned,
            fee_payer_signature=(v, int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big")),
        )


def _addr(address: str) -> bytes:
    raw = bytes.fromhex(address[2:] if address.startswith("0x") else address)
    if len(raw) != 20:
        raise ValueError(f"address must be 20 bytes: {address!r}")
    return raw


def _opt_addr(address: str | None) -> bytes:
    return _EMPTY if address is None else _addr(address)


def _int(item: Any, what: str) -> int:
    if not isinstance(item, bytes):
        raise TransactionDecodeError(f"{what} must be an RLP string")
    if item[:1] == b"\x00":
        raise TransactionDecodeError(f"{what} has a leading zero byte")
    return int.from_bytes(item, "big")


def _opt_int(item: Any, what: str) -> int | None:
    return None if item == _EMPTY else _int(item, what)


def _address_item(item: Any, what: str) -> str:
    if not isinstance(item, bytes) or len(item) != 20:
        raise TransactionDecodeError(f"{what} must be a 20-byte address")
    return "0x" + item.hex()


def _decode_calls(items: Any) -> tuple[Call, ...]:
    if not isinstance(items, list) or not items:
        raise TransactionDecodeError("a Tempo transaction needs at least one call")
    calls = []
    for i, c in enumerate(items):
        if not isinstance(c, list) or len(c) != 3 or not isinstance(c[2], bytes):
            raise TransactionDecodeError(f"call {i} must be [to, value, input]")
        calls.append(Call(to=_address_item(c[0], f"call {i} to"), value=_int(c[1], f"call {i} value"), data=c[2]))
    return tuple(calls)


@dataclass(frozen=True, slots=True)
class DecodedTransaction:
    """A decoded 0x76 or 0x78 payload with the recovered sender (local gateway verification)."""

    signed: SignedTempoTransaction
    envelope_type: int

    @property
    def tx(self) -> TempoTransaction:
        return self.signed.tx


def decode_transaction(raw: bytes) -> DecodedTransaction:
    """Decode a 0x76 transaction or 0x78 fee-payer envelope and recover its sender.

    Raises TransactionDecodeError for anything else, including trailing bytes and bad signatures.
    """
    import rlp  # decoding only (the local gateway's side); keeps pyrlp out of `import grok_mpp` time
    from eth_keys.datatypes import Signature
    from eth_keys.exceptions import BadSignature

    if not raw or raw[0] not in (TEMPO_TX_TYPE, FEE_PAYER_ENVELOPE_TYPE):
        raise TransactionDecodeError("only Tempo transactions (0x76) and fee-payer envelopes (0x78) are accepted")
    try:
        items = rlp.decode(raw[1:], strict=True)
    except rlp.exceptions.DecodingError as exc:
        raise TransactionDecodeError(f"invalid RLP: {exc}") from exc
    if not isinstance(items, list) or len(items) != 14:
        raise TransactionDecodeError("a Tempo transaction has 14 RLP items (no key authorization supported)")
    envelope = raw[0]
    sig = items[13]
    if not isinstance(sig, bytes) or len(sig) != 65 or sig[64] not in (27, 28):
        raise TransactionDecodeError("sender signature must be 65 bytes r||s||v with v 27/28")
    fee_token_item, fee_payer_item = items[10], items[11]
    if items[12] != []:
        raise TransactionDecodeError("authorization lists are not supported")
    if items[5] != []:
        raise TransactionDecodeError("access lists are not supported")
    sponsored = envelope == FEE_PAYER_ENVELOPE_TYPE or fee_payer_item != _EMPTY
    fee_token = None if fee_token_item == _EMPTY else _address_item(fee_token_item, "fee token")
    tx = TempoTransaction(
        chain_id=_int(items[0], "chain id"),
        max_priority_fee_per_gas=_int(items[1], "max priority fee"),
        max_fee_per_gas=_int(items[2], "max fee"),
        gas_limit=_int(items[3], "gas limit"),
        calls=_decode_calls(items[4]),
        nonce_key=_int(items[6], "nonce key"),
        nonce=_int(items[7], "nonce"),
        valid_before=_opt_int(items[8], "valid_before"),
        valid_after=_opt_int(items[9], "valid_after"),
        fee_token=fee_token,
        sponsored=sponsored,
    )
    digest = tx.sender_hash()
    try:
        public_key = Signature(vrs=(sig[64] - 27, int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big")))
        sender = public_key.recover_public_key_from_msg_hash(digest).to_checksum_address().lower()
    except (BadSignature, ValueError) as exc:
        raise TransactionDecodeError(f"sender signature does not recover: {exc}") from exc
    if envelope == FEE_PAYER_ENVELOPE_TYPE and _address_item(fee_payer_item, "fee payer slot") != sender:
        raise TransactionDecodeError("fee-payer envelope names a sender that did not sign it")
    fee_payer_sig = None
    if envelope == TEMPO_TX_TYPE and isinstance(fee_payer_item, list):
        if len(fee_payer_item) != 3:
            raise TransactionDecodeError("fee payer signature must be [v, r, s]")
        v, r, s = (_int(x, "fee payer signature") for x in fee_payer_item)
        fee_payer_sig = (v, r, s)
    return DecodedTransaction(SignedTempoTransaction(tx, sig, sender, fee_payer_sig), envelope)


def build_charge_transaction(
    *,
    chain_id: int,
    calls: Sequence[Call],
    fee_token: str | None,
    sponsored: bool,
    gas_limit: int,
    max_fee_per_gas: int,
    max_priority_fee_per_gas: int | None = None,
    valid_before: int,
) -> TempoTransaction:
    """An expiring-nonce transaction: ``nonce_key = 2**256-1``, ``nonce = 0``, bounded ``valid_before``.

    Expiring nonces need no nonce lookup and make parallel payments from one wallet collision-free;
    once ``valid_before`` has passed the transaction can never land, which is what lets the ledger
    release the money of an outcome-unknown payment safely.
    """
    return TempoTransaction(
        chain_id=chain_id,
        calls=tuple(calls),
        gas_limit=gas_limit,
        max_fee_per_gas=max_fee_per_gas,
        max_priority_fee_per_gas=max_fee_per_gas if max_priority_fee_per_gas is None else max_priority_fee_per_gas,
        nonce_key=EXPIRING_NONCE_KEY,
        nonce=0,
        valid_before=valid_before,
        fee_token=None if sponsored else fee_token,
        sponsored=sponsored,
    )
