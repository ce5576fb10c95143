"""Usage normalization: reasoning tokens folded into ``output_tokens`` exactly once (see package docstring)."""

from __future__ import annotations

from typing import Any

from grok_mpp.gateway.parsing.coerce import _dict, _int, _opt_int
from grok_mpp.gateway.results import Usage

# --- usage ---------------------------------------------------------------------------------------


def normalize_usage(usage: Any) -> Usage:
    """Normalize Chat Completions or Responses usage so ``output_tokens`` includes reasoning once.

    Default by key family: ``prompt_tokens/completion_tokens`` exclude reasoning (xAI Chat), while
    ``input_tokens/output_tokens`` include it (Responses). When the upstream ``total_tokens`` matches
    only the other interpretation, that one wins (xAI has changed such details before).
    """
    u = _dict(usage)
    responses_keys = "input_tokens" in u or "output_tokens" in u
    if responses_keys:
        input_tokens = _int(u.get("input_tokens"))
        raw_output = _int(u.get("output_tokens"))
        in_details = _dict(u.get("input_tokens_details"))
        out_details = _dict(u.get("output_tokens_details"))
    else:
        input_tokens = _int(u.get("prompt_tokens"))
        raw_output = _int(u.get("completion_tokens"))
        in_details = _dict(u.get("prompt_tokens_details"))
        out_details = _dict(u.get("completion_tokens_details"))
    reasoning = _int(out_details.get("reasoning_tokens") or u.get("reasoning_tokens"))
    cached = _int(in_details.get("cached_tokens") or u.get("cached_prompt_text_tokens"))

    includes_reasoning = responses_keys
    upstream_total = _opt_int(u.get("total_tokens"))
    if upstream_total is not None and reasoning:
        if upstream_total == input_tokens + raw_output + reasoning != input_tokens + raw_output:
            includes_reasoning = False
        elif upstream_total == input_tokens + raw_output and raw_output >= reasoning:
            includes_reasoning = True
    output = raw_output if includes_reasoning else raw_output + reasoning
    reasoning = min(reasoning, output)

    tools_used = u.get("num_server_side_tools_used")
    if tools_used is None:
        details = u.get("server_side_tool_usage_details")
        if isinstance(details, dict):
            tools_used = sum(_int(v) for v in details.values())
    ticks = _opt_int(u.get("cost_in_usd_ticks"))
    return Usage.of(
        input_tokens,
        output,
        reasoning_tokens=reasoning,
        cached_input_tokens=min(cached, input_tokens),
        num_sources_used=_int(u.get("num_sources_used")),
        num_server_side_tools_used=_int(tools_used),
        cost_in_usd_ticks=ticks if ticks is not None and ticks >= 0 else None,
    )
