"""Pricing table, after-the-fact costing and pre-send estimates, checked against hand computations.

Expected values are written out from the grok-api.md table (USD per 1M tokens) rather than read back
from the module, so a wrong table entry or formula fails here.
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grok_mpp.gateway.catalog import MODELS
from grok_mpp.gateway.parsing import parse_chat
from grok_mpp.gateway.pricing import (
    PRICING_DATE,
    PRICING_SOURCE,
    TOKEN_PRICING,
    Estimate,
    cost_from_usage,
    estimate_request,
    estimate_tokens,
    image_cost,
    locus_price,
    pricing_for,
    token_cost_usd,
    tts_cost,
)
from grok_mpp.gateway.requests import (
    ChatRequest,
    CodeExecutionRequest,
    ImageEditRequest,
    ImageGenerateRequest,
    TTSRequest,
    WebSearchRequest,
    XSearchRequest,
)
from grok_mpp.gateway.results import Usage

M = Decimal(1_000_000)


def base_units(usd: Decimal) -> int:
    return int((usd * M).to_integral_value(rounding=ROUND_CEILING))


def test_source_and_date_are_documented() -> None:
    assert "docs.x.ai" in PRICING_SOURCE and "docs/SOURCES.md" in PRICING_SOURCE
    assert PRICING_DATE == "2026-12"
    sources_page = (Path(__file__).resolve().parents[3] / "docs" / "SOURCES.md").read_text()
    rows = [*TOKEN_PRICING.values(), *(m for m in MODELS.values() if m.source)]
    for row in rows:
        name = getattr(row, "model", None) or getattr(row, "name", None)
        assert row.source and row.as_of.startswith("2026-"), name
        for tag in re.findall(r"\[([A-Z]+\d+[a-z]?)\]", row.source):
            assert f"| {tag} |" in sources_page, f"{name}: source tag [{tag}] is not resolved in docs/SOURCES.md"
        if "grok-api.md" in row.source:
            assert "| grok-api.md §3.x |" in sources_page


@pytest.mark.parametrize("model", ["grok-4.5", "grok-4.6", "grok-4.7"])
def test_long_context_tier_doubles_from_200k(model: str) -> None:
    short = cost_from_usage(model, Usage.of(199_999, 1_000))
    long = cost_from_usage(model, Usage.of(200_000, 1_000))
    assert short == base_units((199_999 * Decimal(2) + 1_000 * Decimal(6)) / M)
    assert long == base_units((200_000 * Decimal(4) + 1_000 * Decimal(12)) / M)


def test_real_sample_matches_xai_ticks_exactly(locus_chat_sample: dict[str, Any]) -> None:
    """xAI's own 15931000 ticks = (140-128)*1.25 + 128*0.20 + (29+592)*2.50 per 1M, at grok-4.3 rates."""
    result = parse_chat(locus_chat_sample["data"], requested_model="grok-3-mini", endpoint="/grok/chat")
    usd = token_cost_usd(
        "grok-3-mini",  # requested slug; priced as the served grok-4.3
        input_tokens=result.usage.input_tokens,
        output_tokens=result.usage.output_tokens,
        cached_input_tokens=result.usage.cached_input_tokens,
    )
    assert usd == Decimal(15_931_000) / Decimal(10**10) == Decimal("0.0015931")
    assert cost_from_usage("grok-4.3", result.usage) == 1594  # 1593.1 rounded up
    assert cost_from_usage("grok-3-mini", result.usage) == 1594


def test_priced_by_served_model_not_requested_slug() -> None:
    assert pricing_for("grok-3-mini").model == "grok-4.3"
    assert pricing_for("grok-4").model == "grok-4.3"
    assert pricing_for("grok-4.5").model == "grok-4.5"
    u = Usage.of(100_000, 100_000)
    # grok-3 list price would be $0.30 + $1.50; served as grok-4.3 it is $0.125 + $0.25
    assert cost_from_usage("grok-3", u) == base_units(Decimal("0.375"))


