"""Dispatching the ``grok_mpp_payment`` custom event from runs that have no LLM run of their own.

Retrievers and tools pay for gateway calls without going through a chat model, so LangChain's
``on_llm_end`` never sees those payments; they report them as a custom event on their own run
(what ``dispatch_custom_event`` does, without needing a runnable context).
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks.manager import AsyncParentRunManager, ParentRunManager

from grok_mpp.bridge.events import PAYMENT_EVENT, payment_event


def emit_payment(run_manager: ParentRunManager | None, result: Any, *, endpoint: str | None = None) -> None:
    """Report one paid result (``endpoint`` is required for image results, which do not carry it)."""
    if run_manager is None:
        return
    event = payment_event(result, endpoint=endpoint)
    run_manager.get_child().on_custom_event(PAYMENT_EVENT, event, run_id=run_manager.run_id)


async def aemit_payment(run_manager: AsyncParentRunManager | None, result: Any, *, endpoint: str | None = None) -> None:
    if run_manager is None:
        return
    event = payment_event(result, endpoint=endpoint)
    await run_manager.get_child().on_custom_event(PAYMENT_EVENT, event, run_id=run_manager.run_id)
