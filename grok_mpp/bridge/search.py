"""Search results -> sources: one entry per cited URL, shared by both frameworks' retrievers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grok_mpp.gateway.results import ChatResult
from grok_mpp.units import format_usd


@dataclass(frozen=True, slots=True)
class SearchSource:
    """A cited source with the text around its citation (or the answer when no span is known)."""

    url: str
    title: str | None
    text: str
    provider: str
    rank: int
    score: float
    source: str
    post_id: str | None = None
    author: str | None = None

    def metadata(self, result: ChatResult) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "source": self.url,
            "url": self.url,
            "title": self.title or self.url,
            "provider": self.provider,
            "rank": self.rank,
            "score": self.score,
            "model": result.served_model,
        }
        if self.source == "x":
            meta.update({"post_id": self.post_id, "author": self.author})
        if result.cost.paid is not None:
            meta["paid_usd"] = format_usd(result.cost.paid)
        return {k: v for k, v in meta.items() if v is not None}


def _snippet(text: str, start: int | None, end: int | None, width: int = 280) -> str:
    if start is None or end is None or not (0 <= start <= end <= len(text)):
        return text[:width]
    lo = max(0, text.rfind(".", 0, start) + 1)
    hi = text.find(".", end)
    hi = len(text) if hi == -1 else hi + 1
    return text[lo:hi].strip() or text[:width]


def search_sources(result: ChatResult, *, provider: str, k: int | None = None) -> list[SearchSource]:
    """Deduplicated sources in citation order, scored 1/rank so frameworks can sort or cut."""
    seen: set[str] = set()
    sources: list[SearchSource] = []
    for citation in result.citations:
        if citation.url in seen:
            continue
        seen.add(citation.url)
        rank = len(sources) + 1
        sources.append(
            SearchSource(
                url=citation.url,
                title=citation.title,
                text=_snippet(result.text, citation.start_index, citation.end_index),
                provider=provider,
                rank=rank,
                score=1.0 / rank,
                source=citation.source,
                post_id=citation.post_id,
                author=citation.author,
            )
        )
        if k is not None and len(sources) >= k:
            break
    return sources
