"""Full server-side verification of a tempo/charge credential (pure: no I/O, no clock, no state).

Everything a strict MPP server checks before it broadcasts a payer's transaction, so the local gateway
refuses exactly what Locus / mppx / pympp would refuse and a client bug shows up offline instead of as
lost money on mainnet:

* the challenge is ours (HMAC), unexpired, tempo/charge in our realm;
* its amount is the price of the request being paid for NOW (a different body on the paid retry is a
  different price: the credential cannot be moved to another request);
* the payload is a decodable, correctly signed 0x76 transaction (0x78 envelope when we sponsor gas);
* chain id, expiring nonce (``nonce_key = 2**256-1``, ``nonce = 0``), ``valid_before`` in
  ``(now+3, now+30]`` (the Tempo pool's window);
* exactly one call: ``transferWithMemo`` on the charge currency to our recipient for the exact
  amount, with the MPP attribution memo bound to this challenge id and realm;
* fee token = currency when the payer pays gas; gas limit and max fee high enough to land;
* ``source`` names the recovered signer; the transaction and the challenge were not used before.

Replay state is consulted through the small :class:`ReplayView` protocol; marking a payment as used
happens atomically in the caller (:class:`ReplayGuard.claim`), after verification succeeded.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any, Protocol

from grok_mpp.errors import ChallengeParseError, GrokMPPError, TransactionDecodeError
from grok_mpp.mpp.challenge import parse_rfc3339
from grok_mpp.mpp.charge import ChargeRequest
from grok_mpp.mpp.credential import ParsedCredential
from grok_mpp.mpp.encoding import decode_b64_json
from grok_mpp.tempo.memo import memo_matches
from grok_mpp.tempo.tip20 import TRANSFER_WITH_MEMO, decode_transfer
from grok_mpp.tempo.transaction import (
    EXPIRING_NONCE_KEY,
    FEE_PAYER_ENVELOPE_TYPE,
    TEMPO_TX_TYPE,
    SignedTempoTransaction,
    decode_transaction,
)

from .challenges import INTENT, METHOD, ChallengeIssuer

MIN_VALID_BEFORE_LEAD = 3  # the pool rejects valid_before <= now + 3 s
MAX_VALID_BEFORE_LEAD = 30  # expiring nonces may not be more than 30 s ahead
_HEX = re.compile(r"^0x(?:[0-9a-fA-F]{2})+$")
_DID = re.compile(r"^did:pkh:eip155:(\d+):(0x[0-9a-fA-F]{40})$")


class VerificationError(GrokMPPError):
    """A credential the gateway refuses. ``code`` is the problem type (``verification-failed``...)."""

    def __init__(self, code: str, detail: str) -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {detail}")


@dataclass(frozen=True, slots=True)
class VerifiedPayment:
    """A credential that passed every check: what settlement needs. Holds no credential string."""

    payer: str
    signed: SignedTempoTransaction
    tx_hash: str
    sponsored: bool
    challenge_id: str
    amount: int
    currency: str
    recipient: str
    valid_before: int

    def __repr__(self) -> str:
        return f"VerifiedPayment(payer={self.payer}, tx_hash={self.tx_hash}, amount={self.amount})"


class ReplayView(Protocol):
    """Read-only view of used challenges and transactions."""

    def challenge_used(self, challenge_id: str) -> bool: ...

    def tx_used(self, tx_hash: str) -> bool: ...


class ReplayGuard:
    """Thread-safe record of used challenge ids and transaction hashes.

    Entries are kept until their challenge has expired and the transaction's ``valid_before`` has
    passed: after that neither can verify again anyway, so forgetting them is safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._challenges: dict[str, float] = {}
        self._txs: dict[str, float] = {}

    def challenge_used(self, challenge_id: str) -> bool:
        with self._lock:
            return challenge_id in self._challenges

    def tx_used(self, tx_hash: str) -> bool:
        with self._lock:
            return tx_hash.lower() in self._txs

    def claim(self, challenge_id: str, tx_hash: str, *, keep_until: float, now: float) -> None:
        """Atomically mark both as used; VerificationError if another request got there first."""
        with self._lock:
            if challenge_id in self._challenges:
                raise VerificationError("invalid-challenge", "challenge has already been used")
            if tx_hash.lower() in self._txs:
                raise VerificationError("verification-failed", "transaction has already been used (replay)")
            self._challenges[challenge_id] = keep_until
            self._txs[tx_hash.lower()] = keep_until
            if len(self._challenges) % 256 == 0:
                self._challenges = {k: t for k, t in self._challenges.items() if t > now}
                self._txs = {k: t for k, t in self._txs.items() if t > now}


