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
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .script_answers import (
    CHAT,
    CODE_EXECUTION,
    FALLBACKS,
    IMAGE_EDIT,
    IMAGE_GENERATE,
    MESSAGE_ROUTES,
    ROUTES,
    TTS,
    WEB_SEARCH,
    X_SEARCH,
    Answer,
    ScriptError,
    ScriptExhaustedError,
    ScriptMismatchError,
    ScriptRequestError,
    code_run,
    fault,
    json_answer,
    react,
    react_text,
    route_name,
    text,
    tool_call,
    tool_calls,
)
from .script_matching import Match, RequestView, Rule, schema_errors, validate

__all__ = [
    "CHAT",
    "CODE_EXECUTION",
    "FALLBACKS",
    "IMAGE_EDIT",
    "IMAGE_GENERATE",
    "MESSAGE_ROUTES",
    "ROUTES",
    "TTS",
    "WEB_SEARCH",
    "X_SEARCH",
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
