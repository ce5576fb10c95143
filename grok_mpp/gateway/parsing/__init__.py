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

Layout (every public name is re-exported here): :mod:`.envelope` (Locus envelope, xAI errors),
:mod:`.coerce` (type-checked JSON reads), :mod:`.usage`, :mod:`.chat` (both chat shapes, citations,
server tools), :mod:`.media` (images, speech). MIME sniffing lives in :mod:`grok_mpp.gateway.mime`,
below both this package and the request builders.
"""

from __future__ import annotations

from grok_mpp.gateway.mime import sniff_audio_mime, sniff_image_mime
from grok_mpp.gateway.parsing.chat import (
    SERVER_SUB_TOOLS,
    SERVER_TOOL_ITEM_TYPES,
    is_responses_shape,
    make_citation,
    parse_chat,
)
from grok_mpp.gateway.parsing.coerce import parse_json_arguments
from grok_mpp.gateway.parsing.envelope import XaiError, extract_xai_error, unwrap_envelope
from grok_mpp.gateway.parsing.media import parse_image, parse_speech
from grok_mpp.gateway.parsing.usage import normalize_usage

__all__ = [
    "SERVER_SUB_TOOLS",
    "SERVER_TOOL_ITEM_TYPES",
    "XaiError",
    "extract_xai_error",
    "is_responses_shape",
    "make_citation",
    "normalize_usage",
    "parse_chat",
    "parse_image",
    "parse_json_arguments",
    "parse_speech",
    "sniff_audio_mime",
    "sniff_image_mime",
    "unwrap_envelope",
]