def _fail(detail: str, code: str = "verification-failed") -> VerificationError:
    return VerificationError(code, detail)


def _check_challenge(echo: dict[str, Any], issuer: ChallengeIssuer, now: float) -> tuple[str, ChargeRequest]:
    if not issuer.verify_binding(echo):
        raise _fail("unknown or forged challenge id (HMAC does not match)", "invalid-challenge")
    if echo["realm"] != issuer.realm:
        raise _fail(f"challenge realm {echo['realm']!r} is not this gateway's", "invalid-challenge")
    if echo["method"] != METHOD or echo["intent"] != INTENT:
        raise _fail(f"challenge {echo['method']}/{echo['intent']} is not tempo/charge", "invalid-challenge")
    expires = echo.get("expires")
    if not isinstance(expires, str):
        raise _fail("challenge has no expiry", "invalid-challenge")
    try:
        expires_at = parse_rfc3339(expires).timestamp()
    except ValueError as exc:
        raise _fail(f"challenge expiry is malformed: {exc}", "invalid-challenge") from None
    if now >= expires_at:
        raise _fail(f"challenge expired at {expires}", "payment-expired")
    try:
        charge = ChargeRequest.from_dict(decode_b64_json(echo["request"]))
    except (ValueError, ChallengeParseError) as exc:
        raise _fail(f"challenge request is malformed: {exc}", "invalid-challenge") from None
    return echo["id"], charge


def _decode_payload(payload: dict[str, Any]) -> tuple[SignedTempoTransaction, int]:
    if payload.get("type") != "transaction":
        raise _fail(f"payload type {str(payload.get('type'))[:20]!r} is not supported (only 'transaction')")
    signature = payload.get("signature")
    if not isinstance(signature, str) or not _HEX.match(signature):
        raise _fail("payload signature is not 0x-prefixed hex", "malformed-credential")
    raw = bytes.fromhex(signature[2:])
    if raw[0] not in (TEMPO_TX_TYPE, FEE_PAYER_ENVELOPE_TYPE):
        raise _fail(f"transaction type 0x{raw[0]:02x} is not a Tempo transaction (0x76) or fee-payer envelope (0x78)")
    try:
        decoded = decode_transaction(raw)
    except TransactionDecodeError as exc:
        raise _fail(f"transaction does not decode: {exc.message}", "malformed-credential") from None
    return decoded.signed, decoded.envelope_type


