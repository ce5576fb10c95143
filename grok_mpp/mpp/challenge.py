"""Parsing ``WWW-Authenticate: Payment`` challenges (sans-I/O).

A 402 may carry several challenges: several header lines, several challenges comma-joined in one
line (RFC 9110 section 11.6.1), or both, possibly mixed with other schemes. This module splits them
with quote awareness, keeps the ORIGINAL ``request``/``opaque`` strings (they are echoed byte for byte,
never re-encoded, because the server's HMAC id covers them) and rejects the malformed ones with
:class:`~grok_mpp.errors.ChallengeParseError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from grok_mpp.errors import ChallengeParseError
from grok_mpp.mpp.encoding import decode_b64_json

MAX_HEADER_BYTES = 64 * 1024
MAX_REQUEST_PARAM_BYTES = 32 * 1024
MAX_CHALLENGES = 16

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"  # noqa: S105 - RFC 9110 token grammar, not a secret
_PARAM_START = re.compile(rf"^\s*({_TOKEN})\s*=")
_SCHEME = re.compile(rf"^\s*({_TOKEN})(?:\s+(.*))?$", re.S)
_METHOD = re.compile(r"^[a-z][a-z0-9:_-]*$")
_INTENT = re.compile(r"^[A-Za-z0-9-]+$")
_REQUIRED = ("id", "realm", "method", "intent", "request")
_ECHOED = ("id", "realm", "method", "intent", "request", "expires", "digest", "opaque", "description", "header")


@dataclass(frozen=True, slots=True)
class Challenge:
    """One ``Payment`` challenge. String fields are exactly as the server sent them."""

    id: str
    realm: str
    method: str
    intent: str
    request: str
    request_data: dict[str, Any]
    expires: str | None = None
    expires_at: datetime | None = None
    digest: str | None = None
    opaque: str | None = None
    description: str | None = None
    header: str | None = None
    params: dict[str, str] = field(default_factory=dict, repr=False)

    def echo(self) -> dict[str, str]:
        """The ``challenge`` object of a credential: every known field the server sent, unchanged."""
        return {k: self.params[k] for k in _ECHOED if k in self.params}

    @property
    def credential_header(self) -> str:
        """Header the credential goes in: ``Authorization`` unless the challenge names another."""
        return self.header or "Authorization"

    def seconds_left(self, now: float) -> float | None:
        return None if self.expires_at is None else self.expires_at.timestamp() - now


def parse_rfc3339(value: str) -> datetime:
    """RFC 3339 timestamp with Z or offset, any fractional precision (ms from JS, us from Python)."""
    text = value.strip()
    if not re.match(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$", text):
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}")
    if text[-1] in "Zz":
        text = text[:-1] + "+00:00"
    main, _, rest = text.partition(".")
    if rest:  # fromisoformat wants at most 6 fractional digits
        digits = re.match(r"\d+", rest)
        assert digits is not None
        frac = digits.group(0)
        text = f"{main}.{(frac + '000000')[:6]}{rest[len(frac):]}"
    dt = datetime.fromisoformat(text)
    return dt.astimezone(UTC)


_PIECE = re.compile(r'"(?:[^"\\]|\\.)*"|[^",]+|,', re.S)
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"\s*', re.S)
_ESCAPE = re.compile(r"\\(.)", re.S)


def _split_top_level(value: str) -> list[str]:
    """Split on commas that are not inside a quoted-string (backslash escapes honoured).

    One regex pass (quoted strings, runs without quotes or commas, commas) instead of a Python
    loop per character: headers are parsed on every paid call.
    """
    parts: list[str] = []
    buf: list[str] = []
    pos = 0
    for m in _PIECE.finditer(value):
        if m.start() != pos:  # an unmatched '"': a quoted-string that never ends
            break
        pos = m.end()
        if m.group(0) == ",":
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(m.group(0))
    if pos != len(value):
        raise ChallengeParseError("unterminated quoted-string in WWW-Authenticate")
    parts.append("".join(buf))
    return parts


def _parse_param(piece: str) -> tuple[str, str]:
    m = _PARAM_START.match(piece)
    if not m:
        raise ChallengeParseError(f"malformed auth-param {piece.strip()[:60]!r}")
    name = m.group(1).lower()
    rest = piece[m.end() :].strip()
    if rest.startswith('"'):
        q = _QUOTED.match(rest)
        if q is None:
            raise ChallengeParseError(f"unterminated quoted value for {name!r}")
        if q.end() != len(rest):
            raise ChallengeParseError(f"unexpected text after quoted value of {name!r}")
        return name, _ESCAPE.sub(r"\1", q.group(1))
    if not re.fullmatch(_TOKEN, rest):
        raise ChallengeParseError(f"value of {name!r} is neither a token nor a quoted-string")
    return name, rest


_FAST_PARAM = re.compile(rf'[ \t]*({_TOKEN})[ \t]*=[ \t]*(?:"((?:[^"\\]|\\.)*)"|({_TOKEN}))[ \t]*(?:,|$)', re.S)
_FAST_SCHEME = re.compile(rf"[ \t]*({_TOKEN})(?:[ \t]+|[ \t]*(?:,|$))")
_FAST_SKIP = re.compile(r"[ \t]*(?:,|$)")

Params = list[tuple[str, str]]


def _unquote(quoted: str | None, token: str) -> str:
    if quoted is None:
        return token
    return _ESCAPE.sub(r"\1", quoted) if "\\" in quoted else quoted


def _fast_groups(values: list[str]) -> list[tuple[str, Params]] | None:
    """Single regex pass over well-formed headers: [(scheme, [(name, value), ...])].

    Returns None at the first thing it does not recognise; the careful piecewise parser then
    re-reads the header and raises a precise error (or handles exotic forms such as token68).
    """
    groups: list[tuple[str, Params]] = []
    for value in values:
        pos, end = 0, len(value)
        after_scheme = False  # "scheme SP" must be followed by an auth-param, never a bare token
        while pos < end:
            m = _FAST_PARAM.match(value, pos)
            if m is not None:
                after_scheme = False
                if not groups:
                    return None
                groups[-1][1].append((m.group(1).lower(), _unquote(m.group(2), m.group(3))))
            elif not after_scheme and (m := _FAST_SCHEME.match(value, pos)) is not None and m.end() > pos:
                groups.append((m.group(1), []))
                after_scheme = value[m.end() - 1] in " \t"
            elif (m := _FAST_SKIP.match(value, pos)) is not None and m.end() > pos:
                after_scheme = False
            else:
                return None
            pos = m.end()
    return groups


def _slow_groups(values: list[str]) -> list[tuple[str, Params]]:
    return [
        (scheme, [_parse_param(p) for p in pieces] if scheme.lower() == "payment" else [])
        for scheme, pieces in _raw_challenges(values)
    ]


def _raw_challenges(values: Iterable[str]) -> list[tuple[str, list[str]]]:
    """Group comma-separated pieces into (scheme, [param pieces]) across all header lines."""
    out: list[tuple[str, list[str]]] = []
    for value in values:
        for piece in _split_top_level(value):
            if not piece.strip():
                continue
            if _PARAM_START.match(piece):
                if not out:
                    raise ChallengeParseError("auth-param before any scheme in WWW-Authenticate")
                out[-1][1].append(piece)
                continue
            m = _SCHEME.match(piece)
            if not m:
                raise ChallengeParseError(f"malformed challenge {piece.strip()[:60]!r}")
            out.append((m.group(1), [m.group(2)] if m.group(2) and m.group(2).strip() else []))
    return out


def _build(params: dict[str, str]) -> Challenge:
    for name in _REQUIRED:
        if not params.get(name):
            raise ChallengeParseError(f"Payment challenge lacks required parameter {name!r}")
    if not _METHOD.match(params["method"]):
        raise ChallengeParseError(f"invalid payment method {params['method'][:40]!r}")
    if not _INTENT.match(params["intent"]):
        raise ChallengeParseError(f"invalid payment intent {params['intent'][:40]!r}")
    if len(params["request"]) > MAX_REQUEST_PARAM_BYTES:
        raise ChallengeParseError("challenge request parameter is too large")
    try:
        request_data = decode_b64_json(params["request"])
    except ValueError as exc:
        raise ChallengeParseError(f"challenge request is not base64url JSON: {exc}") from exc
    if not isinstance(request_data, dict):
        raise ChallengeParseError("challenge request must be a JSON object")
    if "opaque" in params:
        try:
            decode_b64_json(params["opaque"])
        except ValueError as exc:
            raise ChallengeParseError(f"challenge opaque is not base64url JSON: {exc}") from exc
    expires_at = None
    if "expires" in params:
        try:
            expires_at = parse_rfc3339(params["expires"])
        except ValueError as exc:
            raise ChallengeParseError(str(exc)) from exc
    return Challenge(
        id=params["id"],
        realm=params["realm"],
        method=params["method"],
        intent=params["intent"],
        request=params["request"],
        request_data=request_data,
        expires=params.get("expires"),
        expires_at=expires_at,
        digest=params.get("digest"),
        opaque=params.get("opaque"),
        description=params.get("description"),
        header=params.get("header"),
        params=dict(params),
    )


def parse_www_authenticate(values: Iterable[str]) -> list[Challenge]:
    """All ``Payment`` challenges in the given header values, in order.

    Other schemes are skipped. A malformed ``Payment`` challenge (duplicate or missing parameter,
    bad base64/JSON, bad timestamp) raises ChallengeParseError: a client must not guess at what a
    payment request means.
    """
    values = list(values)
    if sum(len(v) for v in values) > MAX_HEADER_BYTES:
        raise ChallengeParseError(f"WWW-Authenticate is larger than {MAX_HEADER_BYTES} bytes")
    challenges: list[Challenge] = []
    groups = _fast_groups(values)
    if groups is None:
        groups = _slow_groups(values)
    for scheme, pairs in groups:
        if scheme.lower() != "payment":
            continue
        params: dict[str, str] = {}
        for name, value in pairs:
            if name in params:
                raise ChallengeParseError(f"duplicate parameter {name!r} in Payment challenge")
            params[name] = value
        challenges.append(_build(params))
        if len(challenges) > MAX_CHALLENGES:
            raise ChallengeParseError(f"more than {MAX_CHALLENGES} Payment challenges")
    return challenges


def format_challenge(params: dict[str, str]) -> str:
    """Serialize a challenge (server side: the local gateway), quoting every value."""

    def q(v: str) -> str:
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return "Payment " + ", ".join(f"{k}={q(v)}" for k, v in params.items())
