"""LangChain's LLM cache in front of ChatGrokMPP: a cache hit pays nothing and reports nothing paid.

LangChain answers a cache hit without calling the model, but it replays the stored message, whose
``response_metadata["mpp"]`` describes the payment of the ORIGINAL call. A cost callback opened
around the cache hit only (a new notebook cell, a per-request handler) must not count that payment
again, and the message must say it was served from the cache (LangChain itself zeroes
``usage_metadata["total_cost"]`` on hits for the same reason).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.caches import InMemoryCache
from langchain_core.globals import set_llm_cache

from langchain_grok_mpp import ChatGrokMPP, GrokMPPCallbackHandler, get_grok_mpp_callback


@pytest.fixture
def llm_cache() -> Iterator[InMemoryCache]:
    cache = InMemoryCache()
    set_llm_cache(cache)
    try:
        yield cache
    finally:
        set_llm_cache(None)


@pytest.mark.grok_gateway(fallback="synthetic")
def test_cache_hit_pays_nothing_and_its_metadata_and_callback_say_so(
    grok_env: Any, grok_spend: Any, llm_cache: InMemoryCache
) -> None:
    llm = ChatGrokMPP(model="grok-3-mini", max_tokens=64)
    with get_grok_mpp_callback() as first:
        paid_msg = llm.invoke("What is 2+3?")
    assert paid_msg.response_metadata["mpp"]["paid"] > 0
    assert first.paid == grok_spend.total

    with get_grok_mpp_callback() as second:  # a later cell: only the cache hit inside
        hit = llm.invoke("What is 2+3?")
    handler = GrokMPPCallbackHandler()
    again = llm.invoke("What is 2+3?", config={"callbacks": [handler]})

    assert hit.content == paid_msg.content == again.content
    grok_spend.assert_payments(1)
    grok_spend.assert_ledger(settled=1, total_rows=1)
    for msg in (hit, again):
        mpp = msg.response_metadata["mpp"]
        assert mpp["cached"] is True
        assert mpp["paid"] == mpp["amount"] == mpp["fee"] == 0
        assert mpp["paid_usd"] == "0.000000"
    assert second.paid == 0 and second.calls == 0, second
    assert handler.paid == 0 and handler.calls == 0, handler
    # the original message (and the stored entry) still describe the real payment
    assert paid_msg.response_metadata["mpp"].get("cached") is None
    assert paid_msg.response_metadata["mpp"]["paid"] == grok_spend.total


@pytest.mark.grok_gateway(fallback="synthetic")
def test_async_cache_hit_pays_nothing_and_reports_nothing(
    grok_env: Any, grok_spend: Any, llm_cache: InMemoryCache
) -> None:
    llm = ChatGrokMPP(model="grok-3-mini", max_tokens=64)

    async def run() -> tuple[Any, Any, GrokMPPCallbackHandler]:
        first = await llm.ainvoke("hello cache")
        handler = GrokMPPCallbackHandler()
        hit = await llm.ainvoke("hello cache", config={"callbacks": [handler]})
        return first, hit, handler

    first, hit, handler = asyncio.run(run())
    grok_spend.assert_payments(1)
    assert first.response_metadata["mpp"]["paid"] == grok_spend.total
    assert hit.response_metadata["mpp"]["cached"] is True
    assert hit.response_metadata["mpp"]["paid"] == 0
    assert handler.paid == 0 and handler.calls == 0
