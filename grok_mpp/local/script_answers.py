"""Scripted answers: the route names, the answer kinds and their builders (``text``, ``tool_call``...).

Part of :mod:`grok_mpp.local.script` (import from there); split out so each file holds one idea:
what an answer is, here; how it is matched and validated against a request,
:mod:`grok_mpp.local.script_matching`; the per-route queues and rules, :mod:`grok_mpp.local.script`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from grok_mpp.errors import ConfigurationError

from .faults import Fault, FaultMode, FaultParseError, parse_fault

CHAT = "/grok/chat"
CODE_EXECUTION = "/grok/code-execution"
WEB_SEARCH = "/grok/web-search"
X_SEARCH = "/grok/x-search"
IMAGE_GENERATE = "/grok/image-generate"
IMAGE_EDIT = "/grok/image-edit"
TTS = "/grok/tts"
ROUTES: tuple[str, ...] = (CHAT, CODE_EXECUTION, WEB_SEARCH, X_SEARCH, IMAGE_GENERATE, IMAGE_EDIT, TTS)
#: Routes whose requests carry messages (and so may carry function tools and response formats).
MESSAGE_ROUTES = frozenset({CHAT, CODE_EXECUTION, WEB_SEARCH, X_SEARCH})
FALLBACKS = ("error", "synthetic")


class ScriptError(ConfigurationError):
    """The script itself is malformed (raised when it is built or loaded)."""


class ScriptRequestError(Exception):
    """A request the script cannot answer; the gateway turns it into HTTP 409 before any challenge."""

    code = "script-error"

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


class ScriptExhaustedError(ScriptRequestError):
    """No rule matches and the route's queue is empty."""

    code = "script-exhausted"


class ScriptMismatchError(ScriptRequestError):
    """The next scripted answer does not fit the request (unknown tool, JSON off-schema, wrong route)."""

    code = "script-mismatch"


def route_name(route: str) -> str:
    """``chat`` / ``grok/chat`` / ``/grok/chat`` -> ``/grok/chat``; ScriptError for unknown routes."""
    name = route.strip().strip("/")
    full = "/" + (name if name.startswith("grok/") else f"grok/{name}")
    if full not in ROUTES:
        raise ScriptError(f"unknown route {route!r}; routes: {', '.join(ROUTES)}")
    return full


# --- answers ---------------------------------------------------------------------------------------

_ANSWER_KEYS = frozenset(
    {"text", "citations", "reasoning", "tool_calls", "react", "json", "code", "output", "images", "speech", "raw",
     "body", "fault", "label"}
)  # fmt: skip
_CONTENT_KINDS = ("tool_calls", "react", "json", "code", "images", "speech", "raw", "text")


@dataclass(frozen=True, slots=True)
class Answer:
    """One scripted answer. Build with :func:`text`, :func:`tool_call`, ... or :meth:`from_spec`.

    ``kind`` is what it renders as; ``spec`` is the validated JSON form (what a script file holds);
    ``fault`` is applied by the gateway after the payment settled.
    """

    kind: str
    spec: Mapping[str, Any] = field(repr=False)
    fault: Fault | None = None
    label: str = ""

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any] | str) -> Answer:
        if isinstance(spec, str):
            spec = {"text": spec}
        if not isinstance(spec, Mapping):
            raise ScriptError(f"an answer must be an object or a string, got {type(spec).__name__}")
        unknown = set(spec) - _ANSWER_KEYS
        if unknown:
            raise ScriptError(f"unknown answer keys {sorted(unknown)}; known: {sorted(_ANSWER_KEYS)}")
        kinds = [k for k in _CONTENT_KINDS if k in spec]
        if "code" in kinds and "text" in kinds:
            kinds.remove("text")  # a code run may carry its closing prose
        if len(kinds) > 1:
            raise ScriptError(f"an answer has one kind, got {kinds}")
        fault = None
        if spec.get("fault") is not None:
            try:
                fault = parse_fault(str(spec["fault"]))
            except FaultParseError as exc:
                raise ScriptError(f"bad fault in script: {exc}") from None
            if fault is not None and fault.mode is FaultMode.REJECT_PAYMENT:
                raise ScriptError("a script cannot reject payments; use the X-Grok-MPP-Fault header")
        if not kinds and fault is None:
            raise ScriptError(f"an answer needs one of {list(_CONTENT_KINDS)} or a 'fault'")
        kind = kinds[0] if kinds else "fault"
        _check_shape(kind, spec)
        label = str(spec.get("label") or _default_label(kind, spec))
        return cls(kind, dict(spec), fault, label)

    @property
    def delivers_content(self) -> bool:
        """False when the fault replaces the answer (502, drop, 5xx, second 402)."""
        return self.fault is None or self.fault.returns_result


