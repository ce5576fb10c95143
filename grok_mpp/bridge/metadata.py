"""Result -> plain dicts that adapters attach to framework messages (no framework imports here)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from grok_mpp.chains import token_symbol
from grok_mpp.gateway.results import ChatResult, Citation, Cost, Usage
from grok_mpp.units import format_usd


def _usd(value: Any) -> str | None:
    return None if value is None else str(value)


def payment_metadata(cost: Cost, *, endpoint: str | None = None) -> dict[str, Any]:
    """The ``mpp`` block: what left the wallet (base units and USD strings), to whom, with which proof.

    ``paid`` = ``amount`` (the transfer the gateway asked) + ``fee`` (the Tempo network fee);
    ``fee_exact`` is False when the fee is still its worst-case bound; ``failed`` marks a call
    that paid and then failed (upstream 502, 5xx, dropped connection).
    """
    return {
        "endpoint": endpoint,
        "paid": cost.paid,
        "amount": cost.amount,
        "fee": cost.fee,
        "fee_exact": cost.fee_exact,
        "failed": cost.failed,
        "paid_usd": None if cost.paid is None else format_usd(cost.paid),
        "amount_usd": None if cost.amount is None else format_usd(cost.amount),
        "fee_usd": None if cost.fee is None else format_usd(cost.fee),
        "currency": cost.currency,
        "currency_symbol": token_symbol(cost.currency) if cost.currency else None,
        "chain_id": cost.chain_id,
        "tx_hash": cost.tx_hash,
        "challenge_id": cost.challenge_id,
        "receipt": cost.receipt,
        "estimated": cost.estimated,
        "estimated_usd": format_usd(cost.estimated),
        "upstream_cost_usd": _usd(cost.upstream_cost_usd),
    }


def cached_payment_metadata(block: dict[str, Any]) -> dict[str, Any]:
    """The ``mpp`` block of an answer replayed from a framework cache: nothing left the wallet.

    Why: a cache hit replays the stored message, whose block describes the ORIGINAL call's payment;
    read as is, every cost report opened around the hit would count that payment again. The hit
    keeps ``tx_hash`` (the payment that bought this answer) but says ``cached: True`` and 0 paid.
    """
    zero = format_usd(0)
    return {**block, "cached": True, "paid": 0, "amount": 0, "fee": 0,
            "paid_usd": zero, "amount_usd": zero, "fee_usd": zero}


def openai_usage(usage: Usage) -> dict[str, int]:
    """OpenAI-style counts (what LlamaIndex's TokenCountingHandler reads). Completion includes reasoning."""
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "cached_tokens": usage.cached_input_tokens,
    }


def usage_metadata(usage: Usage) -> dict[str, Any]:
    """LangChain ``UsageMetadata`` shape: total = input + output, details as sub-dicts."""
    out: dict[str, Any] = {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
    }
    if usage.cached_input_tokens:
        out["input_token_details"] = {"cache_read": usage.cached_input_tokens}
    if usage.reasoning_tokens:
        out["output_token_details"] = {"reasoning": usage.reasoning_tokens}
    return out


def citation_dicts(citations: tuple[Citation, ...]) -> list[dict[str, Any]]:
    return [{k: v for k, v in asdict(c).items() if v is not None} for c in citations]


def result_metadata(result: ChatResult) -> dict[str, Any]:
    """Response-level metadata common to both frameworks."""
    return {
        "id": result.id,
        "model_name": result.served_model,
        "requested_model": result.requested_model,
        "finish_reason": result.finish_reason,
        "system_fingerprint": result.system_fingerprint,
        "endpoint": result.endpoint,
        "mpp": payment_metadata(result.cost, endpoint=result.endpoint),
    }


def code_execution_dicts(result: ChatResult) -> list[dict[str, Any]]:
    """Server-side code runs as ``{"id", "code", "outputs", "status"}`` (ChatXAI-style extras)."""
    return [
        {"id": c.id, "code": c.args.get("code", ""), "outputs": list(c.outputs), "status": c.status}
        for c in result.server_tool_calls
        if c.name == "code_execution"
    ]