@pytest.mark.parametrize(
    ("model", "inp", "cached", "out", "usd"),
    [
        ("grok-4.5", 1000, 100, 500, (900 * Decimal("2.00") + 100 * Decimal("0.50") + 500 * Decimal("6.00")) / M),
        ("grok-build-0.1", 10, 0, 10, (10 * Decimal("1.00") + 10 * Decimal("2.00")) / M),
        ("grok-4.20-0309-reasoning", 300, 300, 0, 300 * Decimal("0.20") / M),
        # long-context tier: >= 200k prompt tokens switches the whole request to $2.50/$0.40/$5.00
        ("grok-4.3", 199_999, 0, 1000, (199_999 * Decimal("1.25") + 1000 * Decimal("2.50")) / M),
        ("grok-4.3", 200_000, 0, 1000, (200_000 * Decimal("2.50") + 1000 * Decimal("5.00")) / M),
        ("grok-4.20-0309-non-reasoning", 250_000, 50_000, 10,
         (200_000 * Decimal("2.50") + 50_000 * Decimal("0.40") + 10 * Decimal("5.00")) / M),
        # unknown models are priced like the most expensive current model (grok-4.5)
        ("grok-9", 1000, 0, 1000, (1000 * Decimal("2.00") + 1000 * Decimal("6.00")) / M),
    ],
)  # fmt: skip
def test_token_cost_matches_table(model: str, inp: int, cached: int, out: int, usd: Decimal) -> None:
    assert token_cost_usd(model, input_tokens=inp, output_tokens=out, cached_input_tokens=cached) == usd
    assert cost_from_usage(model, Usage.of(inp, out, cached_input_tokens=cached)) == base_units(usd)


def test_tool_and_source_fees_are_added() -> None:
    u = Usage.of(1000, 100, num_server_side_tools_used=3, num_sources_used=2)
    tokens = (1000 * Decimal("1.25") + 100 * Decimal("2.50")) / M
    expected = tokens + 3 * Decimal("0.005") + 2 * Decimal("0.025")
    assert cost_from_usage("grok-4.3", u) == base_units(expected)


def test_image_and_tts_prices() -> None:
    assert image_cost("grok-imagine-image", 3) == 60_000  # 3 x $0.02
    # since 2026-11-02 -quality and -pro are served and billed as grok-imagine-image-2.0 ($0.04)
    assert image_cost("grok-imagine-image-quality", 1) == 40_000
    assert image_cost("grok-imagine-image-pro", 1) == 40_000
    assert image_cost("grok-imagine-image-2.0", 1) == 40_000
    assert image_cost("grok-imagine-image-2.0", 1, premium=True) == 70_000  # unpublished tier: high side
    assert tts_cost(15_000) == 63_000  # 15k x $4.20 / 1M
    assert tts_cost(108) == 454  # $0.0004536 rounded up


# --- estimates --------------------------------------------------------------------------------------


def test_estimate_tokens_heuristic() -> None:
    # 3 priming + (4 overhead + ceil((len("user") + 40) / 4) = 11)
    assert estimate_tokens([{"role": "user", "content": "a" * 40}]) == 3 + 4 + 11
    with_image = [
        {
            "role": "user",
            "content": [{"type": "text", "text": "abcd"}, {"type": "image_url", "image_url": {"url": "https://a/b"}}],
        }
    ]
    assert estimate_tokens(with_image) == 3 + 4 + 2 + 1500
    req = ChatRequest(messages=[{"role": "user", "content": "a" * 40}])
    assert estimate_tokens(req.messages) == estimate_tokens([{"role": "user", "content": "a" * 40}])
    tools = [{"type": "function", "function": {"name": "f"}}]
    assert estimate_tokens(req.messages, tools) > estimate_tokens(req.messages)


def test_estimate_chat_non_reasoning_by_hand() -> None:
    req = ChatRequest(
        model="grok-4.20-0309-non-reasoning", messages=[{"role": "user", "content": "a" * 40}], max_tokens=100
    )
    est = estimate_request(req)
    # input: 128 hidden system + 3 priming + 4 overhead + 11 text = 146; output: 100, no reasoning allowance
    assert (est.input_tokens, est.output_tokens) == (146, 100)
    assert est.amount == base_units((146 * Decimal("1.25") + 100 * Decimal("2.50")) / M) == 433
    assert (est.model, est.served_model) == ("grok-4.20-0309-non-reasoning", "grok-4.20-0309-non-reasoning")


