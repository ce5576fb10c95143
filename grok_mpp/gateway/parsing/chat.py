"""Chat answers in either upstream shape (Chat Completions or Responses API): text, reasoning,
function calls, server-side tool runs, citations, usage and cost."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from grok_mpp.errors import GatewayError
from grok_mpp.gateway.parsing.coerce import _dict, _int, _list, _opt_int, _str, parse_json_arguments
from grok_mpp.gateway.parsing.usage import normalize_usage
from grok_mpp.gateway.pricing import cost_from_usage
from grok_mpp.gateway.results import (
    ChatResult,
    Citation,
    Cost,
    ServerToolCall,
    ToolCall,
    Usage,
    ticks_to_base_units,
)

# --- citations -----------------------------------------------------------------------------------

_X_HOSTS = {"x.com", "twitter.com", "mobile.x.com", "mobile.twitter.com", "www.x.com", "www.twitter.com"}
_X_STATUS_RE = re.compile(r"^/(?:(?P<handle>[A-Za-z0-9_]{1,15})|i(?:/web)?)/status(?:es)?/(?P<id>\d+)", re.IGNORECASE)
_URL_RE = re.compile(r"^(?P<scheme>https?)://(?P<host>[^/?#:]+)(?::\d+)?(?P<path>[^?#]*)", re.IGNORECASE)


def make_citation(
    url: str,
    *,
    title: str | None = None,
    start_index: int | None = None,
    end_index: int | None = None,
) -> Citation:
    """A Citation with X posts recognised: ``source="x"``, ``post_id`` and the author handle if present."""
    match = _URL_RE.match(url.strip())
    host = match.group("host").lower() if match else ""
    if host not in _X_HOSTS:
        return Citation(url=url, title=title, start_index=start_index, end_index=end_index, source="web")
    post_id = author = None
    status = _X_STATUS_RE.match(match.group("path")) if match else None
    if status:
        post_id = status.group("id")
        handle = status.group("handle")
        author = handle if handle and handle.lower() != "i" else None
    return Citation(
        url=url,
        title=title,
        start_index=start_index,
        end_index=end_index,
        source="x",
        post_id=post_id,
        author=author,
    )


def _citations_from_list(items: Any) -> list[Citation]:
    out: list[Citation] = []
    for item in _list(items):
        if isinstance(item, str) and item:
            out.append(make_citation(item))
        elif isinstance(item, dict) and isinstance(item.get("url"), str):
            out.append(
                make_citation(
                    item["url"],
                    title=_str(item.get("title")),
                    start_index=_opt_int(item.get("start_index")),
                    end_index=_opt_int(item.get("end_index")),
                )
            )
    return out


def _merge_citations(*groups: Iterable[Citation]) -> tuple[Citation, ...]:
    """Deduplicate by URL, keeping the first (most detailed: annotations come first) occurrence.

    Inline annotations with different spans for the same URL are all kept: each marks a place in the text.
    """
    out: list[Citation] = []
    seen_spans: set[tuple[str, int | None, int | None]] = set()
    seen_urls: set[str] = set()
    for group in groups:
        for c in group:
            span = (c.url, c.start_index, c.end_index)
            if span in seen_spans or (c.start_index is None and c.url in seen_urls):
                continue
            seen_spans.add(span)
            seen_urls.add(c.url)
            out.append(c)
    return tuple(out)


# --- server-side tools ---------------------------------------------------------------------------

#: Responses-API output item types -> parent tool name used in ServerToolCall.name.
SERVER_TOOL_ITEM_TYPES = {
    "web_search_call": "web_search",
    "x_search_call": "x_search",
    "code_interpreter_call": "code_execution",
    "code_execution_call": "code_execution",
}
#: Upstream (sub-)tool names -> parent tool, for server calls surfacing as chat ``tool_calls``.
SERVER_SUB_TOOLS = {
    "web_search": "web_search",
    "browse_page": "web_search",
    "x_search": "x_search",
    "x_keyword_search": "x_search",
    "x_semantic_search": "x_search",
    "x_user_search": "x_search",
    "x_thread_fetch": "x_search",
    "code_execution": "code_execution",
    "code_interpreter": "code_execution",
}
_CHAT_ENDPOINT = "/grok/chat"


def _outputs(item: dict[str, Any]) -> tuple[str, ...]:
    """Tool outputs (stdout, logs, results) as strings; only what the body actually contains."""
    raw = item.get("outputs")
    if raw is None:
        raw = item.get("results")
    if raw is None and "output" in item:
        raw = [item["output"]]
    out: list[str] = []
    for entry in _list(raw):
        if isinstance(entry, str):
            out.append(entry)
        elif isinstance(entry, dict):
            for key in ("logs", "stdout", "output", "text", "content", "url"):
                if isinstance(entry.get(key), str):
                    out.append(entry[key])
                    break
            else:
                out.append(json.dumps(entry, ensure_ascii=False, sort_keys=True))
        elif entry is not None:
            out.append(json.dumps(entry, ensure_ascii=False))
    return tuple(out)


def _server_call_from_item(item: dict[str, Any], parent: str) -> ServerToolCall:
    args, _raw = parse_json_arguments(item.get("arguments"))
    if not args:
        if isinstance(item.get("code"), str):
            args = {"code": item["code"]}
        elif isinstance(item.get("action"), dict):
            args = dict(item["action"])
    return ServerToolCall(
        id=str(item.get("id") or item.get("call_id") or ""),
        name=parent,
        args=args,
        status=str(item.get("status") or "completed"),
        outputs=_outputs(item),
        sub_tool=_str(item.get("name")),
    )


# --- chat ------------------------------------------------------------------------------------------


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for part in _list(content):
        if isinstance(part, dict) and isinstance(part.get("text"), str):
            parts.append(part["text"])
    return "".join(parts)


def _fill_cost(cost: Cost | None, usage: Usage, served_model: str) -> Cost:
    """Attach upstream ticks to the caller's Cost; build an unpaid Cost from the pricing table if none."""
    if cost is None:
        estimated = (
            ticks_to_base_units(usage.cost_in_usd_ticks)
            if usage.cost_in_usd_ticks is not None
            else cost_from_usage(served_model, usage)
        )
        return Cost.unpaid(estimated, usage.cost_in_usd_ticks)
    if cost.upstream_ticks is None and usage.cost_in_usd_ticks is not None:
        return replace(cost, upstream_ticks=usage.cost_in_usd_ticks)
    return cost


