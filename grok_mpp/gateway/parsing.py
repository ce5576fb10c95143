"""Locus envelope unwrapping and normalization of xAI response bodies (pure functions, no I/O).

Why defensive: only the chat route's response shape through Locus has been observed
(``{"success": true, "data": <chat.completion>}``, grok-api.md §1.7). The search and code-execution
routes may return either a Chat Completions object or a Responses-API object (Live Search is dead, so
Locus most likely calls the Responses API), so :func:`parse_chat` accepts both and never trusts a
field's type without checking it. Parsing never invents data: a missing field becomes ``None``/empty.

Usage normalization is the subtle part: Chat Completions report reasoning tokens OUTSIDE
``completion_tokens``; the Responses API counts them INSIDE ``output_tokens``. Tools that miss this
under-count cost by up to ~9x (grok-api.md §2.1), so :func:`normalize_usage` folds reasoning into
``output_tokens`` exactly once, cross-checking against the upstream ``total_tokens`` when present.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, replace
from typing import Any

from grok_mpp.errors import GatewayError, UpstreamError
from grok_mpp.gateway.results import (
    ChatResult,
    Citation,
    Cost,
    GeneratedImage,
    ImageResult,
    ServerToolCall,
    SpeechResult,
    ToolCall,
    Usage,
    ticks_to_base_units,
)

# --- xAI error bodies ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class XaiError:
    """The useful part of an xAI (or OpenAI-style) error body."""

    message: str
    code: str | None = None
    type: str | None = None
    param: str | None = None

    def describe(self) -> str:
        return f"{self.code}: {self.message}" if self.code and self.code != self.message else self.message


def extract_xai_error(body: Any) -> XaiError | None:
    """Pull the error message out of a non-2xx body; ``None`` if it carries none. Never raises.

    Accepts the classic xAI form ``{"code": "...", "error": "..."}``, the OpenAI form
    ``{"error": {"message", "type", "param", "code"}}``, a Locus ``{"success": false, "error": "..."}``
    and bodies given as bytes/str JSON. Independent of RFC 9457 ``parse_problem`` on purpose: payment
    problems and upstream model errors are different failures with different remedies.
    """
    if isinstance(body, bytes | bytearray):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            text = body.strip()
            return XaiError(message=text[:500]) if text else None
    if not isinstance(body, dict):
        return None
    err = body.get("error")
    if isinstance(err, dict):
        message = err.get("message")
        if isinstance(message, str) and message:
            return XaiError(
                message=message,
                code=_opt_str(err.get("code")),
                type=_opt_str(err.get("type")),
                param=_opt_str(err.get("param")),
            )
    if isinstance(err, str) and err:
        return XaiError(message=err, code=_opt_str(body.get("code")))
    for key in ("message", "detail"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return XaiError(message=value, code=_opt_str(body.get("code")))
    return None


def _opt_str(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    return str(value) if isinstance(value, str | int) else None


# --- envelope ------------------------------------------------------------------------------------


def unwrap_envelope(status_code: int, body_json: Any) -> dict[str, Any]:
    """Return the upstream xAI payload from a Locus body.

    * ``{"success": true, "data": {...}}`` -> the ``data`` object (a non-object ``data``, such as a
      bare base64 string, is returned as ``{"data": <value>}`` so callers always get a dict);
    * ``{"success": false, ...}`` -> :class:`UpstreamError` with the payment id: xAI failed after the
      payment settled and Locus says it refunds automatically;
    * a body without an envelope -> the body itself (some gateways do not wrap), unless the status is
      an error, in which case :class:`GatewayError` with the extracted xAI message.
    """
    if not isinstance(body_json, dict):
        raise GatewayError(
            f"gateway answered HTTP {status_code} with a {type(body_json).__name__}, not a JSON object",
            status_code=status_code,
            body=body_json,
        )
    if "success" in body_json:
        if body_json.get("success") is True:
            data = body_json.get("data")
            if data is None:
                return {k: v for k, v in body_json.items() if k != "success"}
            return data if isinstance(data, dict) else {"data": data}
        payment_id = body_json.get("paymentId") or body_json.get("payment_id")
        error = extract_xai_error(body_json)
        detail = error.describe() if error else "no error detail"
        raise UpstreamError(
            f"upstream xAI call failed after payment (HTTP {status_code}): {detail}",
            payment_id=str(payment_id) if payment_id is not None else None,
            status_code=status_code,
            body=body_json,
            hint=(
                "Locus reports it refunds the payment automatically"
                + (f"; keep payment id {payment_id} to follow up" if payment_id else "")
                + ". Check the request before retrying: a retry pays again"
            ),
        )
    if status_code >= 400:
        error = extract_xai_error(body_json)
        raise GatewayError(
            f"gateway answered HTTP {status_code}: {error.describe() if error else 'no error detail'}",
            status_code=status_code,
            body=body_json,
        )
    return body_json


# --- small coercions -------------------------------------------------------------------------------


def _int(value: Any) -> int:
    """Non-negative int from a JSON number; anything else is 0 (usage fields are advisory)."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, float) and value.is_integer():
        return max(int(value), 0)
    return 0


