"""Typed errors for everything grok-mpp can refuse or fail at.

Every error says what went wrong and what to do next, and none ever carries a private key or a
credential. The hierarchy answers the two questions a caller has after a failure:

* Was money spent? ``PaymentRefusedError`` and ``InvalidRequestError`` guarantee that nothing was
  signed. ``PaymentOutcomeUnknownError`` and ``UpstreamError`` carry the transaction hash or payment id.
* May I retry? ``retryable`` is True only where a retry can neither double-pay nor fail the same way.
"""

from __future__ import annotations

from typing import Any


class GrokMPPError(Exception):
    """Base class of every grok-mpp error.

    ``retryable`` tells frameworks (LangChain ``is_retryable``, tenacity policies) whether an automatic
    retry is safe. ``paid`` tells whether money may have left the wallet for this request.
    """

    retryable: bool = False
    paid: bool = False
    #: For a call that paid and then failed: what it cost (a ``grok_mpp.gateway.results.Cost`` with
    #: ``failed=True``), set by the gateway client; cost trackers count it from here.
    cost: Any = None

    def __init__(self, message: str, *, hint: str | None = None, **context: Any) -> None:
        self.message = message
        self.hint = hint
        self.context = context
        super().__init__(message if hint is None else f"{message} ({hint})")


# --- configuration and input --------------------------------------------------------------------


class ConfigurationError(GrokMPPError, ValueError):
    """The client or wallet is configured wrongly (missing key, bad URL, unknown chain)."""


class InvalidRequestError(GrokMPPError, ValueError):
    """The request would fail at the gateway; it was rejected before anything was paid."""


# --- protocol parsing -------------------------------------------------------------------------


class ProtocolError(GrokMPPError, ValueError):
    """A header or body from the server does not follow the Payment HTTP authentication scheme."""


class ChallengeParseError(ProtocolError):
    """A ``WWW-Authenticate: Payment`` challenge is malformed; nothing was signed."""


class CredentialParseError(ProtocolError):
    """An ``Authorization: Payment`` credential could not be decoded."""


class ReceiptParseError(ProtocolError):
    """A ``Payment-Receipt`` header could not be decoded."""


class TransactionDecodeError(ProtocolError):
    """Bytes that should be a Tempo transaction (type 0x76 or 0x78) are not one."""


# --- payment refusals (nothing signed) --------------------------------------------------------


class PaymentRefusedError(GrokMPPError):
    """The client refused to pay a challenge. No signature was produced and nothing was spent."""


class NoSupportedChallengeError(PaymentRefusedError):
    """The server offered no challenge this client can pay (method ``tempo`` / intent ``charge``)."""


class PolicyViolationError(PaymentRefusedError):
    """A challenge broke the payment policy (chain, token, recipient, cap, expiry, realm, splits)."""

    def __init__(self, message: str, *, rule: str, hint: str | None = None, **context: Any) -> None:
        self.rule = rule
        super().__init__(message, hint=hint, rule=rule, **context)


class AmountOverCapError(PolicyViolationError):
    """The asked amount is above the per-call cap."""


class BudgetExceededError(PaymentRefusedError):
    """Paying would exceed a budget (total or rolling window); nothing was signed."""


class InsecureTransportError(PaymentRefusedError):
    """A credential would have been sent over plain HTTP to a non-loopback host, or across origins."""


# --- payment failures (something may have been signed or spent) -------------------------------


class PaymentError(GrokMPPError):
    """A payment was attempted and did not complete normally.

    ``response`` is the HTTP response that ended the attempt, when there was one (frameworks such as
    LangChain read ``error.response`` for status and headers).
    """

    response: Any = None

    def __init__(
        self,
        message: str,
        *,
        tx_hash: str | None = None,
        challenge_id: str | None = None,
        hint: str | None = None,
        **context: Any,
    ) -> None:
        self.tx_hash = tx_hash
        self.challenge_id = challenge_id
        super().__init__(message, hint=hint, tx_hash=tx_hash, challenge_id=challenge_id, **context)


class PaymentRejectedError(PaymentError):
    """The server refused our credential (402 or 403 after paying).

    The signed transaction was handed to the server; it is valid until ``valid_before`` and the
    ledger keeps the amount reserved until reconciliation proves it did not land.
    """

    paid = True

    def __init__(self, message: str, *, status_code: int | None = None, problem: Any = None, **kw: Any):
        self.status_code = status_code
        self.problem = problem
        super().__init__(message, status_code=status_code, **kw)


class PaymentOutcomeUnknownError(PaymentError):
    """The credential was sent but no definitive answer came back (transport error or 5xx).

    Never retried automatically: the payment may have settled. Reconcile with the transaction hash
    (``grok-mpp ledger reconcile``) before paying again.
    """

    paid = True
    retryable = False


class PaymentPendingError(PaymentOutcomeUnknownError):
    """An earlier attempt of this identical request sent a payment whose outcome is still unresolved.

    Raised instead of signing a second payment when a retry (LangChain ``with_retry``, a fallback
    model, tenacity, an agent loop, a user's loop) repeats a request whose credential already went
    out. Inside the transaction's validity window the client re-sent the SAME credential (it can
    land only once) and the server refused it, usually because it already settled it; after the
    window the chain is asked before anything new is signed. ``tx_hash`` is the earlier payment's
    transaction; ``retry_after`` the unix time from which the next call resolves it from the chain.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, retry_after=retry_after, **kw)


class ReceiptMismatchError(PaymentOutcomeUnknownError):
    """The server answered 2xx after our credential but its ``Payment-Receipt`` contradicts it.

    Either the receipt names another transaction than ours or its status is not ``success``. The
    payment is recorded as outcome-unknown (never as settled) under OUR transaction hash, which is
    ``tx_hash``; the server's claim is kept in ``receipt_reference`` / ``receipt_status``.
    """

    def __init__(
        self, message: str, *, receipt_reference: str | None = None, receipt_status: str | None = None, **kw: Any
    ) -> None:
        self.receipt_reference = receipt_reference
        self.receipt_status = receipt_status
        super().__init__(message, receipt_reference=receipt_reference, receipt_status=receipt_status, **kw)


class PaymentNotRecordedError(PaymentError):
    """The credential went out (money may have moved) but the spend guard / ledger failed to record it.

    ``response`` holds the gateway's answer when there was one; ``tx_hash`` the transaction to record
    by hand or reconcile (``grok-mpp ledger reconcile``).
    """

    paid = True


class InsufficientFundsError(PaymentError):
    """The wallet cannot cover the amount plus the network fee. Raised before signing: nothing paid."""


# --- gateway / upstream ------------------------------------------------------------------------


class GatewayError(GrokMPPError):
    """The Grok gateway answered with an error that is not about payment."""

    def __init__(self, message: str, *, status_code: int | None = None, body: Any = None, **kw: Any):
        self.status_code = status_code
        self.body = body
        super().__init__(message, status_code=status_code, **kw)


class UpstreamError(GatewayError):
    """Locus answered ``{"success": false}``: xAI failed after the payment; Locus says it refunds."""

    paid = True

    def __init__(self, message: str, *, payment_id: str | None = None, payment: Any = None, **kw: Any):
        self.payment_id = payment_id
        self.payment = payment
        super().__init__(message, payment_id=payment_id, **kw)


class GatewayTimeoutError(GatewayError):
    """The gateway did not answer in time before any payment was made; safe to retry."""

    retryable = True


class GatewayConnectionError(GatewayError):
    """The gateway could not be reached before any payment was made; safe to retry."""

    retryable = True


class RateLimitedError(GatewayError):
    """The gateway answered 429 before any payment was made."""

    retryable = True