def test_estimate_reasoning_allowance_and_n() -> None:
    msgs = [{"role": "user", "content": "hi"}]
    low = estimate_request(ChatRequest(model="grok-3-mini", messages=msgs, max_tokens=100))
    assert low.output_tokens == 100 + 1024 and low.served_model == "grok-4.3"
    high = estimate_request(ChatRequest(model="grok-3-mini", messages=msgs, max_tokens=100, reasoning_effort="high"))
    assert high.output_tokens == 100 + 8192 and high.amount > low.amount
    none = estimate_request(ChatRequest(model="grok-4.3", messages=msgs, max_tokens=100, reasoning_effort="none"))
    assert none.output_tokens == 100
    two = estimate_request(ChatRequest(model="grok-3-mini", messages=msgs, max_tokens=100, n=2))
    assert two.output_tokens == 2 * low.output_tokens
    default = estimate_request(ChatRequest(model="grok-4.5", messages=msgs))
    assert default.output_tokens == 512 + 8192  # default completion + grok-4.5's default high effort


def test_estimate_search_adds_tool_fees_and_context_by_hand() -> None:
    req = WebSearchRequest(messages=[{"role": "user", "content": "hi"}], max_tokens=50)
    est = estimate_request(req)
    # input: 128 + 8000 search context + 3 + 4 + ceil(6/4)=2 ; output: 50 + 1024 (low effort)
    assert (est.input_tokens, est.output_tokens, est.server_tool_calls) == (8137, 1074, 3)
    usd = (8137 * Decimal("1.25") + 1074 * Decimal("2.50")) / M + 3 * Decimal("0.005")
    assert est.amount == base_units(usd) == 27_857
    assert estimate_request(XSearchRequest(messages=req.messages, max_tokens=50)).amount == est.amount
    code = estimate_request(CodeExecutionRequest(messages=req.messages, max_tokens=50))
    assert code.server_tool_calls == 2 and code.amount < est.amount


def test_estimate_images_and_tts() -> None:
    gen = estimate_request(ImageGenerateRequest(prompt="x", n=4))
    assert (gen.amount, gen.images) == (80_000, 4)
    edit = estimate_request(ImageEditRequest(prompt="x", image="https://a.example/i.png"))
    assert (edit.amount, edit.images) == (40_000, 2)  # input image + 1 output
    tts = estimate_request(TTSRequest(text="x" * 1000))
    assert (tts.amount, tts.characters) == (4200, 1000)


@settings(max_examples=50, deadline=None)
@given(
    a=st.integers(min_value=1, max_value=30_000),
    b=st.integers(min_value=1, max_value=30_000),
    model=st.sampled_from(["grok-3-mini", "grok-4.3", "grok-4.20-0309-non-reasoning", "grok-4.5"]),
)
def test_estimate_monotonic_in_max_tokens(a: int, b: int, model: str) -> None:
    lo, hi = sorted((a, b))
    msgs = [{"role": "user", "content": "count to ten"}]
    e_lo = estimate_request(ChatRequest(model=model, messages=msgs, max_tokens=lo))
    e_hi = estimate_request(ChatRequest(model=model, messages=msgs, max_tokens=hi))
    assert e_lo.output_tokens <= e_hi.output_tokens
    assert e_lo.amount <= e_hi.amount
    if hi > lo:
        assert e_hi.output_tokens - e_lo.output_tokens == hi - lo


@settings(max_examples=30, deadline=None)
@given(extra=st.text(min_size=0, max_size=2000))
def test_estimate_monotonic_in_prompt(extra: str) -> None:
    base = estimate_request(ChatRequest(messages=[{"role": "user", "content": "q"}], max_tokens=10))
    more = estimate_request(ChatRequest(messages=[{"role": "user", "content": "q" + extra}], max_tokens=10))
    assert more.input_tokens >= base.input_tokens and more.amount >= base.amount


def test_locus_price_model() -> None:
    big = Estimate(input_tokens=0, output_tokens=0, amount=4025, model="m", served_model="m")
    assert locus_price(big) == 6038  # ceil(4025 * 1.5)
    tiny = Estimate(input_tokens=0, output_tokens=0, amount=10, model="m", served_model="m")
    assert locus_price(tiny) == 1000  # minimum
    req = ImageGenerateRequest(prompt="x", n=2)
    assert locus_price(req) == 60_000  # $0.04 x 1.5
