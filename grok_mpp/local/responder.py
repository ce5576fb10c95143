"""The deterministic synthetic "model" behind the local gateway: request body in, xAI-shaped data out.

Why a synthetic model: the local gateway exists so the payment flow, the ledger, both framework
adapters and the notebooks can run end to end on loopback with no xAI account and no money. For
that the answers must have the real *shapes* (chat.completion, Responses-API items, images, audio,
usage with reasoning tokens outside ``completion_tokens`` and ``cost_in_usd_ticks``) and just enough
behaviour for schema-aware callers: tool calls whose arguments validate against the tool's JSON
schema, ``tool_choice`` honoured, ``response_format`` JSON that validates, a text answer after a
tool result. The prompt rules live in :mod:`grok_mpp.local.synthesis`
and :mod:`grok_mpp.local.schema_fill`.

Guarantees:

* **Deterministic.** The same endpoint and body always give the same output; ids and ``created``
  derive from a SHA-256 of the canonical body (the server may pass ``created`` explicitly).
* **Labelled.** ``system_fingerprint`` is ``fp_grok_mpp_local``, text answers start with
  ``[synthetic] ``, Responses objects carry ``metadata.generator``.
* **Echo.** ``model`` is the requested model (LangChain's override tests need it), not the model
  xAI would serve after its 2026-05-15 redirects; cost is still priced at the served model's rates.
* **Pure.** No I/O and no clock; :func:`respond` returns the ``data`` object that the server wraps
  as ``{"success": true, "data": ...}``. Bad bodies raise :class:`BadRequestError` (HTTP 400 at the
  server), unknown routes :class:`UnknownEndpointError` (404).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from grok_mpp.gateway.catalog import DEFAULT_IMAGE_MODEL, get_model_info
from grok_mpp.local import media
from grok_mpp.local.schema_fill import PromptValues, content_words, fill_schema, find_quoted
from grok_mpp.local.synthesis import (
    SYNTHETIC_MARKER,
    Answer,
    answer_prompt,
    answer_tool_results,
    content_text,
    count_images,
    format_number,
    keywords,
    reasoning_text,
    solve_arithmetic,
)

SYSTEM_FINGERPRINT = "fp_grok_mpp_local"
GENERATOR = "grok-mpp-local"

CHAT = "/grok/chat"
WEB_SEARCH = "/grok/web-search"
X_SEARCH = "/grok/x-search"
CODE_EXECUTION = "/grok/code-execution"
IMAGE_GENERATE = "/grok/image-generate"
IMAGE_EDIT = "/grok/image-edit"
TTS = "/grok/tts"
ENDPOINTS: tuple[str, ...] = (CHAT, WEB_SEARCH, X_SEARCH, CODE_EXECUTION, IMAGE_GENERATE, IMAGE_EDIT, TTS)

# --- prices ----------------------------------------------------------------------------------------
# A deliberately tiny, local table (1 USD = 1e10 ticks, so $1 per 1M tokens = 10_000 ticks per token).
# List prices from /work/shared/reference/grok-api.md §3.1, keyed by the model xAI *serves*; the
# package's real estimator lives in grok_mpp.gateway.pricing and is not imported, so the fake stays
# independent of the code it is used to test.
_TOKEN_TICKS: dict[str, tuple[int, int, int]] = {  # (input, cached input, output incl. reasoning)
    "grok-4.3": (12_500, 2_000, 25_000),
    "grok-4.20-0309-reasoning": (12_500, 2_000, 25_000),
    "grok-4.20-0309-non-reasoning": (12_500, 2_000, 25_000),
    "grok-build-0.1": (10_000, 2_000, 20_000),
    "grok-4.5": (20_000, 5_000, 60_000),
}
_LONG_PROMPT_TOKENS = 200_000  # grok-4.3 / grok-4.20 double their rates from here (docs.x.ai)
_TIERED = frozenset({"grok-4.3", "grok-4.20-0309-reasoning", "grok-4.20-0309-non-reasoning"})
TOOL_CALL_TICKS = 50_000_000  # $5 per 1k server-side tool calls (web, X, code)
IMAGE_TICKS: dict[str, int] = {"grok-imagine-image": 200_000_000, "grok-imagine-image-quality": 500_000_000}
TTS_TICKS_PER_CHAR = 42_000  # $4.20 per 1M characters

IMAGE_TOKENS = 256  # prompt tokens charged per input image (synthetic constant)
_CACHE_BLOCK = 128
MAX_N = 16
MAX_IMAGES = 10
MAX_TTS_CHARS = 15_000
TTS_VOICES = frozenset({"eve", "ara", "rex", "sal", "leo"})
DEFAULT_SEARCH_RESULTS = 5
MAX_SEARCH_RESULTS = 20
MAX_DOMAINS = 5
MAX_HANDLES = 10
#: Parameters current xAI models reject with HTTP 400 (grok-api.md §3.3); the fake rejects them
#: too, so a payload builder that forgets to drop them fails in tests, not in production.
REJECTED_PARAMETERS: dict[str, str] = {"presence_penalty": "presencePenalty", "frequency_penalty": "frequencyPenalty"}


class ResponderError(ValueError):
    """Base class: the synthetic model cannot answer this request. ``status_code`` is a hint."""

    status_code = 400


class BadRequestError(ResponderError):
    """The body is malformed or asks for something xAI would reject (HTTP 400)."""


class UnknownEndpointError(ResponderError, LookupError):
    """No such paid route (HTTP 404)."""

    status_code = 404


# --- entry point -----------------------------------------------------------------------------------


def respond(endpoint: str, body: Mapping[str, Any], *, created: int | None = None) -> dict[str, Any]:
    """The xAI-shaped ``data`` object for ``body`` posted to ``endpoint`` (e.g. ``/grok/chat``)."""
    route = "/" + endpoint.strip().strip("/")
    handler = _HANDLERS.get(route)
    if handler is None:
        raise UnknownEndpointError(f"unknown endpoint {endpoint!r}; known: {', '.join(ENDPOINTS)}")
    if not isinstance(body, Mapping):
        raise BadRequestError("request body must be a JSON object")
    ctx = _Context.build(route, body, created)
    return handler(ctx)


@dataclass(frozen=True, slots=True)
class _Context:
    route: str
    body: Mapping[str, Any]
    digest: bytes
    created: int

    @classmethod
    def build(cls, route: str, body: Mapping[str, Any], created: int | None) -> _Context:
        try:
            canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise BadRequestError(f"request body is not JSON-serialisable: {exc}") from None
        digest = hashlib.sha256(f"{route}\n{canonical}".encode()).digest()
        # A plausible 2026 timestamp, fixed per body: output stays a pure function of the input.
        stamp = created if created is not None else 1_780_000_000 + int.from_bytes(digest[:4], "big") % 10**7
        return cls(route, body, digest, stamp)

    def hex_id(self, label: str, length: int = 24) -> str:
        return hashlib.sha256(self.digest + label.encode()).hexdigest()[:length]

    def uuid(self, label: str) -> str:
        raw = bytearray(hashlib.sha256(self.digest + label.encode()).digest()[:16])
        raw[6] = (raw[6] & 0x0F) | 0x40  # version 4 layout, so it looks like xAI's ids
        raw[8] = (raw[8] & 0x3F) | 0x80
        return str(uuid.UUID(bytes=bytes(raw)))


# --- shared helpers --------------------------------------------------------------------------------


def tokens(text: str) -> int:
    """The synthetic tokenizer: about four characters per token."""
    return (len(text) + 3) // 4


def is_reasoning_model(model: str, reasoning_effort: Any = None) -> bool:
    """Reasoning models get reasoning tokens and ``reasoning_content``.

    Rule from the brief: names with ``mini``, ``reasoning`` or ``grok-4`` (which covers ``grok-4.3``)
    reason unless they say ``non-reasoning``; ``reasoning_effort: "none"`` turns reasoning off.
    """
    name = model.lower()
    if "non-reasoning" in name or reasoning_effort == "none":
        return False
    return any(marker in name for marker in ("mini", "reasoning", "grok-4"))


def _served_prices(model: str, prompt_tokens: int) -> tuple[int, int, int]:
    served = get_model_info(model).served_as
    prices = _TOKEN_TICKS.get(served, _TOKEN_TICKS["grok-4.3"])
    if served in _TIERED and prompt_tokens >= _LONG_PROMPT_TOKENS:
        return prices[0] * 2, prices[1] * 2, prices[2] * 2
    return prices


def cached_tokens(prompt_tokens: int) -> int:
    """Deterministic cache hits: half the prompt, rounded down to 128-token blocks (0 when short)."""
    return (prompt_tokens // 2) // _CACHE_BLOCK * _CACHE_BLOCK


def token_cost_ticks(model: str, prompt_tokens: int, cached: int, output_tokens: int) -> int:
    """xAI's formula: (prompt - cached) * in + cached * cached_in + (completion + reasoning) * out."""
    p_in, p_cached, p_out = _served_prices(model, prompt_tokens)
    return (prompt_tokens - cached) * p_in + cached * p_cached + output_tokens * p_out


