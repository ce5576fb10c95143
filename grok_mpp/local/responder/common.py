"""What every synthetic route shares: route names, errors, the per-body context, the synthetic
tokenizer and price table, and message helpers.

Why one module: each route family (chat, Responses-style tools, search, media) needs the same
deterministic ids, token counts and ``cost_in_usd_ticks``; keeping them here keeps the families
independent of each other.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from grok_mpp.gateway.catalog import get_model_info
from grok_mpp.local.synthesis import (
    content_text,
    count_images,
)

SYSTEM_FINGERPRINT = "fp_grok_mpp_local"
GENERATOR = "grok-mpp-local"

CHAT = "/grok/chat"
WEB_SEARCH = "/grok/web-search"
X_SEARCH = "/grok/x-search"
CODE_EXECUTION = "/grok/code-execution"
IMAGE_GENERATE = "/grok/image-generate"
IMAGE_EDIT = "/grok/image-edit"
TTS = "/grok/tts"
ENDPOINTS: tuple[str, ...] = (CHAT, WEB_SEARCH, X_SEARCH, CODE_EXECUTION, IMAGE_GENERATE, IMAGE_EDIT, TTS)

# --- prices ----------------------------------------------------------------------------------------
# A deliberately tiny, local table (1 USD = 1e10 ticks, so $1 per 1M tokens = 10_000 ticks per token).
# List prices from docs.x.ai (docs/SOURCES.md), keyed by the model xAI *serves*; the
# package's real estimator lives in grok_mpp.gateway.pricing and is not imported, so the fake stays
# independent of the code it is used to test.
_TOKEN_TICKS: dict[str, tuple[int, int, int]] = {  # (input, cached input, output incl. reasoning)
    "grok-4.3": (12_500, 2_000, 25_000),
    "grok-4.20-0309-reasoning": (12_500, 2_000, 25_000),
    "grok-4.20-0309-non-reasoning": (12_500, 2_000, 25_000),
    "grok-build-0.1": (10_000, 2_000, 20_000),
    "grok-4.5": (20_000, 5_000, 60_000),
}
_LONG_PROMPT_TOKENS = 200_000  # grok-4.3 / grok-4.20 double their rates from here (docs.x.ai)
_TIERED = frozenset({"grok-4.3", "grok-4.20-0309-reasoning", "grok-4.20-0309-non-reasoning"})
TOOL_CALL_TICKS = 50_000_000  # $5 per 1k server-side tool calls (web, X, code)
IMAGE_TICKS: dict[str, int] = {
    "grok-imagine-image": 200_000_000,
    "grok-imagine-image-quality": 500_000_000,
    "grok-imagine-image-2.0": 400_000_000,  # -quality and -pro are served as 2.0 since 2026-11-02
}
TTS_TICKS_PER_CHAR = 42_000  # $4.20 per 1M characters

IMAGE_TOKENS = 256  # prompt tokens charged per input image (synthetic constant)
_CACHE_BLOCK = 128
MAX_N = 16
MAX_IMAGES = 10
MAX_TTS_CHARS = 15_000
TTS_VOICES = frozenset({"eve", "ara", "rex", "sal", "leo"})
DEFAULT_SEARCH_RESULTS = 5
MAX_SEARCH_RESULTS = 20
MAX_DOMAINS = 5
MAX_HANDLES = 10
#: Parameters current xAI models reject with HTTP 400 (grok-api.md §3.3); the fake rejects them
#: too, so a payload builder that forgets to drop them fails in tests, not in production.
REJECTED_PARAMETERS: dict[str, str] = {"presence_penalty": "presencePenalty", "frequency_penalty": "frequencyPenalty"}


class ResponderError(ValueError):
    """Base class: the synthetic model cannot answer this request. ``status_code`` is a hint."""

    status_code = 400


class BadRequestError(ResponderError):
    """The body is malformed or asks for something xAI would reject (HTTP 400)."""


class UnknownEndpointError(ResponderError, LookupError):
    """No such paid route (HTTP 404)."""

    status_code = 404


@dataclass(frozen=True, slots=True)
class _Context:
    route: str
    body: Mapping[str, Any]
    digest: bytes
    created: int

    @classmethod
    def build(cls, route: str, body: Mapping[str, Any], created: int | None) -> _Context:
        try:
            canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise BadRequestError(f"request body is not JSON-serialisable: {exc}") from None
        digest = hashlib.sha256(f"{route}\n{canonical}".encode()).digest()
        # A plausible 2026 timestamp, fixed per body: output stays a pure function of the input.
        stamp = created if created is not None else 1_780_000_000 + int.from_bytes(digest[:4], "big") % 10**7
        return cls(route, body, digest, stamp)

    def hex_id(self, label: str, length: int = 24) -> str:
        return hashlib.sha256(self.digest + label.encode()).hexdigest()[:length]

    def uuid(self, label: str) -> str:
        raw = bytearray(hashlib.sha256(self.digest + label.encode()).digest()[:16])
        raw[6] = (raw[6] & 0x0F) | 0x40  # version 4 layout, so it looks like xAI's ids
        raw[8] = (raw[8] & 0x3F) | 0x80
        return str(uuid.UUID(bytes=bytes(raw)))


# --- shared helpers --------------------------------------------------------------------------------


def tokens(text: str) -> int:
    """The synthetic tokenizer: about four characters per token."""
    return (len(text) + 3) // 4


def is_reasoning_model(model: str, reasoning_effort: Any = None) -> bool:
    """Reasoning models get reasoning tokens and ``reasoning_content``.

    Rule from the brief: names with ``mini``, ``reasoning`` or ``grok-4`` (which covers ``grok-4.3``)
    reason unless they say ``non-reasoning``; ``reasoning_effort: "none"`` turns reasoning off.
    """
    name = model.lower()
    if "non-reasoning" in name or reasoning_effort == "none":
        return False
    return any(marker in name for marker in ("mini", "reasoning", "grok-4"))


def _served_prices(model: str, prompt_tokens: int) -> tuple[int, int, int]:
    served = get_model_info(model).served_as
    prices = _TOKEN_TICKS.get(served, _TOKEN_TICKS["grok-4.3"])
    if served in _TIERED and prompt_tokens >= _LONG_PROMPT_TOKENS:
        return prices[0] * 2, prices[1] * 2, prices[2] * 2
    return prices


def cached_tokens(prompt_tokens: int) -> int:
    """Deterministic cache hits: half the prompt, rounded down to 128-token blocks (0 when short)."""
    return (prompt_tokens // 2) // _CACHE_BLOCK * _CACHE_BLOCK


def token_cost_ticks(model: str, prompt_tokens: int, cached: int, output_tokens: int) -> int:
    """xAI's formula: (prompt - cached) * in + cached * cached_in + (completion + reasoning) * out."""
    p_in, p_cached, p_out = _served_prices(model, prompt_tokens)
    return (prompt_tokens - cached) * p_in + cached * p_cached + output_tokens * p_out