def is_responses_shape(data: dict[str, Any]) -> bool:
    return data.get("object") == "response" or (
        isinstance(data.get("output"), list) and not isinstance(data.get("choices"), list)
    )


def parse_chat(
    data: dict[str, Any],
    *,
    requested_model: str,
    endpoint: str,
    cost: Cost | None = None,
) -> ChatResult:
    """Normalize a Chat Completions or Responses-API payload (already unwrapped) into a ChatResult.

    ``cost`` is the payment record the client knows; its ``upstream_ticks`` is filled from usage.
    Without one, an unpaid Cost is built whose ``estimated`` is xAI's own figure when present, else
    our pricing table applied to the served model.
    """
    if not isinstance(data, dict):
        raise GatewayError(f"expected a JSON object from {endpoint}, got {type(data).__name__}", body=data)
    if is_responses_shape(data):
        return _parse_responses(data, requested_model=requested_model, endpoint=endpoint, cost=cost)
    choices = _list(data.get("choices"))
    if not choices and "usage" not in data:
        raise GatewayError(f"{endpoint} answered with neither chat choices nor Responses output", body=data)
    usage = normalize_usage(data.get("usage"))
    served = _str(data.get("model")) or requested_model
    ordered = sorted((_dict(c) for c in choices), key=lambda c: _int(c.get("index"))) or [{}]
    first, *rest = [_parse_choice(c, endpoint) for c in ordered]
    base = ChatResult(
        id=str(data.get("id") or ""),
        text=first.text,
        reasoning=first.reasoning,
        tool_calls=first.tool_calls,
        citations=_merge_citations(first.citations, _citations_from_list(data.get("citations"))),
        server_tool_calls=first.server_tool_calls,
        finish_reason=first.finish_reason,
        requested_model=requested_model,
        served_model=served,
        usage=usage,
        cost=_fill_cost(cost, usage, served),
        endpoint=endpoint,
        raw=data,
        system_fingerprint=_str(data.get("system_fingerprint")),
        logprobs=first.logprobs,
    )
    if not rest:
        return base
    return replace(
        base,
        alternatives=tuple(
            replace(
                base,
                text=c.text,
                reasoning=c.reasoning,
                tool_calls=c.tool_calls,
                citations=c.citations,
                server_tool_calls=c.server_tool_calls,
                finish_reason=c.finish_reason,
                logprobs=c.logprobs,
            )
            for c in rest
        ),
    )


@dataclass(frozen=True, slots=True)
class _Choice:
    text: str
    reasoning: str | None
    tool_calls: tuple[ToolCall, ...]
    server_tool_calls: tuple[ServerToolCall, ...]
    citations: tuple[Citation, ...]
    finish_reason: str | None
    logprobs: dict[str, Any] | None


