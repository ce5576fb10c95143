"""``Authorization: Payment <base64url JSON>`` credentials: build (client) and parse (local gateway)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grok_mpp.errors import CredentialParseError
from grok_mpp.mpp.challenge import Challenge
from grok_mpp.mpp.encoding import decode_b64_json, encode_b64_json

MAX_CREDENTIAL_BYTES = 64 * 1024


def build_credential(challenge: Challenge, payload: dict[str, Any], *, source: str | None) -> str:
    """The header value ``Payment <b64url>``. It is a bearer secret: never log it."""
    body: dict[str, Any] = {"challenge": challenge.echo(), "payload": payload}
    if source:
        body["source"] = source
    return "Payment " + encode_b64_json(body)


def did_pkh(chain_id: int, address: str) -> str:
    return f"did:pkh:eip155:{chain_id}:{address}"


@dataclass(frozen=True, slots=True)
class ParsedCredential:
    challenge: dict[str, Any]
    payload: dict[str, Any]
    source: str | None

    def __repr__(self) -> str:  # the payload is a signed transaction: keep it out of logs
        return f"ParsedCredential(challenge_id={self.challenge.get('id')!r}, source={self.source!r})"


def parse_credential(header_value: str) -> ParsedCredential:
    value = header_value.strip()
    if len(value) > MAX_CREDENTIAL_BYTES:
        raise CredentialParseError("credential is too large")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "payment" or not token.strip():
        raise CredentialParseError("credential must use the Payment scheme")
    try:
        data = decode_b64_json(token.strip())
    except ValueError as exc:
        raise CredentialParseError(f"credential is not base64url JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CredentialParseError("credential must be a JSON object")
    challenge, payload, source = data.get("challenge"), data.get("payload"), data.get("source")
    if not isinstance(challenge, dict) or not isinstance(payload, dict):
        raise CredentialParseError("credential needs challenge and payload objects")
    if source is not None and not isinstance(source, str):
        raise CredentialParseError("credential source must be a string")
    return ParsedCredential(challenge=challenge, payload=payload, source=source)
