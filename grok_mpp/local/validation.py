"""Validate a JSON body as the gateway receives it, with the client's own request models.

Locus validates the body BEFORE it issues a challenge (a malformed request costs nothing), so the
local gateway does too. The request models in :mod:`grok_mpp.gateway.requests` describe the Python
side; a few wire keys are placed differently (search filters under ``search_parameters``, the edit
source as ``{"image": {"url": ...}}``, TTS codec options under ``output_format``). This module maps
those back onto model fields and hands every other unknown key to ``extra_body``, which the models
accept verbatim, so anything the client can send validates, and anything the models reject is a 400.
"""

from __future__ import annotations

import json
from typing import Any

from grok_mpp.errors import InvalidRequestError
from grok_mpp.gateway.requests import REQUEST_TYPES, GrokRequest

MAX_BODY_BYTES = 16 * 1024 * 1024
#: Deeper JSON is refused before parsing: the C parser's recursion guard follows the interpreter's
#: recursion limit, which libraries (hypothesis, nltk) raise process-wide, and a server thread's C
#: stack then overflows (a segfault, measured with 100k-deep arrays), not a RecursionError.
MAX_JSON_DEPTH = 256


def json_too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``raw`` nests arrays/objects deeper than ``limit`` (strings are skipped)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


class BadRequestError(Exception):
    """The body is not a valid request for the route (answered with HTTP 400, nothing charged)."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


def _spread(kwargs: dict[str, Any], extra: dict[str, Any], key: str, value: Any, fields: set[str]) -> None:
    """Move the keys of a nested wire object that are model fields up to the top level."""
    if not isinstance(value, dict):
        extra[key] = value
        return
    rest = {k: v for k, v in value.items() if k not in fields}
    kwargs.update({k: v for k, v in value.items() if k in fields})
    if rest:
        extra[key] = rest


def wire_to_fields(cls: type[GrokRequest], body: dict[str, Any]) -> dict[str, Any]:
    """Model keyword arguments for a wire body (unknown keys go to ``extra_body``)."""
    fields = set(cls.model_fields) - {"extra_body"}
    kwargs: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in body.items():
        nested_filters = key == "search_parameters" and bool(fields & {"allowed_domains", "allowed_x_handles"})
        if nested_filters or (key == "output_format" and "codec" in fields):
            _spread(kwargs, extra, key, value, fields)
        elif key == "image" and "image" in fields and isinstance(value, dict) and isinstance(value.get("url"), str):
            kwargs["image"] = value["url"]
        elif key == "images" and "image" in fields and isinstance(value, list):  # several 2.0 edit sources
            kwargs["image"] = [v.get("url") if isinstance(v, dict) else v for v in value]
        elif key in fields:
            kwargs[key] = value
        else:
            extra[key] = value
    if extra:
        kwargs["extra_body"] = extra
    return kwargs


def parse_request(endpoint: str, raw: bytes) -> tuple[dict[str, Any], GrokRequest]:
    """(wire body, validated request model) for ``endpoint``; BadRequestError on anything invalid."""
    cls = REQUEST_TYPES.get(endpoint)
    if cls is None:
        raise BadRequestError(f"unknown route {endpoint}")
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequestError("request body is too large")
    if json_too_deep(raw):
        raise BadRequestError(f"request body is not valid JSON: nested too deeply (limit {MAX_JSON_DEPTH})")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # incl. UnicodeDecodeError, >4300-digit ints, deep nesting
        detail = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:200]
        raise BadRequestError(f"request body is not valid JSON: {detail}") from None
    if not isinstance(body, dict):
        raise BadRequestError("request body must be a JSON object")
    try:
        request = cls.model_validate(wire_to_fields(cls, body))
    except InvalidRequestError as exc:
        raise BadRequestError(exc.message) from None
    except (TypeError, ValueError, RecursionError) as exc:  # a hostile body must not become a 500
        raise BadRequestError(f"invalid request: {exc}") from None
    return body, request
