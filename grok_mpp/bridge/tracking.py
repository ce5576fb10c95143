"""``SpendTracker``: thread-safe totals of paid and estimated cost, tokens and calls.

Both the LangChain callback handler and the LlamaIndex event handler feed one of these, so the two
frameworks report the same numbers for the same calls (and both match the ledger, since they add
the same settled amounts in base units).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from grok_mpp.gateway.results import Cost, Usage
from grok_mpp.units import format_usd


@dataclass
class Bucket:
    """Totals of one group. ``paid`` = ``amount`` + ``fee`` (what left the wallet); ``failed``
    counts calls that paid and then failed (their money is in ``paid`` when the chain confirmed it,
    in ``unconfirmed`` (the transfer amount) when it could not be checked)."""

    calls: int = 0
    paid: int = 0
    amount: int = 0
    fee: int = 0
    estimated: int = 0
    failed: int = 0
    unconfirmed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0

    def add(self, cost: Cost | None, usage: Usage | None) -> None:
        self.calls += 1
        if cost is not None:
            self.paid += cost.paid or 0
            self.amount += cost.amount or 0
            self.fee += cost.fee or 0
            self.estimated += cost.estimated
            self.failed += cost.failed
            if cost.failed and cost.paid is None:
                self.unconfirmed += 1
        if usage is not None:
            self.input_tokens += usage.input_tokens
            self.output_tokens += usage.output_tokens
            self.reasoning_tokens += usage.reasoning_tokens


@dataclass
class SpendTracker:
    total: Bucket = field(default_factory=Bucket)
    by_model: dict[str, Bucket] = field(default_factory=lambda: defaultdict(Bucket))
    by_endpoint: dict[str, Bucket] = field(default_factory=lambda: defaultdict(Bucket))
    tx_hashes: list[str] = field(default_factory=list)
    #: One entry per call that paid and then failed: tx_hash, endpoint, error class, what it cost.
    failures: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(
        self,
        *,
        model: str | None,
        endpoint: str | None,
        cost: Cost | None,
        usage: Usage | None,
        error: str | None = None,
    ) -> None:
        with self._lock:
            if cost is not None and cost.tx_hash:
                if cost.tx_hash.lower() in self.tx_hashes:
                    return  # the same payment reported twice (e.g. a nested run): count once
                self.tx_hashes.append(cost.tx_hash.lower())
            if cost is not None and cost.failed:
                self.failures.append({
                    "tx_hash": cost.tx_hash, "endpoint": endpoint, "model": model, "error": error,
                    "paid": cost.paid, "amount": cost.amount, "fee": cost.fee, "confirmed": cost.paid is not None,
                })
            self.total.add(cost, usage)
            self.by_model[model or "unknown"].add(cost, usage)
            self.by_endpoint[endpoint or "unknown"].add(cost, usage)

    @property
    def paid_usd(self) -> str:
        return format_usd(self.total.paid)

    @property
    def estimated_usd(self) -> str:
        return format_usd(self.total.estimated)

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return {
                "calls": self.total.calls,
                "paid": self.total.paid,
                "amount": self.total.amount,
                "fee": self.total.fee,
                "failed": self.total.failed,
                "failures": [dict(f) for f in self.failures],
                "paid_usd": format_usd(self.total.paid),
                "estimated": self.total.estimated,
                "estimated_usd": format_usd(self.total.estimated),
                "input_tokens": self.total.input_tokens,
                "output_tokens": self.total.output_tokens,
                "reasoning_tokens": self.total.reasoning_tokens,
                "by_model": {k: vars(v).copy() for k, v in self.by_model.items()},
                "by_endpoint": {k: vars(v).copy() for k, v in self.by_endpoint.items()},
            }

    def report(self) -> str:
        """Readable totals in the style of ``get_openai_callback``."""
        lines = [
            f"Grok MPP calls: {self.total.calls}",
            f"Tokens: {self.total.input_tokens} in / {self.total.output_tokens} out "
            f"({self.total.reasoning_tokens} reasoning)",
            f"Paid (USD): {self.paid_usd} (amount {format_usd(self.total.amount)} + network fees "
            f"{format_usd(self.total.fee)})",
            f"Estimated (USD): {self.estimated_usd}",
        ]
        if self.total.failed:
            lines.append(f"Failed after paying: {self.total.failed} calls ({self.total.unconfirmed} not confirmed on chain)")
        for endpoint, bucket in sorted(self.by_endpoint.items()):
            lines.append(f"  {endpoint}: {bucket.calls} calls, {format_usd(bucket.paid)} USD paid")
        for model, bucket in sorted(self.by_model.items()):
            lines.append(f"  {model}: {bucket.calls} calls, {format_usd(bucket.paid)} USD paid")
        return "\n".join(lines)


class SpendTotals:
    """Read-only totals for a framework handler that owns a :class:`SpendTracker` as ``self.tracker``.

    The LangChain callback and the LlamaIndex event handler expose the same figures under the same
    names; this mixin is where those names are defined once.
    """

    if TYPE_CHECKING:  # declared for type checkers only: pydantic handlers provide it as a property
        tracker: SpendTracker

    @property
    def calls(self) -> int:
        return self.tracker.total.calls

    @property
    def paid(self) -> int:
        """What left the wallet in base units (1 USD = 1_000_000): amounts plus network fees,
        failed-after-payment calls included."""
        return self.tracker.total.paid

    @property
    def paid_usd(self) -> str:
        return self.tracker.paid_usd

    @property
    def amount(self) -> int:
        """Transfers to the gateway, in base units (``paid`` minus network fees)."""
        return self.tracker.total.amount

    @property
    def fee(self) -> int:
        """Tempo network fees paid, in base units."""
        return self.tracker.total.fee

    @property
    def total(self) -> int:
        """Same as ``paid``: amount + network fees."""
        return self.tracker.total.paid

    @property
    def failed_calls(self) -> int:
        """Calls that paid and then failed (upstream 502, 5xx, dropped connection)."""
        return self.tracker.total.failed

    @property
    def failures(self) -> list[dict[str, Any]]:
        """Details of each failed-after-payment call (tx_hash, endpoint, error, paid, confirmed)."""
        return list(self.tracker.failures)

    @property
    def estimated(self) -> int:
        return self.tracker.total.estimated

    @property
    def estimated_usd(self) -> str:
        return self.tracker.estimated_usd

    @property
    def input_tokens(self) -> int:
        return self.tracker.total.input_tokens

    @property
    def output_tokens(self) -> int:
        return self.tracker.total.output_tokens

    @property
    def reasoning_tokens(self) -> int:
        return self.tracker.total.reasoning_tokens

    @property
    def total_tokens(self) -> int:
        return self.tracker.total.input_tokens + self.tracker.total.output_tokens

    @property
    def by_model(self) -> dict[str, Bucket]:
        return dict(self.tracker.by_model)

    @property
    def by_endpoint(self) -> dict[str, Bucket]:
        return dict(self.tracker.by_endpoint)

    def summary(self) -> dict[str, Any]:
        return self.tracker.summary()