def chat_usage(
    model: str, text_tokens: int, image_tokens: int, completion_tokens: int, reasoning_tokens: int
) -> dict[str, Any]:
    """The chat-completion ``usage`` block xAI sends (reasoning counted in the total, cached share,
    ``cost_in_usd_ticks``), shared by the synthetic and the scripted chat answers."""
    prompt_tokens = text_tokens + image_tokens
    cached = cached_tokens(prompt_tokens)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens + reasoning_tokens,
        "prompt_tokens_details": {
            "text_tokens": text_tokens,
            "audio_tokens": 0,
            "image_tokens": image_tokens,
            "cached_tokens": cached,
        },
        "completion_tokens_details": {
            "reasoning_tokens": reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
        "num_sources_used": 0,
        "cost_in_usd_ticks": token_cost_ticks(model, prompt_tokens, cached, completion_tokens + reasoning_tokens),
    }


def _require_model(body: Mapping[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise BadRequestError("'model' is required and must be a non-empty string")
    return model


def _optional_int(body: Mapping[str, Any], key: str, *, low: int, high: int) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequestError(f"'{key}' must be an integer in {low}..{high}")
    return value


def _check_rejected_parameters(body: Mapping[str, Any], model: str) -> None:
    for key, wire_name in REJECTED_PARAMETERS.items():
        if body.get(key) is not None:
            raise BadRequestError(f"Model {model} does not support parameter {wire_name}.")


def _messages(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """``messages`` (chat) or ``input`` (Responses style: a string or a message list)."""
    raw = body.get("messages", body.get("input"))
    if isinstance(raw, str) and raw.strip():
        return [{"role": "user", "content": raw}]
    if not isinstance(raw, list) or not raw:
        raise BadRequestError("'messages' must be a non-empty list")
    for message in raw:
        if not isinstance(message, Mapping) or not isinstance(message.get("role"), str):
            raise BadRequestError("every message must be an object with a 'role'")
    return raw


def _last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return content_text(message.get("content"))
    return content_text(messages[-1].get("content"))


def _prompt_tokens(body: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
    """(text tokens, image tokens) over all messages, tool calls, tool and format definitions."""
    parts: list[str] = []
    images = 0
    for message in messages:
        parts.append(str(message.get("role", "")))
        parts.append(content_text(message.get("content")))
        images += count_images(message.get("content"))
        for call in message.get("tool_calls") or ():
            parts.append(json.dumps(call, sort_keys=True, ensure_ascii=False))
    for key in ("tools", "response_format"):
        if body.get(key):
            parts.append(json.dumps(body[key], sort_keys=True, ensure_ascii=False))
    return tokens("\n".join(parts)), images * IMAGE_TOKENS
