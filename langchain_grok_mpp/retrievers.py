"""Paid web and X search as LangChain retrievers: one ``Document`` per cited source.

Grok's search routes return an answer with citations, not a result list; each unique cited URL
becomes a document whose text is the answer sentence around the citation
(:func:`grok_mpp.bridge.search.search_sources`), ranked in citation order with score ``1/rank``.
Metadata follows the conventions other search retrievers use (``source`` like Tavily, ``url`` like
Exa) plus ``title``, ``provider``, ``rank``, ``score``, ``model``, ``paid_usd`` and for X posts
``author``/``post_id``. ``include_answer=True`` prepends the synthesized answer as a document.

Each ``invoke`` is one paid call; the payment is reported to cost callbacks as a
``grok_mpp_payment`` custom event (retrievers have no LLM run that could carry it).
"""

from __future__ import annotations

from typing import Any, ClassVar

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever, LangSmithRetrieverParams
from pydantic import ConfigDict, Field

from grok_mpp.bridge.search import search_sources
from grok_mpp.errors import GrokMPPError, InvalidRequestError
from grok_mpp.gateway.catalog import DEFAULT_SEARCH_MODEL
from grok_mpp.gateway.requests import GrokRequest, WebSearchRequest, XSearchRequest
from grok_mpp.gateway.results import ChatResult
from grok_mpp.units import format_usd
from langchain_grok_mpp._events import aemit_payment, emit_payment
from langchain_grok_mpp._settings import GrokMPPSettings
from langchain_grok_mpp.errors import to_langchain_error


class _GrokSearchRetriever(GrokMPPSettings, BaseRetriever):
    # extra="forbid": a misspelt setting (or a money argument meant for something else) must fail,
    # not be ignored while the search still pays.
    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True, extra="forbid")

    request_type: ClassVar[type[WebSearchRequest] | type[XSearchRequest]]
    provider: ClassVar[str]
    filter_fields: ClassVar[tuple[str, ...]]

    model_name: str = Field(default=DEFAULT_SEARCH_MODEL, alias="model")
    """A Grok-4-family model (the search routes require one)."""
    k: int = Field(default=5, ge=1)
    """Maximum number of source documents per query (per call: ``invoke(q, k=...)``)."""
    include_answer: bool = False
    """Prepend Grok's synthesized answer as the first document (not counted in ``k``)."""
    max_tokens: int | None = None
    temperature: float | None = None
    allow_unknown_models: bool = False
    """Send a model slug the catalog does not know (refused before paying otherwise)."""

    def _get_ls_params(self, **kwargs: Any) -> LangSmithRetrieverParams:
        params = super()._get_ls_params(**kwargs)
        params["ls_retriever_name"] = self.provider
        return params

    # -- request / documents -----------------------------------------------------------------------
    def _split_kwargs(self, kwargs: dict[str, Any]) -> tuple[int, bool, dict[str, Any]]:
        k = int(kwargs.pop("k", self.k))
        include_answer = bool(kwargs.pop("include_answer", self.include_answer))
        model = kwargs.pop("model", None) or self.model_name
        filters = {name: kwargs.pop(name) for name in self.filter_fields if name in kwargs}
        filters.update({name: getattr(self, name) for name in self.filter_fields if name not in filters})
        if kwargs:
            raise InvalidRequestError(
                f"unsupported search options {sorted(kwargs)}; use k, include_answer, model or"
                f" {', '.join(self.filter_fields)}"
            )
        if k < 1:
            raise InvalidRequestError("k must be at least 1")
        fields: dict[str, Any] = {"model": model, **{n: v for n, v in filters.items() if v is not None}}
        if self.max_tokens is not None:
            fields["max_tokens"] = self.max_tokens
        if self.temperature is not None:
            fields["temperature"] = self.temperature
        if self.allow_unknown_models:
            fields["allow_unknown_models"] = True
        return k, include_answer, fields

    def _prepare(self, query: str, kwargs: dict[str, Any]) -> tuple[GrokRequest, int, bool]:
        k, include_answer, fields = self._split_kwargs(dict(kwargs))
        return self.request_type(messages=[{"role": "user", "content": query}], **fields), k, include_answer

    def build_request(self, query: str, **kwargs: Any) -> GrokRequest:
        """The validated search request for ``query`` (raises before anything is paid)."""
        try:
            return self._prepare(query, kwargs)[0]
        except GrokMPPError as exc:
            raise to_langchain_error(exc) from exc

    def documents(self, result: ChatResult, *, k: int, include_answer: bool) -> list[Document]:
        """Documents for a search result: optional answer first, then up to ``k`` sources."""
        docs: list[Document] = []
        if include_answer:
            meta: dict[str, Any] = {
                "source": result.endpoint,
                "title": "Grok answer",
                "type": "answer",
                "provider": self.provider,
                "model": result.served_model,
                "citations": [c.url for c in result.citations],
            }
            if result.cost.paid is not None:
                meta["paid_usd"] = format_usd(result.cost.paid)
            docs.append(Document(page_content=result.text, metadata=meta))
        docs.extend(
            Document(page_content=s.text, metadata=s.metadata(result))
            for s in search_sources(result, provider=self.provider, k=k)
        )
        return docs

    def search(self, query: str, **kwargs: Any) -> tuple[ChatResult, int, bool]:
        """Pay for one search; returns the raw result plus the effective ``k``/``include_answer``."""
        plan: list[Any] = []
        result = self._paid_call(lambda: self._planned(query, kwargs, plan))
        return result, plan[0], plan[1]

    async def asearch(self, query: str, **kwargs: Any) -> tuple[ChatResult, int, bool]:
        plan: list[Any] = []
        result = await self._apaid_call(lambda: self._planned(query, kwargs, plan))
        return result, plan[0], plan[1]

    def _planned(self, query: str, kwargs: dict[str, Any], plan: list[Any]) -> GrokRequest:
        request, k, include_answer = self._prepare(query, kwargs)
        plan[:] = [k, include_answer]
        return request

    # -- BaseRetriever -------------------------------------------------------------------------------
    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        result, k, include_answer = self.search(query, **kwargs)
        emit_payment(run_manager, result)
        return self.documents(result, k=k, include_answer=include_answer)

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        result, k, include_answer = await self.asearch(query, **kwargs)
        await aemit_payment(run_manager, result)
        return self.documents(result, k=k, include_answer=include_answer)


