"""``ChatResult`` (core) -> LangChain ``AIMessage`` / stream chunks.

The gateway answers in one piece (Locus does not stream), so "streaming" replays a finished answer
as chunks. The replay follows the order of a real stream and the LangChain rules that aggregation
depends on:

1. a reasoning chunk (``additional_kwargs["reasoning_content"]``), if the model returned reasoning;
2. a server-tool chunk (``additional_kwargs["server_tool_calls"]``), if xAI ran search or code;
3. the answer text in word-boundary pieces (``on_llm_new_token`` fires per piece);
4. one final chunk with ``chunk_position="last"`` carrying tool calls, citations, the usage
   (usage is set on this chunk ONLY, so aggregation never double counts) and the response metadata
   (``model_name``, ``finish_reason``...). Integer-valued metadata appear on one chunk only because
   LangChain sums integers when merging chunks. The ``mpp`` payment block is on the FIRST chunk
   (whichever it is), so a stream stopped early still shows, and reports, what it paid.

Every chunk carries ``model_provider`` (merged as-is) so the content-block translator applies.

``n > 1`` (``generate``): one ``ChatGeneration`` per choice. Usage and the ``mpp`` payment block
describe the whole call, so only the first generation carries them (cost callbacks count the
payment once); every generation carries its own ``finish_reason`` and ``logprobs``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.messages.tool import InvalidToolCall, ToolCall, ToolCallChunk, invalid_tool_call, tool_call
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk
from langchain_core.outputs import ChatResult as LCChatResult

from grok_mpp.bridge.metadata import citation_dicts, code_execution_dicts, result_metadata, usage_metadata
from grok_mpp.gateway.requests import GrokRequest
from grok_mpp.gateway.results import ChatResult
from langchain_grok_mpp.content import PROVIDER

_PIECE = re.compile(r"\S+\s*|\s+")
PIECE_CHARS = 48


def _tool_calls(result: ChatResult) -> tuple[list[ToolCall], list[InvalidToolCall]]:
    good: list[ToolCall] = []
    bad: list[InvalidToolCall] = []
    for call in result.tool_calls:
        raw = call.raw_arguments.strip() or "{}"
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError as exc:
            bad.append(invalid_tool_call(name=call.name, args=call.raw_arguments, id=call.id, error=str(exc)))
            continue
        if isinstance(parsed, dict):
            good.append(tool_call(name=call.name, args=parsed, id=call.id))
        else:
            bad.append(
                invalid_tool_call(
                    name=call.name, args=call.raw_arguments, id=call.id, error="arguments are not a JSON object"
                )
            )
    return good, bad


def _extras(result: ChatResult) -> dict[str, Any]:
    """additional_kwargs that describe the answer (ChatXAI-compatible keys plus code execution)."""
    extras: dict[str, Any] = {}
    if result.citations:
        extras["citations"] = [c.url for c in result.citations]
    runs = code_execution_dicts(result)
    if runs:
        extras["code_execution"] = runs
    return extras


def _server_tool_calls(result: ChatResult) -> list[dict[str, Any]]:
    return [{**asdict(c), "outputs": list(c.outputs)} for c in result.server_tool_calls]


def response_metadata(result: ChatResult, request: GrokRequest | None = None) -> dict[str, Any]:
    meta = result_metadata(result)
    meta["model_provider"] = PROVIDER
    if result.citations:
        meta["citations"] = citation_dicts(result.citations)
    if result.logprobs is not None:
        meta["logprobs"] = result.logprobs
    if request is not None and request.dropped:
        meta["dropped_params"] = request.dropped
    return meta


def _alternative_metadata(result: ChatResult, index: int) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "model_provider": PROVIDER,
        "id": result.id,
        "model_name": result.served_model,
        "finish_reason": result.finish_reason,
        "choice_index": index,
    }
    if result.logprobs is not None:
        meta["logprobs"] = result.logprobs
    return meta


def _generation_info(result: ChatResult) -> dict[str, Any]:
    info: dict[str, Any] = {"finish_reason": result.finish_reason}
    if result.logprobs is not None:
        info["logprobs"] = result.logprobs
    return info


def to_chat_result(result: ChatResult, request: GrokRequest | None = None) -> LCChatResult:
    """All choices as generations (see module docstring); ``llm_output`` names model and usage once."""
    generations = [ChatGeneration(message=to_message(result, request), generation_info=_generation_info(result))]
    for index, alt in enumerate(result.alternatives, 1):
        message = to_message(alt, request)
        message.usage_metadata = None
        message.response_metadata = _alternative_metadata(alt, index)
        generations.append(ChatGeneration(message=message, generation_info=_generation_info(alt)))
    return LCChatResult(
        generations=generations,
        llm_output={"model_name": result.served_model, "token_usage": usage_metadata(result.usage)},
    )


def to_message(result: ChatResult, request: GrokRequest | None = None) -> AIMessage:
    """The complete assistant message for ``invoke``."""
    calls, invalid = _tool_calls(result)
    additional: dict[str, Any] = {}
    if result.reasoning:
        additional["reasoning_content"] = result.reasoning
    if result.server_tool_calls:
        additional["server_tool_calls"] = _server_tool_calls(result)
    additional.update(_extras(result))
    return AIMessage(
        content=result.text,
        additional_kwargs=additional,
        tool_calls=calls,
        invalid_tool_calls=invalid,
        usage_metadata=usage_metadata(result.usage),  # type: ignore[arg-type]
        response_metadata=response_metadata(result, request),
        id=result.id or None,
    )


def text_pieces(text: str, size: int = PIECE_CHARS) -> list[str]:
    """``text`` cut at word boundaries into pieces of about ``size`` characters ("".join restores it)."""
    pieces: list[str] = []
    current = ""
    for match in _PIECE.finditer(text):
        current += match.group(0)
        if len(current) >= size:
            pieces.append(current)
            current = ""
    if current:
        pieces.append(current)
    return pieces


def _chunk(**fields: Any) -> ChatGenerationChunk:
    meta = {"model_provider": PROVIDER, **fields.pop("response_metadata", {})}
    return ChatGenerationChunk(message=AIMessageChunk(response_metadata=meta, **fields))


def to_chunks(
    result: ChatResult, request: GrokRequest | None = None, *, usage: bool = True
) -> Iterator[ChatGenerationChunk]:
    """The replayed stream described in the module docstring; the ``mpp`` block rides the FIRST chunk.

    Why first: the payment happened before any chunk exists. A consumer that stops early (``break``,
    an error in its own code) ends the run with ``on_llm_error(response=<the chunks so far>)``
    and no ``on_llm_end``; the cost callback finds the payment in those chunks only if it came first.
    Merged or aggregated, the message carries it exactly as before.
    """
    meta = response_metadata(result, request)
    payment = meta.pop("mpp", None)
    for chunk in _replay(result, meta, usage=usage):
        if payment is not None:
            chunk.message.response_metadata["mpp"] = payment
            payment = None
        yield chunk


def _replay(result: ChatResult, meta: dict[str, Any], *, usage: bool) -> Iterator[ChatGenerationChunk]:
    if result.reasoning:
        yield _chunk(content="", additional_kwargs={"reasoning_content": result.reasoning})
    if result.server_tool_calls:
        yield _chunk(content="", additional_kwargs={"server_tool_calls": _server_tool_calls(result)})
    for piece in text_pieces(result.text):
        yield _chunk(content=piece)
    calls, invalid = _tool_calls(result)
    chunks: list[ToolCallChunk] = [
        {"type": "tool_call_chunk", "name": c["name"], "args": json.dumps(c["args"]), "id": c["id"], "index": i}
        for i, c in enumerate(calls)
    ]
    chunks.extend(
        {
            "type": "tool_call_chunk",
            "name": b.get("name"),
            "args": b.get("args"),
            "id": b.get("id"),
            "index": len(chunks) + i,
        }
        for i, b in enumerate(invalid)
    )
    yield _chunk(
        content="",
        additional_kwargs=_extras(result),
        tool_call_chunks=chunks,
        usage_metadata=usage_metadata(result.usage) if usage else None,
        response_metadata=meta,
        chunk_position="last",
        id=result.id or None,
    )
