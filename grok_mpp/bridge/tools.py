"""Tool choice and structured-output request pieces in the OpenAI shape the gateway accepts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from grok_mpp.errors import InvalidRequestError


def tool_names(tools: Sequence[dict[str, Any]]) -> list[str]:
    return [t.get("function", {}).get("name", "") for t in tools if t.get("type") == "function"]


def normalize_tool_choice(choice: Any, tools: Sequence[dict[str, Any]]) -> Any:
    """Framework spellings -> gateway spelling.

    ``"any"``/``"required"``/``True`` -> ``"required"`` (True with one tool -> that tool); a bare tool
    name -> a named function choice; ``"auto"``/``"none"``/None unchanged; dicts pass through.
    """
    names = tool_names(tools)
    if choice is None or choice in ("auto", "none"):
        return choice
    if choice is True:
        return {"type": "function", "function": {"name": names[0]}} if len(names) == 1 else "required"
    if choice in ("any", "required"):
        return "required"
    if isinstance(choice, str):
        if choice not in names:
            raise InvalidRequestError(f"tool_choice {choice!r} is not one of the bound tools {names}")
        return {"type": "function", "function": {"name": choice}}
    if isinstance(choice, dict):
        return choice
    raise InvalidRequestError(f"unsupported tool_choice {choice!r}: use 'auto', 'any', 'none' or a tool name")


def json_schema_response_format(schema: dict[str, Any], *, name: str | None = None, strict: bool | None = None) -> dict[str, Any]:
    """``response_format`` asking for JSON that matches ``schema``."""
    spec: dict[str, Any] = {"name": name or str(schema.get("title") or "response"), "schema": schema}
    if strict is not None:
        spec["strict"] = strict
    return {"type": "json_schema", "json_schema": spec}


JSON_MODE = {"type": "json_object"}
