"""Injectable faults for the local gateway: what can go wrong around a paid call, described purely.

Why: the hard cases of pay-per-call are the ones where money moved but no answer came back. The
client must then refuse to pay again automatically, record the outcome as unknown or refunded, and
keep the ledger honest. Real Locus produces these rarely; the local gateway produces them on demand,
per request (header ``X-Grok-MPP-Fault``) or for every request (a server-wide setting such as the
``GROK_MPP_LOCAL_FAULT`` environment variable), so tests can reach every branch.

This module only *describes* a fault (mode, delay, status, whether the payment settles). The HTTP
server applies it. Syntax, for both the header and the server setting::

    mode[;delay=<seconds>][;status=<5xx>]

``mode`` is case-insensitive and accepts ``-`` or ``_``: ``upstream-502``, ``UPSTREAM_502``,
``slow;delay=2``, ``error-5xx-after-payment;status=503``. ``none`` (header only) disables a
server-wide fault for one request.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from grok_mpp.mpp.problem import PROBLEM_BASE

FAULT_HEADER = "X-Grok-MPP-Fault"
FAULT_ENV_VAR = "GROK_MPP_LOCAL_FAULT"

#: Upper bound for ``delay``: a fault must slow a test down, never hang it.
MAX_DELAY_SECONDS = 120.0
DEFAULT_SLOW_SECONDS = 2.0
UPSTREAM_ERROR_MESSAGE = "Upstream API call failed"
VERIFICATION_FAILED_TYPE = PROBLEM_BASE + "verification-failed"


class FaultParseError(ValueError):
    """A fault header or setting is malformed (the server should answer 400, nothing is paid)."""


class FaultMode(enum.Enum):
    """The faults the local gateway can inject. Values are the canonical spellings."""

    #: Payment verified and settled, then Locus's upstream-failure envelope
    #: ``{"success": false, "error": "Upstream API call failed", "paymentId": <uuid>}`` with HTTP 502.
    #: Real Locus says it refunds these; the client must raise ``UpstreamError`` and not re-pay.
    UPSTREAM_502 = "upstream-502"
    #: Payment settled, then a plain HTTP 500 (or ``status=5xx``) without an envelope or receipt:
    #: money left the wallet and the outcome is unknown to the client.
    ERROR_5XX_AFTER_PAYMENT = "error-5xx-after-payment"
    #: Payment settled, then the connection is closed without any HTTP response.
    DROP_CONNECTION_AFTER_PAYMENT = "drop-connection-after-payment"
    #: A normal, successful answer delayed by ``delay`` seconds (default 2) after verification,
    #: to exercise client timeouts that fire after the credential was sent.
    SLOW = "slow"
    #: The credential is valid and the payment settles, yet the server answers with a fresh 402
    #: challenge. A correct client does not pay the second challenge automatically.
    SECOND_402 = "second-402"
    #: The credential is refused with 402 ``verification-failed`` problem details; nothing settles.
    REJECT_PAYMENT = "reject-payment"


#: Default HTTP status per mode; ``None`` means "no HTTP response at all".
_STATUS: dict[FaultMode, int | None] = {
    FaultMode.UPSTREAM_502: 502,
    FaultMode.ERROR_5XX_AFTER_PAYMENT: 500,
    FaultMode.DROP_CONNECTION_AFTER_PAYMENT: None,
    FaultMode.SLOW: 200,
    FaultMode.SECOND_402: 402,
    FaultMode.REJECT_PAYMENT: 402,
}


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault to apply to one request.

    ``delay_seconds`` is waited after payment verification and before the (faulty) answer for every
    mode, not only ``SLOW``; ``status`` overrides the HTTP status for ``ERROR_5XX_AFTER_PAYMENT``.
    """

    mode: FaultMode
    delay_seconds: float = 0.0
    status: int | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.delay_seconds) and 0 <= self.delay_seconds <= MAX_DELAY_SECONDS):
            raise FaultParseError(f"delay must be within 0..{MAX_DELAY_SECONDS:g} seconds")
        if self.status is not None:
            if self.mode is not FaultMode.ERROR_5XX_AFTER_PAYMENT:
                raise FaultParseError("status= is only valid for error-5xx-after-payment")
            if not 500 <= self.status <= 599:
                raise FaultParseError("status must be a 5xx code")

    @property
    def http_status(self) -> int | None:
        """Status code the server answers with (``None``: the connection is dropped)."""
        return self.status if self.status is not None else _STATUS[self.mode]

    @property
    def settles_payment(self) -> bool:
        """Whether the payment is settled on chain before the fault strikes (money leaves the wallet)."""
        return self.mode is not FaultMode.REJECT_PAYMENT

    @property
    def returns_result(self) -> bool:
        """Whether the client finally receives the normal model answer."""
        return self.mode is FaultMode.SLOW

    def header_value(self) -> str:
        """Inverse of :func:`parse_fault`, for tests and clients that want to request this fault."""
        parts = [self.mode.value]
        if self.delay_seconds:
            parts.append(f"delay={self.delay_seconds:g}")
        if self.status is not None:
            parts.append(f"status={self.status}")
        return ";".join(parts)


