"""Issuing and recognising ``Payment`` challenges for the local gateway (sans-I/O).

The gateway keeps no per-challenge state: like mppx and pympp servers (and, by every sign, Locus)
the challenge ``id`` is an HMAC over the other challenge parameters, so a credential proves the
challenge came from this gateway simply by echoing parameters whose HMAC still matches. The binding
input is the spec's (draft-httpauth-payment-00 section 5.1.3)::

    "|".join([realm, method, intent, request_b64url, expires, digest or "", opaque or ""])

The ``request`` mirrors what Locus sends: amount, currency, recipient and ``methodDetails.chainId``
(plus ``feePayer: true`` when the gateway sponsors gas), no ``digest``, no ``opaque``, ``expires``
as a JavaScript-style RFC 3339 timestamp with milliseconds.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from grok_mpp.mpp.encoding import b64url_encode, encode_b64_json
from grok_mpp.mpp.problem import PROBLEM_BASE

METHOD = "tempo"
INTENT = "charge"
DEFAULT_TTL_SECONDS = 300

_TITLES = {
    "payment-required": "Payment Required",
    "payment-insufficient": "Payment Insufficient",
    "payment-expired": "Payment Expired",
    "verification-failed": "Verification Failed",
    "malformed-credential": "Malformed Credential",
    "invalid-challenge": "Invalid Challenge",
    "method-unsupported": "Method Unsupported",
    "bad-request": "Bad Request",
}


def rfc3339_ms(epoch: float) -> str:
    """``2026-09-28T07:06:32.217Z``: the millisecond UTC form JavaScript servers (and Locus) emit."""
    return _format_ms(int(epoch * 1000))


def _format_ms(epoch_ms: int) -> str:
    dt = datetime.fromtimestamp(epoch_ms // 1000, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


class ChallengeIssuer:
    """Creates HMAC-bound tempo/charge challenges and checks echoed ones.

    ``secret`` never appears in ``repr``. Challenge ids are single-use, so two challenges must never
    share one: with no ``opaque`` nonce (Locus sends none) the only varying input is ``expires``, so
    the issuer makes it strictly increasing per millisecond. Two identical requests in the same
    millisecond therefore still get distinct ids, and the wire format stays Locus's.
    """

    __slots__ = (
        "__secret",
        "_last_ms",
        "_lock",
        "chain_id",
        "clock",
        "currency",
        "fee_payer",
        "realm",
        "recipient",
        "ttl_seconds",
    )

    def __init__(
        self,
        secret: bytes,
        realm: str,
        recipient: str,
        currency: str,
        chain_id: int,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        fee_payer: bool = False,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("challenge secret must be at least 16 bytes")
        self.__secret = bytes(secret)
        self.realm = realm
        self.recipient = recipient.lower()
        self.currency = currency.lower()
        self.chain_id = chain_id
        self.ttl_seconds = ttl_seconds
        self.fee_payer = fee_payer
        self.clock = clock
        self._lock = threading.Lock()
        self._last_ms = 0

    def __repr__(self) -> str:
        return (
            f"ChallengeIssuer(realm={self.realm!r}, chain_id={self.chain_id}, currency={self.currency}, "
            f"recipient={self.recipient}, fee_payer={self.fee_payer})"
        )

    def request_object(self, amount: int) -> dict[str, Any]:
        """The tempo/charge ``request`` object for ``amount`` base units."""
        if amount < 0:
            raise ValueError("amount must be >= 0 base units")
        details: dict[str, Any] = {"chainId": self.chain_id}
        if self.fee_payer:
            details["feePayer"] = True
        return {
            "amount": str(amount),
            "currency": self.currency,
            "recipient": self.recipient,
            "methodDetails": details,
        }

    def challenge_id(self, params: Mapping[str, Any]) -> str:
        """base64url(HMAC-SHA256(secret, binding input)) over the given challenge parameters."""

        def field(name: str) -> str:
            value = params.get(name)
            return value if isinstance(value, str) else ""

        binding = "|".join(
            [
                field("realm"),
                field("method"),
                field("intent"),
                field("request"),
                field("expires"),
                field("digest"),
                field("opaque"),
            ]
        )
        return b64url_encode(hmac.new(self.__secret, binding.encode("utf-8"), hashlib.sha256).digest())

    def issue(self, amount: int, *, http_method: str, path: str, now: float | None = None) -> dict[str, str]:
        """Parameters of a fresh challenge, in Locus's order (``format_challenge`` serializes them).

        ``http_method`` is accepted for symmetry with servers that scope challenges to a route; like
        Locus, the request object does not carry it, so the paid retry is bound through the price.
        """
        del http_method
        issued = self.clock() if now is None else now
        with self._lock:
            expires_ms = max(int((issued + self.ttl_seconds) * 1000), self._last_ms + 1)
            self._last_ms = expires_ms
        params = {
            "realm": self.realm,
            "method": METHOD,
            "intent": INTENT,
            "request": encode_b64_json(self.request_object(amount), canonical=True),
            "description": f"grok-mpp local gateway: {path}",
            "expires": _format_ms(expires_ms),
        }
        return {"id": self.challenge_id(params), **params}

    def verify_binding(self, echo: Mapping[str, Any]) -> bool:
        """True when the echoed ``id`` is this gateway's HMAC of the echoed parameters (constant time)."""
        cid = echo.get("id")
        if not isinstance(cid, str) or not cid:
            return False
        for name in ("realm", "method", "intent", "request"):
            if not isinstance(echo.get(name), str):
                return False
        return hmac.compare_digest(cid.encode("utf-8"), self.challenge_id(echo).encode("utf-8"))


def problem(code: str, detail: str, *, status: int = 402, **extra: Any) -> dict[str, Any]:
    """An RFC 9457 body with the Payment scheme's problem type URI."""
    return {
        "type": PROBLEM_BASE + code,
        "title": _TITLES.get(code, code.replace("-", " ").title()),
        "status": status,
        "detail": detail,
        **extra,
    }


def payment_required(
    challenge: Mapping[str, str], *, code: str = "payment-required", detail: str | None = None
) -> dict[str, Any]:
    """The problem body that accompanies a 402 challenge (``challengeId`` names the new challenge)."""
    text = detail if detail is not None else f'Payment is required for "{challenge["realm"]}".'
    return problem(code, text, status=402, challengeId=challenge["id"])
