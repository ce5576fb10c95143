"""Routes where xAI runs a tool itself: ``/grok/code-execution``, ``/grok/web-search``, ``/grok/x-search``.

The search filters (domains, X handles, dates) and :func:`search_filters_body`, the one place that
decides where they go in the JSON body, live here too.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self

from pydantic import field_validator, model_validator

from grok_mpp.gateway.catalog import (
    DEFAULT_CODE_EXECUTION_MODEL,
    DEFAULT_SEARCH_MODEL,
    LOCUS_GROK4_MODELS,
    grok4_family_models,
)
from grok_mpp.gateway.requests.base import _fail
from grok_mpp.gateway.requests.chat import _ChatLike
from grok_mpp.gateway.requests.messages import FunctionTool, ToolChoice, _check_tool_choice

MAX_SEARCH_DOMAINS = 5
#: docs.x.ai x_search: at most 20 handles (10 only in the Vercel AI SDK) [locus-2026-12.md X9].
MAX_X_HANDLES = 20

_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
_HANDLE_RE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class _ServerToolRequest(_ChatLike):
    """Chat routes where xAI runs a tool itself; Locus requires a Grok-4-family model there."""

    model: str = DEFAULT_SEARCH_MODEL

    @model_validator(mode="after")
    def _grok4_family(self) -> Self:
        info = self.info
        if not info.grok4_family:
            others = [m for m in grok4_family_models() if m not in LOCUS_GROK4_MODELS]
            raise _fail(
                f"{self.endpoint} requires a Grok-4-family model and {self.model!r} is not one; use"
                f" {', '.join(LOCUS_GROK4_MODELS)} (listed by Locus; default {type(self).model_fields['model'].default})"
                f" or the newer {', '.join(others)}",
                field="model",
            )
        return self


class CodeExecutionRequest(_ServerToolRequest):
    """``POST /grok/code-execution``: Locus enables the server-side code tool; extra function tools allowed."""

    if TYPE_CHECKING:  # accept dicts for nested models (pydantic converts them) in typed callers

        def __init__(self, **data: Any) -> None: ...

    endpoint: ClassVar[str] = "/grok/code-execution"

    model: str = DEFAULT_CODE_EXECUTION_MODEL
    tools: list[FunctionTool] | None = None
    tool_choice: ToolChoice | None = None

    @model_validator(mode="after")
    def _tools(self) -> Self:
        _check_tool_choice(self.tools, self.tool_choice)
        return self

    def _payload(self) -> dict[str, Any]:
        body = self._base_payload()
        if self.tools:
            body["tools"] = [t.model_dump(mode="json", exclude_none=True) for t in self.tools]
            if self.tool_choice is not None:
                body["tool_choice"] = (
                    self.tool_choice
                    if isinstance(self.tool_choice, str)
                    else self.tool_choice.model_dump(mode="json", exclude_none=True)
                )
        return body


# --- search filters: THE one place that decides where filters go in the body ----------------------

#: Locus documents "search_parameters" for /grok/web-search (≤5 allowed or ≤5 excluded domains) but
#: not the inner key names, and nothing for /grok/x-search. We use xAI's Agent-Tools names
#: (allowed_domains / excluded_domains / allowed_x_handles / excluded_x_handles / from_date / to_date)
#: inside "search_parameters" (grok-api.md §1.4, §2.5, §5.1). Unverified against Locus: change it here.
SEARCH_FILTER_KEY = "search_parameters"


def search_filters_body(filters: dict[str, Any]) -> dict[str, Any]:
    """Map validated filter fields to the top-level body fragment (empty when no filter is set)."""
    params: dict[str, Any] = {}
    for key, value in filters.items():
        if value is None or value == []:
            continue
        params[key] = value.isoformat() if isinstance(value, date) else value
    return {SEARCH_FILTER_KEY: params} if params else {}


def _normalize_domains(field: str, values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    out: list[str] = []
    for raw in values:
        d = raw.strip().lower().rstrip(".")
        if not _DOMAIN_RE.match(d):
            raise _fail(f"{raw!r} is not a bare domain; pass e.g. 'example.com' (no scheme or path)")
        if d not in out:
            out.append(d)
    if len(out) > MAX_SEARCH_DOMAINS:
        raise _fail(f"{field} has {len(out)} domains; at most {MAX_SEARCH_DOMAINS} are allowed")
    return out


def _normalize_handles(field: str, values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    out: list[str] = []
    for raw in values:
        h = raw.strip().removeprefix("@")
        if not _HANDLE_RE.match(h):
            raise _fail(f"{raw!r} is not an X handle (1-15 letters, digits or '_', optional '@')")
        if h.lower() not in (o.lower() for o in out):
            out.append(h)
    if len(out) > MAX_X_HANDLES:
        raise _fail(f"{field} has {len(out)} handles; at most {MAX_X_HANDLES} are allowed")
    return out


class WebSearchRequest(_ServerToolRequest):
    """``POST /grok/web-search``: chat grounded in web search, optional domain filter."""

    if TYPE_CHECKING:  # accept dicts for nested models (pydantic converts them) in typed callers

        def __init__(self, **data: Any) -> None: ...

    endpoint: ClassVar[str] = "/grok/web-search"

    allowed_domains: list[str] | None = None
    excluded_domains: list[str] | None = None

    @field_validator("allowed_domains", "excluded_domains")
    @classmethod
    def _domains(cls, v: list[str] | None, info: Any) -> list[str] | None:
        return _normalize_domains(info.field_name, v)

    @model_validator(mode="after")
    def _xor(self) -> Self:
        if self.allowed_domains and self.excluded_domains:
            raise _fail(
                "allowed_domains and excluded_domains are mutually exclusive; set only one", field="allowed_domains"
            )
        return self

    def _payload(self) -> dict[str, Any]:
        body = self._base_payload()
        body.update(
            search_filters_body({"allowed_domains": self.allowed_domains, "excluded_domains": self.excluded_domains})
        )
        return body


class XSearchRequest(_ServerToolRequest):
    """``POST /grok/x-search``: chat grounded in X posts, optional handle and date filters."""

    if TYPE_CHECKING:  # accept dicts for nested models (pydantic converts them) in typed callers

        def __init__(self, **data: Any) -> None: ...

    endpoint: ClassVar[str] = "/grok/x-search"

    allowed_x_handles: list[str] | None = None
    excluded_x_handles: list[str] | None = None
    from_date: date | None = None
    to_date: date | None = None

    @field_validator("allowed_x_handles", "excluded_x_handles")
    @classmethod
    def _handles(cls, v: list[str] | None, info: Any) -> list[str] | None:
        return _normalize_handles(info.field_name, v)

    @field_validator("from_date", "to_date", mode="before")
    @classmethod
    def _date(cls, v: Any, info: Any) -> Any:
        if v is None or (isinstance(v, date) and not isinstance(v, datetime)):
            return v
        if isinstance(v, datetime):
            return v.date()
        if isinstance(v, str) and _DATE_RE.match(v.strip()):
            try:
                return date.fromisoformat(v.strip())
            except ValueError:
                pass
        raise _fail(f"{info.field_name} must be a date as YYYY-MM-DD, got {v!r}")

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if self.allowed_x_handles and self.excluded_x_handles:
            raise _fail(
                "allowed_x_handles and excluded_x_handles are mutually exclusive; set only one",
                field="allowed_x_handles",
            )
        if self.from_date and self.to_date and self.from_date > self.to_date:
            raise _fail(f"from_date {self.from_date} is after to_date {self.to_date}; swap them", field="from_date")
        return self

    def _payload(self) -> dict[str, Any]:
        body = self._base_payload()
        body.update(
            search_filters_body(
                {
                    "allowed_x_handles": self.allowed_x_handles,
                    "excluded_x_handles": self.excluded_x_handles,
                    "from_date": self.from_date,
                    "to_date": self.to_date,
                }
            )
        )
        return body