def upstream_failure_body(payment_id: str) -> dict[str, object]:
    """Locus's body for ``UPSTREAM_502`` (observed shape, grok-api.md §1.7)."""
    return {"success": False, "error": UPSTREAM_ERROR_MESSAGE, "paymentId": payment_id}


def verification_failed_problem(detail: str = "payment verification failed (injected fault)") -> dict[str, object]:
    """RFC 9457 problem details for ``REJECT_PAYMENT`` (sent as application/problem+json)."""
    return {"type": VERIFICATION_FAILED_TYPE, "title": "Verification Failed", "status": 402, "detail": detail}


_DISABLED = "none"


def parse_fault(value: str | None) -> Fault | None:
    """Parse ``mode[;delay=s][;status=5xx]``; empty/absent/``none`` -> ``None``.

    Raises :class:`FaultParseError` for unknown modes, unknown or repeated parameters and bad values,
    so a typo in a test fails loudly instead of silently running without the fault.
    """
    if value is None or not value.strip():
        return None
    head, *params = (p.strip() for p in value.split(";"))
    key = head.lower().replace("_", "-")
    if key == _DISABLED:
        if params:
            raise FaultParseError("'none' takes no parameters")
        return None
    try:
        mode = FaultMode(key)
    except ValueError:
        known = ", ".join(m.value for m in FaultMode)
        raise FaultParseError(f"unknown fault mode {head!r} (known: {known}, none)") from None
    options: dict[str, str] = {}
    for param in params:
        if not param:
            continue
        name, sep, raw = param.partition("=")
        name = name.strip().lower()
        if not sep or name not in ("delay", "status") or name in options:
            raise FaultParseError(f"bad fault parameter {param!r} (expected delay=<s> or status=<5xx>)")
        options[name] = raw.strip()
    delay = _parse_float(options["delay"]) if "delay" in options else 0.0
    if mode is FaultMode.SLOW and "delay" not in options:
        delay = DEFAULT_SLOW_SECONDS
    status = _parse_int(options["status"]) if "status" in options else None
    return Fault(mode=mode, delay_seconds=delay, status=status)


def _parse_float(raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise FaultParseError(f"delay must be a number of seconds, got {raw!r}") from None


def _parse_int(raw: str) -> int:
    if not raw.isdigit():
        raise FaultParseError(f"status must be an integer, got {raw!r}")
    return int(raw)


def select_fault(header_value: str | None, server_default: Fault | None = None) -> Fault | None:
    """The fault for one request: the header wins; header ``none`` disables the server default."""
    if header_value is not None and header_value.strip():
        return parse_fault(header_value)
    return server_default
