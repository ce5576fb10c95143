"""A stream the caller stops early (``break``, an error in the consuming code) was still paid for.

The gateway does not stream: ``stream()`` pays once, then replays the answer as chunks. When the
consumer stops early, LangChain closes the run with ``on_llm_error(GeneratorExit | the consumer's
error, response=<chunks so far>)`` and never calls ``on_llm_end``; with the ``mpp`` block on the
last chunk the cost callback missed money that left the wallet (calls 0, paid 0 after 2 payments). Counted here: callback totals == gateway settlements == wallet delta, one payment each.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from langchain_grok_mpp import ChatGrokMPP, get_grok_mpp_callback

PROMPT = "Tell me a long story about payments."


class ConsumerError(Exception):
    pass


@pytest.mark.grok_gateway(fallback="synthetic")
def test_stream_stopped_after_first_chunk_is_still_counted(grok_env: Any, grok_spend: Any) -> None:
    llm = ChatGrokMPP(model="grok-3-mini", max_tokens=64)
    with get_grok_mpp_callback() as cb:
        for _chunk in llm.stream(PROMPT):
            break
        with pytest.raises(ConsumerError):
            for _chunk in llm.stream(PROMPT + " again"):
                raise ConsumerError("the consumer failed mid-stream")
    grok_spend.assert_payments(2)
    grok_spend.assert_ledger(settled=2, total_rows=2)
    assert cb.calls == 2 and cb.paid == grok_spend.total == grok_spend.wallet_delta(), cb


@pytest.mark.grok_gateway(fallback="synthetic")
def test_astream_stopped_after_first_chunk_is_still_counted(grok_env: Any, grok_spend: Any) -> None:
    llm = ChatGrokMPP(model="grok-3-mini", max_tokens=64)

    async def run() -> Any:
        with get_grok_mpp_callback() as cb:
            stream = llm.astream(PROMPT)
            async for _chunk in stream:
                break
            await stream.aclose()
            with pytest.raises(ConsumerError):
                async for _chunk in llm.astream(PROMPT + " again"):
                    raise ConsumerError("the consumer failed mid-stream")
        return cb

    cb = asyncio.run(run())
    grok_spend.assert_payments(2)
    assert cb.calls == 2 and cb.paid == grok_spend.total == grok_spend.wallet_delta(), cb


@pytest.mark.grok_gateway(fallback="synthetic")
def test_stream_read_to_the_end_is_counted_once(grok_env: Any, grok_spend: Any) -> None:
    llm = ChatGrokMPP(model="grok-3-mini", max_tokens=64)
    with get_grok_mpp_callback() as cb:
        chunks = list(llm.stream(PROMPT))
    assert sum(1 for c in chunks if c.response_metadata.get("mpp")) == 1
    grok_spend.assert_payments(1)
    assert cb.calls == 1 and cb.paid == grok_spend.total, cb
