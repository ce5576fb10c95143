"""Payment events: the one JSON-friendly record of "a paid call happened", and its way back.

Cost callbacks in both frameworks see paid calls in two ways: chat calls through the framework's
own LLM-end hook (the ``mpp`` block of :func:`grok_mpp.bridge.metadata.result_metadata` plus usage
counts), and search / image / speech calls, which have no LLM run, through a custom event carrying
:func:`payment_event`. Both must land in a :class:`~grok_mpp.bridge.tracking.SpendTracker` as the
same ``Cost`` and ``Usage`` the client produced, so these helpers invert the metadata shapes
exactly (integers in base units; the USD strings are display only and never parsed back).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from grok_mpp.bridge.metadata import payment_metadata
from grok_mpp.bridge.tracking import SpendTracker
from grok_mpp.gateway.results import ChatResult, Cost, ImageResult, SpeechResult, Usage

#: Name of the framework custom event emitted for paid calls that have no LLM run.
PAYMENT_EVENT = "grok_mpp_payment"


def _usage_counts(usage: Usage) -> dict[str, int]:
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "cached_input_tokens": usage.cached_input_tokens,
    }


def payment_event(result: ChatResult | ImageResult | SpeechResult, *, endpoint: str | None = None) -> dict[str, Any]:
    """``{"model", "endpoint", "mpp": {...}, "usage": {...} | None}`` for one paid result."""
    if isinstance(result, ChatResult):
        model: str | None = result.served_model
        endpoint = endpoint or result.endpoint
        usage: dict[str, int] | None = _usage_counts(result.usage)
    elif isinstance(result, ImageResult):
        model, usage = result.model, None
    else:
        model, usage = "grok-tts", None
    return {
        "model": model,
        "endpoint": endpoint,
        "mpp": payment_metadata(result.cost, endpoint=endpoint),
        "usage": usage,
    }


def cost_from_metadata(block: Mapping[str, Any]) -> Cost:
    """Inverse of :func:`payment_metadata` (base-unit integers only)."""
    return Cost(
        paid=block.get("paid", block.get("amount")),
        currency=block.get("currency"),
        chain_id=block.get("chain_id"),
        tx_hash=block.get("tx_hash"),
        challenge_id=block.get("challenge_id"),
        receipt=block.get("receipt"),
        estimated=int(block.get("estimated") or 0),
        upstream_ticks=None,
        amount=block.get("amount") if "paid" in block else None,
        fee=block.get("fee"),
        fee_exact=bool(block.get("fee_exact", True)),
        failed=bool(block.get("failed", False)),
    )


def usage_from_counts(counts: Mapping[str, Any] | None) -> Usage | None:
    """``Usage`` from ``input_tokens``/``output_tokens`` (+ reasoning/cached, flat or as LangChain details)."""
    if not counts:
        return None
    out_details = counts.get("output_token_details") or {}
    in_details = counts.get("input_token_details") or {}
    return Usage.of(
        int(counts.get("input_tokens") or 0),
        int(counts.get("output_tokens") or 0),
        reasoning_tokens=int(counts.get("reasoning_tokens") or out_details.get("reasoning") or 0),
        cached_input_tokens=int(counts.get("cached_input_tokens") or in_details.get("cache_read") or 0),
    )


def record_payment(
    tracker: SpendTracker,
    mpp: Mapping[str, Any] | None,
    *,
    model: str | None,
    usage: Mapping[str, Any] | None = None,
    endpoint: str | None = None,
) -> bool:
    """Add one call to ``tracker``; False (nothing recorded) when ``mpp`` is missing or a cache hit."""
    if not mpp or mpp.get("cached"):
        return False
    tracker.record(
        model=model,
        endpoint=endpoint or mpp.get("endpoint"),
        cost=cost_from_metadata(mpp),
        usage=usage_from_counts(usage),
        error=mpp.get("error"),
    )
    return True


def failed_payment_event(error: BaseException, *, model: str | None = None, endpoint: str | None = None) -> dict[str, Any] | None:
    """The :func:`payment_event` dict for a call that paid and then failed, or None.

    The gateway client puts the cost of such a call on the error (``error.cost``, ``failed=True``);
    frameworks may wrap the error, so the cause chain is searched.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        cost = getattr(current, "cost", None)
        if isinstance(cost, Cost) and cost.tx_hash:
            context = getattr(current, "context", None) or {}
            endpoint = endpoint or context.get("endpoint")
            return {
                "model": model or context.get("model"),
                "endpoint": endpoint,
                "mpp": {**payment_metadata(cost, endpoint=endpoint), "error": type(current).__name__},
                "usage": None,
            }
        current = current.__cause__ or current.__context__
    return None


def record_failure(tracker: SpendTracker, error: BaseException, *, model: str | None = None,
                   endpoint: str | None = None) -> bool:
    """Count a failed-after-payment call (no-op for errors that paid nothing)."""
    event = failed_payment_event(error, model=model, endpoint=endpoint)
    return event is not None and record_event(tracker, event)


def record_event(tracker: SpendTracker, event: Mapping[str, Any]) -> bool:
    """Add a :func:`payment_event` dict to ``tracker``."""
    return record_payment(
        tracker, event.get("mpp"), model=event.get("model"), usage=event.get("usage"), endpoint=event.get("endpoint")
    )
