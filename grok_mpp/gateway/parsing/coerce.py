"""Type-checked reads of untrusted JSON: a wrong type becomes a neutral value, never an exception."""

from __future__ import annotations

import json
from typing import Any


def _int(value: Any) -> int:
    """Non-negative int from a JSON number; anything else is 0 (usage fields are advisory)."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, float) and value.is_integer():
        return max(int(value), 0)
    return 0


def _opt_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if float(value).is_integer() else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def parse_json_arguments(raw: Any) -> tuple[dict[str, Any], str]:
    """``(arguments, raw_arguments)`` from a tool call's ``arguments`` (JSON string or object).

    Invalid JSON, or JSON that is not an object, yields ``{}`` with the raw text kept, so a model's
    malformed call can be shown and answered instead of crashing the parse.
    """
    if isinstance(raw, dict):
        return raw, json.dumps(raw, separators=(",", ":"), ensure_ascii=False)
    if not isinstance(raw, str):
        return {}, "" if raw is None else json.dumps(raw)
    try:
        parsed = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return {}, raw
    return (parsed if isinstance(parsed, dict) else {}), raw