class GrokWebSearchRetriever(_GrokSearchRetriever):
    """Web search through ``POST /grok/web-search``.

    Filters (constructor or per call): ``allowed_domains`` or ``excluded_domains`` (at most 5, bare
    domains such as ``"arxiv.org"``).

    Example::

        from langchain_grok_mpp import GrokWebSearchRetriever
        retriever = GrokWebSearchRetriever(k=3, allowed_domains=["docs.tempo.xyz"], max_tokens=512)
        for doc in retriever.invoke("How do TIP-20 transfer memos work?"):
            print(doc.metadata["url"], doc.page_content[:80])
    """

    request_type: ClassVar[type[WebSearchRequest]] = WebSearchRequest
    provider: ClassVar[str] = "grok_web_search"
    filter_fields: ClassVar[tuple[str, ...]] = ("allowed_domains", "excluded_domains")

    allowed_domains: list[str] | None = None
    excluded_domains: list[str] | None = None


class GrokXSearchRetriever(_GrokSearchRetriever):
    """X (Twitter) search through ``POST /grok/x-search``.

    Filters (constructor or per call): ``allowed_x_handles`` or ``excluded_x_handles`` (at most
    20), ``from_date`` / ``to_date`` (``YYYY-MM-DD``). Documents carry ``author`` and ``post_id``.

    Example::

        from langchain_grok_mpp import GrokXSearchRetriever
        retriever = GrokXSearchRetriever(k=3, from_date="2025-01-01", max_tokens=512)
        for doc in retriever.invoke("Tempo mainnet launch"):
            print(doc.metadata["author"], doc.metadata["url"])
    """

    request_type: ClassVar[type[XSearchRequest]] = XSearchRequest
    provider: ClassVar[str] = "grok_x_search"
    filter_fields: ClassVar[tuple[str, ...]] = ("allowed_x_handles", "excluded_x_handles", "from_date", "to_date")

    allowed_x_handles: list[str] | None = None
    excluded_x_handles: list[str] | None = None
    from_date: str | None = None
    to_date: str | None = None
