"""Web and X search: filters gathered from every place a builder may put them, synthetic sources
with ``url_citation`` annotations, and the Responses-style search call item.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from grok_mpp.local.responder.chat import (
    _apply_limits,
)
from grok_mpp.local.responder.common import (
    DEFAULT_SEARCH_RESULTS,
    MAX_DOMAINS,
    MAX_HANDLES,
    MAX_SEARCH_RESULTS,
    BadRequestError,
    _Context,
)
from grok_mpp.local.responder.responses import (
    _message_item,
    _responses_common,
    _responses_envelope,
)
from grok_mpp.local.synthesis import (
    SYNTHETIC_MARKER,
    keywords,
)


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Search restrictions gathered from every place a request builder may put them."""

    allowed_domains: tuple[str, ...] = ()
    excluded_domains: tuple[str, ...] = ()
    allowed_handles: tuple[str, ...] = ()
    excluded_handles: tuple[str, ...] = ()
    max_results: int = DEFAULT_SEARCH_RESULTS


_FILTER_KEYS: dict[str, str] = {
    "allowed_domains": "allowed_domains",
    "allowed_websites": "allowed_domains",
    "excluded_domains": "excluded_domains",
    "excluded_websites": "excluded_domains",
    "allowed_x_handles": "allowed_handles",
    "included_x_handles": "allowed_handles",
    "excluded_x_handles": "excluded_handles",
}
_RESULT_KEYS = ("max_search_results", "num_results", "max_results")


def search_filters(body: Mapping[str, Any]) -> SearchFilters:
    """Collect filters from the top level, ``search_parameters`` (and its ``sources``) and ``tools``.

    Live-Search spellings (``allowed_websites``, ``included_x_handles``) and Agent-Tools spellings
    (``allowed_domains``, ``allowed_x_handles``) are both accepted because the Locus field names
    are not public (grok-api.md §1.4). Limits mirror xAI: at most 5 domains, 10 handles, and
    allowed/excluded lists are mutually exclusive.
    """
    scopes: list[Mapping[str, Any]] = [body]
    params = body.get("search_parameters")
    if isinstance(params, Mapping):
        scopes.append(params)
        scopes.extend(s for s in params.get("sources") or () if isinstance(s, Mapping))
    for tool in body.get("tools") or ():
        if isinstance(tool, Mapping) and tool.get("type") in ("web_search", "x_search"):
            scopes.append(tool)
    found: dict[str, list[str]] = {v: [] for v in set(_FILTER_KEYS.values())}
    max_results: int | None = None
    for scope in scopes:
        for key, target in _FILTER_KEYS.items():
            value = scope.get(key)
            if value is None:
                continue
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise BadRequestError(f"'{key}' must be a list of strings")
            found[target].extend(value)
        for key in _RESULT_KEYS:
            value = scope.get(key)
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise BadRequestError(f"'{key}' must be a positive integer")
                max_results = value
    domains = {k: _unique(_normalise_domain(d) for d in found[k]) for k in ("allowed_domains", "excluded_domains")}
    handles = {k: _unique(h.strip().lstrip("@") for h in found[k]) for k in ("allowed_handles", "excluded_handles")}
    for kind, values, limit in (("domains", domains, MAX_DOMAINS), ("x handles", handles, MAX_HANDLES)):
        allowed, excluded = values.values()
        if allowed and excluded:
            raise BadRequestError(f"allowed and excluded {kind} are mutually exclusive")
        if len(allowed) > limit or len(excluded) > limit:
            raise BadRequestError(f"at most {limit} {kind} may be allowed or excluded")
    return SearchFilters(
        allowed_domains=domains["allowed_domains"],
        excluded_domains=domains["excluded_domains"],
        allowed_handles=handles["allowed_handles"],
        excluded_handles=handles["excluded_handles"],
        max_results=min(max_results or DEFAULT_SEARCH_RESULTS, MAX_SEARCH_RESULTS),
    )


