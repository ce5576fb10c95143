"""Retries that can never pay twice.

Framework retry helpers retry on any exception, which is wrong for a paid call: a transport error
after the credential was sent (``PaymentOutcomeUnknownError``) may already have settled, and a
blind retry pays again. Adapters therefore implement their ``max_retries`` with these helpers,
which retry only errors the core marks ``retryable`` and not ``paid`` (connection failures,
timeouts, 429 and 5xx answered before any payment). Everything else propagates at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from grok_mpp.errors import GrokMPPError

T = TypeVar("T")

BASE_DELAY_S = 0.5
MAX_DELAY_S = 8.0


def is_safe_to_retry(exc: BaseException) -> bool:
    """True only for grok-mpp errors raised before anything could have been paid."""
    return isinstance(exc, GrokMPPError) and exc.retryable and not exc.paid


def backoff_delay(attempt: int) -> float:
    """Exponential backoff in seconds for retry number ``attempt`` (1-based), capped."""
    return min(MAX_DELAY_S, BASE_DELAY_S * 2 ** (attempt - 1))


def call_with_retries(fn: Callable[[], T], *, max_retries: int, sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``fn``; on a safe-to-retry error run it again, at most ``max_retries`` more times."""
    attempt = 0
    while True:
        try:
            return fn()
        except GrokMPPError as exc:
            attempt += 1
            if attempt > max_retries or not is_safe_to_retry(exc):
                raise
            sleep(backoff_delay(attempt))


async def acall_with_retries(
    fn: Callable[[], Awaitable[T]],
    *,
    max_retries: int,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Async :func:`call_with_retries`."""
    attempt = 0
    while True:
        try:
            return await fn()
        except GrokMPPError as exc:
            attempt += 1
            if attempt > max_retries or not is_safe_to_retry(exc):
                raise
            await sleep(backoff_delay(attempt))
