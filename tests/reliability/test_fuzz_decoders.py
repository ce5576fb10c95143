"""Property-based fuzzing of everything that decodes bytes a server (or a client) controls.

Property: for ANY input, a decoder either returns a value or raises a
:class:`~grok_mpp.errors.GrokMPPError` subclass — never ``KeyError``/``IndexError``/``TypeError``/
``rlp`` or ``eth_keys`` internals. ``parse_problem`` is advisory and must never raise at all.
tests/unit/payment/test_challenge.py fuzzes the header grammar with free text; this file goes
further: structurally valid headers carrying random request JSON through the policy, credentials,
receipts, problems, JSON-RPC answers, TIP-20 calldata and Tempo transactions (random bytes, random
RLP trees and mutations of a genuinely signed transaction).
"""

from __future__ import annotations

import json
import time
from typing import Any

import rlp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grok_mpp.chains import USDCE
from grok_mpp.errors import GrokMPPError
from grok_mpp.mpp.challenge import format_challenge, parse_www_authenticate
from grok_mpp.mpp.charge import ChargeRequest
from grok_mpp.mpp.credential import build_credential, parse_credential
from grok_mpp.mpp.encoding import b64url_encode, encode_b64_json
from grok_mpp.mpp.problem import Problem, parse_problem
from grok_mpp.mpp.receipt import parse_receipt
from grok_mpp.payment.policy import PaymentPolicy, select_challenge
from grok_mpp.payment.signer import sign_payment
from grok_mpp.tempo.rpc import parse_receipt_status, quantity, rpc_result
from grok_mpp.tempo.tip20 import decode_transfer
from grok_mpp.tempo.transaction import decode_transaction
from grok_mpp.wallet import Wallet

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KEYS = st.sampled_from(
    ["amount", "currency", "recipient", "methodDetails", "chainId", "feePayer", "splits", "memo", "supportedModes",
     "status", "method", "reference", "timestamp", "challenge", "payload", "source", "id", "type", "signature",
     "result", "error", "title", "detail", "externalId", "description"]
) | st.text(max_size=8)
SCALARS = (
    st.none() | st.booleans() | st.integers(min_value=-(2**260), max_value=2**260)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=50)
    | st.sampled_from(["6000", "0", "0x" + "ab" * 20, USDCE, "0x" + "11" * 32, "4217", "success", "tempo"])
)
JSON = st.recursive(SCALARS, lambda kids: st.lists(kids, max_size=5) | st.dictionaries(KEYS, kids, max_size=6),
                    max_leaves=25)


