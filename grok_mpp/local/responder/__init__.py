"""The deterministic synthetic "model" behind the local gateway: request body in, xAI-shaped data out.

Why a synthetic model: the local gateway exists so the payment flow, the ledger, both framework
adapters and the notebooks can run end to end on loopback with no xAI account and no money. For
that the answers must have the real *shapes* (chat.completion, Responses-API items, images, audio,
usage with reasoning tokens outside ``completion_tokens`` and ``cost_in_usd_ticks``) and just enough
behaviour for schema-aware callers: tool calls whose arguments validate against the tool's JSON
schema, ``tool_choice`` honoured, ``response_format`` JSON that validates, a text answer after a
tool result. The prompt rules live in :mod:`grok_mpp.local.synthesis`
and :mod:`grok_mpp.local.schema_fill`.

One module per route family: :mod:`.common` (context, tokenizer, synthetic prices, errors),
:mod:`.chat` (chat completions, tool choice, structured output), :mod:`.responses` (Responses-API
envelope, code execution), :mod:`.search` (web / X search and filters), :mod:`.media_routes`
(images, speech). This package only dispatches; the public names stay importable from here.

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

from collections.abc import Callable, Mapping
from typing import Any

from grok_mpp.local.responder.chat import _chat
from grok_mpp.local.responder.common import (
    CHAT,
    CODE_EXECUTION,
    ENDPOINTS,
    GENERATOR,
    IMAGE_EDIT,
    IMAGE_GENERATE,
    IMAGE_TICKS,
    IMAGE_TOKENS,
    MAX_IMAGES,
    MAX_N,
    MAX_TTS_CHARS,
    REJECTED_PARAMETERS,
    SYSTEM_FINGERPRINT,
    TOOL_CALL_TICKS,
    TTS,
    TTS_TICKS_PER_CHAR,
    TTS_VOICES,
    WEB_SEARCH,
    X_SEARCH,
    BadRequestError,
    ResponderError,
    UnknownEndpointError,
    _Context,
    cached_tokens,
    is_reasoning_model,
    token_cost_ticks,
    tokens,
)
from grok_mpp.local.responder.media_routes import _images, _tts
from grok_mpp.local.responder.responses import _code_execution
from grok_mpp.local.responder.search import SearchFilters, _search, search_filters


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
    "CHAT",
    "CODE_EXECUTION",
    "ENDPOINTS",
    "GENERATOR",
    "IMAGE_EDIT",
    "IMAGE_GENERATE",
    "IMAGE_TICKS",
    "IMAGE_TOKENS",
    "MAX_IMAGES",
    "MAX_N",
    "MAX_TTS_CHARS",
    "REJECTED_PARAMETERS",
    "SYSTEM_FINGERPRINT",
    "TOOL_CALL_TICKS",
    "TTS",
    "TTS_TICKS_PER_CHAR",
    "TTS_VOICES",
    "WEB_SEARCH",
    "X_SEARCH",
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
