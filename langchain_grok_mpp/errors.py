"""grok-mpp errors as LangChain model errors.

Every error raised by this package's models, retrievers and tools is both the core grok-mpp error
(``except grok_mpp.errors.BudgetExceededError`` keeps working, and ``.paid``/``.retryable`` stay)
and a ``langchain_core.exceptions.ModelError`` subclass, so framework code that branches on the
standard classes (``ModelRateLimitError``, ``ModelTimeoutError``...) and on ``is_retryable`` works
unchanged. ``is_retryable`` is derived from the core's judgement, never from the class alone: a
5xx after a payment, or ``PaymentOutcomeUnknownError``, is not retryable even though a plain 5xx is.
"""

from __future__ import annotations

from langchain_core.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelRateLimitError,
    ModelTimeoutError,
)

from grok_mpp import errors as core


class GrokMPPModelError(ModelError):
    """Base of this package's errors. ``is_retryable`` is set per instance from the core flags
    (``retryable and not paid``) by :func:`to_langchain_error`; the class value is only a default."""


class GrokMPPConfigurationError(core.ConfigurationError, GrokMPPModelError, ModelAuthenticationError):
    """No usable wallet key (or other configuration) at call time; nothing was sent."""


class GrokMPPInvalidRequestError(core.InvalidRequestError, GrokMPPModelError, ModelInvalidRequestError):
    """The request was refused locally before anything was paid."""


class MPPPaymentRefusedError(core.PaymentRefusedError, GrokMPPModelError):
    """The client refused to pay (policy); no signature was produced."""


class MPPBudgetExceededError(MPPPaymentRefusedError, core.BudgetExceededError):
    """Paying would exceed ``budget_usd`` (or the ledger budget); nothing was paid."""


class MPPPolicyViolationError(MPPPaymentRefusedError, core.PolicyViolationError):
    """A challenge broke the payment policy (chain, token, recipient, header, expiry...); nothing was signed."""


class MPPPriceCapError(MPPPolicyViolationError, core.AmountOverCapError):
    """The asked price is above ``max_price_usd``; nothing was paid."""


class GrokMPPProtocolError(core.ProtocolError, GrokMPPModelError, ModelAPIError):
    """The server's Payment headers or body break the protocol (malformed challenge, receipt...)."""


class MPPPaymentError(core.PaymentError, GrokMPPModelError):
    """A payment was attempted and did not complete normally; money may have moved."""


class MPPPaymentRejectedError(MPPPaymentError, core.PaymentRejectedError):
    """The gateway refused the signed credential."""


class MPPPaymentOutcomeUnknownError(MPPPaymentError, core.PaymentOutcomeUnknownError):
    """The credential was sent and no definitive answer came back. Never retried automatically."""


class MPPInsufficientFundsError(MPPPaymentError, core.InsufficientFundsError):
    """The wallet cannot cover the price plus fees."""


class GrokMPPRateLimitError(core.RateLimitedError, GrokMPPModelError, ModelRateLimitError):
    """HTTP 429 before payment."""


class GrokMPPTimeoutError(core.GatewayTimeoutError, GrokMPPModelError, ModelTimeoutError):
    """Timed out before payment."""


class GrokMPPConnectionError(core.GatewayConnectionError, GrokMPPModelError, ModelConnectionError):
    """Could not reach the gateway before payment."""


class GrokMPPUpstreamError(core.UpstreamError, GrokMPPModelError, ModelAPIError):
    """xAI failed after the payment settled (Locus says it refunds)."""


class GrokMPPAPIError(core.GatewayError, GrokMPPModelError, ModelAPIError):
    """Any other gateway error; retryable only when it happened before payment."""


# Most specific first: the first isinstance match wins.
_MAPPING: tuple[tuple[type[core.GrokMPPError], type[GrokMPPModelError]], ...] = (
    (core.ConfigurationError, GrokMPPConfigurationError),
    (core.InvalidRequestError, GrokMPPInvalidRequestError),
    (core.BudgetExceededError, MPPBudgetExceededError),
    (core.AmountOverCapError, MPPPriceCapError),
    (core.PolicyViolationError, MPPPolicyViolationError),
    (core.PaymentRefusedError, MPPPaymentRefusedError),
    (core.PaymentOutcomeUnknownError, MPPPaymentOutcomeUnknownError),
    (core.PaymentRejectedError, MPPPaymentRejectedError),
    (core.InsufficientFundsError, MPPInsufficientFundsError),
    (core.PaymentError, MPPPaymentError),
    (core.RateLimitedError, GrokMPPRateLimitError),
    (core.GatewayTimeoutError, GrokMPPTimeoutError),
    (core.GatewayConnectionError, GrokMPPConnectionError),
    (core.UpstreamError, GrokMPPUpstreamError),
    (core.GatewayError, GrokMPPAPIError),
    (core.ProtocolError, GrokMPPProtocolError),
    (core.GrokMPPError, GrokMPPModelError),
)

_COMBINED: dict[tuple[type, type], type] = {}


def _twin_class(lc_cls: type[GrokMPPModelError], core_type: type) -> type[GrokMPPModelError]:
    """``lc_cls`` when it already is a ``core_type``; else a cached class deriving from both, so a
    twin is ALWAYS an instance of the exact core class raised (``PaymentPendingError``, ``LedgerError``,
    ``ChallengeParseError``...) as well as of its LangChain base."""
    if issubclass(lc_cls, core_type):
        return lc_cls
    key = (lc_cls, core_type)
    cls = _COMBINED.get(key)
    if cls is None:
        name = core_type.__name__ if core_type.__name__.startswith(("MPP", "GrokMPP")) else f"MPP{core_type.__name__}"
        cls = type(name, (lc_cls, core_type), {"__module__": __name__, "__doc__": core_type.__doc__})
        _COMBINED[key] = cls
    return cls


def to_langchain_error(exc: BaseException) -> BaseException:
    """The LangChain-typed twin of a core error (same message, attributes and flags); others unchanged.

    The twin is built without calling ``__init__`` (the core constructors differ per class) by
    copying the instance state, so ``tx_hash``, ``response``, ``status_code``, per-instance
    ``retryable`` and the context survive. Raise it ``from`` the original.
    """
    if isinstance(exc, GrokMPPModelError) or not isinstance(exc, core.GrokMPPError):
        return exc
    for core_cls, lc_base in _MAPPING:
        if isinstance(exc, core_cls):
            lc_cls = _twin_class(lc_base, type(exc))
            twin = lc_cls.__new__(lc_cls)
            twin.__dict__.update(exc.__dict__)
            twin.args = exc.args
            twin.is_retryable = bool(exc.retryable) and not bool(exc.paid)
            return twin
    return exc
