"""grok-mpp: xAI Grok models paid per call over the Machine Payments Protocol (HTTP 402, Tempo).

The core: typed gateway clients, the payment flow and its policy, wallet and errors. Framework
adapters live in ``langchain_grok_mpp`` and ``llama_index_grok_mpp``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "GrokClient": "grok_mpp.gateway.client",
    "AsyncGrokClient": "grok_mpp.gateway.client",
    "Quote": "grok_mpp.gateway.client",
    "ChatRequest": "grok_mpp.gateway.requests",
    "CodeExecutionRequest": "grok_mpp.gateway.requests",
    "WebSearchRequest": "grok_mpp.gateway.requests",
    "XSearchRequest": "grok_mpp.gateway.requests",
    "ImageGenerateRequest": "grok_mpp.gateway.requests",
    "ImageEditRequest": "grok_mpp.gateway.requests",
    "TTSRequest": "grok_mpp.gateway.requests",
    "ChatResult": "grok_mpp.gateway.results",
    "ImageResult": "grok_mpp.gateway.results",
    "SpeechResult": "grok_mpp.gateway.results",
    "Usage": "grok_mpp.gateway.results",
    "Cost": "grok_mpp.gateway.results",
    "Citation": "grok_mpp.gateway.results",
    "MPPAuth": "grok_mpp.payment.auth",
    "PaymentPolicy": "grok_mpp.payment.policy",
    "PaymentRecord": "grok_mpp.payment.hooks",
    "InMemoryBudget": "grok_mpp.payment.hooks",
    "Wallet": "grok_mpp.wallet",
    "Settings": "grok_mpp.config",
    "usd_to_base_units": "grok_mpp.units",
    "format_usd": "grok_mpp.units",
}

__all__ = [
    "AsyncGrokClient",
    "ChatRequest",
    "ChatResult",
    "Citation",
    "CodeExecutionRequest",
    "Cost",
    "GrokClient",
    "ImageEditRequest",
    "ImageGenerateRequest",
    "ImageResult",
    "InMemoryBudget",
    "MPPAuth",
    "PaymentPolicy",
    "PaymentRecord",
    "Quote",
    "Settings",
    "SpeechResult",
    "TTSRequest",
    "Usage",
    "Wallet",
    "WebSearchRequest",
    "XSearchRequest",
    "format_usd",
    "usd_to_base_units",
]


def __getattr__(name: str) -> Any:
    """Lazy exports keep ``import grok_mpp`` (and the adapters' import time) small."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'grok_mpp' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


if TYPE_CHECKING:  # pragma: no cover
    from grok_mpp.config import Settings
    from grok_mpp.gateway.client import AsyncGrokClient, GrokClient, Quote
    from grok_mpp.gateway.requests import (
        ChatRequest,
        CodeExecutionRequest,
        ImageEditRequest,
        ImageGenerateRequest,
        TTSRequest,
        WebSearchRequest,
        XSearchRequest,
    )
    from grok_mpp.gateway.results import ChatResult, Citation, Cost, ImageResult, SpeechResult, Usage
    from grok_mpp.payment.auth import MPPAuth
    from grok_mpp.payment.hooks import InMemoryBudget, PaymentRecord
    from grok_mpp.payment.policy import PaymentPolicy
    from grok_mpp.units import format_usd, usd_to_base_units
    from grok_mpp.wallet import Wallet