def _require_model(body: Mapping[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise BadRequestError("'model' is required and must be a non-empty string")
    return model


def _optional_int(body: Mapping[str, Any], key: str, *, low: int, high: int) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequestError(f"'{key}' must be an integer in {low}..{high}")
    return value


def _check_rejected_parameters(body: Mapping[str, Any], model: str) -> None:
    for key, wire_name in REJECTED_PARAMETERS.items():
        if body.get(key) is not None:
            raise BadRequestError(f"Model {model} does not support parameter {wire_name}.")


def _messages(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """``messages`` (chat) or ``input`` (Responses style: a string or a message list)."""
    raw = body.get("messages", body.get("input"))
    if isinstance(raw, str) and raw.strip():
        return [{"role": "user", "content": raw}]
    if not isinstance(raw, list) or not raw:
        raise BadRequestError("'messages' must be a non-empty list")
    for message in raw:
        if not isinstance(message, Mapping) or not isinstance(message.get("role"), str):
            raise BadRequestError("every message must be an object with a 'role'")
    return raw


def _last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return content_text(message.get("content"))
    return content_text(messages[-1].get("content"))


def _prompt_tokens(body: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
    """(text tokens, image tokens) over all messages, tool calls, tool and format definitions."""
    parts: list[str] = []
    images = 0
    for message in messages:
        parts.append(str(message.get("role", "")))
        parts.append(content_text(message.get("content")))
        images += count_images(message.get("content"))
        for call in message.get("tool_calls") or ():
            parts.append(json.dumps(call, sort_keys=True, ensure_ascii=False))
    for key in ("tools", "response_format"):
        if body.get(key):
            parts.append(json.dumps(body[key], sort_keys=True, ensure_ascii=False))
    return tokens("\n".join(parts)), images * IMAGE_TOKENS


# --- chat completions ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ToolChoice:
    mode: str  # "auto" | "none" | "required" | "named"
    name: str | None = None


def _parse_tool_choice(raw: Any, tool_names: Sequence[str]) -> _ToolChoice:
    if raw is None or raw == "auto":
        return _ToolChoice("auto")
    if raw == "none":
        return _ToolChoice("none")
    if raw in ("required", "any"):
        return _ToolChoice("required")
    if isinstance(raw, Mapping):
        function = raw.get("function")
        name = function.get("name") if isinstance(function, Mapping) else raw.get("name")
        if isinstance(name, str):
            if name not in tool_names:
                raise BadRequestError(f"tool_choice names unknown function {name!r}")
            return _ToolChoice("named", name)
    raise BadRequestError("tool_choice must be 'auto', 'none', 'required' or a named function")


def _function_tools(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    tools = body.get("tools") or []
    if not isinstance(tools, list):
        raise BadRequestError("'tools' must be a list")
    out: list[Mapping[str, Any]] = []
    for tool in tools:
        if not isinstance(tool, Mapping) or tool.get("type", "function") != "function":
            continue
        function = tool.get("function", tool)
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            out.append(function)
    return out


def _tool_words(function: Mapping[str, Any]) -> list[str]:
    name = str(function["name"])
    description = function.get("description")
    return [*re.split(r"[_\-\s]+", name), name, *content_words(str(description or ""))]


#: Verbs and nouns that appear in many tool names and say nothing about the tool's topic.
_GENERIC_NAME_PARTS = frozenset({"get", "set", "run", "make", "create", "fetch", "call", "tool", "function", "lookup"})


def _tool_score(function: Mapping[str, Any], prompt: str) -> int:
    """How strongly the prompt mentions a tool: its name counts 10, name parts 2, description words 1."""
    lowered = prompt.lower()
    name = str(function["name"]).lower()
    prompt_words = {w.lower() for w in content_words(prompt)}
    mentioned = any(re.search(rf"(?<!\w){re.escape(form)}(?!\w)", lowered) for form in {name, name.replace("_", " ")})
    score = 10 if mentioned else 0
    parts = {p for p in re.split(r"[_\-\s]+", name) if len(p) >= 3 and p not in _GENERIC_NAME_PARTS}
    score += 2 * len(parts & prompt_words)
    description_words = {w.lower() for w in content_words(str(function.get("description") or "")) if len(w) >= 4}
    return score + len(description_words & prompt_words)


def _choose_tool(
    tools: Sequence[Mapping[str, Any]], choice: _ToolChoice, prompt: str, last_role: str
) -> Mapping[str, Any] | None:
    if not tools or choice.mode == "none" or last_role == "tool":
        return None
    if choice.mode == "named":
        return next(t for t in tools if t["name"] == choice.name)
    scored = max(enumerate(tools), key=lambda item: (_tool_score(item[1], prompt), -item[0]))
    if choice.mode == "required":
        return scored[1]
    if last_role == "user" and _tool_score(scored[1], prompt) > 0:
        return scored[1]
    return None


def _tool_arguments(function: Mapping[str, Any], prompt: str) -> dict[str, Any]:
    schema = function.get("parameters")
    if not isinstance(schema, Mapping):
        return {}
    values = PromptValues.from_prompt(prompt, exclude_words=_tool_words(function))
    filled = fill_schema(schema, values)
    return filled if isinstance(filled, dict) else {"input": filled}


def _trailing_tool_results(messages: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    names: dict[str, str] = {}
    for message in messages:
        for call in message.get("tool_calls") or ():
            if isinstance(call, Mapping) and isinstance(call.get("function"), Mapping):
                names[str(call.get("id"))] = str(call["function"].get("name", ""))
    results: list[tuple[str, str]] = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        name = names.get(str(message.get("tool_call_id")), str(message.get("name") or ""))
        results.append((name, content_text(message.get("content"))))
    return list(reversed(results))


def _json_content(response_format: Any, prompt: str) -> str | None:
    """Content for ``response_format`` json_schema / json_object; ``None`` for plain text."""
    if not isinstance(response_format, Mapping):
        return None
    kind = response_format.get("type")
    if kind == "json_schema":
        wrapper = response_format.get("json_schema")
        schema = wrapper.get("schema") if isinstance(wrapper, Mapping) else response_format.get("schema")
        if not isinstance(schema, Mapping):
            raise BadRequestError("response_format json_schema needs a 'schema' object")
        value = fill_schema(schema, PromptValues.from_prompt(prompt))
        return json.dumps(value, ensure_ascii=False)
    if kind == "json_object":
        # No schema: keys are the quoted identifiers the prompt asks for ("with 'setup' and
        # 'punchline' keys"), values come from the rest of the prompt.
        keys = [q for q in find_quoted(prompt) if re.fullmatch(r"[A-Za-z_][\w\- ]{0,40}", q)]
        if not keys:
            return json.dumps({"answer": answer_prompt(prompt).text}, ensure_ascii=False)
        schema = {"type": "object", "properties": {k: {"type": "string"} for k in keys}}
        stripped = prompt
        for key in keys:
            stripped = stripped.replace(key, " ")
        return json.dumps(fill_schema(schema, PromptValues.from_prompt(stripped)), ensure_ascii=False)
    if kind in (None, "text"):
        return None
    raise BadRequestError(f"unsupported response_format type {kind!r}")


def _stop_strings(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw] if raw else []
    if isinstance(raw, list) and all(isinstance(s, str) for s in raw):
        return [s for s in raw if s]
    raise BadRequestError("'stop' must be a string or a list of strings")


def _apply_limits(text: str, stops: Sequence[str], max_tokens: int | None) -> tuple[str, bool]:
    """Cut at the earliest stop string, then at ``max_tokens * 4`` chars; True when truncated by length."""
    cut = min((text.find(s) for s in stops if s in text), default=-1)
    if cut >= 0:
        text = text[:cut]
    if max_tokens is not None and len(text) > max_tokens * 4:
        return text[: max_tokens * 4], True
    return text, False


def _chat(ctx: _Context) -> dict[str, Any]:
    body = ctx.body
    model = _require_model(body)
    _check_rejected_parameters(body, model)
    messages = _messages(body)
    n = _optional_int(body, "n", low=1, high=MAX_N) or 1
    max_tokens = _optional_int(body, "max_tokens", low=1, high=10**7)
    if max_tokens is None:
        max_tokens = _optional_int(body, "max_completion_tokens", low=1, high=10**7)
    stops = _stop_strings(body.get("stop"))
    reasoning = is_reasoning_model(model, body.get("reasoning_effort"))
    prompt = _last_user_text(messages)
    last_role = str(messages[-1].get("role"))

    tools = _function_tools(body)
    choice = _parse_tool_choice(body.get("tool_choice"), [str(t["name"]) for t in tools])
    tool = _choose_tool(tools, choice, prompt, last_role)

    answer = None if tool is not None else _text_or_json(body, messages, prompt, last_role)
    choices: list[dict[str, Any]] = []
    completion_tokens = 0
    for index in range(n):
        message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
        if tool is not None:
            arguments = json.dumps(_tool_arguments(tool, prompt), ensure_ascii=False)
            message["tool_calls"] = [
                {
                    "id": f"call_{ctx.hex_id(f'call-{index}')}",
                    "type": "function",
                    "function": {"name": tool["name"], "arguments": arguments},
                }
            ]
            finish = "tool_calls"
            completion_tokens += tokens(str(tool["name"]) + arguments)
        else:
            assert answer is not None
            text, truncated = _apply_limits(answer.text, stops, max_tokens)
            message["content"] = text
            finish = "length" if truncated else "stop"
            completion_tokens += tokens(text)
        if reasoning:
            message["reasoning_content"] = reasoning_text(prompt, "tool call" if answer is None else answer.kind)
        choices.append({"index": index, "message": message, "finish_reason": finish, "logprobs": None})

    text_tokens, image_tokens = _prompt_tokens(body, messages)
    prompt_tokens = text_tokens + image_tokens
    cached = cached_tokens(prompt_tokens)
    reasoning_tokens = 2 * completion_tokens if reasoning else 0
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens + reasoning_tokens,
        "prompt_tokens_details": {
            "text_tokens": text_tokens,
            "audio_tokens": 0,
            "image_tokens": image_tokens,
            "cached_tokens": cached,
        },
        "completion_tokens_details": {
            "reasoning_tokens": reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
        "num_sources_used": 0,
        "cost_in_usd_ticks": token_cost_ticks(model, prompt_tokens, cached, completion_tokens + reasoning_tokens),
    }
    return {
        "id": ctx.uuid("chat"),
        "object": "chat.completion",
        "created": ctx.created,
        "model": model,
        "choices": choices,
        "usage": usage,
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "service_tier": "default",
    }


def _text_or_json(
    body: Mapping[str, Any], messages: Sequence[Mapping[str, Any]], prompt: str, last_role: str
) -> Answer:
    if last_role == "tool":
        return answer_tool_results(_trailing_tool_results(messages))
    json_text = _json_content(body.get("response_format"), prompt)
    if json_text is not None:
        return Answer(json_text, "structured output")
    return answer_prompt(prompt)


# --- Responses-API endpoints (code execution, web search, X search) -------------------------------


def _responses_envelope(
    ctx: _Context,
    model: str,
    items: list[dict[str, Any]],
    *,
    messages: Sequence[Mapping[str, Any]],
    output_text: str,
    tools_used: int,
    sources_used: int,
    truncated: bool,
) -> dict[str, Any]:
    """Wrap output items as a Responses-API object with Responses-style usage.

    Here ``output_tokens`` INCLUDES reasoning tokens and ``total = input + output`` (the opposite of
    chat completions), as in xAI's Responses fixtures (grok-api.md §2.5).
    """
    reasoning = is_reasoning_model(model, ctx.body.get("reasoning_effort"))
    prompt = _last_user_text(messages)
    visible = tokens(output_text) + sum(tokens(str(i.get("arguments", ""))) for i in items)
    reasoning_tokens = 2 * visible if reasoning else 0
    if reasoning:
        items.insert(
            0,
            {
                "type": "reasoning",
                "id": f"rs_{ctx.hex_id('reasoning')}",
                "summary": [{"type": "summary_text", "text": reasoning_text(prompt, ctx.route.rsplit("/", 1)[-1])}],
                "status": "completed",
            },
        )
    text_tokens, image_tokens = _prompt_tokens(ctx.body, messages)
    input_tokens = text_tokens + image_tokens
    cached = cached_tokens(input_tokens)
    output_tokens = visible + reasoning_tokens
    cost = token_cost_ticks(model, input_tokens, cached, output_tokens) + tools_used * TOOL_CALL_TICKS
    response: dict[str, Any] = {
        "id": f"resp_{ctx.hex_id('response')}",
        "object": "response",
        "created_at": ctx.created,
        "model": model,
        "status": "incomplete" if truncated else "completed",
        "output": items,
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": cached},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
            "total_tokens": input_tokens + output_tokens,
            "num_sources_used": sources_used,
            "num_server_side_tools_used": tools_used,
            "cost_in_usd_ticks": cost,
        },
        "metadata": {"generator": GENERATOR},
    }
    if truncated:
        response["incomplete_details"] = {"reason": "max_output_tokens"}
    return response


def _message_item(ctx: _Context, text: str, annotations: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "message",
        "id": f"msg_{ctx.hex_id('message')}",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": annotations}],
    }


def _responses_common(ctx: _Context) -> tuple[str, list[Mapping[str, Any]], str, int | None]:
    body = ctx.body
    model = _require_model(body)
    _check_rejected_parameters(body, model)
    messages = _messages(body)
    max_tokens = _optional_int(body, "max_tokens", low=1, high=10**7)
    if max_tokens is None:
        max_tokens = _optional_int(body, "max_output_tokens", low=1, high=10**7)
    return model, messages, _last_user_text(messages), max_tokens


def _wants_client_side_answer(ctx: _Context) -> bool:
    """Whether a code-execution request should be answered like /grok/chat.

    Locus's code-execution route also takes the caller's own function tools and response formats;
    when the turn calls for one of them (a tool is chosen, a tool result is being answered, or a
    JSON answer is required) the synthetic model answers as the chat route does.
    """
    body = ctx.body
    tools = _function_tools(body)
    if body.get("response_format"):
        return True
    if not tools:
        return False
    messages = _messages(body)
    last_role = str(messages[-1].get("role"))
    if last_role == "tool":
        return True
    choice = _parse_tool_choice(body.get("tool_choice"), [str(t["name"]) for t in tools])
    return _choose_tool(tools, choice, _last_user_text(messages), last_role) is not None


def _code_execution(ctx: _Context) -> dict[str, Any]:
    if _wants_client_side_answer(ctx):
        return _chat(ctx)
    model, messages, prompt, max_tokens = _responses_common(ctx)
    arithmetic = solve_arithmetic(prompt)
    if arithmetic is not None:
        code = f"result = {arithmetic.expression}\nprint(result)"
        if arithmetic.value is None:
            logs = f"Error: {arithmetic.error}\n"
            conclusion = f"The expression cannot be computed ({arithmetic.error})."
        else:
            # print() shows Python's str() of the value; the prose uses a rounded form.
            logs = f"{arithmetic.value}\n"
            conclusion = f"The result of {arithmetic.expression} is {format_number(arithmetic.value)}."
    else:
        snippet = " ".join(prompt.split())[:200]
        code = f"text = {snippet!r}\nwords = text.split()\nprint(len(words), 'words')"
        logs = f"{len(snippet.split())} words\n"
        conclusion = "No arithmetic found, so the code counted the words of your request."
    text = (
        f"{SYNTHETIC_MARKER}I wrote and ran this Python code with the code execution tool:\n\n"
        f"```python\n{code}\n```\n\nOutput:\n```\n{logs}```\n\n{conclusion}"
    )
    text, truncated = _apply_limits(text, (), max_tokens)
    call = {
        "type": "code_interpreter_call",
        "id": f"ci_{ctx.hex_id('code')}",
        "name": "code_execution",
        "arguments": json.dumps({"code": code}),
        "code": code,
        "status": "completed",
        "outputs": [{"type": "logs", "logs": logs}],
    }
    items = [call, _message_item(ctx, text, [])]
    return _responses_envelope(
        ctx, model, items, messages=messages, output_text=text, tools_used=1, sources_used=0, truncated=truncated
    )


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Search restrictions gathered from every place a request builder may put them."""

    allowed_domains: tuple[str, ...] = ()
    excluded_domains: tuple[str, ...] = ()
    allowed_handles: tuple[str, ...] = ()
    excluded_handles: tuple[str, ...] = ()
    max_results: int = DEFAULT_SEARCH_RESULTS


_FILTER_KEYS: dict[str, str] = {
    "allowed_domains": "allowed_domains",
    "allowed_websites": "allowed_domains",
    "excluded_domains": "excluded_domains",
    "excluded_websites": "excluded_domains",
    "allowed_x_handles": "allowed_handles",
    "included_x_handles": "allowed_handles",
    "excluded_x_handles": "excluded_handles",
}
_RESULT_KEYS = ("max_search_results", "num_results", "max_results")


def search_filters(body: Mapping[str, Any]) -> SearchFilters:
    """Collect filters from the top level, ``search_parameters`` (and its ``sources``) and ``tools``.

    Live-Search spellings (``allowed_websites``, ``included_x_handles``) and Agent-Tools spellings
    (``allowed_domains``, ``allowed_x_handles``) are both accepted because the Locus field names
    are not public (grok-api.md §1.4). Limits mirror xAI: at most 5 domains, 10 handles, and
    allowed/excluded lists are mutually exclusive.
    """
    scopes: list[Mapping[str, Any]] = [body]
    params = body.get("search_parameters")
    if isinstance(params, Mapping):
        scopes.append(params)
        scopes.extend(s for s in params.get("sources") or () if isinstance(s, Mapping))
    for tool in body.get("tools") or ():
        if isinstance(tool, Mapping) and tool.get("type") in ("web_search", "x_search"):
            scopes.append(tool)
    found: dict[str, list[str]] = {v: [] for v in set(_FILTER_KEYS.values())}
    max_results: int | None = None
    for scope in scopes:
        for key, target in _FILTER_KEYS.items():
            value = scope.get(key)
            if value is None:
                continue
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise BadRequestError(f"'{key}' must be a list of strings")
            found[target].extend(value)
        for key in _RESULT_KEYS:
            value = scope.get(key)
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise BadRequestError(f"'{key}' must be a positive integer")
                max_results = value
    domains = {k: _unique(_normalise_domain(d) for d in found[k]) for k in ("allowed_domains", "excluded_domains")}
    handles = {k: _unique(h.strip().lstrip("@") for h in found[k]) for k in ("allowed_handles", "excluded_handles")}
    for kind, values, limit in (("domains", domains, MAX_DOMAINS), ("x handles", handles, MAX_HANDLES)):
        allowed, excluded = values.values()
        if allowed and excluded:
            raise BadRequestError(f"allowed and excluded {kind} are mutually exclusive")
        if len(allowed) > limit or len(excluded) > limit:
            raise BadRequestError(f"at most {limit} {kind} may be allowed or excluded")
    return SearchFilters(
        allowed_domains=domains["allowed_domains"],
        excluded_domains=domains["excluded_domains"],
        allowed_handles=handles["allowed_handles"],
        excluded_handles=handles["excluded_handles"],
        max_results=min(max_results or DEFAULT_SEARCH_RESULTS, MAX_SEARCH_RESULTS),
    )


def _unique(values: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _normalise_domain(domain: str) -> str:
    value = domain.strip().lower()
    value = re.sub(r"^[a-z][a-z0-9+.-]*://", "", value).split("/", 1)[0]
    return value.removeprefix("www.")


def _domain_excluded(domain: str, excluded: Sequence[str]) -> bool:
    return any(domain == ex or domain.endswith("." + ex) for ex in excluded)


_WEB_BASES = ("example.com", "example.org", "example.net", "example.edu", "example.io")
_WEB_PREFIXES = ("", "docs.", "news.", "blog.", "wiki.", "research.", "forum.")
_X_HANDLES = (
    "grok_mpp_demo", "synthetic_news", "tempo_builders", "mpp_payments", "local_gateway",
    "example_dev", "open_data_feed", "weekly_digest", "research_notes", "market_watch",
)  # fmt: skip


def _web_domains(filters: SearchFilters, count: int) -> list[str]:
    if filters.allowed_domains:
        return [filters.allowed_domains[i % len(filters.allowed_domains)] for i in range(count)]
    pool = [p + b for p in _WEB_PREFIXES for b in _WEB_BASES]
    pool = [d for d in pool if not _domain_excluded(d, filters.excluded_domains)]
    pool += [f"site{i}.synthetic.test" for i in range(count)]  # only if everything above is excluded
    return pool[:count]


def _x_handles(filters: SearchFilters, count: int) -> list[str]:
    if filters.allowed_handles:
        return [filters.allowed_handles[i % len(filters.allowed_handles)] for i in range(count)]
    excluded = {h.lower() for h in filters.excluded_handles}
    pool = [h for h in _X_HANDLES if h.lower() not in excluded]
    pool += [f"synthetic_user_{i}" for i in range(count)]
    return pool[:count]


@dataclass(frozen=True, slots=True)
class _Source:
    url: str
    title: str
    label: str


def _search(ctx: _Context, *, x: bool) -> dict[str, Any]:
    model, messages, prompt, max_tokens = _responses_common(ctx)
    filters = search_filters(ctx.body)
    query = " ".join(prompt.split())[:200]
    topic_words = keywords(query, limit=4)
    topic = " ".join(topic_words) or "your question"
    slug = quote("-".join(w.lower() for w in topic_words) or "results")
    count = filters.max_results
    sources: list[_Source] = []
    if x:
        for i, handle in enumerate(_x_handles(filters, count)):
            post_id = 1_900_000_000_000_000_000 + int(ctx.hex_id(f"post-{i}", 16), 16) % 10**17
            sources.append(_Source(f"https://x.com/{handle}/status/{post_id}", f"@{handle} on X", f"@{handle} posted"))
    else:
        for i, domain in enumerate(_web_domains(filters, count)):
            title = f"{topic.title()} - result {i + 1} ({domain})"
            sources.append(_Source(f"https://{domain}/{slug}/{i + 1}", title, f"{domain} has a page"))

    header = f'{SYNTHETIC_MARKER}{"X" if x else "Web"} search results for "{query}":\n'
    text = header
    annotations: list[dict[str, Any]] = []
    for i, source in enumerate(sources):
        line = f"{i + 1}. {source.label} about {topic}. "
        marker = f"[[{i + 1}]]({source.url})"
        start = len(text) + len(line)
        text += line + marker + "\n"
        annotations.append(
            {
                "type": "url_citation",
                "url": source.url,
                "title": source.title,
                "start_index": start,
                "end_index": start + len(marker),
            }
        )
    text, truncated = _apply_limits(text, (), max_tokens)
    annotations = [a for a in annotations if a["end_index"] <= len(text)]

    arguments: dict[str, Any] = {"query": query}
    call: dict[str, Any]
    if x:
        arguments["limit"] = count
        if filters.allowed_handles:
            arguments["allowed_x_handles"] = list(filters.allowed_handles)
        call = {"type": "x_search_call", "id": f"xs_{ctx.hex_id('x')}", "name": "x_semantic_search"}
    else:
        arguments["num_results"] = count
        call = {"type": "web_search_call", "id": f"ws_{ctx.hex_id('web')}", "name": "web_search"}
    call.update(
        {
            "arguments": json.dumps(arguments, ensure_ascii=False),
            "status": "completed",
            "action": {"type": "search", "query": query, "sources": [{"type": "url", "url": s.url} for s in sources]},
        }
    )
    items = [call, _message_item(ctx, text, annotations)]
    response = _responses_envelope(
        ctx, model, items, messages=messages, output_text=text, tools_used=1,
        sources_used=len(sources), truncated=truncated,
    )  # fmt: skip
    response["citations"] = [s.url for s in sources]
    return response


# --- images and speech -----------------------------------------------------------------------------


def _image_source(body: Mapping[str, Any]) -> str | None:
    for key in ("image", "image_url"):
        value = body.get(key)
        if isinstance(value, Mapping):
            value = value.get("url")
        if isinstance(value, str) and value.strip():
            return value
    images = body.get("images")
    if isinstance(images, list) and images:
        first = images[0]
        first = first.get("url") if isinstance(first, Mapping) else first
        if isinstance(first, str) and first.strip():
            return first
    return None


def _images(ctx: _Context, *, edit: bool) -> dict[str, Any]:
    body = ctx.body
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise BadRequestError("'prompt' is required")
    model = body.get("model") or DEFAULT_IMAGE_MODEL
    if not isinstance(model, str):
        raise BadRequestError("'model' must be a string")
    n = _optional_int(body, "n", low=1, high=MAX_IMAGES) or 1
    response_format = body.get("response_format") or "url"
    if response_format not in ("url", "b64_json"):
        raise BadRequestError("response_format must be 'url' or 'b64_json'")
    source = _image_source(body) if edit else None
    if edit and source is None:
        raise BadRequestError("image-edit needs a source image ('image', 'image_url' or 'images')")
    aspect = body.get("aspect_ratio")
    width, height = media.image_size(aspect if isinstance(aspect, str) else None)
    data: list[dict[str, Any]] = []
    for index in range(n):
        seed = ctx.digest + f"image-{index}".encode()
        encoded = base64.b64encode(media.png_bytes(seed, width, height)).decode("ascii")
        item: dict[str, Any] = (
            {"b64_json": encoded}
            if response_format == "b64_json"
            else {"url": f"data:{media.PNG_MIME};base64,{encoded}"}
        )
        verb = "edit of the source image" if edit else "gradient image"
        item["revised_prompt"] = f"{SYNTHETIC_MARKER}A {width}x{height} {verb} for: {prompt}"
        data.append(item)
    served = get_model_info(model).served_as
    per_image = IMAGE_TICKS.get(served, IMAGE_TICKS[DEFAULT_IMAGE_MODEL])
    # Edits are billed for the input image too (docs.x.ai images page).
    billed = n + (1 if edit else 0)
    return {"created": ctx.created, "model": model, "data": data, "usage": {"cost_in_usd_ticks": per_image * billed}}


def _tts(ctx: _Context) -> dict[str, Any]:
    body = ctx.body
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequestError("'text' is required")
    if len(text) > MAX_TTS_CHARS:
        raise BadRequestError(f"'text' is limited to {MAX_TTS_CHARS} characters")
    voice = body.get("voice_id", body.get("voice")) or "eve"
    if not isinstance(voice, str) or voice.lower() not in TTS_VOICES:
        raise BadRequestError(f"voice must be one of {', '.join(sorted(TTS_VOICES))}")
    output_format = body.get("output_format")
    sample_rate = media.DEFAULT_SAMPLE_RATE
    if isinstance(output_format, Mapping) and output_format.get("sample_rate") is not None:
        sample_rate = output_format["sample_rate"]
        if sample_rate not in media.TTS_SAMPLE_RATES:
            raise BadRequestError(f"sample_rate must be one of {sorted(media.TTS_SAMPLE_RATES)}")
    # Whatever codec was asked for, the fake returns WAV and says so in content_type; clients
    # must trust the label (or sniff), not assume the requested codec.
    audio = media.wav_bytes(text, sample_rate=sample_rate, voice=voice)
    return {
        "data": base64.b64encode(audio).decode("ascii"),
        "content_type": media.WAV_MIME,
        "characters": len(text),
        "voice_id": voice.lower(),
        "language": body.get("language") or "auto",
        "sample_rate": sample_rate,
        "duration_seconds": round(media.speech_seconds(text), 3),
        "usage": {"cost_in_usd_ticks": len(text) * TTS_TICKS_PER_CHAR},
    }


_HANDLERS: dict[str, Callable[[_Context], dict[str, Any]]] = {
    CHAT: _chat,
    CODE_EXECUTION: _code_execution,
    WEB_SEARCH: lambda ctx: _search(ctx, x=False),
    X_SEARCH: lambda ctx: _search(ctx, x=True),
    IMAGE_GENERATE: lambda ctx: _images(ctx, edit=False),
    IMAGE_EDIT: lambda ctx: _images(ctx, edit=True),
    TTS: _tts,
}

__all__ = [
    "ENDPOINTS",
    "SYSTEM_FINGERPRINT",
    "BadRequestError",
    "ResponderError",
    "SearchFilters",
    "UnknownEndpointError",
    "cached_tokens",
    "is_reasoning_model",
    "respond",
    "search_filters",
    "token_cost_ticks",
    "tokens",
]
