"""The synthetic chat completion: tool choice and arguments, ``response_format`` JSON, stop and
``max_tokens`` limits, answers to tool results, usage with reasoning tokens outside completion tokens.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from grok_mpp.local.responder.common import (
    MAX_N,
    SYSTEM_FINGERPRINT,
    BadRequestError,
    _check_rejected_parameters,
    _Context,
    _last_user_text,
    _messages,
    _optional_int,
    _prompt_tokens,
    _require_model,
    chat_usage,
    is_reasoning_model,
    tokens,
)
from grok_mpp.local.schema_fill import PromptValues, content_words, fill_schema, find_quoted
from grok_mpp.local.synthesis import (
    Answer,
    answer_prompt,
    answer_tool_results,
    content_text,
    reasoning_text,
)

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


def _logprobs_block(text: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """OpenAI-shaped ``logprobs`` for ``logprobs: true``: one entry per word, deterministic values."""
    top = _optional_int(body, "top_logprobs", low=0, high=8) or 0
    entries = []
    for i, word in enumerate(text.split()):
        logprob = -round(0.01 * (i % 7 + 1), 4)
        alts = [{"token": word, "logprob": logprob, "bytes": list(word.encode())}][:top]
        entries.append({"token": word, "logprob": logprob, "bytes": list(word.encode()), "top_logprobs": alts})
    return {"content": entries}


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
        logprobs = _logprobs_block(message.get("content") or "", body) if body.get("logprobs") else None
        choices.append({"index": index, "message": message, "finish_reason": finish, "logprobs": logprobs})

    text_tokens, image_tokens = _prompt_tokens(body, messages)
    reasoning_tokens = 2 * completion_tokens if reasoning else 0
    usage = chat_usage(model, text_tokens, image_tokens, completion_tokens, reasoning_tokens)
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