def only_typed(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except GrokMPPError:
        return None


# --- MPP headers -----------------------------------------------------------------------------


@FUZZ
@given(JSON, st.sampled_from(["127.0.0.1", "r.example"]), st.booleans())
def test_random_request_json_through_parser_and_policy(request: Any, realm: str, with_expiry: bool) -> None:
    params = {"id": "x", "realm": realm, "method": "tempo", "intent": "charge",
              "request": encode_b64_json(request)}
    if with_expiry:
        params["expires"] = "2999-01-01T00:00:00.000Z"
    challenges = only_typed(parse_www_authenticate, [format_challenge(params)])
    if challenges:
        only_typed(select_challenge, challenges, PaymentPolicy(), host="127.0.0.1", now=time.time())


@FUZZ
@given(st.dictionaries(KEYS, JSON, max_size=8))
def test_charge_request_from_random_objects(data: dict[str, Any]) -> None:
    only_typed(ChargeRequest.from_dict, data)


@FUZZ
@given(st.text(max_size=300) | st.builds(lambda v: "Payment " + encode_b64_json(v), JSON)
       | st.builds(lambda b: "Payment " + b64url_encode(b), st.binary(max_size=200)))
def test_credential_decoder(value: str) -> None:
    only_typed(parse_credential, value)


@FUZZ
@given(st.text(max_size=300) | st.builds(encode_b64_json, JSON) | st.builds(b64url_encode, st.binary(max_size=200)))
def test_receipt_decoder(value: str) -> None:
    only_typed(parse_receipt, value)


@FUZZ
@given(st.binary(max_size=300) | st.builds(lambda v: json.dumps(v).encode(), JSON) | st.text(max_size=200),
       st.none() | st.sampled_from(["application/problem+json", "application/json", "text/html"]))
def test_problem_decoder_never_raises(body: bytes | str, content_type: str | None) -> None:
    problem = parse_problem(body, content_type)
    assert problem is None or isinstance(problem, Problem)
    if problem is not None:
        assert isinstance(problem.describe(), str) and isinstance(problem.code, str)


@FUZZ
@given(JSON)
def test_json_rpc_answers(payload: Any) -> None:
    result = only_typed(rpc_result, payload)
    only_typed(quantity, result)
    only_typed(parse_receipt_status, result)


@FUZZ
@given(st.binary(max_size=120) | st.builds(lambda b: bytes.fromhex("95777d59") + b, st.binary(max_size=100)))
def test_tip20_calldata(data: bytes) -> None:
    only_typed(decode_transfer, data)


# --- Tempo transactions ----------------------------------------------------------------------

_WALLET = Wallet.create()


def _valid_transactions() -> list[bytes]:
    """A genuinely signed 0x76 transaction and a 0x78 fee-payer envelope, built by the real signer."""
    out = []
    for fee_payer in (False, True):
        details: dict[str, Any] = {"chainId": 4217, "feePayer": fee_payer}
        header = format_challenge({
            "id": "fuzz", "realm": "127.0.0.1", "method": "tempo", "intent": "charge",
            "request": encode_b64_json({"amount": "6000", "currency": USDCE, "recipient": "0x" + "22" * 20,
                                        "methodDetails": details}),
        })
        approved = select_challenge(parse_www_authenticate([header]), PaymentPolicy(), host="127.0.0.1",
                                    now=time.time())
        signed = sign_payment(approved, _WALLET, gas_price=20_000_000_000, gas_limit=1_000_000)
        payload = parse_credential(signed.credential).payload
        out.append(bytes.fromhex(payload["signature"][2:]))
    return out


VALID = _valid_transactions()


def test_valid_transactions_decode_to_our_sender() -> None:
    for raw in VALID:
        assert decode_transaction(raw).signed.sender == _WALLET.address.lower()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "overwrite"]))
        i = draw(st.integers(0, max(len(raw) - 1, 0)))
        if kind == "flip" and raw:
            raw[i] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del raw[i:]
        elif kind == "insert":
            raw[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete" and raw:
            del raw[i : i + draw(st.integers(1, 8))]
        elif kind == "overwrite" and raw:
            chunk = draw(st.binary(min_size=1, max_size=8))
            raw[i : i + len(chunk)] = chunk
    return bytes(raw)


RLP_ITEM = st.recursive(st.binary(max_size=40), lambda kids: st.lists(kids, max_size=6), max_leaves=12)


@st.composite
def structurally_mutated(draw: st.DrawFn) -> bytes:
    """A valid transaction's RLP list with one to three fields replaced by random RLP items, so the
    decoder gets past the envelope and shape checks into field parsing and signature recovery."""
    raw = draw(st.sampled_from(VALID))
    items = rlp.decode(raw[1:])
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(items) - 1))
        items[index] = draw(RLP_ITEM | st.binary(min_size=64, max_size=64).map(lambda b: b + bytes([27])))
    if draw(st.booleans()):
        items = items[: draw(st.integers(0, len(items)))] if draw(st.booleans()) else [*items, draw(RLP_ITEM)]
    return raw[:1] + rlp.encode(items)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200) | st.builds(lambda t, b: bytes([t]) + b, st.sampled_from([0x76, 0x78]),
                                           st.binary(max_size=200)) | mutated() | structurally_mutated())
def test_decode_transaction_only_typed_errors(raw: bytes) -> None:
    decoded = only_typed(decode_transaction, raw)
    if decoded is not None:  # whatever decodes must re-encode and hash without crashing
        assert decoded.signed.tx_hash().startswith("0x")


@FUZZ
@given(mutated())
def test_mutated_credentials_through_the_credential_decoder(raw: bytes) -> None:
    """A credential whose transaction was tampered with still decodes only to typed errors."""
    value = build_credential(
        parse_www_authenticate([format_challenge({"id": "a", "realm": "r", "method": "tempo", "intent": "charge",
                                                  "request": encode_b64_json({})})])[0],
        {"type": "transaction", "signature": "0x" + raw.hex()},
        source=None,
    )
    credential = only_typed(parse_credential, value)
    if credential is not None:
        only_typed(decode_transaction, bytes.fromhex(credential.payload["signature"][2:]))