def _default_label(kind: str, spec: Mapping[str, Any]) -> str:
    if kind == "tool_calls":
        return "tool_calls:" + ",".join(str(c.get("name")) for c in spec["tool_calls"])
    if kind == "fault":
        return "fault:" + str(spec["fault"])
    return kind


def _check_shape(kind: str, spec: Mapping[str, Any]) -> None:
    if kind == "text" and not isinstance(spec["text"], str):
        raise ScriptError("'text' must be a string")
    if "citations" in spec:
        cites = spec["citations"]
        if not isinstance(cites, list) or not all(isinstance(c, str | Mapping) for c in cites):
            raise ScriptError("'citations' must be a list of URLs or {url, title} objects")
        for c in cites:
            if isinstance(c, Mapping) and not isinstance(c.get("url"), str):
                raise ScriptError("every citation object needs a 'url'")
    if kind == "tool_calls":
        calls = spec["tool_calls"]
        if not isinstance(calls, list) or not calls:
            raise ScriptError("'tool_calls' must be a non-empty list")
        for call in calls:
            if not isinstance(call, Mapping) or not isinstance(call.get("name"), str):
                raise ScriptError("every tool call needs a 'name'")
            if not isinstance(call.get("arguments", {}), Mapping):
                raise ScriptError(f"arguments of tool call {call['name']!r} must be an object")
    if kind == "react":
        react = spec["react"]
        if not isinstance(react, Mapping) or not (("action" in react) ^ ("answer" in react)):
            raise ScriptError("'react' needs either 'action' (+ 'action_input') or 'answer'")
    if kind == "code" and not isinstance(spec["code"], str):
        raise ScriptError("'code' must be a string")
    if kind == "images":
        images = spec["images"]
        if not (isinstance(images, int) and not isinstance(images, bool) and images > 0) and not (
            isinstance(images, list) and images
        ):
            raise ScriptError("'images' must be a positive count or a list of {revised_prompt}")
    if kind == "raw" and not isinstance(spec["raw"], Mapping):
        raise ScriptError("'raw' must be the data object (a JSON object)")
    if "body" in spec and (kind != "raw" or not isinstance(spec["body"], str)):
        raise ScriptError("'body' (the exact response text, for cassette replay) goes with 'raw' and is a string")


def text(content: str, *, citations: Sequence[str | Mapping[str, Any]] = (), reasoning: str | None = None,
         fault: str | None = None) -> Answer:  # fmt: skip
    """A prose answer; on search routes ``citations`` become url_citation annotations."""
    spec: dict[str, Any] = {"text": content}
    if citations:
        spec["citations"] = list(citations)
    if reasoning:
        spec["reasoning"] = reasoning
    if fault:
        spec["fault"] = fault
    return Answer.from_spec(spec)


def tool_call(name: str, arguments: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Answer:
    """One function call: ``tool_call("get_weather", city="Paris")``."""
    return Answer.from_spec({"tool_calls": [{"name": name, "arguments": {**(arguments or {}), **kwargs}}]})


def tool_calls(*calls: tuple[str, Mapping[str, Any]]) -> Answer:
    """Parallel function calls in one assistant turn: ``tool_calls(("a", {...}), ("b", {...}))``."""
    return Answer.from_spec({"tool_calls": [{"name": n, "arguments": dict(a)} for n, a in calls]})


def react(thought: str, *, action: str | None = None, action_input: Mapping[str, Any] | None = None,
          answer: str | None = None) -> Answer:  # fmt: skip
    """ReAct-format text (``Thought/Action/Action Input`` or ``Thought/Answer``) for text-parsing agents."""
    spec: dict[str, Any] = {"thought": thought}
    if action is not None:
        spec.update(action=action, action_input=dict(action_input or {}))
    if answer is not None:
        spec["answer"] = answer
    return Answer.from_spec({"react": spec})


def json_answer(value: Any) -> Answer:
    """Structured output: the JSON text of ``value`` (validated against ``response_format``)."""
    return Answer.from_spec({"json": value})


def code_run(code: str, output: str, *, text: str | None = None) -> Answer:
    """A code-execution run: the code, its logs and (optionally) the closing prose."""
    spec: dict[str, Any] = {"code": code, "output": output}
    if text is not None:
        spec["text"] = text
    return Answer.from_spec(spec)


def fault(spec: str) -> Answer:
    """A fault after payment: ``fault("upstream-502")``, ``fault("drop-connection-after-payment")``."""
    return Answer.from_spec({"fault": spec})


def react_text(spec: Mapping[str, Any]) -> str:
    """Render a ``react`` answer the way LlamaIndex's ReActOutputParser and LangChain's parser read it."""
    lines = [f"Thought: {spec.get('thought', '')}"]
    if "action" in spec:
        lines.append(f"Action: {spec['action']}")
        lines.append(f"Action Input: {json.dumps(spec.get('action_input', {}), ensure_ascii=False)}")
    else:
        lines.append(f"Answer: {spec['answer']}")
    return "\n".join(lines)