def verify(
    credential: ParsedCredential,
    issuer: ChallengeIssuer,
    *,
    expected_amount: int,
    now: float,
    replay: ReplayView,
    gas_price: int = 0,
    min_gas_limit: int = 0,
) -> VerifiedPayment:
    """Verify ``credential`` for a request whose current price is ``expected_amount`` base units.

    ``gas_price`` and ``min_gas_limit`` are the chain's current values: a transaction whose max fee or
    gas limit is below them could never be included, so it is refused before anything settles.
    Raises :class:`VerificationError` with the problem code for the first failed check.
    """
    challenge_id, charge = _check_challenge(credential.challenge, issuer, now)
    if replay.challenge_used(challenge_id):
        raise _fail("challenge has already been used", "invalid-challenge")
    if (charge.currency, charge.recipient, charge.chain_id) != (issuer.currency, issuer.recipient, issuer.chain_id):
        raise _fail("challenge request does not match this gateway's currency, recipient or chain", "invalid-challenge")
    if charge.amount != expected_amount:
        raise _fail(
            f"challenge amount {charge.amount} does not match the price {expected_amount} of this request "
            "(was the body changed after the challenge?)"
        )

    signed, envelope = _decode_payload(credential.payload)
    tx = signed.tx
    if tx.chain_id != issuer.chain_id:
        raise _fail(f"transaction chain id {tx.chain_id} is not {issuer.chain_id}")
    if tx.nonce_key != EXPIRING_NONCE_KEY or tx.nonce != 0:
        raise _fail("transaction must use an expiring nonce (nonce_key 2**256-1, nonce 0)")
    if tx.valid_before is None or not now + MIN_VALID_BEFORE_LEAD < tx.valid_before <= now + MAX_VALID_BEFORE_LEAD:
        raise _fail(
            f"valid_before {tx.valid_before} must be within ({MIN_VALID_BEFORE_LEAD}, {MAX_VALID_BEFORE_LEAD}] s from now"
        )
    if tx.valid_after is not None and tx.valid_after > now:
        raise _fail("transaction is not valid yet (valid_after is in the future)")
    if tx.gas_limit < min_gas_limit:
        raise _fail(f"gas limit {tx.gas_limit} is below the {min_gas_limit} a transfer needs")
    if tx.max_fee_per_gas < gas_price:
        raise _fail(f"max fee per gas {tx.max_fee_per_gas} is below the network gas price {gas_price}")

    if len(tx.calls) != 1:
        raise _fail(f"transaction must contain exactly one call, found {len(tx.calls)}")
    call = tx.calls[0]
    if call.to.lower() != issuer.currency:
        raise _fail(f"call targets {call.to}, not the charge currency {issuer.currency}")
    if call.value != 0:
        raise _fail("call must not transfer native value")
    if call.data[:4] != TRANSFER_WITH_MEMO:
        raise _fail("call is not transferWithMemo (a plain transfer is not bound to this challenge)")
    try:
        transfer = decode_transfer(call.data)
    except TransactionDecodeError as exc:
        raise _fail(exc.message) from None
    if transfer.to.lower() != issuer.recipient:
        raise _fail(f"transfer recipient {transfer.to} is not {issuer.recipient}")
    if transfer.amount != charge.amount:
        raise _fail(f"transfer amount {transfer.amount} is not the charged {charge.amount}")
    if transfer.memo is None or not memo_matches(transfer.memo, challenge_id, issuer.realm):
        raise _fail("memo is not bound to this challenge")

    if charge.fee_payer:
        if envelope != FEE_PAYER_ENVELOPE_TYPE:
            raise _fail("this challenge is sponsored: send the 0x78 fee-payer envelope")
    else:
        if envelope != TEMPO_TX_TYPE or tx.sponsored:
            raise _fail("this challenge is not sponsored: send a self-paid 0x76 transaction")
        if tx.fee_token is None or tx.fee_token.lower() != issuer.currency:
            raise _fail(f"fee token {tx.fee_token} must be the charge currency {issuer.currency}")

    if credential.source is not None:
        m = _DID.match(credential.source)
        if not m or int(m.group(1)) != issuer.chain_id or m.group(2).lower() != signed.sender:
            raise _fail("credential source does not name the transaction's signer")

    tx_hash = signed.tx_hash()
    if replay.tx_used(tx_hash):
        raise _fail("transaction has already been used (replay)")
    return VerifiedPayment(
        payer=signed.sender,
        signed=signed,
        tx_hash=tx_hash,
        sponsored=charge.fee_payer,
        challenge_id=challenge_id,
        amount=charge.amount,
        currency=charge.currency,
        recipient=charge.recipient,
        valid_before=tx.valid_before,
    )
