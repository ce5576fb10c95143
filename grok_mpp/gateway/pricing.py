"""What a Grok call costs: a dated price table, a pre-send estimator and an after-the-fact costing.

Why three figures exist (see ``results.Cost``): the MPP amount actually paid is set by Locus at
challenge time with an unpublished formula; xAI's ``cost_in_usd_ticks`` is exact but only known after
the call; this module predicts BEFORE sending (for budgets and quotes) and re-derives xAI's figure from
usage when ticks are missing. All arithmetic is ``Decimal``; results are int base units rounded UP, so a
budget check never under-counts.

Prices are keyed by the SERVED model: since 2026-05-15 the retired slugs Locus still advertises
(grok-3-mini, grok-4-1-fast-reasoning, ...) are redirected to grok-4.3 and billed at its rates, so the
table rows for retired slugs only matter if a redirect ends.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

from grok_mpp.gateway.catalog import TTS_MODEL, get_model_info
from grok_mpp.gateway.requests import (
    ChatRequest,
    CodeExecutionRequest,
    GrokRequest,
    ImageEditRequest,
    ImageGenerateRequest,
    Message,
    TTSRequest,
    WebSearchRequest,
    XSearchRequest,
    _ChatLike,
)
from grok_mpp.gateway.results import Usage
from grok_mpp.units import BASE_UNITS_PER_USD

PRICING_SOURCE = (
    "docs.x.ai/developers/pricing (model pages, 'Tool Invocation Costs', images, text-to-speech) and the"
    " 2026-05-15 retirement/redirect notice, models.dev and xai-sdk 1.21.0, checked 2026-12"
    " (each row names its own source tag and date; the tags resolve in docs/SOURCES.md)"
)
PRICING_DATE = "2026-12"

_PER_MILLION = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class TokenRates:
    """USD per 1M tokens. Reasoning tokens are billed at the output rate."""

    input: Decimal
    cached_input: Decimal
    output: Decimal


@dataclass(frozen=True, slots=True)
class ModelPricing:
    model: str
    rates: TokenRates
    long_context: TokenRates | None = None
    #: Prompt size (tokens) from which ``long_context`` rates apply to the whole request.
    long_context_min_tokens: int | None = None
    known: bool = True
    #: Where the row comes from and when it was checked (tags resolve in locus-2026-12.md §9).
    source: str = ""
    as_of: str = ""

    def rates_for(self, prompt_tokens: int) -> TokenRates:
        if self.long_context and self.long_context_min_tokens and prompt_tokens >= self.long_context_min_tokens:
            return self.long_context
        return self.rates


def _r(inp: str, cached: str, out: str) -> TokenRates:
    return TokenRates(Decimal(inp), Decimal(cached), Decimal(out))


_G43_RATES = _r("1.25", "0.20", "2.50")
_G43_LONG = _r("2.50", "0.40", "5.00")

_G45_RATES = _r("2.00", "0.50", "6.00")
_G45_LONG = _r("4.00", "1.00", "12.00")
_OLD = "grok-api.md §3.1 (pre-retirement list price)"


def _p(
    model: str,
    rates: TokenRates,
    long: TokenRates | None = None,
    threshold: int | None = None,
    *,
    source: str,
    as_of: str = "2026-12",
) -> ModelPricing:
    return ModelPricing(model, rates, long, threshold, source=source, as_of=as_of)


TOKEN_PRICING: dict[str, ModelPricing] = {
    p.model: p
    for p in (
        _p("grok-3", _r("3.00", "0.75", "15.00"), source=_OLD, as_of="2026-10"),
        _p("grok-3-mini", _r("0.30", "0.075", "0.50"), source=_OLD, as_of="2026-10"),
        # ">128k doubles" -> the tier starts at 128,001 prompt tokens.
        _p(
            "grok-4-0709",
            _r("3.00", "0.75", "15.00"),
            _r("6.00", "1.50", "30.00"),
            128_001,
            source=_OLD,
            as_of="2026-10",
        ),
        _p("grok-4-1-fast-reasoning", _r("0.20", "0.05", "0.50"), source=_OLD, as_of="2026-10"),
        _p("grok-4-1-fast-non-reasoning", _r("0.20", "0.05", "0.50"), source=_OLD, as_of="2026-10"),
        _p("grok-code-fast-1", _r("0.20", "0.02", "1.50"), source=_OLD, as_of="2026-10"),
        _p("grok-4.3", _G43_RATES, _G43_LONG, 200_000, source="models.dev grok-4.3 [X4b]; [X11]"),
        # docs.x.ai: "Requests whose prompt reaches 200k tokens are billed at the higher rate for all tokens".
        _p("grok-4.20-0309-reasoning", _G43_RATES, _G43_LONG, 200_000, source="docs.x.ai grok-4.20-0309 [X2]"),
        _p("grok-4.20-0309-non-reasoning", _G43_RATES, _G43_LONG, 200_000, source="docs.x.ai grok-4.20-0309 [X2]"),
        _p("grok-build-0.1", _r("1.00", "0.20", "2.00"), source="grok-api.md §3.1", as_of="2026-10"),
        _p("grok-4.5", _G45_RATES, _G45_LONG, 200_000, source="models.dev grok-4.5 [X5]; [X11c]"),
        _p("grok-4.6", _G45_RATES, _G45_LONG, 200_000, source="models.dev grok-4.6 [X4]"),
        _p("grok-4.7", _G45_RATES, _G45_LONG, 200_000, source="models.dev grok-4.7 [X3]; litellm #42287 [X6]"),
    )
}

#: Unknown models (opted in) are priced like the most expensive current model so budgets err high;
#: the long-context tier applies to them too.
FALLBACK_RATES = TOKEN_PRICING["grok-4.7"].rates

#: USD per generated image, by served model. Edits also bill the input image. Since 2026-11-02
#: -quality and -pro are served (and billed) as grok-imagine-image-2.0 at quality "low" [X1]; the
#: 2.0 "low" price is models.dev's $0.04 [X13b]. The 2.0 price at quality "medium" or 2k resolution
#: is unpublished, so estimates use FALLBACK_IMAGE_PRICE (the old -pro price) for those: high side.
IMAGE_PRICES: dict[str, Decimal] = {
    "grok-imagine-image": Decimal("0.02"),  # grok-api.md §3.4
    "grok-imagine-image-2.0": Decimal("0.04"),  # [X13b], 2026-12
    "grok-imagine-image-quality": Decimal("0.05"),  # pre-2026-11-02 price; now served as 2.0
    "grok-imagine-image-pro": Decimal("0.07"),  # pre-retirement price; now served as 2.0
}
FALLBACK_IMAGE_PRICE = Decimal("0.07")

#: Server-side tool invocations (web search, X search, code execution): $5 per 1k calls.
TOOL_CALL_USD = Decimal("0.005")
#: Legacy Live Search sources: $25 per 1k sources.
SOURCE_USD = Decimal("0.025")
#: Text-to-speech: $4.20 per 1M characters.
TTS_USD_PER_MILLION_CHARS = Decimal("4.20")

# --- estimation heuristics (documented guesses, not xAI facts) ------------------------------------

CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD_TOKENS = 4
REPLY_PRIMING_TOKENS = 3
#: Flat token charge per input image (xAI tokenizes images by size; this is a mid-size guess).
IMAGE_INPUT_TOKENS = 1_500
#: Hidden system prompt seen through Locus: 140 prompt tokens for a ~12-token question (grok-api.md §1.7).
REQUEST_OVERHEAD_TOKENS = 128
#: Completion budget assumed when the request sets no max_tokens.
DEFAULT_COMPLETION_TOKENS = 512
#: Reasoning tokens expected per effort level (billed as output, outside max_tokens).
REASONING_ALLOWANCE: dict[str, int] = {"none": 0, "low": 1_024, "medium": 4_096, "high": 8_192, "xhigh": 16_384}
#: Expected server-side tool calls and the extra prompt tokens their results add, per route.
SERVER_TOOL_PROFILE: dict[str, tuple[int, int]] = {
    WebSearchRequest.endpoint: (3, 8_000),
    XSearchRequest.endpoint: (3, 8_000),
    CodeExecutionRequest.endpoint: (2, 2_000),
}

#: Our MODEL of what Locus charges, used by the local gateway to set challenge amounts. One observed
#: call paid 1.48x xAI's cost; Locus's real formula is unpublished.
LOCUS_MARKUP = Decimal("1.5")
LOCUS_MIN_PRICE = 1_000  # base units ($0.001)


def usd_to_base_units_ceil(usd: Decimal) -> int:
    """USD -> base units, rounding any fraction of a micro-dollar up."""
    return int((usd * BASE_UNITS_PER_USD).to_integral_value(rounding=ROUND_CEILING))


def pricing_for(model: str) -> ModelPricing:
    """Pricing of the model that actually serves ``model`` (redirects resolved through the catalog)."""
    served = get_model_info(model).served_as
    found = TOKEN_PRICING.get(served)
    if found is not None:
        return found
    top = TOKEN_PRICING["grok-4.7"]
    return ModelPricing(served, FALLBACK_RATES, top.long_context, top.long_context_min_tokens, known=False)


def token_cost_usd(
    model: str,
    *,
    input_tokens: int,
    output_tokens: int,
    cached_input_tokens: int = 0,
    server_tool_calls: int = 0,
    sources: int = 0,
) -> Decimal:
    """xAI's formula: (prompt-cached)*in + cached*cached_in + output*out (+ tools, sources), in USD.

    ``output_tokens`` must include reasoning tokens (as ``Usage.output_tokens`` does).
    """
    cached = min(cached_input_tokens, input_tokens)
    rates = pricing_for(model).rates_for(input_tokens)
    tokens_usd = (
        (input_tokens - cached) * rates.input + cached * rates.cached_input + output_tokens * rates.output
    ) / _PER_MILLION
    return tokens_usd + server_tool_calls * TOOL_CALL_USD + sources * SOURCE_USD


def cost_from_usage(model: str, usage: Usage) -> int:
    """After-the-fact cost in base units (rounded up) from normalized usage, priced by served model."""
    return usd_to_base_units_ceil(
        token_cost_usd(
            model,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cached_input_tokens=usage.cached_input_tokens,
            server_tool_calls=usage.num_server_side_tools_used,
            sources=usage.num_sources_used,
        )
    )


def image_price_usd(model: str, *, premium: bool = False) -> Decimal:
    """Per-image price of the served model; ``premium`` (2.0 at quality medium or 2k) errs high."""
    served = get_model_info(model).served_as
    if premium:
        return max(IMAGE_PRICES.get(served, FALLBACK_IMAGE_PRICE), FALLBACK_IMAGE_PRICE)
    return IMAGE_PRICES.get(served, FALLBACK_IMAGE_PRICE)


def image_cost(model: str, images: int, *, premium: bool = False) -> int:
    """Flat per-image price (served model) times the number of billed images, in base units."""
    return usd_to_base_units_ceil(image_price_usd(model, premium=premium) * images)


def tts_cost(characters: int) -> int:
    return usd_to_base_units_ceil(characters * TTS_USD_PER_MILLION_CHARS / _PER_MILLION)


# --- estimation --------------------------------------------------------------------------------


def _chars_tokens(chars: int) -> int:
    return math.ceil(chars / CHARS_PER_TOKEN)


def _message_tokens(message: Message | Mapping[str, Any]) -> int:
    msg: Mapping[str, Any] = (
        message.model_dump(mode="json", exclude_none=True) if isinstance(message, Message) else message
    )
    chars = len(str(msg.get("role", "")))
    images = 0
    content = msg.get("content")
    if isinstance(content, str):
        chars += len(content)
    elif isinstance(content, list):
        for part in content:
            if not isinstance(part, Mapping):
                continue
            if part.get("type") == "image_url":
                images += 1
            elif isinstance(part.get("text"), str):
                chars += len(part["text"])
    for call in msg.get("tool_calls") or ():
        if isinstance(call, Mapping):
            fn = call.get("function") or {}
            chars += len(str(fn.get("name", ""))) + len(str(fn.get("arguments", "")))
    if isinstance(msg.get("name"), str):
        chars += len(msg["name"])
    return MESSAGE_OVERHEAD_TOKENS + _chars_tokens(chars) + images * IMAGE_INPUT_TOKENS


def estimate_tokens(
    messages: Iterable[Message | Mapping[str, Any]],
    tools: Iterable[Any] | None = None,
) -> int:
    """Prompt tokens for ``messages`` (+ tool schemas): chars/4, per-message overhead, flat per image.

    A heuristic, not a tokenizer: good to within tens of percent for English text, which is enough
    to bound a payment. Image size is unknown locally, so each image counts as IMAGE_INPUT_TOKENS.
    """
    total = REPLY_PRIMING_TOKENS + sum(_message_tokens(m) for m in messages)
    if tools:
        dumped = [t.model_dump(mode="json", exclude_none=True) if hasattr(t, "model_dump") else t for t in tools]
        total += _chars_tokens(len(json.dumps(dumped, separators=(",", ":"))))
    return total


@dataclass(frozen=True, slots=True)
class Estimate:
    """A pre-send prediction. ``amount`` is base units at xAI list prices (before any gateway markup)."""

    input_tokens: int
    output_tokens: int
    amount: int
    model: str
    served_model: str
    server_tool_calls: int = 0
    images: int = 0
    characters: int = 0

    @property
    def amount_usd(self) -> Decimal:
        return Decimal(self.amount) / BASE_UNITS_PER_USD


def _reasoning_allowance(request: _ChatLike) -> int:
    info = get_model_info(request.model)
    if not info.reasoning:
        return 0
    effort = getattr(request, "reasoning_effort", None) or info.default_reasoning_effort or "low"
    return REASONING_ALLOWANCE.get(effort, REASONING_ALLOWANCE["high"])


def estimate_request(request: GrokRequest) -> Estimate:
    """Predict the upstream cost of ``request`` before sending it.

    Chat-like: prompt estimate + hidden system overhead (+ search/code context), output =
    (max_tokens or a default, capped by the model) + a reasoning allowance for reasoning models, times
    ``n``; server-tool routes add expected tool fees. Images: per-image price (edits bill the input
    image too). TTS: per character. Monotonic in ``max_tokens``, ``n`` and prompt size.
    """
    if isinstance(request, _ChatLike):
        info = get_model_info(request.model)
        tool_calls, tool_context = SERVER_TOOL_PROFILE.get(request.endpoint, (0, 0))
        tools = getattr(request, "tools", None)
        input_tokens = REQUEST_OVERHEAD_TOKENS + tool_context + estimate_tokens(request.messages, tools)
        completion = request.max_tokens or min(DEFAULT_COMPLETION_TOKENS, info.max_output_tokens)
        n = (request.n or 1) if isinstance(request, ChatRequest) else 1
        output_tokens = (completion + _reasoning_allowance(request)) * n
        amount = usd_to_base_units_ceil(
            token_cost_usd(
                request.model,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                server_tool_calls=tool_calls,
            )
        )
        return Estimate(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            amount=amount,
            model=request.model,
            served_model=info.served_as,
            server_tool_calls=tool_calls,
        )
    if isinstance(request, ImageGenerateRequest | ImageEditRequest):
        billed = request.image_count + (request.source_count if isinstance(request, ImageEditRequest) else 0)
        return Estimate(
            input_tokens=0,
            output_tokens=0,
            amount=image_cost(request.model, billed, premium=request.premium),
            model=request.model,
            served_model=get_model_info(request.model).served_as,
            images=billed,
        )
    if isinstance(request, TTSRequest):
        return Estimate(
            input_tokens=0,
            output_tokens=0,
            amount=tts_cost(request.characters),
            model=TTS_MODEL,
            served_model=TTS_MODEL,
            characters=request.characters,
        )
    raise TypeError(f"cannot estimate {type(request).__name__}")


def locus_price(request: GrokRequest | Estimate) -> int:
    """Our MODEL of the amount Locus asks for: estimate x LOCUS_MARKUP, at least LOCUS_MIN_PRICE.

    Not Locus's real (unpublished) formula; the local gateway uses it so challenge amounts behave
    plausibly (dynamic, above xAI's cost). Base units, rounded up.
    """
    estimate = request if isinstance(request, Estimate) else estimate_request(request)
    marked_up = (Decimal(estimate.amount) * LOCUS_MARKUP).to_integral_value(rounding=ROUND_CEILING)
    return max(int(marked_up), LOCUS_MIN_PRICE)
