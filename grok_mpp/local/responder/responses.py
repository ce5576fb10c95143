"""Responses-API shaped answers (``object: "response"``) and the code-execution route.

Usage here counts reasoning tokens INSIDE ``output_tokens`` (the opposite of chat completions), as
in xAI's Responses fixtures (grok-api.md section 2.5).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from grok_mpp.local.responder.chat import (
    _apply_limits,
    _chat,
    _choose_tool,
    _function_tools,
    _parse_tool_choice,
)
from grok_mpp.local.responder.common import (
    GENERATOR,
    TOOL_CALL_TICKS,
    _check_rejected_parameters,
    _Context,
    _last_user_text,
    _messages,
    _optional_int,
    _prompt_tokens,
    _require_model,
    cached_tokens,
    is_reasoning_model,
    token_cost_ticks,
    tokens,
)
from grok_mpp.local.synthesis import (
    SYNTHETIC_MARKER,
    format_number,
    reasoning_text,
    solve_arithmetic,
)

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


def code_interpreter_item(ctx: _Context, code: str, logs: str, label: str) -> dict[str, Any]:
    """One completed ``code_interpreter_call`` output item (Responses API shape) with its logs."""
    return {
        "type": "code_interpreter_call",
        "id": f"ci_{ctx.hex_id(label)}",
        "name": "code_execution",
        "arguments": json.dumps({"code": code}),
        "code": code,
        "status": "completed",
        "outputs": [{"type": "logs", "logs": logs}],
    }


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
    items = [code_interpreter_item(ctx, code, logs, "code"), _message_item(ctx, text, [])]
    return _responses_envelope(
        ctx, model, items, messages=messages, output_text=text, tools_used=1, sources_used=0, truncated=truncated
    )
