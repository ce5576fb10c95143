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
    calls: int = 0
    paid: int = 0
    estimated: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0

    def add(self, cost: Cost | None, usage: Usage | None) -> None:
        self.calls += 1
        if cost is not None:
            self.paid += cost.paid or 0
            self.estimated += cost.estimated
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
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, *, model: str | None, endpoint: str | None, cost: Cost | None, usage: Usage | None) -> None:
        with self._lock:
            if cost is not None and cost.tx_hash:
                if cost.tx_hash in self.tx_hashes:
                    return  # the same payment reported twice (e.g. a nested run): count once
                self.tx_hashes.append(cost.tx_hash)
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
            f"Paid (USD): {self.paid_usd}",
            f"Estimated (USD): {self.estimated_usd}",
        ]
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
        """Settled amount in base units (1 USD = 1_000_000)."""
        return self.tracker.total.paid

    @property
    def paid_usd(self) -> str:
        return self.tracker.paid_usd

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
