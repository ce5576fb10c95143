"""LlamaIndex chat types <-> the core's OpenAI-shaped messages and :class:`ChatResult`.

Outgoing: ``ChatMessage`` blocks become OpenAI content parts and tool calls; the bridge
(:func:`grok_mpp.bridge.chat.chat_request`) then decides what the gateway accepts. Blocks the model
produced itself (``ThinkingBlock``, ``CitationBlock``) are not sent back: xAI does not take
reasoning as input and citations are already in the text. Media the gateway cannot take (audio,
video, documents) is refused before anything is paid instead of being silently dropped.

Incoming: one :class:`ChatResult` becomes one ``ChatResponse`` whose ``raw["usage"]`` and
``additional_kwargs`` hold the gateway's own token counts, so ``TokenCountingHandler`` counts what
was billed rather than re-tokenizing. Tool calls are both ``ToolCallBlock`` s and OpenAI-style
``message.additional_kwargs["tool_calls"]``: LlamaIndex's streaming structured-output parser
(``stream_structured_predict``, ``as_structured_llm().stream_chat``) only looks at the latter.
Requested ``logprobs`` fill ``ChatResponse.logprobs`` and ``raw["logprobs"]``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from llama_index.core.base.llms.types import (
    CachePoint,
    ChatMessage,
    ChatResponse,
    CitableBlock,
    CitationBlock,
    CompletionResponse,
    ImageBlock,
    LogProb,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)

from grok_mpp.bridge.metadata import citation_dicts, code_execution_dicts, openai_usage, result_metadata
from grok_mpp.bridge.search import cited_passage
from grok_mpp.errors import InvalidRequestError
from grok_mpp.gateway.mime import sniff_image_mime
from grok_mpp.gateway.requests import GrokRequest
from grok_mpp.gateway.results import ChatResult, Citation

_ROLES = {
    MessageRole.SYSTEM: "system",
    MessageRole.DEVELOPER: "developer",
    MessageRole.USER: "user",
    MessageRole.ASSISTANT: "assistant",
    MessageRole.CHATBOT: "assistant",
    MessageRole.MODEL: "assistant",
    MessageRole.TOOL: "tool",
    MessageRole.FUNCTION: "tool",
}
_NOT_SENT = (ThinkingBlock, CitationBlock, CachePoint)


# --- outgoing ------------------------------------------------------------------------------------


def _image_part(block: ImageBlock) -> dict[str, Any]:
    """URL images are passed by reference; bytes and paths are inlined as a data URI."""
    if block.url is not None and block.image is None and block.path is None:
        url = str(block.url)
        part: dict[str, Any] = {"type": "image_url", "image_url": {"url": url}}
        if block.detail in ("auto", "low", "high"):
            part["image_url"]["detail"] = block.detail
        return part
    try:
        data = block.resolve_image(as_base64=False).read()
    except (OSError, ValueError) as exc:
        raise InvalidRequestError(f"could not read the image block: {exc}", hint="nothing was sent or paid") from None
    mime = block.image_mimetype or sniff_image_mime(data)
    if mime is None:
        raise InvalidRequestError("image bytes are not PNG, JPEG, WEBP or GIF", hint="nothing was sent or paid")
    part = {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{base64.b64encode(data).decode()}"}}
    if block.detail in ("auto", "low", "high"):
        part["image_url"]["detail"] = block.detail
    return part


def _tool_call(block: ToolCallBlock) -> dict[str, Any]:
    arguments = block.tool_kwargs
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments, separators=(",", ":"))
    return {"id": block.tool_call_id or "", "type": "function", "function": {"name": block.tool_name, "arguments": raw}}


def _legacy_tool_calls(kwargs: Mapping[str, Any]) -> list[dict[str, Any]]:
    """OpenAI-style ``additional_kwargs["tool_calls"]`` (dicts or SDK objects) from older integrations."""
    calls = []
    for call in kwargs.get("tool_calls") or ():
        data = call.model_dump() if hasattr(call, "model_dump") else dict(call)
        calls.append(data)
    return calls


def _content_parts(message: ChatMessage) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    parts: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    for block in message.blocks:
        if isinstance(block, TextBlock):
            parts.append({"type": "text", "text": block.text})
        elif isinstance(block, ImageBlock):
            parts.append(_image_part(block))
        elif isinstance(block, ToolCallBlock):
            calls.append(_tool_call(block))
        elif isinstance(block, CitableBlock):
            parts.extend({"type": "text", "text": b.text} for b in block.content if isinstance(b, TextBlock))
        elif not isinstance(block, _NOT_SENT):
            raise InvalidRequestError(
                f"{type(block).__name__} content is not supported by the Grok gateway",
                hint="send text and images only; nothing was sent or paid",
            )
    return parts, calls


def to_openai_messages(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """LlamaIndex history -> OpenAI-style dicts for :func:`grok_mpp.bridge.chat.chat_request`."""
    out: list[dict[str, Any]] = []
    for message in messages:
        role = _ROLES.get(message.role, str(message.role.value))
        parts, calls = _content_parts(message)
        item: dict[str, Any] = {"role": role, "content": parts}
        if role == "assistant":
            calls = calls or _legacy_tool_calls(message.additional_kwargs)
            if calls:
                item["tool_calls"] = calls
        if role == "tool":
            item["tool_call_id"] = message.additional_kwargs.get("tool_call_id", "")
        out.append(item)
    return out


# --- incoming ------------------------------------------------------------------------------------


def _citation_block(text: str, citation: Citation) -> CitationBlock:
    start, end = citation.start_index, citation.end_index
    passage = cited_passage(text, start, end) if start is not None else ""
    location = {"start_index": start, "end_index": end}
    return CitationBlock(
        cited_content=TextBlock(text=passage or citation.title or citation.url),
        source=citation.url,
        title=citation.title or citation.url,
        additional_location_info={k: v for k, v in location.items() if v is not None},
    )


def _tool_call_block(result: ChatResult, index: int) -> ToolCallBlock:
    call = result.tool_calls[index]
    # keep the model's raw text when it was not a JSON object, so nothing is silently lost
    kwargs: dict[str, Any] | str = (
        call.arguments if call.arguments or call.raw_arguments.strip() in ("", "{}") else call.raw_arguments
    )
    return ToolCallBlock(tool_call_id=call.id, tool_name=call.name, tool_kwargs=kwargs)


def response_kwargs(result: ChatResult) -> dict[str, Any]:
    """Token counts, cost and proof of payment, flat (what LlamaIndex users read first)."""
    mpp = result_metadata(result)["mpp"]
    return {
        **openai_usage(result.usage),
        "model": result.served_model,
        "paid_usd": mpp["paid_usd"],
        "estimated_usd": mpp["estimated_usd"],
        "tx_hash": mpp["tx_hash"],
    }


def _openai_tool_calls(result: ChatResult) -> list[dict[str, Any]]:
    return [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": call.raw_arguments or json.dumps(call.arguments)},
        }
        for call in result.tool_calls
    ]


def _logprobs(raw: Mapping[str, Any] | None) -> list[list[LogProb]] | None:
    """xAI's ``{"content": [{token, logprob, bytes, top_logprobs}]}`` -> LlamaIndex's per-token lists."""
    if not raw or not isinstance(raw.get("content"), list):
        return None
    out: list[list[LogProb]] = []
    for entry in raw["content"]:
        if not isinstance(entry, Mapping):
            continue
        alternatives = [a for a in entry.get("top_logprobs") or () if isinstance(a, Mapping)] or [entry]
        out.append(
            [
                LogProb(
                    token=str(a.get("token", "")), logprob=float(a.get("logprob", 0.0)), bytes=list(a.get("bytes") or [])
                )
                for a in alternatives
            ]
        )
    return out


def chat_response(result: ChatResult, request: GrokRequest | None = None) -> ChatResponse:
    blocks: list[Any] = []
    if result.reasoning:
        blocks.append(ThinkingBlock(content=result.reasoning, num_tokens=result.usage.reasoning_tokens or None))
    if result.text or not result.tool_calls:
        blocks.append(TextBlock(text=result.text))
    blocks.extend(_citation_block(result.text, c) for c in result.citations)
    blocks.extend(_tool_call_block(result, i) for i in range(len(result.tool_calls)))
    raw = {
        **result_metadata(result),
        "model": result.served_model,
        "usage": openai_usage(result.usage),
        "citations": citation_dicts(result.citations),
        "code_execution": code_execution_dicts(result),
    }
    extras = response_kwargs(result)
    if result.logprobs is not None:
        raw["logprobs"] = result.logprobs
    if request is not None and request.dropped:
        raw["dropped_params"] = extras["dropped_params"] = request.dropped
    message_kwargs = {"tool_calls": _openai_tool_calls(result)} if result.tool_calls else {}
    return ChatResponse(
        message=ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks, additional_kwargs=message_kwargs),
        raw=raw,
        logprobs=_logprobs(result.logprobs),
        additional_kwargs=extras,
    )


def stream_chunk(response: ChatResponse) -> ChatResponse:
    """The single chunk of a "stream": the whole answer as delta, usage included (it is the last)."""
    thinking = [b.content for b in response.message.blocks if isinstance(b, ThinkingBlock) and b.content]
    extra = {"thinking_delta": thinking[0]} if thinking else {}
    return ChatResponse(
        message=response.message,
        delta=response.message.content or "",
        raw=response.raw,
        logprobs=response.logprobs,
        additional_kwargs={**response.additional_kwargs, **extra},
    )


def completion_response(response: ChatResponse, *, stream: bool = False) -> CompletionResponse:
    text = response.message.content or ""
    return CompletionResponse(
        text=text,
        delta=text if stream else None,
        raw=response.raw,
        additional_kwargs=dict(response.additional_kwargs),
    )
