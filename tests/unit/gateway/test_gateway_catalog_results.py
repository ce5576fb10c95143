"""Model catalog facts and the result dataclass contract (units, invariants, immutability)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from grok_mpp.gateway.catalog import (
    DEFAULT_CHAT_MODEL,
    DEFAULT_CODE_EXECUTION_MODEL,
    DEFAULT_IMAGE_MODEL,
    DEFAULT_SEARCH_MODEL,
    LOCUS_GROK4_MODELS,
    MODELS,
    canonical_name,
    get_model_info,
    grok4_family_models,
    unusable_reason,
)
from grok_mpp.gateway.results import (
    ChatResult,
    Citation,
    Cost,
    Usage,
    ticks_to_base_units,
    ticks_to_usd,
)

# --- catalog --------------------------------------------------------------------------------------


def test_defaults_match_the_research_notes() -> None:
    assert DEFAULT_CHAT_MODEL == "grok-3-mini"
    assert DEFAULT_SEARCH_MODEL == DEFAULT_CODE_EXECUTION_MODEL == "grok-4-1-fast-reasoning"
    assert DEFAULT_IMAGE_MODEL == "grok-imagine-image"


@pytest.mark.parametrize(
    "name",
    [
        "grok-3",
        "grok-3-mini",
        "grok-4-0709",
        "grok-4-1-fast-reasoning",
        "grok-4-1-fast-non-reasoning",
        "grok-code-fast-1",
        "grok-imagine-image-pro",
    ],
)
def test_retired_slugs_are_redirected(name: str) -> None:
    info = get_model_info(name)
    assert info.known and info.retired and info.redirected
    assert info.served_as in ("grok-4.3", "grok-imagine-image-2.0")
    assert info.source and info.as_of


@pytest.mark.parametrize(
    "name", ["grok-4.3", "grok-4.20-0309-reasoning", "grok-4.20-0309-non-reasoning", "grok-build-0.1", "grok-4.5"]
)
def test_current_models_serve_themselves(name: str) -> None:
    info = get_model_info(name)
    assert info.served_as == name and not info.retired and info.known


def test_alias_and_case_resolution() -> None:
    assert canonical_name("grok-4") == "grok-4-0709"
    assert get_model_info("grok-4") is MODELS["grok-4-0709"]
    assert get_model_info(" GROK-3-MINI ") is MODELS["grok-3-mini"]


def test_per_model_facts_from_the_table() -> None:
    mini = get_model_info("grok-3-mini")
    assert (mini.context_window, mini.max_output_tokens) == (131_072, 8_192)
    assert mini.reasoning and not mini.image_input and mini.reasoning_effort_levels == ("low", "high")
    g43 = get_model_info("grok-4.3")
    assert g43.reasoning_effort_levels == ("none", "low", "medium", "high")
    assert get_model_info("grok-4.5").reasoning_effort_levels == ("low", "medium", "high")
    assert get_model_info("grok-4-1-fast-reasoning").context_window == 2_000_000
    assert get_model_info("grok-4-0709").image_input
    assert not get_model_info("grok-4.20-0309-non-reasoning").rejects_stop
    assert get_model_info("grok-4.20-0309-reasoning").rejects_stop
    assert not get_model_info("grok-code-fast-1").grok4_family


def test_grok4_family_list_includes_locus_listed_models() -> None:
    family = grok4_family_models()
    assert set(LOCUS_GROK4_MODELS) <= set(family)
    assert "grok-3-mini" not in family and "grok-imagine-image" not in family


def test_unknown_chat_slug_gets_permissive_fallback_without_an_invented_context() -> None:
    info = get_model_info("grok-5-preview")
    assert not info.known and info.kind == "chat"
    assert info.reasoning and info.grok4_family and info.rejects_stop
    assert "xhigh" in info.reasoning_effort_levels
    assert info.served_as == "grok-5-preview"
    assert info.context_window == 0 and info.max_output_tokens == 0
    assert "not a known Grok chat model" in (unusable_reason(info) or "")


def test_unknown_image_slug_is_an_image_model() -> None:
    info = get_model_info("grok-imagine-image-3.0")
    assert info.kind == "image" and not info.known


def test_every_row_names_a_source_and_a_date() -> None:
    for info in MODELS.values():
        assert info.source and info.as_of.startswith("2026-"), info.name


def test_new_models_from_the_2026_12_research() -> None:
    for name in ("grok-4.6", "grok-4.7"):
        info = get_model_info(name)
        assert info.known and info.context_window == 500_000 and info.grok4_family and unusable_reason(info) is None
    assert get_model_info("grok-4.7").reasoning_effort_levels == ("low", "medium", "high", "xhigh")
    assert get_model_info("grok-imagine-image-2.0").image_v2
    assert get_model_info("grok-imagine-image-quality").served_as == "grok-imagine-image-2.0"
    assert get_model_info("grok-4.20").name == "grok-4.20-0309-reasoning"


# --- results --------------------------------------------------------------------------------------


def test_usage_total_invariant_is_enforced() -> None:
    with pytest.raises(ValueError, match="total_tokens"):
        Usage(input_tokens=140, output_tokens=29, total_tokens=761)
    with pytest.raises(ValueError, match="non-negative"):
        Usage(input_tokens=-1, output_tokens=1, total_tokens=0)
    with pytest.raises(ValueError, match="reasoning"):
        Usage.of(10, 5, reasoning_tokens=6)
    with pytest.raises(ValueError, match="cached"):
        Usage.of(10, 5, cached_input_tokens=11)
    u = Usage.of(140, 621, reasoning_tokens=592)
    assert u.total_tokens == 761 and u.completion_tokens == 29


def test_usage_addition_aggregates_and_keeps_ticks_semantics() -> None:
    a = Usage.of(10, 20, reasoning_tokens=5, num_server_side_tools_used=1, cost_in_usd_ticks=100)
    b = Usage.of(1, 2, cached_input_tokens=1)
    total = a + b
    assert (total.input_tokens, total.output_tokens, total.total_tokens) == (11, 22, 33)
    assert total.reasoning_tokens == 5 and total.cached_input_tokens == 1
    assert total.cost_in_usd_ticks == 100
    assert (b + b).cost_in_usd_ticks is None
    assert sum([a, b], Usage.zero()) == total


def test_cost_properties_are_exact_decimals() -> None:
    cost = Cost(
        paid=2359,
        currency="0x20c000000000000000000000b9537d11c60e8b50",
        chain_id=4217,
        tx_hash="0xabc",
        challenge_id="ch_1",
        receipt={"status": "success"},
        estimated=1594,
        upstream_ticks=15_931_000,
    )
    assert cost.paid_usd == Decimal("0.002359")
    assert cost.estimated_usd == Decimal("0.001594")
    assert cost.upstream_cost_usd == Decimal("0.0015931")
    assert cost.markup_usd == Decimal("0.0007659")
    unpaid = Cost.unpaid(5)
    assert unpaid.paid_usd is None and unpaid.upstream_cost_usd is None and unpaid.markup_usd is None


def test_tick_conversions() -> None:
    assert ticks_to_usd(200_000_000) == Decimal("0.02")
    assert ticks_to_base_units(15_931_000) == 1594  # 1593.1 rounded up
    assert ticks_to_base_units(10_000) == 1
    assert ticks_to_base_units(0) == 0


def test_results_are_frozen_and_slotted() -> None:
    c = Citation(url="https://x.ai")
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.url = "https://evil.example"  # type: ignore[misc]
    assert not hasattr(c, "__dict__")
    fields = [f.name for f in dataclasses.fields(ChatResult)]
    assert fields[:14] == [
        "id",
        "text",
        "reasoning",
        "tool_calls",
        "citations",
        "server_tool_calls",
        "finish_reason",
        "requested_model",
        "served_model",
        "usage",
        "cost",
        "endpoint",
        "raw",
        "system_fingerprint",
    ]
