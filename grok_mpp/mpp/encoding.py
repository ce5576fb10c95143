"""base64url without padding and the JSON encodings the Payment scheme uses.

The scheme transports JSON as unpadded base64url. Decoders accept padded and unpadded input (servers
differ) but reject anything outside the base64url alphabet, so a hostile header cannot smuggle
standard-base64 or whitespace tricks past the parser.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

_B64URL = re.compile(r"^[A-Za-z0-9_-]*={0,2}$")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding; raise ValueError on anything else."""
    if not isinstance(text, str) or not _B64URL.match(text):
        raise ValueError("not base64url")
    stripped = text.rstrip("=")
    if len(stripped) % 4 == 1:
        raise ValueError("base64url has an impossible length")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except binascii.Error as exc:  # pragma: no cover - the regex already screens most of these
        raise ValueError(str(exc)) from exc


def canonical_json(value: Any) -> bytes:
    """JSON Canonicalization (RFC 8785) for the subset MPP uses: objects, arrays, strings, ints, bools.

    Keys sorted by UTF-16 code units, no whitespace, ints as plain digits. Floats are refused because
    amounts are strings of base units and a float in a payment request is a bug.
    """

    def enc(v: Any) -> str:
        if v is None or isinstance(v, bool):
            return json.dumps(v)
        if isinstance(v, int):
            return str(v)
        if isinstance(v, float):
            raise TypeError("floats are not allowed in canonical payment JSON")
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, list | tuple):
            return "[" + ",".join(enc(x) for x in v) + "]"
        if isinstance(v, dict):
            items = sorted(v.items(), key=lambda kv: kv[0].encode("utf-16-be"))
            return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + enc(x) for k, x in items) + "}"
        raise TypeError(f"cannot canonicalize {type(v).__name__}")

    return enc(value).encode("utf-8")


def decode_b64_json(text: str) -> Any:
    """base64url -> JSON value; ValueError on bad base64, bad UTF-8 or bad JSON."""
    raw = b64url_decode(text)
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from exc


def encode_b64_json(value: Any, *, canonical: bool = False) -> str:
    raw = canonical_json(value) if canonical else json.dumps(value, separators=(",", ":")).encode()
    return b64url_encode(raw)
