"""Scripted answers for the local gateway: what the "model" says next, decided by the test author.

Why: the synthetic model answers in prose and never calls a second tool, so agent loops (LangGraph,
``create_agent``, LlamaIndex ``ReActAgent``, ``SubQuestionQueryEngine``) cannot run offline on it. A
script says, per route, which answers come next (an ordered **queue**) and/or which answer fits a
request (**rules** matching the last message, the tools offered, the model, the last role).
Payments stay real: a scripted answer is served only after the 402 challenge was paid and settled.

Guarantees (all checked here, in pure code, before anything is paid):

* **Deterministic.** Rules are tried in order, then the queue head; nothing random.
* **Validated against the request.** A scripted tool call must name a function tool the request
  offered and its arguments must fit that tool's JSON schema; a JSON answer must fit the request's
  ``response_format`` schema; a code run only answers ``/grok/code-execution``, images only the
  image routes, speech only ``/grok/tts``. A mismatch is :class:`ScriptMismatchError`.
* **Clear when it runs out.** No matching rule and an empty queue is :class:`ScriptExhaustedError`
  (unless ``fallback="synthetic"``); the gateway answers it with HTTP 409 *before* the 402
  challenge, so nothing is paid for an unscripted call.

Script file format (JSON, or YAML when PyYAML is installed)::

    {"fallback": "error",
     "routes": {
       "/grok/chat": {
         "rules": [{"when": {"last_message": "weather", "tools": ["get_weather"]},
                    "answer": {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]},
                    "times": 1}],
         "queue": [{"text": "It is sunny in Paris."}]},
       "/grok/web-search": [{"text": "Tempo is a chain.", "citations": ["https://tempo.xyz"]}]}}

A route may be a list (a queue) or an object with ``queue`` and ``rules``; ``chat`` is accepted for
``/grok/chat``. Answer kinds: ``text`` (with optional ``citations`` and ``reasoning``),
``tool_calls`` (several = parallel calls), ``react`` (ReAct-format text), ``json`` (structured
output), ``code`` + ``output`` (a code-execution run), ``images``, ``speech``, ``raw`` (the ``data``
object verbatim, used by cassette replay) and ``fault`` (``upstream-502``,
``drop-connection-after-payment``, ``error-5xx-after-payment``, ``second-402``, ``slow;delay=S``;
``slow`` still delivers the rest of the answer).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
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


# --- the script -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Served:
    """A scripted answer the gateway delivered (after payment), for assertions."""

    route: str
    label: str
    source: str  # "rule:<index>" or "queue"


class Script:
    """Per-route queues and rules of scripted answers. Thread-safe; used by one or more gateways.

    ``fallback="synthetic"`` lets unscripted requests reach the synthetic model; ``"error"`` (the
    default) answers them with HTTP 409 before any payment.

    Example::

        from grok_mpp.local import LocalGateway
        from grok_mpp.local.script import Script, text, tool_call
        script = Script()
        script.queue("chat", tool_call("get_weather", city="Paris"), text("Sunny, 21 C."))
        with LocalGateway(script=script) as gateway:
            ...  # two paid calls answered in that order; a third is refused before payment
    """

    def __init__(self, *, fallback: str = "error") -> None:
        if fallback not in FALLBACKS:
            raise ScriptError(f"fallback must be one of {FALLBACKS}, got {fallback!r}")
        self.fallback = fallback
        self._queues: dict[str, list[Answer]] = {r: [] for r in ROUTES}
        self._rules: dict[str, list[Rule]] = {r: [] for r in ROUTES}
        self.served: list[Served] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        left = {r: len(q) for r, q in self._queues.items() if q}
        rules = {r: len(x) for r, x in self._rules.items() if x}
        return f"Script(queued={left}, rules={rules}, served={len(self.served)}, fallback={self.fallback!r})"

    # -- building ---------------------------------------------------------------------------------
    def queue(self, route: str, *answers: Answer | Mapping[str, Any] | str) -> Script:
        """Append answers to ``route``'s queue (served in order, each once)."""
        full = route_name(route)
        built = [a if isinstance(a, Answer) else Answer.from_spec(a) for a in answers]
        with self._lock:
            self._queues[full].extend(built)
        return self

    def rule(self, route: str, answer: Answer | Mapping[str, Any] | str, *, times: int | None = None,
             last_message: str | None = None, tools: Iterable[str] | None = None, model: str | None = None,
             last_role: str | None = None) -> Script:  # fmt: skip
        """Answer requests that match (all given conditions) with ``answer``, ``times`` times (None = always)."""
        if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
            raise ScriptError("'times' must be a positive integer or None")
        when = Match(last_message, tuple(tools) if tools is not None else None, model, last_role)
        built = answer if isinstance(answer, Answer) else Answer.from_spec(answer)
        with self._lock:
            self._rules[route_name(route)].append(Rule(when, built, times))
        return self

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> Script:
        if not isinstance(spec, Mapping):
            raise ScriptError("a script is a JSON object")
        routes = spec.get("routes")
        if routes is None:
            routes = {k: v for k, v in spec.items() if k != "fallback"}
        elif set(spec) - {"routes", "fallback"}:
            raise ScriptError(f"unknown script keys {sorted(set(spec) - {'routes', 'fallback'})}")
        script = cls(fallback=str(spec.get("fallback", "error")))
        if not isinstance(routes, Mapping):
            raise ScriptError("'routes' must map route names to queues or {queue, rules}")
        for route, entry in routes.items():
            if isinstance(entry, list):
                script.queue(route, *entry)
                continue
            if not isinstance(entry, Mapping) or set(entry) - {"queue", "rules"}:
                raise ScriptError(f"route {route!r} must be a list or an object with 'queue' and 'rules'")
            for rule in entry.get("rules") or ():
                if not isinstance(rule, Mapping) or "answer" not in rule or set(rule) - {"when", "answer", "times"}:
                    raise ScriptError(f"a rule of {route!r} needs 'answer' (and optionally 'when', 'times')")
                when = Match.from_spec(rule.get("when"))
                script.rule(route, rule["answer"], times=rule.get("times"), last_message=when.last_message,
                            tools=when.tools, model=when.model, last_role=when.last_role)  # fmt: skip
            script.queue(route, *(entry.get("queue") or ()))
        return script

    @classmethod
    def load(cls, path: str | Path) -> Script:
        """Read a JSON script, or YAML (``.yaml``/``.yml``) when PyYAML is installed."""
        file = Path(path)
        try:
            raw = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScriptError(f"cannot read script {file}: {exc.strerror}") from None
        if file.suffix.lower() in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError:
                raise ScriptError(
                    "YAML scripts need PyYAML (pip install pyyaml), or write the script as JSON"
                ) from None
            try:
                data = yaml.safe_load(raw)
            except yaml.YAMLError as exc:
                raise ScriptError(f"{file} is not valid YAML: {exc}") from None
        else:
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ScriptError(f"{file} is not valid JSON: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def coerce(cls, value: Script | Mapping[str, Any] | str | Path) -> Script:
        if isinstance(value, Script):
            return value
        if isinstance(value, Mapping):
            return cls.from_dict(value)
        return cls.load(value)

    # -- serving ----------------------------------------------------------------------------------
    def _find(self, route: str, view: RequestView) -> tuple[Answer, str, Rule | None] | None:
        for index, rule in enumerate(self._rules[route]):
            if rule.available and rule.when.matches(view):
                return rule.answer, f"rule:{index}", rule
        queue = self._queues[route]
        if queue:
            return queue[0], "queue", None
        return None

    def peek(self, route: str, body: Mapping[str, Any]) -> Answer | None:
        """The answer the next paid call would get, validated; None = use the synthetic model.

        Raises :class:`ScriptExhaustedError` / :class:`ScriptMismatchError` (the gateway's 409).
        """
        view = RequestView.of(route, body)
        with self._lock:
            found = self._find(route, view)
        return self._checked(route, view, found)

    def take(self, route: str, body: Mapping[str, Any]) -> Answer | None:
        """Like :meth:`peek`, and consume the answer (called once the payment settled)."""
        view = RequestView.of(route, body)
        with self._lock:
            found = self._find(route, view)
            answer = self._checked(route, view, found)
            if found is not None:
                _, source, rule = found
                if rule is not None:
                    rule.used += 1
                else:
                    self._queues[route].pop(0)
                self.served.append(Served(route, found[0].label, source))
        return answer

    def _checked(self, route: str, view: RequestView, found: tuple[Answer, str, Rule | None] | None) -> Answer | None:
        if found is None:
            if self.fallback == "synthetic":
                return None
            served = sum(1 for s in self.served if s.route == route)
            raise ScriptExhaustedError(
                f"the script has no answer left for {route} (served {served} there; last message "
                f"{view.last_message[:80]!r}); add one with Script.queue/rule or pass fallback='synthetic'"
            )
        validate(found[0], view)
        return found[0]

    def remaining(self, route: str | None = None) -> int:
        """Queued answers not served yet (rules with unlimited ``times`` are not counted)."""
        with self._lock:
            routes = [route_name(route)] if route else list(ROUTES)
            queued = sum(len(self._queues[r]) for r in routes)
            limited = sum(r.times - r.used for x in routes for r in self._rules[x] if r.times is not None)
            return queued + limited

    def assert_exhausted(self) -> None:
        """AssertionError naming what is left, for the end of a test."""
        left = self.remaining()
        if left:
            raise AssertionError(f"{left} scripted answer(s) were never requested: {self!r}")


__all__ = [
    "Answer",
    "Match",
    "RequestView",
    "Rule",
    "Script",
    "ScriptError",
    "ScriptExhaustedError",
    "ScriptMismatchError",
    "ScriptRequestError",
    "Served",
    "code_run",
    "fault",
    "json_answer",
    "react",
    "react_text",
    "route_name",
    "schema_errors",
    "text",
    "tool_call",
    "tool_calls",
    "validate",
]
