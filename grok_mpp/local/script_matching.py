"""Matching scripted answers to requests (rules on last message, tools, model, role) and validating
them (offered tool + its schema, ``response_format`` schema, route fit) before anything is paid.

Part of :mod:`grok_mpp.local.script` (import from there).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .script_answers import (
    CODE_EXECUTION,
    IMAGE_EDIT,
    IMAGE_GENERATE,
    MESSAGE_ROUTES,
    TTS,
    WEB_SEARCH,
    X_SEARCH,
    Answer,
    ScriptError,
    ScriptMismatchError,
)

# --- matching ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Match:
    """When a rule applies. Every given condition must hold (AND); ``None`` means "any".

    ``last_message`` is a case-insensitive substring of the last message's text, or a regular
    expression when it starts with ``re:``. ``tools`` must all be among the offered function tools.
    """

    last_message: str | None = None
    tools: tuple[str, ...] | None = None
    model: str | None = None
    last_role: str | None = None

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any] | None) -> Match:
        spec = spec or {}
        unknown = set(spec) - {"last_message", "tools", "model", "last_role"}
        if unknown:
            raise ScriptError(f"unknown 'when' keys {sorted(unknown)}")
        tools = spec.get("tools")
        if isinstance(tools, str):
            tools = [tools]
        last = spec.get("last_message")
        if isinstance(last, str) and last.startswith("re:"):
            try:
                re.compile(last[3:])
            except re.error as exc:
                raise ScriptError(f"bad regular expression in last_message: {exc}") from None
        return cls(last, tuple(tools) if tools is not None else None, spec.get("model"), spec.get("last_role"))

    def matches(self, view: RequestView) -> bool:
        if self.model is not None and view.model != self.model:
            return False
        if self.last_role is not None and view.last_role != self.last_role:
            return False
        if self.tools is not None and not set(self.tools) <= set(view.tool_names):
            return False
        if self.last_message is not None:
            if self.last_message.startswith("re:"):
                return re.search(self.last_message[3:], view.last_message) is not None
            return self.last_message.lower() in view.last_message.lower()
        return True


@dataclass(slots=True)
class Rule:
    when: Match
    answer: Answer
    times: int | None = None  # None = unlimited
    used: int = 0

    @property
    def available(self) -> bool:
        return self.times is None or self.used < self.times


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
    return "" if content is None else str(content)


@dataclass(frozen=True, slots=True)
class RequestView:
    """What rules and validation look at in a wire body (pure, read-only)."""

    route: str
    body: Mapping[str, Any]
    model: str | None
    last_message: str
    last_role: str | None
    tools: Mapping[str, Mapping[str, Any]]  # name -> JSON schema of the parameters

    @property
    def tool_names(self) -> tuple[str, ...]:
        return tuple(self.tools)

    @classmethod
    def of(cls, route: str, body: Mapping[str, Any]) -> RequestView:
        messages = body.get("messages", body.get("input"))
        if isinstance(messages, str):
            messages = [{"role": "user", "content": messages}]
        last_message, last_role = "", None
        if isinstance(messages, list) and messages and isinstance(messages[-1], Mapping):
            last_message = _text_of(messages[-1].get("content"))
            last_role = str(messages[-1].get("role"))
        elif isinstance(body.get("prompt"), str):
            last_message = body["prompt"]
        elif isinstance(body.get("text"), str):
            last_message = body["text"]
        tools: dict[str, Mapping[str, Any]] = {}
        for tool in body.get("tools") or ():
            if isinstance(tool, Mapping) and tool.get("type", "function") == "function":
                function = tool.get("function", tool)
                if isinstance(function, Mapping) and isinstance(function.get("name"), str):
                    params = function.get("parameters")
                    tools[function["name"]] = params if isinstance(params, Mapping) else {}
        model = body.get("model")
        return cls(route, body, model if isinstance(model, str) else None, last_message, last_role, tools)


# --- validation -------------------------------------------------------------------------------------


def schema_errors(value: Any, schema: Mapping[str, Any]) -> list[str]:
    """Why ``value`` does not fit ``schema`` (empty when it fits).

    Uses ``jsonschema`` when installed (it is in the test extra); otherwise a small check of types,
    required keys and enums, enough to catch a script that drifted from the code under test.
    """
    try:
        import jsonschema
    except ImportError:
        return _basic_schema_errors(value, schema, "$")
    validator_cls = jsonschema.validators.validator_for(schema)
    validator = validator_cls(schema)
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '$'}: {e.message}" for e in validator.iter_errors(value)]


_TYPES: dict[str, Any] = {"object": Mapping, "array": list, "string": str, "boolean": bool, "null": type(None)}


def _basic_schema_errors(value: Any, schema: Mapping[str, Any], where: str) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        if kind in ("integer", "number"):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            ok = ok and (kind == "number" or isinstance(value, int))
        else:
            ok = isinstance(value, _TYPES.get(kind, object))
        if not ok:
            return [f"{where}: expected {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: {value!r} is not one of {schema['enum']}"]
    errors: list[str] = []
    if isinstance(value, Mapping):
        errors += [f"{where}: '{k}' is required" for k in schema.get("required", ()) if k not in value]
        for key, sub in (schema.get("properties") or {}).items():
            if key in value and isinstance(sub, Mapping):
                errors += _basic_schema_errors(value[key], sub, f"{where}/{key}")
    return errors


def _response_schema(body: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any] | None]:
    fmt = body.get("response_format")
    if not isinstance(fmt, Mapping):
        return None, None
    kind = fmt.get("type")
    wrapper = fmt.get("json_schema")
    schema = wrapper.get("schema") if isinstance(wrapper, Mapping) else fmt.get("schema")
    return (str(kind) if kind else None), (schema if isinstance(schema, Mapping) else None)


def validate(answer: Answer, view: RequestView) -> None:
    """ScriptMismatchError when ``answer`` cannot be a real answer to this request."""
    where = f"scripted answer {answer.label!r} for {view.route}"
    kind = answer.kind
    if kind in ("tool_calls", "react", "json", "text") and view.route not in MESSAGE_ROUTES:
        raise ScriptMismatchError(f"{where}: a {kind} answer cannot answer {view.route}")
    if kind == "code" and view.route != CODE_EXECUTION:
        raise ScriptMismatchError(f"{where}: a code run only answers {CODE_EXECUTION}")
    if kind == "images" and view.route not in (IMAGE_GENERATE, IMAGE_EDIT):
        raise ScriptMismatchError(f"{where}: images only answer the image routes")
    if kind == "speech" and view.route != TTS:
        raise ScriptMismatchError(f"{where}: speech only answers {TTS}")
    if "citations" in answer.spec and view.route not in (WEB_SEARCH, X_SEARCH):
        raise ScriptMismatchError(f"{where}: citations only come from the search routes")
    if kind == "tool_calls":
        choice = view.body.get("tool_choice")
        if choice == "none":
            raise ScriptMismatchError(f"{where}: the request sent tool_choice='none'")
        if not view.tools:
            raise ScriptMismatchError(f"{where}: the request offered no function tools")
        for call in answer.spec["tool_calls"]:
            name = call["name"]
            if name not in view.tools:
                raise ScriptMismatchError(
                    f"{where}: tool {name!r} was not offered; offered: {', '.join(view.tool_names)}"
                )
            errors = schema_errors(dict(call.get("arguments", {})), view.tools[name]) if view.tools[name] else []
            if errors:
                raise ScriptMismatchError(f"{where}: arguments of {name!r} do not fit its schema: {errors[0]}")
        if isinstance(choice, Mapping):
            function = choice.get("function")
            forced = function.get("name") if isinstance(function, Mapping) else choice.get("name")
            if forced and any(c["name"] != forced for c in answer.spec["tool_calls"]):
                raise ScriptMismatchError(f"{where}: tool_choice forces {forced!r}")
    if kind == "react" and "action" in answer.spec["react"] and view.tools:
        action = answer.spec["react"]["action"]
        if action not in view.tools:
            raise ScriptMismatchError(f"{where}: ReAct action {action!r} is not an offered tool")
    if kind == "json":
        fmt, schema = _response_schema(view.body)
        if fmt == "json_object" and not isinstance(answer.spec["json"], Mapping):
            raise ScriptMismatchError(f"{where}: response_format json_object needs a JSON object")
        if schema is not None:
            errors = schema_errors(answer.spec["json"], schema)
            if errors:
                raise ScriptMismatchError(f"{where}: JSON does not fit the response_format schema: {errors[0]}")