def _opt_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if float(value).is_integer() else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def parse_json_arguments(raw: Any) -> tuple[dict[str, Any], str]:
    """``(arguments, raw_arguments)`` from a tool call's ``arguments`` (JSON string or object).

    Invalid JSON, or JSON that is not an object, yields ``{}`` with the raw text kept, so a model's
    malformed call can be shown and answered instead of crashing the parse.
    """
    if isinstance(raw, dict):
        return raw, json.dumps(raw, separators=(",", ":"), ensure_ascii=False)
    if not isinstance(raw, str):
        return {}, "" if raw is None else json.dumps(raw)
    try:
        parsed = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return {}, raw
    return (parsed if isinstance(parsed, dict) else {}), raw


# --- usage ---------------------------------------------------------------------------------------


def normalize_usage(usage: Any) -> Usage:
    """Normalize Chat Completions or Responses usage so ``output_tokens`` includes reasoning once.

    Default by key family: ``prompt_tokens/completion_tokens`` exclude reasoning (xAI Chat), while
    ``input_tokens/output_tokens`` include it (Responses). When the upstream ``total_tokens`` matches
    only the other interpretation, that one wins (xAI has changed such details before).
    """
    u = _dict(usage)
    responses_keys = "input_tokens" in u or "output_tokens" in u
    if responses_keys:
        input_tokens = _int(u.get("input_tokens"))
        raw_output = _int(u.get("output_tokens"))
        in_details = _dict(u.get("input_tokens_details"))
        out_details = _dict(u.get("output_tokens_details"))
    else:
        input_tokens = _int(u.get("prompt_tokens"))
        raw_output = _int(u.get("completion_tokens"))
        in_details = _dict(u.get("prompt_tokens_details"))
        out_details = _dict(u.get("completion_tokens_details"))
    reasoning = _int(out_details.get("reasoning_tokens") or u.get("reasoning_tokens"))
    cached = _int(in_details.get("cached_tokens") or u.get("cached_prompt_text_tokens"))

    includes_reasoning = responses_keys
    upstream_total = _opt_int(u.get("total_tokens"))
    if upstream_total is not None and reasoning:
        if upstream_total == input_tokens + raw_output + reasoning != input_tokens + raw_output:
            includes_reasoning = False
        elif upstream_total == input_tokens + raw_output and raw_output >= reasoning:
            includes_reasoning = True
    output = raw_output if includes_reasoning else raw_output + reasoning
    reasoning = min(reasoning, output)

    tools_used = u.get("num_server_side_tools_used")
    if tools_used is None:
        details = u.get("server_side_tool_usage_details")
        if isinstance(details, dict):
            tools_used = sum(_int(v) for v in details.values())
    ticks = _opt_int(u.get("cost_in_usd_ticks"))
    return Usage.of(
        input_tokens,
        output,
        reasoning_tokens=reasoning,
        cached_input_tokens=min(cached, input_tokens),
        num_sources_used=_int(u.get("num_sources_used")),
        num_server_side_tools_used=_int(tools_used),
        cost_in_usd_ticks=ticks if ticks is not None and ticks >= 0 else None,
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


def _merge_citations(*groups: list[Citation]) -> tuple[Citation, ...]:
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
        from grok_mpp.gateway.pricing import cost_from_usage

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
    choice = _dict(choices[0]) if choices else {}
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
    usage = normalize_usage(data.get("usage"))
    served = _str(data.get("model")) or requested_model
    citations = _merge_citations(
        _citations_from_list(message.get("citations")), _citations_from_list(data.get("citations"))
    )
    reasoning = _str(message.get("reasoning_content"))
    return ChatResult(
        id=str(data.get("id") or ""),
        text=_text_of(message.get("content")),
        reasoning=reasoning if reasoning else None,
        tool_calls=tuple(tool_calls),
        citations=citations,
        server_tool_calls=tuple(server_calls),
        finish_reason=_str(choice.get("finish_reason")),
        requested_model=requested_model,
        served_model=served,
        usage=usage,
        cost=_fill_cost(cost, usage, served),
        endpoint=endpoint,
        raw=data,
        system_fingerprint=_str(data.get("system_fingerprint")),
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


# --- media ---------------------------------------------------------------------------------------


def sniff_image_mime(data: bytes) -> str | None:
    """MIME type from magic bytes; xAI has returned JPEG whatever format was asked for."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    return None


def sniff_audio_mime(data: bytes) -> str | None:
    if data.startswith(b"ID3") or (len(data) >= 2 and data[0] == 0xFF and (data[1] & 0xE0) == 0xE0):
        return "audio/mpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data.startswith(b"OggS"):
        return "audio/ogg"
    return None


_CODEC_MIME = {
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "pcm": "audio/L16",
    "mulaw": "audio/basic",
    "alaw": "audio/x-alaw-basic",
}
_DATA_URI_PREFIX_RE = re.compile(r"^data:[^;,]*(?:;[^,]*)?,")


def _b64decode(value: str, what: str) -> bytes:
    """Strict base64 (standard or URL-safe alphabet, padding optional, data: URI prefix allowed)."""
    text = _DATA_URI_PREFIX_RE.sub("", value.strip(), count=1)
    text = re.sub(r"\s", "", text).replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise GatewayError(f"{what} is not valid base64", body=value[:100]) from None


def _upstream_ticks(data: dict[str, Any]) -> int | None:
    ticks = _opt_int(_dict(data.get("usage")).get("cost_in_usd_ticks"))
    return ticks if ticks is not None and ticks >= 0 else None


def _with_ticks(cost: Cost | None, ticks: int | None) -> Cost:
    if cost is None:
        return Cost.unpaid(ticks_to_base_units(ticks) if ticks is not None else 0, ticks)
    if cost.upstream_ticks is None and ticks is not None:
        return replace(cost, upstream_ticks=ticks)
    return cost


def parse_image(data: dict[str, Any], *, requested_model: str, cost: Cost | None = None) -> ImageResult:
    """Images from ``{"data": [{"b64_json"|"url", "revised_prompt"}], ...}``; b64 decoded, MIME sniffed."""
    images: list[GeneratedImage] = []
    for raw in _list(_dict(data).get("data")):
        item = _dict(raw)
        b64 = _str(item.get("b64_json"))
        blob = _b64decode(b64, "image b64_json") if b64 else None
        images.append(
            GeneratedImage(
                data=blob,
                url=_str(item.get("url")),
                mime_type=sniff_image_mime(blob) if blob else _str(item.get("mime_type")),
                revised_prompt=_str(item.get("revised_prompt")),
            )
        )
    if not images:
        raise GatewayError("image response contains no images", body=data)
    return ImageResult(
        images=tuple(images),
        model=_str(data.get("model")) or requested_model,
        cost=_with_ticks(cost, _upstream_ticks(data)),
        raw=data,
    )


def parse_speech(
    data: dict[str, Any] | str,
    *,
    characters: int,
    codec: str | None = None,
    cost: Cost | None = None,
) -> SpeechResult:
    """Audio from Locus's base64 (``data["data"]``, ``data["audio"]`` or a bare string); MIME sniffed,
    falling back to the requested codec (raw PCM/mulaw/alaw have no magic bytes)."""
    raw: dict[str, Any] = data if isinstance(data, dict) else {"data": data}
    encoded = _str(raw.get("data")) or _str(raw.get("audio")) or _str(raw.get("audio_base64"))
    if not encoded:
        raise GatewayError("speech response contains no base64 audio at data.data", body=raw)
    audio = _b64decode(encoded, "speech audio")
    if not audio:
        raise GatewayError("speech response audio is empty", body=raw)
    mime = sniff_audio_mime(audio) or _CODEC_MIME.get((codec or "").lower()) or "application/octet-stream"
    return SpeechResult(
        audio=audio,
        mime_type=mime,
        characters=characters,
        cost=_with_ticks(cost, _upstream_ticks(raw)),
        raw=raw,
    )