def _parse_choice(choice: dict[str, Any], endpoint: str) -> _Choice:
    """One Chat Completions choice (``n > 1`` yields several)."""
    message = _dict(choice.get("message"))
    tool_calls: list[ToolCall] = []
    server_calls: list[ServerToolCall] = []
    for raw_call in _list(message.get("tool_calls")):
        call = _dict(raw_call)
        fn = _dict(call.get("function"))
        name = _str(fn.get("name")) or ""
        arguments, raw_args = parse_json_arguments(fn.get("arguments"))
        call_id = str(call.get("id") or "")
        if endpoint != _CHAT_ENDPOINT and name in SERVER_SUB_TOOLS:
            # On server-tool routes xAI reports its own tool runs in tool_calls; they are not ours to answer.
            server_calls.append(
                ServerToolCall(
                    id=call_id,
                    name=SERVER_SUB_TOOLS[name],
                    args=arguments,
                    status=str(call.get("status") or "completed"),
                    outputs=_outputs(call),
                    sub_tool=name,
                )
            )
        else:
            tool_calls.append(ToolCall(id=call_id, name=name, arguments=arguments, raw_arguments=raw_args))
    reasoning = _str(message.get("reasoning_content"))
    logprobs = choice.get("logprobs")
    return _Choice(
        text=_text_of(message.get("content")),
        reasoning=reasoning if reasoning else None,
        tool_calls=tuple(tool_calls),
        server_tool_calls=tuple(server_calls),
        citations=_merge_citations(_citations_from_list(message.get("citations"))),
        finish_reason=_str(choice.get("finish_reason")),
        logprobs=logprobs if isinstance(logprobs, dict) else None,
    )


def _parse_responses(data: dict[str, Any], *, requested_model: str, endpoint: str, cost: Cost | None) -> ChatResult:
    texts: list[str] = []
    reasoning_parts: list[str] = []
    annotations: list[Citation] = []
    tool_calls: list[ToolCall] = []
    server_calls: list[ServerToolCall] = []
    for raw_item in _list(data.get("output")):
        item = _dict(raw_item)
        kind = item.get("type")
        if kind == "message":
            segments: list[str] = []
            for part in _list(item.get("content")):
                part = _dict(part)
                if part.get("type") in ("output_text", "text") and isinstance(part.get("text"), str):
                    segments.append(part["text"])
                annotations.extend(
                    _citations_from_list(
                        [
                            a
                            for a in _list(part.get("annotations"))
                            if _dict(a).get("type", "url_citation") == "url_citation"
                        ]
                    )
                )
            if segments:
                texts.append("".join(segments))
        elif kind == "reasoning":
            for part in _list(item.get("summary")) + _list(item.get("content")):
                text = _dict(part).get("text")
                if isinstance(text, str) and text:
                    reasoning_parts.append(text)
        elif kind == "function_call":
            arguments, raw_args = parse_json_arguments(item.get("arguments"))
            tool_calls.append(
                ToolCall(
                    id=str(item.get("call_id") or item.get("id") or ""),
                    name=_str(item.get("name")) or "",
                    arguments=arguments,
                    raw_arguments=raw_args,
                )
            )
        elif kind in SERVER_TOOL_ITEM_TYPES:
            server_calls.append(_server_call_from_item(item, SERVER_TOOL_ITEM_TYPES[kind]))
    usage = normalize_usage(data.get("usage"))
    served = _str(data.get("model")) or requested_model
    status = _str(data.get("status"))
    incomplete = _str(_dict(data.get("incomplete_details")).get("reason"))
    if status == "completed" or status is None:
        finish = "tool_calls" if tool_calls else ("stop" if status else None)
    elif status == "incomplete":
        finish = "length" if incomplete in ("max_output_tokens", "max_tokens") else (incomplete or status)
    else:
        finish = status
    return ChatResult(
        id=str(data.get("id") or ""),
        text="\n\n".join(texts),
        reasoning="\n\n".join(reasoning_parts) or None,
        tool_calls=tuple(tool_calls),
        citations=_merge_citations(annotations, _citations_from_list(data.get("citations"))),
        server_tool_calls=tuple(server_calls),
        finish_reason=finish,
        requested_model=requested_model,
        served_model=served,
        usage=usage,
        cost=_fill_cost(cost, usage, served),
        endpoint=endpoint,
        raw=data,
        system_fingerprint=_str(data.get("system_fingerprint")),
    )
