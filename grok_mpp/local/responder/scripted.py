"""Render a scripted answer (:mod:`grok_mpp.local.script`) in the shape the route really answers with.

Why here: a scripted answer must look exactly like a synthetic one to the client (same ids derived
from the body, same usage accounting and ``cost_in_usd_ticks``), so it reuses the route families'
builders. Chat, tool calls, ReAct text and JSON answer as ``chat.completion`` (on every message
route, as the synthetic model does for client-side tools); prose on the search routes and code runs
answer as Responses objects with url_citation annotations / a ``code_interpreter_call``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from grok_mpp.gateway.catalog import DEFAULT_IMAGE_MODEL, get_model_info
from grok_mpp.local import media
from grok_mpp.local.responder.common import (
    IMAGE_TICKS,
    SYSTEM_FINGERPRINT,
    TTS_TICKS_PER_CHAR,
    WEB_SEARCH,
    X_SEARCH,
    _Context,
    _messages,
    _prompt_tokens,
    chat_usage,
    tokens,
)
from grok_mpp.local.responder.responses import _message_item, _responses_envelope, code_interpreter_item
from grok_mpp.local.script import Answer, react_text


def render_scripted(
    route: str, body: Mapping[str, Any], answer: Answer, *, created: int | None = None
) -> dict[str, Any]:
    """The ``data`` object for ``answer`` to ``body`` on ``route`` (validated beforehand)."""
    ctx = _Context.build(route, body, created)
    spec = answer.spec
    kind = answer.kind
    if kind == "raw":
        return json.loads(json.dumps(spec["raw"]))  # a private copy: callers may not mutate the script
    if kind == "images":
        return _images(ctx, spec["images"])
    if kind == "speech":
        return _speech(ctx, spec["speech"])
    if kind == "code":
        return _code_run(ctx, spec)
    if kind == "text" and route in (WEB_SEARCH, X_SEARCH):
        return _cited_text(ctx, spec, x=route == X_SEARCH)
    return _chat_completion(ctx, spec, kind)


def _content(spec: Mapping[str, Any], kind: str) -> str | None:
    if kind == "text":
        return str(spec["text"])
    if kind == "react":
        return react_text(spec["react"])
    if kind == "json":
        return json.dumps(spec["json"], ensure_ascii=False)
    return None


def _chat_completion(ctx: _Context, spec: Mapping[str, Any], kind: str) -> dict[str, Any]:
    body = ctx.body
    model = str(body.get("model") or "")
    messages = _messages(body)
    raw_n = body.get("n")
    n: int = raw_n if isinstance(raw_n, int) and not isinstance(raw_n, bool) else 1
    content = _content(spec, kind)
    choices: list[dict[str, Any]] = []
    completion_tokens = 0
    for index in range(max(1, n)):
        message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
        finish = "stop"
        if kind == "tool_calls":
            calls = []
            for i, call in enumerate(spec["tool_calls"]):
                arguments = json.dumps(call.get("arguments", {}), ensure_ascii=False)
                calls.append(
                    {
                        "id": str(call.get("id") or f"call_{ctx.hex_id(f'script-call-{index}-{i}')}"),
                        "type": "function",
                        "function": {"name": call["name"], "arguments": arguments},
                    }
                )
                completion_tokens += tokens(str(call["name"]) + arguments)
            message["tool_calls"] = calls
            finish = "tool_calls"
        else:
            completion_tokens += tokens(content or "")
        if spec.get("reasoning"):
            message["reasoning_content"] = str(spec["reasoning"])
        choices.append({"index": index, "message": message, "finish_reason": finish, "logprobs": None})
    text_tokens, image_tokens = _prompt_tokens(body, messages)
    reasoning_tokens = tokens(str(spec.get("reasoning") or "")) if spec.get("reasoning") else 0
    return {
        "id": ctx.uuid("chat"),
        "object": "chat.completion",
        "created": ctx.created,
        "model": model,
        "choices": choices,
        "usage": chat_usage(model, text_tokens, image_tokens, completion_tokens, reasoning_tokens),
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "service_tier": "default",
    }


def _cited_text(ctx: _Context, spec: Mapping[str, Any], *, x: bool) -> dict[str, Any]:
    text = str(spec["text"])
    messages = _messages(ctx.body)
    annotations: list[dict[str, Any]] = []
    urls: list[str] = []
    for i, cite in enumerate(spec.get("citations") or ()):
        url = cite if isinstance(cite, str) else str(cite["url"])
        title = None if isinstance(cite, str) else cite.get("title")
        marker = f" [[{i + 1}]]({url})"
        start = len(text) + 1
        text += marker
        annotations.append(
            {"type": "url_citation", "url": url, "title": title or url, "start_index": start, "end_index": len(text)}
        )
        urls.append(url)
    call = {
        "type": "x_search_call" if x else "web_search_call",
        "id": f"{'xs' if x else 'ws'}_{ctx.hex_id('script-search')}",
        "name": "x_semantic_search" if x else "web_search",
        "arguments": json.dumps({"query": _last_text(messages)[:200]}, ensure_ascii=False),
        "status": "completed",
        "action": {
            "type": "search",
            "query": _last_text(messages)[:200],
            "sources": [{"type": "url", "url": u} for u in urls],
        },
    }
    items = [call, _message_item(ctx, text, annotations)]
    response = _responses_envelope(
        ctx, str(ctx.body.get("model")), items, messages=messages, output_text=text, tools_used=1,
        sources_used=len(urls), truncated=False,
    )  # fmt: skip
    response["citations"] = urls
    return response


def _last_text(messages: list[Mapping[str, Any]]) -> str:
    content = messages[-1].get("content")
    return content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)


def _code_run(ctx: _Context, spec: Mapping[str, Any]) -> dict[str, Any]:
    messages = _messages(ctx.body)
    code, logs = str(spec["code"]), str(spec.get("output", ""))
    text = str(spec.get("text") or f"Output:\n```\n{logs}```")
    items = [code_interpreter_item(ctx, code, logs, "script-code"), _message_item(ctx, text, [])]
    return _responses_envelope(
        ctx, str(ctx.body.get("model")), items, messages=messages, output_text=text, tools_used=1,
        sources_used=0, truncated=False,
    )  # fmt: skip


def _images(ctx: _Context, images: Any) -> dict[str, Any]:
    body = ctx.body
    model = str(body.get("model") or DEFAULT_IMAGE_MODEL)
    items = [{} for _ in range(images)] if isinstance(images, int) else list(images)
    aspect = body.get("aspect_ratio")
    width, height = media.image_size(aspect if isinstance(aspect, str) else None)
    data: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        encoded = base64.b64encode(media.png_bytes(ctx.digest + f"script-image-{index}".encode(), width, height))
        text = encoded.decode("ascii")
        out: dict[str, Any] = (
            {"b64_json": text}
            if body.get("response_format") == "b64_json"
            else {"url": f"data:{media.PNG_MIME};base64,{text}"}
        )
        prompt = item.get("revised_prompt") if isinstance(item, Mapping) else None
        out["revised_prompt"] = str(prompt or body.get("prompt") or "")
        data.append(out)
    per_image = IMAGE_TICKS.get(get_model_info(model).served_as, IMAGE_TICKS[DEFAULT_IMAGE_MODEL])
    return {"created": ctx.created, "model": model, "data": data, "usage": {"cost_in_usd_ticks": per_image * len(data)}}


def _speech(ctx: _Context, spec: Any) -> dict[str, Any]:
    body = ctx.body
    spoken = str(spec.get("text")) if isinstance(spec, Mapping) and spec.get("text") else str(body.get("text") or "")
    voice = str(body.get("voice_id", body.get("voice")) or "eve").lower()
    audio = media.wav_bytes(spoken, voice=voice)
    return {
        "data": base64.b64encode(audio).decode("ascii"),
        "content_type": media.WAV_MIME,
        "characters": len(str(body.get("text") or "")),
        "voice_id": voice,
        "language": body.get("language") or "auto",
        "sample_rate": media.DEFAULT_SAMPLE_RATE,
        "duration_seconds": round(media.speech_seconds(spoken), 3),
        "usage": {"cost_in_usd_ticks": len(str(body.get("text") or "")) * TTS_TICKS_PER_CHAR},
    }


__all__ = ["render_scripted"]
