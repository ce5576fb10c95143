"""Normalized results shared by the LangChain and LlamaIndex adapters.

Why plain frozen dataclasses: both adapters (and the ledger, and the cost callbacks) read the same
fields, so the shapes are a contract (docs/ARCHITECTURE.md). They carry no behaviour beyond unit
conversion, and they are immutable so a result handed to a callback cannot be altered under another.

Units: token counts are ints; money is int base units (1 USD = 1_000_000) except
``Usage.cost_in_usd_ticks``/``Cost.upstream_ticks``, which keep xAI's native unit
(1 USD = 10_000_000_000 ticks) so the upstream figure is never rounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from grok_mpp.units import BASE_UNITS_PER_USD

TICKS_PER_USD = 10**10
TICKS_PER_BASE_UNIT = TICKS_PER_USD // BASE_UNITS_PER_USD  # 10_000

CitationSource = Literal["web", "x"]


def ticks_to_usd(ticks: int) -> Decimal:
    """Exact USD value of xAI ``cost_in_usd_ticks``."""
    return Decimal(ticks) / TICKS_PER_USD


def ticks_to_base_units(ticks: int) -> int:
    """Ticks rounded UP to whole base units (so budgets never under-count)."""
    return -(-ticks // TICKS_PER_BASE_UNIT)


@dataclass(frozen=True, slots=True)
class Usage:
    """Token usage with reasoning folded into ``output_tokens``.

    xAI's Chat Completions report reasoning OUTSIDE ``completion_tokens``, its Responses API inside
    ``output_tokens``; the parser normalizes both so that ``output_tokens`` always includes reasoning
    and ``total_tokens == input_tokens + output_tokens`` (enforced here: a mismatch is a parser bug).
    """

    input_tokens: int
    output_tokens: int
    total_tokens: int
    reasoning_tokens: int = 0
    cached_input_tokens: int = 0
    num_sources_used: int = 0
    num_server_side_tools_used: int = 0
    cost_in_usd_ticks: int | None = None

    def __post_init__(self) -> None:
        counts = (
            self.input_tokens,
            self.output_tokens,
            self.total_tokens,
            self.reasoning_tokens,
            self.cached_input_tokens,
            self.num_sources_used,
            self.num_server_side_tools_used,
        )
        if any(c < 0 for c in counts):
            raise ValueError(f"usage counts must be non-negative, got {counts}")
        if self.total_tokens != self.input_tokens + self.output_tokens:
            raise ValueError(
                f"usage total_tokens {self.total_tokens} != input_tokens {self.input_tokens}"
                f" + output_tokens {self.output_tokens}"
            )
        if self.reasoning_tokens > self.output_tokens:
            raise ValueError("reasoning_tokens are part of output_tokens and cannot exceed them")
        if self.cached_input_tokens > self.input_tokens:
            raise ValueError("cached_input_tokens are part of input_tokens and cannot exceed them")

    @classmethod
    def of(
        cls,
        input_tokens: int,
        output_tokens: int,
        *,
        reasoning_tokens: int = 0,
        cached_input_tokens: int = 0,
        num_sources_used: int = 0,
        num_server_side_tools_used: int = 0,
        cost_in_usd_ticks: int | None = None,
    ) -> Usage:
        """Build a Usage computing ``total_tokens`` (the only way totals can be consistent)."""
        return cls(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            total_tokens=input_tokens + output_tokens,
            reasoning_tokens=reasoning_tokens,
            cached_input_tokens=cached_input_tokens,
            num_sources_used=num_sources_used,
            num_server_side_tools_used=num_server_side_tools_used,
            cost_in_usd_ticks=cost_in_usd_ticks,
        )

    @classmethod
    def zero(cls) -> Usage:
        return cls(0, 0, 0)

    @property
    def completion_tokens(self) -> int:
        """Visible (non-reasoning) output tokens, i.e. xAI's Chat Completions ``completion_tokens``."""
        return self.output_tokens - self.reasoning_tokens

    @property
    def upstream_cost_usd(self) -> Decimal | None:
        return None if self.cost_in_usd_ticks is None else ticks_to_usd(self.cost_in_usd_ticks)

    def __add__(self, other: Usage) -> Usage:
        """Aggregate usage across calls (callbacks, ledgers). Ticks stay None only if both are None."""
        if not isinstance(other, Usage):
            return NotImplemented
        ticks: int | None
        if self.cost_in_usd_ticks is None and other.cost_in_usd_ticks is None:
            ticks = None
        else:
            ticks = (self.cost_in_usd_ticks or 0) + (other.cost_in_usd_ticks or 0)
        return Usage.of(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            cached_input_tokens=self.cached_input_tokens + other.cached_input_tokens,
            num_sources_used=self.num_sources_used + other.num_sources_used,
            num_server_side_tools_used=self.num_server_side_tools_used + other.num_server_side_tools_used,
            cost_in_usd_ticks=ticks,
        )


