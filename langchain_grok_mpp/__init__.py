"""LangChain integration for xAI Grok paid per call over the Machine Payments Protocol.

* :class:`ChatGrokMPP` / :class:`ChatGrokMPPCodeExecution`: chat models (tools, structured output,
  images, streaming replay) whose messages carry what each call paid (``response_metadata["mpp"]``).
* :class:`GrokWebSearchRetriever` / :class:`GrokXSearchRetriever` and the tools in
  :mod:`langchain_grok_mpp.tools`: paid search, image and speech.
* :func:`get_grok_mpp_callback`: totals of paid and estimated cost across a block of code.
* :mod:`langchain_grok_mpp.errors`: grok-mpp errors as LangChain ``ModelError`` subclasses.

Importing the package registers the ``grok_mpp`` content-block translator.
"""

from grok_mpp.bridge.chat import DroppedParameterWarning
from langchain_grok_mpp import content as _content  # noqa: F401  (registers the translator)
from langchain_grok_mpp.callbacks import GrokMPPCallbackHandler, get_grok_mpp_callback
from langchain_grok_mpp.chat_models import ChatGrokMPP, ChatGrokMPPCodeExecution
from langchain_grok_mpp.errors import (
    GrokMPPModelError,
    MPPBudgetExceededError,
    MPPPaymentError,
    MPPPaymentOutcomeUnknownError,
    MPPPaymentRefusedError,
    MPPPriceCapError,
)
from langchain_grok_mpp.retrievers import GrokWebSearchRetriever, GrokXSearchRetriever
from langchain_grok_mpp.tools import (
    GrokImageEditTool,
    GrokImageGenerationTool,
    GrokTextToSpeechTool,
    GrokWebSearchTool,
    GrokXSearchTool,
)

__all__ = [
    "ChatGrokMPP",
    "ChatGrokMPPCodeExecution",
    "DroppedParameterWarning",
    "GrokImageEditTool",
    "GrokImageGenerationTool",
    "GrokMPPCallbackHandler",
    "GrokMPPModelError",
    "GrokTextToSpeechTool",
    "GrokWebSearchRetriever",
    "GrokWebSearchTool",
    "GrokXSearchRetriever",
    "GrokXSearchTool",
    "MPPBudgetExceededError",
    "MPPPaymentError",
    "MPPPaymentOutcomeUnknownError",
    "MPPPaymentRefusedError",
    "MPPPriceCapError",
    "get_grok_mpp_callback",
]
