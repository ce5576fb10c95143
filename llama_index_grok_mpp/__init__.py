"""LlamaIndex integration for grok-mpp: Grok LLMs, search retrievers and tools paid per call over MPP.

* :class:`GrokMPP` / :class:`GrokMPPCodeExecution`: ``FunctionCallingLLM`` s over ``/grok/chat`` and
  ``/grok/code-execution``.
* :class:`GrokWebSearchRetriever` / :class:`GrokXSearchRetriever`: cited sources as nodes.
* :class:`GrokMPPToolSpec`: web/X search, image generation and speech as agent tools.
* :class:`GrokMPPPaymentEvent`, :class:`GrokMPPPaymentErrorEvent`, :class:`GrokMPPCostHandler`, :func:`track_grok_mpp_costs`: cost
  tracking through LlamaIndex instrumentation.
"""

from grok_mpp.bridge.chat import DroppedParameterWarning
from llama_index_grok_mpp.events import (
    GrokMPPCostHandler,
    GrokMPPPaymentErrorEvent,
    GrokMPPPaymentEvent,
    track_grok_mpp_costs,
)
from llama_index_grok_mpp.llms import GrokMPP, GrokMPPCodeExecution
from llama_index_grok_mpp.retrievers import GrokWebSearchRetriever, GrokXSearchRetriever
from llama_index_grok_mpp.tools import GrokMPPToolSpec

__all__ = [
    "DroppedParameterWarning",
    "GrokMPP",
    "GrokMPPCodeExecution",
    "GrokMPPCostHandler",
    "GrokMPPPaymentErrorEvent",
    "GrokMPPPaymentEvent",
    "GrokMPPToolSpec",
    "GrokWebSearchRetriever",
    "GrokXSearchRetriever",
    "track_grok_mpp_costs",
]