@dataclass(frozen=True, slots=True)
class Citation:
    """A source the model cited. X posts carry ``source="x"``, ``post_id`` and (when in the URL) ``author``."""

    url: str
    title: str | None = None
    start_index: int | None = None
    end_index: int | None = None
    source: CitationSource = "web"
    post_id: str | None = None
    author: str | None = None


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A client-side function call. ``arguments`` is ``{}`` when ``raw_arguments`` is not a JSON object."""

    id: str
    name: str
    arguments: dict[str, Any]
    raw_arguments: str


@dataclass(frozen=True, slots=True)
class ServerToolCall:
    """A tool xAI ran itself. ``name`` is the parent tool (web_search, x_search, code_execution);
    ``sub_tool`` keeps the upstream sub-tool name (``x_semantic_search``, ``browse_page``...)."""

    id: str
    name: str
    args: dict[str, Any]
    status: str
    outputs: tuple[str, ...] = ()
    sub_tool: str | None = None


@dataclass(frozen=True, slots=True)
class Cost:
    """What a call cost, by authority: ``paid`` (what left the wallet) > ``upstream_ticks`` (xAI's own
    figure, includes tool fees) > ``estimated`` (our pricing table). Money in base units.

    ``paid`` = ``amount`` (the MPP transfer) + ``fee`` (the Tempo network fee, read from the chain
    receipt; the worst-case bound when the chain could not be asked, see ``fee_exact``). A call
    that failed after paying (upstream 502, 5xx, dropped connection) carries ``failed=True``.
    Built with only ``paid`` (older code, tests), ``amount`` is ``paid`` and ``fee`` 0.
    """

    paid: int | None
    currency: str | None
    chain_id: int | None
    tx_hash: str | None
    challenge_id: str | None
    receipt: dict[str, Any] | None
    estimated: int
    upstream_ticks: int | None
    #: What the server's ``Payment-Receipt`` named; ``receipt_mismatch`` is True when it names another
    #: transaction than ours (``tx_hash`` stays ours: a receipt cannot rename our payment).
    receipt_reference: str | None = None
    receipt_mismatch: bool = False
    amount: int | None = None
    fee: int | None = None
    fee_exact: bool = True
    failed: bool = False

    def __post_init__(self) -> None:
        if self.paid is not None and self.amount is None:
            object.__setattr__(self, "amount", self.paid)
            object.__setattr__(self, "fee", 0 if self.fee is None else self.fee)
            object.__setattr__(self, "paid", self.paid + (self.fee or 0))
        if self.paid is None and self.amount is not None:
            object.__setattr__(self, "paid", self.amount + (self.fee or 0))

    @property
    def total(self) -> int | None:
        """Same as ``paid``: amount + network fee."""
        return self.paid

    @property
    def fee_usd(self) -> Decimal | None:
        return None if self.fee is None else Decimal(self.fee) / BASE_UNITS_PER_USD

    @property
    def amount_usd(self) -> Decimal | None:
        return None if self.amount is None else Decimal(self.amount) / BASE_UNITS_PER_USD

    @classmethod
    def unpaid(cls, estimated: int, upstream_ticks: int | None = None) -> Cost:
        """A cost with no payment attached (local estimates, tests, free calls)."""
        return cls(None, None, None, None, None, None, estimated, upstream_ticks)

    @property
    def paid_usd(self) -> Decimal | None:
        return None if self.paid is None else Decimal(self.paid) / BASE_UNITS_PER_USD

    @property
    def estimated_usd(self) -> Decimal:
        return Decimal(self.estimated) / BASE_UNITS_PER_USD

    @property
    def upstream_cost_usd(self) -> Decimal | None:
        return None if self.upstream_ticks is None else ticks_to_usd(self.upstream_ticks)

    @property
    def markup_usd(self) -> Decimal | None:
        """Paid minus upstream cost: the gateway's margin on this call (budgeting insight only)."""
        paid, upstream = self.paid_usd, self.upstream_cost_usd
        return None if paid is None or upstream is None else paid - upstream


@dataclass(frozen=True, slots=True)
class ChatResult:
    """One assistant turn. ``requested_model`` is what we sent; ``served_model`` what xAI ran (redirects)."""

    id: str
    text: str
    reasoning: str | None
    tool_calls: tuple[ToolCall, ...]
    citations: tuple[Citation, ...]
    server_tool_calls: tuple[ServerToolCall, ...]
    finish_reason: str | None
    requested_model: str
    served_model: str
    usage: Usage
    cost: Cost
    endpoint: str
    raw: dict[str, Any]
    system_fingerprint: str | None = None
    #: The choice's ``logprobs`` block as xAI sent it (``{"content": [...]}``) when requested.
    logprobs: dict[str, Any] | None = None
    #: Choices 2..n of a request with ``n > 1`` (same id, usage and cost: they describe the whole call).
    alternatives: tuple[ChatResult, ...] = ()


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    """One image: ``data`` when returned as b64_json (decoded), else ``url`` (temporary upstream URL)."""

    data: bytes | None
    url: str | None
    mime_type: str | None
    revised_prompt: str | None


@dataclass(frozen=True, slots=True)
class ImageResult:
    images: tuple[GeneratedImage, ...]
    model: str
    cost: Cost
    raw: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SpeechResult:
    audio: bytes
    mime_type: str
    characters: int
    cost: Cost
    raw: dict[str, Any]