def _unique(values: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _normalise_domain(domain: str) -> str:
    value = domain.strip().lower()
    value = re.sub(r"^[a-z][a-z0-9+.-]*://", "", value).split("/", 1)[0]
    return value.removeprefix("www.")


def _domain_excluded(domain: str, excluded: Sequence[str]) -> bool:
    return any(domain == ex or domain.endswith("." + ex) for ex in excluded)


_WEB_BASES = ("example.com", "example.org", "example.net", "example.edu", "example.io")
_WEB_PREFIXES = ("", "docs.", "news.", "blog.", "wiki.", "research.", "forum.")
_X_HANDLES = (
    "grok_mpp_demo", "synthetic_news", "tempo_builders", "mpp_payments", "local_gateway",
    "example_dev", "open_data_feed", "weekly_digest", "research_notes", "market_watch",
)  # fmt: skip


def _web_domains(filters: SearchFilters, count: int) -> list[str]:
    if filters.allowed_domains:
        return [filters.allowed_domains[i % len(filters.allowed_domains)] for i in range(count)]
    pool = [p + b for p in _WEB_PREFIXES for b in _WEB_BASES]
    pool = [d for d in pool if not _domain_excluded(d, filters.excluded_domains)]
    pool += [f"site{i}.synthetic.test" for i in range(count)]  # only if everything above is excluded
    return pool[:count]


def _x_handles(filters: SearchFilters, count: int) -> list[str]:
    if filters.allowed_handles:
        return [filters.allowed_handles[i % len(filters.allowed_handles)] for i in range(count)]
    excluded = {h.lower() for h in filters.excluded_handles}
    pool = [h for h in _X_HANDLES if h.lower() not in excluded]
    pool += [f"synthetic_user_{i}" for i in range(count)]
    return pool[:count]


@dataclass(frozen=True, slots=True)
class _Source:
    url: str
    title: str
    label: str


def _search(ctx: _Context, *, x: bool) -> dict[str, Any]:
    model, messages, prompt, max_tokens = _responses_common(ctx)
    filters = search_filters(ctx.body)
    query = " ".join(prompt.split())[:200]
    topic_words = keywords(query, limit=4)
    topic = " ".join(topic_words) or "your question"
    slug = quote("-".join(w.lower() for w in topic_words) or "results")
    count = filters.max_results
    sources: list[_Source] = []
    if x:
        for i, handle in enumerate(_x_handles(filters, count)):
            post_id = 1_900_000_000_000_000_000 + int(ctx.hex_id(f"post-{i}", 16), 16) % 10**17
            sources.append(_Source(f"https://x.com/{handle}/status/{post_id}", f"@{handle} on X", f"@{handle} posted"))
    else:
        for i, domain in enumerate(_web_domains(filters, count)):
            title = f"{topic.title()} - result {i + 1} ({domain})"
            sources.append(_Source(f"https://{domain}/{slug}/{i + 1}", title, f"{domain} has a page"))

    header = f'{SYNTHETIC_MARKER}{"X" if x else "Web"} search results for "{query}":\n'
    text = header
    annotations: list[dict[str, Any]] = []
    for i, source in enumerate(sources):
        line = f"{i + 1}. {source.label} about {topic}. "
        marker = f"[[{i + 1}]]({source.url})"
        start = len(text) + len(line)
        text += line + marker + "\n"
        annotations.append(
            {
                "type": "url_citation",
                "url": source.url,
                "title": source.title,
                "start_index": start,
                "end_index": start + len(marker),
            }
        )
    text, truncated = _apply_limits(text, (), max_tokens)
    annotations = [a for a in annotations if a["end_index"] <= len(text)]

    arguments: dict[str, Any] = {"query": query}
    call: dict[str, Any]
    if x:
        arguments["limit"] = count
        if filters.allowed_handles:
            arguments["allowed_x_handles"] = list(filters.allowed_handles)
        call = {"type": "x_search_call", "id": f"xs_{ctx.hex_id('x')}", "name": "x_semantic_search"}
    else:
        arguments["num_results"] = count
        call = {"type": "web_search_call", "id": f"ws_{ctx.hex_id('web')}", "name": "web_search"}
    call.update(
        {
            "arguments": json.dumps(arguments, ensure_ascii=False),
            "status": "completed",
            "action": {"type": "search", "query": query, "sources": [{"type": "url", "url": s.url} for s in sources]},
        }
    )
    items = [call, _message_item(ctx, text, annotations)]
    response = _responses_envelope(
        ctx, model, items, messages=messages, output_text=text, tools_used=1,
        sources_used=len(sources), truncated=truncated,
    )  # fmt: skip
    response["citations"] = [s.url for s in sources]
    return response
