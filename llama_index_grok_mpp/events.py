"""Cost tracking through LlamaIndex instrumentation: a payment event, a handler, a context manager.

Every paid call made by this package's LLMs, retrievers and tool spec dispatches one
:class:`GrokMPPPaymentEvent` on the instrumentation dispatcher (so it appears in traces next to the
LLM and retrieval spans). :class:`GrokMPPCostHandler` adds those events up in a bridge
:class:`~grok_mpp.bridge.tracking.SpendTracker`, the same type the LangChain callback fills, so both
frameworks (and the ledger, which records the same settled base units) report identical numbers.

Example::

    from llama_index_grok_mpp import GrokMPP, track_grok_mpp_costs

    with track_grok_mpp_costs() as costs:
        GrokMPP(max_tokens=32).complete("Hi")
    print(costs.paid_usd, costs.by_endpoint)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.dispatcher import Dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events.base import BaseEvent
from pydantic import Field, PrivateAttr

from grok_mpp.bridge.events import failed_payment_event, payment_event, record_event
from grok_mpp.bridge.tracking import SpendTotals, SpendTracker
from grok_mpp.gateway.results import ChatResult, ImageResult, SpeechResult

_dispatcher = get_dispatcher(__name__)


class GrokMPPPaymentEvent(BaseEvent):
    """One MPP payment (settled, or failed after paying: ``failed``). ``payment`` is the bridge's
    ``payment_event`` dict (base units); ``paid`` = ``amount`` + network ``fee``.

    Example::

        from llama_index.core.instrumentation import get_dispatcher
        from llama_index.core.instrumentation.event_handlers import BaseEventHandler
        from llama_index_grok_mpp import GrokMPP, GrokMPPPaymentEvent
        class PrintPayments(BaseEventHandler):   # e.g. forward each payment to your accounting
            def handle(self, event, **kwargs):
                if isinstance(event, GrokMPPPaymentEvent): print(event.endpoint, event.paid_usd, event.tx_hash)
        get_dispatcher().add_event_handler(PrintPayments())
        GrokMPP(max_tokens=64).complete("Hi")   # prints: /grok/chat 0.00... 0x...
    """

    component: str = Field(description="class name of the object that paid (LLM, retriever, tool spec)")
    model: str | None = None
    endpoint: str | None = None
    payment: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def class_name(cls) -> str:
        return "GrokMPPPaymentEvent"

    @property
    def amount(self) -> int | None:
        """Paid amount in base units (6 decimals)."""
        amount: int | None = self.payment.get("mpp", {}).get("amount")
        return amount

    @property
    def paid_usd(self) -> str | None:
        paid: str | None = self.payment.get("mpp", {}).get("paid_usd")
        return paid

    @property
    def tx_hash(self) -> str | None:
        tx: str | None = self.payment.get("mpp", {}).get("tx_hash")
        return tx

    @property
    def fee(self) -> int | None:
        """Network fee in base units (part of ``paid``)."""
        fee: int | None = self.payment.get("mpp", {}).get("fee")
        return fee

    @property
    def paid(self) -> int | None:
        """What left the wallet: amount + fee, in base units."""
        paid: int | None = self.payment.get("mpp", {}).get("paid")
        return paid

    @property
    def failed(self) -> bool:
        """True when the call paid and then failed (upstream 502, 5xx, dropped connection)."""
        return bool(self.payment.get("mpp", {}).get("failed"))


class GrokMPPPaymentErrorEvent(BaseEvent):
    """A paid call that failed after its credential went out: money may have moved, no answer came.

    Dispatched by every LLM, retriever and tool-spec call before the error propagates, because
    agent loops (``FunctionAgent`` turns a tool's exception into tool text and carries on) would
    otherwise hide that a payment went out. ``tx_hash`` is the transaction to reconcile.
    """

    component: str
    endpoint: str | None = None
    error_type: str
    message: str
    tx_hash: str | None = None

    @classmethod
    def class_name(cls) -> str:
        return "GrokMPPPaymentErrorEvent"


def emit_payment_error(exc: BaseException, *, component: str, endpoint: str | None = None) -> None:
    """Dispatch the event for an error after which money may have moved (nothing for others)."""
    if not getattr(exc, "paid", False):
        return
    tx_hash = getattr(exc, "tx_hash", None) or getattr(exc, "context", {}).get("tx_hash")
    _dispatcher.event(
        GrokMPPPaymentErrorEvent(
            component=component, endpoint=endpoint, error_type=type(exc).__name__,
            message=str(exc)[:500], tx_hash=tx_hash,
        )
    )


def emit_payment(
    result: ChatResult | ImageResult | SpeechResult, *, component: str, endpoint: str | None = None
) -> GrokMPPPaymentEvent | None:
    """Dispatch the event for a paid result (nothing for an unpaid one)."""
    if result.cost.paid is None:
        return None
    data = payment_event(result, endpoint=endpoint)
    event = GrokMPPPaymentEvent(component=component, model=data["model"], endpoint=data["endpoint"], payment=data)
    _dispatcher.event(event)
    return event


def emit_failed_payment(error: BaseException, *, component: str, endpoint: str | None = None) -> GrokMPPPaymentEvent | None:
    """Dispatch the event for a call that paid and then failed (nothing if it paid nothing)."""
    data = failed_payment_event(error, endpoint=endpoint)
    if data is None:
        return None
    event = GrokMPPPaymentEvent(component=component, model=data["model"], endpoint=data["endpoint"], payment=data)
    _dispatcher.event(event)
    return event


class GrokMPPCostHandler(SpendTotals, BaseEventHandler):
    """Sums :class:`GrokMPPPaymentEvent` s: calls, paid and estimated USD, tokens, per model and endpoint.

    Register it with ``get_dispatcher().add_event_handler(handler)`` or use
    :func:`track_grok_mpp_costs`. It counts every payment event dispatched while registered, from
    any thread; a payment reported twice (same transaction) is counted once.

    Example::

        from llama_index.core.instrumentation import get_dispatcher
        from llama_index_grok_mpp import GrokMPP, GrokMPPCostHandler
        handler = GrokMPPCostHandler()
        get_dispatcher().add_event_handler(handler)      # counts every grok-mpp payment from here on
        GrokMPP(max_tokens=64).complete("Hi")
        print(handler.calls, handler.paid_usd, handler.by_endpoint)
    """

    _tracker: SpendTracker = PrivateAttr(default_factory=SpendTracker)
    _errors: list[GrokMPPPaymentErrorEvent] = PrivateAttr(default_factory=list)

    @classmethod
    def class_name(cls) -> str:
        return "GrokMPPCostHandler"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        if isinstance(event, GrokMPPPaymentEvent):
            record_event(self._tracker, event.payment)
        elif isinstance(event, GrokMPPPaymentErrorEvent):
            self._errors.append(event)

    @property
    def payment_errors(self) -> list[GrokMPPPaymentErrorEvent]:
        """Calls that failed after their payment went out (money may have moved), oldest first."""
        return list(self._errors)

    @property
    def unresolved_tx_hashes(self) -> list[str]:
        """Distinct transactions of :attr:`payment_errors`, to reconcile (``grok-mpp ledger reconcile``)."""
        return list(dict.fromkeys(e.tx_hash for e in self._errors if e.tx_hash))

    @property
    def tracker(self) -> SpendTracker:  # type: ignore[override]
        return self._tracker

    def reset(self) -> None:
        self._tracker = SpendTracker()
        self._errors = []

    def __str__(self) -> str:
        return self._tracker.report()


@contextmanager
def track_grok_mpp_costs(dispatcher: Dispatcher | None = None) -> Iterator[GrokMPPCostHandler]:
    """Count grok-mpp payments made inside the block (on the root dispatcher unless one is given).

    Example::

        from llama_index_grok_mpp import GrokMPP, GrokWebSearchRetriever, track_grok_mpp_costs
        with track_grok_mpp_costs() as costs:
            GrokMPP(max_tokens=64).complete("Hi")
            GrokWebSearchRetriever(k=2, max_tokens=512).retrieve("Tempo blockchain")
        print(costs)                             # calls, tokens, paid and estimated USD per endpoint and model
    """
    target = dispatcher if dispatcher is not None else get_dispatcher()
    handler = GrokMPPCostHandler()
    target.add_event_handler(handler)
    try:
        yield handler
    finally:
        target.event_handlers = [h for h in target.event_handlers if h is not handler]
