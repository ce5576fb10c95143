"""Cost tracking: ``get_grok_mpp_callback()`` and ``GrokMPPCallbackHandler``.

Shaped like ``get_openai_callback()`` so it reads familiar, but the numbers are not looked up in a
price table: every paid call reports what was actually settled (the MPP receipt), next to our
estimate and the token counts. Sources:

* chat models: ``on_llm_end`` reads ``response_metadata["mpp"]``, ``model_name`` and
  ``usage_metadata`` of each generation;
* retrievers and tools (no LLM run): the ``grok_mpp_payment`` custom event they dispatch;
* calls that paid and then failed: ``on_llm_error`` / ``on_retriever_error`` / ``on_tool_error``
  read the cost the client attached to the error (listed in ``failures``).

``paid`` is what left the wallet: the transfer ``amount`` plus the Tempo network ``fee``.

Totals live in a :class:`grok_mpp.bridge.tracking.SpendTracker` (thread-safe, base units, one count
per transaction hash), the same type the LlamaIndex handler feeds, so both frameworks report the
same figures for the same calls, and they match the ledger.

Example::

    from langchain_grok_mpp import ChatGrokMPP, GrokWebSearchRetriever, get_grok_mpp_callback

    with get_grok_mpp_callback() as cb:
        ChatGrokMPP(max_tokens=32).invoke("Hi")
        GrokWebSearchRetriever(k=2).invoke("news")
    print(cb)  # calls, tokens, paid and estimated USD, per endpoint and model
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from langchain_core.tracers.context import register_configure_hook

from grok_mpp.bridge.events import PAYMENT_EVENT, record_event, record_failure, record_payment
from grok_mpp.bridge.tracking import SpendTotals, SpendTracker


class GrokMPPCallbackHandler(SpendTotals, BaseCallbackHandler):
    """Sums paid and estimated cost, tokens and calls across everything it observes.

    Totals (``calls``, ``paid``, ``paid_usd``, ``estimated``, ``estimated_usd``, token counts,
    ``by_model``, ``by_endpoint``) come from :class:`~grok_mpp.bridge.tracking.SpendTotals`.
    Pass one in ``config={"callbacks": [...]}`` to count specific runs; :func:`get_grok_mpp_callback`
    counts everything inside a ``with`` block instead.

    Example::

        from langchain_grok_mpp import ChatGrokMPP, GrokMPPCallbackHandler
        handler = GrokMPPCallbackHandler()
        ChatGrokMPP(max_tokens=64).invoke("Hi", config={"callbacks": [handler]})
        print(handler.calls, handler.paid_usd, handler.estimated_usd)
    """

    raise_error: bool = False

    def __init__(self) -> None:
        super().__init__()
        self.tracker = SpendTracker()

    def __repr__(self) -> str:
        return self.tracker.report()

    # Config copies (RunnableConfig merges) must keep feeding the same totals.
    def __copy__(self) -> GrokMPPCallbackHandler:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> GrokMPPCallbackHandler:
        return self

    # -- LangChain hooks -----------------------------------------------------------------------
    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        for generations in response.generations:
            for generation in generations:
                if not isinstance(generation, ChatGeneration) or not isinstance(generation.message, AIMessage):
                    continue
                message = generation.message
                meta = message.response_metadata
                record_payment(
                    self.tracker,
                    meta.get("mpp"),
                    model=meta.get("model_name"),
                    usage=message.usage_metadata,  # type: ignore[arg-type]
                )

    # A call that paid and then failed (upstream 502, 5xx, dropped connection) still cost money:
    # the client put that cost on the error, so count it here (once per transaction).
    def on_llm_error(self, error: BaseException, *, response: LLMResult | None = None, **kwargs: Any) -> None:
        record_failure(self.tracker, error)
        # A stream the consumer stopped early (break, its own error) paid before its first chunk;
        # the chunks so far carry the payment block (counted once per transaction).
        if response is not None:
            self.on_llm_end(response)

    def on_retriever_error(self, error: BaseException, **kwargs: Any) -> None:
        record_failure(self.tracker, error)

    def on_tool_error(self, error: BaseException, **kwargs: Any) -> None:
        record_failure(self.tracker, error)

    def on_custom_event(
        self,
        name: str,
        data: Any,
        *,
        run_id: UUID,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if name == PAYMENT_EVENT and isinstance(data, dict):
            record_event(self.tracker, data)


_current: ContextVar[GrokMPPCallbackHandler | None] = ContextVar("grok_mpp_callback", default=None)
register_configure_hook(_current, inheritable=True)


@contextmanager
def get_grok_mpp_callback() -> Iterator[GrokMPPCallbackHandler]:
    """Track every Grok MPP payment made inside the ``with`` block (sync and async, nested runs).

    Example::

        from langchain_grok_mpp import ChatGrokMPP, GrokWebSearchRetriever, get_grok_mpp_callback
        with get_grok_mpp_callback() as cb:
            ChatGrokMPP(max_tokens=64).invoke("Hi")
            GrokWebSearchRetriever(k=2, max_tokens=512).invoke("Tempo blockchain")
        print(cb)                                # calls, tokens, paid and estimated USD per endpoint and model

    Like ``get_openai_callback()``, the block is a context variable: LangChain's own ``batch`` and
    asyncio tasks inherit it, but a thread you start yourself (``threading.Thread``, a plain
    ``ThreadPoolExecutor.submit``) does not, and its payments are NOT counted here. Run such work
    with ``contextvars.copy_context().run(fn, ...)`` or pass ``config={"callbacks": [cb]}``; the
    ledger (``grok-mpp ledger summary``) counts every payment regardless.
    """
    handler = GrokMPPCallbackHandler()
    token = _current.set(handler)
    try:
        yield handler
    finally:
        _current.reset(token)
