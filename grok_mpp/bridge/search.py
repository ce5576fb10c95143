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


def cited_passage(text: str, start: int | None, end: int | None, width: int = 280) -> str:
    """The claim a citation supports: the sentence that ends at its marker.

    ``start``/``end`` delimit the inline citation marker (``[[1]](url)``), which xAI places right
    after the sentence it supports, so the passage is the text before ``start`` back to the previous
    sentence break. (Periods inside names such as ``example.com`` are not sentence breaks.)
    """
    if start is None or end is None or not (0 <= start <= end <= len(text)):
        return text[:width]
    before = text[:start].rstrip()
    cut = max(before.rfind(". ", 0, len(before) - 1), before.rfind("\n", 0, len(before) - 1))
    sentence = before[cut + 1 :].strip()
    return sentence[-width:] if sentence else text[:width]


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
                text=cited_passage(result.text, citation.start_index, citation.end_index),
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
