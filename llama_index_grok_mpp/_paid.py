"""The one way this package makes a paid call: send, retry only when nothing was paid, announce it.

LLMs, retrievers and the tool spec all go through :func:`send` / :func:`asend`, so each of them
dispatches exactly one :class:`~llama_index_grok_mpp.events.GrokMPPPaymentEvent` per settlement
and none of them can retry a call whose payment may have gone through. A failure after which money
may have moved dispatches a :class:`~llama_index_grok_mpp.events.GrokMPPPaymentErrorEvent` before
it propagates: a ``FunctionAgent`` turns tool exceptions into tool text and carries on, so the event
(counted by ``GrokMPPCostHandler.payment_errors``) is how such a payment stays visible to the caller.
"""

from __future__ import annotations

from typing import Any

from grok_mpp.bridge.clients import GrokClients
from grok_mpp.bridge.retry import acall_with_retries, call_with_retries
from grok_mpp.errors import GrokMPPError
from grok_mpp.gateway.requests import GrokRequest
from grok_mpp.gateway.results import ChatResult, ImageResult, SpeechResult
from llama_index_grok_mpp.events import emit_failed_payment, emit_payment, emit_payment_error

Result = ChatResult | ImageResult | SpeechResult


def build_clients(
    *, private_key: Any = None, wallet: Any = None, client: Any = None, async_client: Any = None, **settings: Any
) -> GrokClients:
    """Clients from constructor arguments; ``private_key`` is consumed into a Wallet here."""
    return GrokClients(private_key=private_key, wallet=wallet, client=client, async_client=async_client, **settings)


def send(clients: GrokClients, request: GrokRequest, *, max_retries: int, component: str) -> Any:
    client = clients.sync()
    try:
        result: Result = call_with_retries(lambda: client.send(request), max_retries=max_retries)
    except Exception as exc:
        if isinstance(exc, GrokMPPError):
            emit_payment_error(exc, component=component, endpoint=request.endpoint)
        emit_failed_payment(exc, component=component, endpoint=request.endpoint)  # counted in paid
        raise
    emit_payment(result, component=component, endpoint=request.endpoint)
    return result


async def asend(clients: GrokClients, request: GrokRequest, *, max_retries: int, component: str) -> Any:
    client = clients.for_running_loop()
    try:
        result: Result = await acall_with_retries(lambda: client.send(request), max_retries=max_retries)
    except Exception as exc:
        if isinstance(exc, GrokMPPError):
            emit_payment_error(exc, component=component, endpoint=request.endpoint)
        emit_failed_payment(exc, component=component, endpoint=request.endpoint)  # counted in paid
        raise
    emit_payment(result, component=component, endpoint=request.endpoint)
    return result
