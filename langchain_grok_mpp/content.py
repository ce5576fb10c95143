"""Standard (v1) content blocks for messages produced by this package.

Messages keep their content as a plain string (what most LangChain code expects) and carry the
rest in ChatXAI-compatible places: ``additional_kwargs["reasoning_content"]``, ``["citations"]``
(URLs), ``["code_execution"]``, ``["server_tool_calls"]`` and ``response_metadata["citations"]``
(full citation dicts with spans). This translator, registered for ``model_provider="grok_mpp"``,
turns that into ``message.content_blocks``:

``reasoning`` -> ``server_tool_call`` / ``server_tool_result`` (web search, X search, code
execution) -> ``text`` with ``citation`` annotations -> ``tool_call``.

The same function serves whole messages and stream chunks. Streamed chunks arrive in that order
(reasoning, server tools, text pieces, a final chunk carrying citations and tool calls), so when
LangChain numbers the blocks of a v1 stream by type changes, the final chunk's citation-only text
block lands on the same index as the text pieces and merges into one text block.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.messages import content as types
from langchain_core.messages.block_translators import register_translator

PROVIDER = "grok_mpp"
_OK_STATUSES = {"completed", "success", "succeeded", "done"}


def _citation(data: Mapping[str, Any]) -> types.Citation:
    block: dict[str, Any] = {"type": "citation", "url": data["url"]}
    for key in ("title", "start_index", "end_index"):
        if data.get(key) is not None:
            block[key] = data[key]
    extras = {k: data[k] for k in ("source", "post_id", "author") if data.get(k) is not None}
    if extras:
        block["extras"] = extras
    return block  # type: ignore[return-value]


def _annotations(message: AIMessage) -> list[types.Citation]:
    detailed = message.response_metadata.get("citations")
    if isinstance(detailed, list) and detailed:
        return [_citation(c) for c in detailed if isinstance(c, Mapping) and c.get("url")]
    urls = message.additional_kwargs.get("citations") or []
    return [{"type": "citation", "url": u} for u in urls if isinstance(u, str)]


def _server_tool_blocks(message: AIMessage) -> list[types.ContentBlock]:
    blocks: list[types.ContentBlock] = []
    for call in message.additional_kwargs.get("server_tool_calls") or ():
        call_id = str(call.get("id") or "")
        blocks.append(
            {"type": "server_tool_call", "id": call_id, "name": call.get("name", ""), "args": call.get("args") or {}}
        )
        result: dict[str, Any] = {
            "type": "server_tool_result",
            "tool_call_id": call_id,
            "status": "success" if str(call.get("status", "completed")).lower() in _OK_STATUSES else "error",
        }
        outputs = call.get("outputs") or []
        if outputs:
            result["output"] = "".join(outputs)
        blocks.append(result)  # type: ignore[arg-type]
    return blocks


def _translate(message: AIMessage) -> list[types.ContentBlock]:
    if not isinstance(message.content, str):
        raise NotImplementedError  # list content: LangChain's best-effort parser handles it
    blocks: list[types.ContentBlock] = []
    reasoning = message.additional_kwargs.get("reasoning_content")
    if reasoning:
        blocks.append({"type": "reasoning", "reasoning": reasoning})
    blocks.extend(_server_tool_blocks(message))
    annotations = _annotations(message)
    if message.content or annotations:
        text: dict[str, Any] = {"type": "text", "text": message.content}
        if annotations:
            text["annotations"] = annotations
        blocks.append(text)  # type: ignore[arg-type]
    for call in message.tool_calls:
        blocks.append({"type": "tool_call", "id": call.get("id"), "name": call["name"], "args": call["args"]})
    for bad in message.invalid_tool_calls:
        blocks.append(
            {
                "type": "invalid_tool_call",
                "id": bad.get("id"),
                "name": bad.get("name"),
                "args": bad.get("args"),
                "error": bad.get("error"),
            }
        )
    return blocks


def translate_content(message: AIMessage) -> list[types.ContentBlock]:
    """Blocks for a complete message."""
    return _translate(message)


def translate_content_chunk(message: AIMessageChunk) -> list[types.ContentBlock]:
    """Blocks for one stream chunk (or an aggregate of chunks)."""
    return _translate(message)


def register() -> None:
    """Register the translator (idempotent; done on import of ``langchain_grok_mpp``)."""
    register_translator(PROVIDER, translate_content, translate_content_chunk)


register()
