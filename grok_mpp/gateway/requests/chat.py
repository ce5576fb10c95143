"""``/grok/chat`` and the fields every chat-like route shares (model, messages, sampling)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Self

from pydantic import Field, field_validator, model_validator

from grok_mpp.gateway.catalog import DEFAULT_CHAT_MODEL, ModelInfo, get_model_info, unusable_reason
from grok_mpp.gateway.requests.base import GrokRequest, _fail
from grok_mpp.gateway.requests.messages import (
    FunctionTool,
    Message,
    ResponseFormat,
    ToolChoice,
    _check_tool_choice,
)

#: xAI's documented bounds for ``n`` (completions per call) and ``top_logprobs``.
MAX_CHOICES = 128
MAX_TOP_LOGPROBS = 8

_PENALTY_NOTE = "{name}={value} dropped: current xAI models reject it (HTTP 400 'does not support parameter')"


class _ChatLike(GrokRequest):
    """Fields shared by /grok/chat and the server-tool chat routes."""

    model: str = DEFAULT_CHAT_MODEL
    messages: list[Message] = Field(min_length=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1)
    # Accepted so framework code can pass them through, but never sent (see module docstring).
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    #: Not sent: opts in to a model slug the catalog does not know (or lists as withdrawn).
    allow_unknown_models: bool = False

    @property
    def info(self) -> ModelInfo:
        return get_model_info(self.model)

    @field_validator("model")
    @classmethod
    def _model_name(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise _fail("model must be a non-empty model slug such as 'grok-3-mini'")
        info = get_model_info(v)
        if info.kind != "chat":
            raise _fail(f"{v!r} is an {info.kind} model; chat routes need a chat model such as {DEFAULT_CHAT_MODEL!r}")
        return v

    @model_validator(mode="after")
    def _usable_model(self) -> Self:
        reason = unusable_reason(self.info)
        if reason is not None and not self.allow_unknown_models:
            raise _fail(reason, field="model")
        return self

    @model_validator(mode="after")
    def _max_tokens_fits(self) -> Self:
        info = self.info
        if self.max_tokens is not None and info.known and self.max_tokens > info.context_window:
            raise _fail(
                f"max_tokens {self.max_tokens} exceeds the {info.context_window}-token context window of"
                f" {self.model}; lower max_tokens",
                field="max_tokens",
            )
        return self

    def _base_payload(self) -> dict[str, Any]:
        info = self.info
        if not info.image_input and any(m.has_image for m in self.messages):
            self._notice(
                f"{self.model} is text-only in its original form; it is now served as {info.served_as},"
                " which accepts images, so the request is sent anyway"
            )
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [m.model_dump(mode="json", exclude_none=True, by_alias=True) for m in self.messages],
        }
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        for name in ("presence_penalty", "frequency_penalty"):
            value = getattr(self, name)
            if value is not None:
                self._drop(_PENALTY_NOTE.format(name=name, value=value))
        return body


class ChatRequest(_ChatLike):
    """``POST /grok/chat``: chat completions with vision and function calling."""

    if TYPE_CHECKING:  # accept dicts for nested models (pydantic converts them) in typed callers

        def __init__(self, **data: Any) -> None: ...

    endpoint: ClassVar[str] = "/grok/chat"

    top_p: float | None = Field(default=None, ge=0, le=1)
    n: int | None = Field(default=None, ge=1, le=MAX_CHOICES)
    seed: int | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=MAX_TOP_LOGPROBS)
    stop: str | list[str] | None = None
    tools: list[FunctionTool] | None = None
    tool_choice: ToolChoice | None = None
    response_format: ResponseFormat | None = None
    reasoning_effort: str | None = None
    parallel_tool_calls: bool | None = None

    @field_validator("stop")
    @classmethod
    def _stop(cls, v: str | list[str] | None) -> str | list[str] | None:
        if v is None:
            return v
        items = [v] if isinstance(v, str) else v
        if not items or any(not s for s in items):
            raise _fail("stop sequences must be non-empty strings")
        return v

    @model_validator(mode="after")
    def _chat_rules(self) -> Self:
        info = self.info
        if self.reasoning_effort is not None:
            levels = info.reasoning_effort_levels
            if not levels:
                hint = " (pick the -reasoning / -non-reasoning variant instead)" if "reasoning" in self.model else ""
                raise _fail(
                    f"reasoning_effort is not supported by {self.model}{hint}; remove it, or use a model"
                    " that accepts it: grok-3-mini (low|high), grok-4.3 (none|low|medium|high),"
                    " grok-4.5 (low|medium|high)",
                    field="reasoning_effort",
                )
            if self.reasoning_effort not in levels:
                raise _fail(
                    f"reasoning_effort {self.reasoning_effort!r} is not allowed for {self.model};"
                    f" use one of {'|'.join(levels)}",
                    field="reasoning_effort",
                )
        _check_tool_choice(self.tools, self.tool_choice)
        if self.top_logprobs is not None and not self.logprobs:
            raise _fail("top_logprobs needs logprobs=True; set both or neither", field="top_logprobs")
        return self

    def _payload(self) -> dict[str, Any]:
        info = self.info
        body = self._base_payload()
        if self.top_p is not None:
            body["top_p"] = self.top_p
        if self.n is not None and self.n != 1:
            body["n"] = self.n
        if self.seed is not None:
            body["seed"] = self.seed
        if self.logprobs is not None:
            body["logprobs"] = self.logprobs
        if self.top_logprobs is not None:
            body["top_logprobs"] = self.top_logprobs
        if self.stop is not None:
            if info.rejects_stop:
                self._drop(
                    f"stop dropped: {self.model} (served as {info.served_as}) is a reasoning model and"
                    " rejects stop sequences"
                )
            elif isinstance(self.stop, str) or len(self.stop) == 1:
                # Locus's schema types stop as a string; send a string whenever there is one.
                body["stop"] = self.stop if isinstance(self.stop, str) else self.stop[0]
            else:
                body["stop"] = list(self.stop)
        if self.tools:
            body["tools"] = [t.model_dump(mode="json", exclude_none=True, by_alias=True) for t in self.tools]
            if self.tool_choice is not None:
                body["tool_choice"] = (
                    self.tool_choice
                    if isinstance(self.tool_choice, str)
                    else self.tool_choice.model_dump(mode="json", exclude_none=True)
                )
            if self.parallel_tool_calls is not None:
                body["parallel_tool_calls"] = self.parallel_tool_calls
        elif self.parallel_tool_calls is not None:
            self._drop("parallel_tool_calls dropped: it only applies when tools are given")
        if self.response_format is not None:
            body["response_format"] = self.response_format.model_dump(mode="json", exclude_none=True, by_alias=True)
        if self.reasoning_effort is not None:
            body["reasoning_effort"] = self.reasoning_effort
        return body
