"""Grok web and X search as LlamaIndex retrievers: one paid call -> the cited sources as nodes.

Each retrieval is one ``/grok/web-search`` or ``/grok/x-search`` call. Grok answers with text and
citations; every distinct cited URL becomes a ``NodeWithScore`` whose text is the passage that
cited it (see :func:`grok_mpp.bridge.search.search_sources`) and whose metadata carries ``url``,
``title``, ``source``, ``provider`` and, for X, ``author``/``post_id``. Scores are 1/rank, the
order Grok cited them in, so a query engine keeps Grok's ranking.

Filters (domains for the web, handles and dates for X) are validated when the retriever is built,
so a typo fails at construction rather than after a payment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from llama_index.core.callbacks import CallbackManager
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from grok_mpp.bridge.clients import CLIENT_SETTINGS, check_client_settings
from grok_mpp.bridge.search import SearchSource, search_sources
from grok_mpp.errors import InvalidRequestError
from grok_mpp.gateway.requests import WebSearchRequest, XSearchRequest
from grok_mpp.gateway.results import ChatResult
from llama_index_grok_mpp._paid import asend, build_clients, send

SearchRequest = WebSearchRequest | XSearchRequest

#: Metadata that helps programs but only adds noise to what an LLM or an embedding sees.
HIDDEN_METADATA = ["rank", "score", "paid_usd", "model", "provider"]

PROVIDERS: dict[type[SearchRequest], str] = {WebSearchRequest: "grok_web_search", XSearchRequest: "grok_x_search"}


def search_request(
    kind: type[SearchRequest],
    query: str,
    *,
    model: str | None = None,
    max_tokens: int | None = None,
    filters: Mapping[str, Any] | None = None,
) -> SearchRequest:
    """The validated request for one search (raises :class:`InvalidRequestError` before paying)."""
    if not query or not query.strip():
        raise InvalidRequestError("the search query is empty", hint="nothing was sent or paid")
    fields: dict[str, Any] = {"messages": [{"role": "user", "content": query}], **(filters or {})}
    if model:
        fields["model"] = model
    if max_tokens is not None:
        fields["max_tokens"] = max_tokens
    return kind(**fields)


def source_node(source: SearchSource, result: ChatResult) -> NodeWithScore:
    node = TextNode(
        text=source.text,
        metadata=source.metadata(result),
        excluded_llm_metadata_keys=list(HIDDEN_METADATA),
        excluded_embed_metadata_keys=list(HIDDEN_METADATA),
    )
    return NodeWithScore(node=node, score=source.score)


class _GrokSearchRetriever(BaseRetriever):
    """Shared implementation; subclasses pick the route."""

    _kind: ClassVar[type[SearchRequest]] = WebSearchRequest

    def __init__(
        self,
        *,
        k: int = 5,
        model: str | None = None,
        max_tokens: int | None = None,
        filters: Mapping[str, Any] | None = None,
        include_answer: bool = False,
        max_retries: int = 2,
        private_key: Any = None,
        wallet: Any = None,
        client: Any = None,
        async_client: Any = None,
        callback_manager: CallbackManager | None = None,
        verbose: bool = False,
        **settings: Any,
    ) -> None:
        if k < 1:
            raise InvalidRequestError(f"k must be at least 1, got {k}")
        unknown = sorted(set(settings) - set(CLIENT_SETTINGS))
        if unknown:
            raise TypeError(f"unknown arguments {unknown}")
        check_client_settings(**settings)  # bad URL, amount or timeout: fail now, not at the first call
        super().__init__(callback_manager=callback_manager, verbose=verbose)
        self.k = k
        self.model = model
        self.max_tokens = max_tokens
        self.filters = dict(filters or {})
        self.include_answer = include_answer
        self.max_retries = max_retries
        self.provider = PROVIDERS[self._kind]
        search_request(self._kind, "validate", model=model, max_tokens=max_tokens, filters=self.filters)
        self._clients = build_clients(
            private_key=private_key, wallet=wallet, client=client, async_client=async_client, **settings
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(k={self.k}, model={self.model!r}, filters={self.filters})"

    def _request(self, query: str) -> SearchRequest:
        return search_request(self._kind, query, model=self.model, max_tokens=self.max_tokens, filters=self.filters)

    def _nodes(self, result: ChatResult) -> list[NodeWithScore]:
        nodes = [source_node(s, result) for s in search_sources(result, provider=self.provider, k=self.k)]
        if self.include_answer:
            answer = TextNode(
                text=result.text,
                metadata={"source": "grok", "provider": self.provider, "model": result.served_model},
                excluded_llm_metadata_keys=list(HIDDEN_METADATA),
                excluded_embed_metadata_keys=list(HIDDEN_METADATA),
            )
            nodes.insert(0, NodeWithScore(node=answer, score=1.0))
        return nodes

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        request = self._request(query_bundle.query_str)
        result = send(self._clients, request, max_retries=self.max_retries, component=type(self).__name__)
        return self._nodes(result)

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        request = self._request(query_bundle.query_str)
        result = await asend(self._clients, request, max_retries=self.max_retries, component=type(self).__name__)
        return self._nodes(result)


class GrokWebSearchRetriever(_GrokSearchRetriever):
    """Web search via Grok. ``filters``: ``allowed_domains`` or ``excluded_domains`` (at most 5).

    Example::

        from llama_index_grok_mpp import GrokWebSearchRetriever
        retriever = GrokWebSearchRetriever(k=3, max_tokens=512, filters={"allowed_domains": ["docs.tempo.xyz"]})
        for hit in retriever.retrieve("Tempo TIP-20 memo"):
            print(hit.score, hit.node.metadata["url"])
    """

    _kind: ClassVar[type[SearchRequest]] = WebSearchRequest


class GrokXSearchRetriever(_GrokSearchRetriever):
    """X (Twitter) search via Grok. ``filters``: ``allowed_x_handles`` / ``excluded_x_handles``,
    ``from_date`` / ``to_date`` (YYYY-MM-DD).

    Example::

        from llama_index_grok_mpp import GrokXSearchRetriever
        retriever = GrokXSearchRetriever(k=3, max_tokens=512, filters={"from_date": "2025-01-01"})
        for hit in retriever.retrieve("Tempo mainnet launch"):
            print(hit.node.metadata["author"], hit.node.metadata["url"])
    """

    _kind: ClassVar[type[SearchRequest]] = XSearchRequest
