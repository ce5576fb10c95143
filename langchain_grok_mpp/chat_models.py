"""LangChain chat models over the paid Grok routes: ``ChatGrokMPP`` and ``ChatGrokMPPCodeExecution``.

Both are thin: messages and options become one validated gateway request
(:func:`grok_mpp.bridge.chat.chat_request`, which refuses bad input before anything is paid), the
core client pays and sends it, and the normalized result becomes an ``AIMessage``
(:mod:`langchain_grok_mpp._convert`).

Streaming: Locus answers in one piece, so ``stream()`` pays once and replays the finished answer
as chunks (reasoning, server tools, text pieces, then one final chunk that alone carries usage,
tool calls and the response metadata; the ``mpp`` payment block rides the first chunk, so a stream
stopped early still reports its payment). Time to first token is therefore the full call latency.

Retries: ``max_retries`` applies only to errors raised before any payment (connection failures,
timeouts, 429, 5xx before paying); a call that may have been paid is never retried.

Arguments (the full list against ``ChatXAI`` is docs/PARITY.md): every constructor argument and
call option is sent and its effect surfaced (``n`` -> several generations, ``logprobs`` ->
``response_metadata["logprobs"]``), or refused with a typed error before anything is paid.
Unknown constructor keywords move into ``model_kwargs`` with a warning, as ``ChatOpenAI`` does;
``model_kwargs`` entries that name a known option are validated as that option, the rest are sent
as extra JSON fields. Parameters the gateway or model is known to reject (``stop`` on reasoning
models, the penalties) are removed with a :class:`~grok_mpp.bridge.chat.DroppedParameterWarning`
and listed in ``response_metadata["dropped_params"]``.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any, ClassVar, Literal

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.base import LangSmithParams
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.model_profile import ModelProfile
from langchain_core.messages import AIMessage, BaseMessage, convert_to_openai_messages
from langchain_core.output_parsers import (
    JsonOutputKeyToolsParser,
    JsonOutputParser,
    PydanticOutputParser,
    PydanticToolsParser,
)
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import AliasChoices, ConfigDict, Field

from grok_mpp.bridge.chat import (
    CHAT_OPTIONS,
    OPTION_ALIASES,
    SERVER_TOOL_ROUTES,
    chat_request,
    split_options,
    split_tools,
)
from grok_mpp.bridge.metadata import cached_payment_metadata
from grok_mpp.bridge.tools import JSON_MODE, json_schema_response_format, normalize_tool_choice
from grok_mpp.errors import ConfigurationError, GrokMPPError, InvalidRequestError
from grok_mpp.gateway.catalog import DEFAULT_CHAT_MODEL, DEFAULT_CODE_EXECUTION_MODEL, get_model_info
from grok_mpp.gateway.requests import ChatRequest, CodeExecutionRequest, GrokRequest
from langchain_grok_mpp._convert import to_chat_result, to_chunks
from langchain_grok_mpp._settings import GrokMPPSettings
from langchain_grok_mpp.errors import to_langchain_error

StructuredMethod = Literal["function_calling", "json_schema", "json_mode"]

#: Call-time keywords LangChain itself may pass down that carry no request meaning.
_IGNORED_KWARGS = frozenset({"stream", "ls_structured_output_format"})

#: ChatXAI / ChatOpenAI constructor arguments this class refuses, with the reason (docs/PARITY.md).
REFUSED_ARGUMENTS: dict[str, str] = {
    "xai_api_key": "there is no xAI API key: calls are paid from a wallet; pass private_key=... (alias api_key)",
    "openai_api_key": "there is no API key: calls are paid from a wallet; pass private_key=... (alias api_key)",
    "xai_api_base": "use base_url= (the MPP gateway URL)",
    "openai_api_base": "use base_url= (the MPP gateway URL)",
    "openai_organization": "the gateway has no organizations",
    "organization": "the gateway has no organizations",
    "openai_proxy": "set HTTPS_PROXY in the environment (httpx honours it)",
    "client": "the OpenAI SDK client is not used: payment needs the grok-mpp client",
    "async_client": "the OpenAI SDK client is not used: payment needs the grok-mpp client",
    "root_client": "the OpenAI SDK client is not used: payment needs the grok-mpp client",
    "root_async_client": "the OpenAI SDK client is not used: payment needs the grok-mpp client",
    "http_client": "the paying httpx client is built by grok-mpp (it carries the MPP auth flow)",
    "http_async_client": "the paying httpx client is built by grok-mpp (it carries the MPP auth flow)",
    "http_socket_options": "the paying httpx client is built by grok-mpp",
    "default_query": "the gateway takes no query parameters",
    "logit_bias": "not in the gateway's chat schema and rejected by current xAI models",
    "reasoning": "Responses-API option; use reasoning_effort=",
    "verbosity": "OpenAI-only option",
    "tiktoken_model_name": "token counts use Grok's own estimate, not tiktoken",
    "stream_chunk_timeout": "the gateway answers in one piece; timeout= bounds the whole call",
    "include_response_headers": "response headers are not exposed; payment data is in response_metadata['mpp']",
    "disabled_params": "parameters are validated per model by the catalog instead",
    "context_management": "Responses-API option; not available through the gateway",
    "include": "Responses-API option; not available through the gateway",
    "prompt_cache_options": "OpenAI-only option",
    "service_tier": "the gateway sells one tier (its price is set by the 402 challenge)",
    "store": "Responses-API option; not available through the gateway",
    "truncation": "Responses-API option; not available through the gateway",
    "use_previous_response_id": "Responses-API option; not available through the gateway",
    "use_responses_api": "the gateway speaks Chat Completions only",
    "search_parameters": "Live Search is gone; use GrokWebSearchRetriever or bind_tools([{'type': 'web_search'}])",
}


def _refuse_or_collect(cls: type[Any], data: dict[str, Any]) -> dict[str, Any]:
    """Refuse known-inapplicable arguments; move unknown ones into model_kwargs with a warning."""
    refused = sorted(k for k in data if k in REFUSED_ARGUMENTS and data[k] is not None)
    if refused:
        reasons = "; ".join(f"{k}: {REFUSED_ARGUMENTS[k]}" for k in refused)
        raise to_langchain_error(
            ConfigurationError(
                f"{cls.__name__} does not take {', '.join(refused)} ({reasons})",
                hint="remove them; see docs/PARITY.md; nothing was sent or paid",
            )
        )
    names = set(cls.model_fields) | {f.alias for f in cls.model_fields.values() if f.alias}
    for info in cls.model_fields.values():
        if isinstance(info.validation_alias, AliasChoices):
            names.update(c for c in info.validation_alias.choices if isinstance(c, str))
    extra = dict(data.get("model_kwargs") or {})
    for key in [k for k in data if k not in names and k not in REFUSED_ARGUMENTS]:
        warnings.warn(
            f"{key} is not a default parameter of {cls.__name__}; it was transferred to model_kwargs"
            " and will be sent as a JSON field. Please confirm that this is what you intended.",
            stacklevel=4,
        )
        extra[key] = data.pop(key)
    if extra or "model_kwargs" in data:
        data["model_kwargs"] = extra
    return data


def _format_tool(tool: Any, strict: bool | None) -> dict[str, Any]:
    """Server-side tool dicts pass through; everything else becomes an OpenAI function tool."""
    if isinstance(tool, Mapping) and tool.get("type") in SERVER_TOOL_ROUTES:
        return dict(tool)
    return convert_to_openai_tool(tool, strict=strict)


class _BaseChatGrokMPP(GrokMPPSettings, BaseChatModel):
    """Shared implementation; subclasses fix the Locus route (``endpoint``)."""

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    endpoint: ClassVar[str]

    model_name: str = Field(default=DEFAULT_CHAT_MODEL, alias="model")
    """Model slug sent to the gateway (alias ``model``); ``invoke(..., model=...)`` overrides it per call."""
    temperature: float | None = None
    max_tokens: int | None = Field(default=None, validation_alias=AliasChoices("max_tokens", "max_completion_tokens"))
    """Max output tokens (alias ``max_completion_tokens``)."""
    top_p: float | None = None
    n: int | None = None
    """Completions per call: ``n`` generations in the ``ChatResult`` (``generate``); ``invoke`` returns the first."""
    seed: int | None = None
    logprobs: bool | None = None
    """Return token log probabilities in ``response_metadata["logprobs"]``."""
    top_logprobs: int | None = None
    presence_penalty: float | None = None
    """Removed with a warning: current xAI models reject it (listed in ``response_metadata["dropped_params"]``)."""
    frequency_penalty: float | None = None
    """Removed with a warning: current xAI models reject it (listed in ``response_metadata["dropped_params"]``)."""
    stop: list[str] | None = Field(default=None, alias="stop_sequences")
    streaming: bool = False
    """Stream by default (the answer is still paid and produced in one piece; see module docstring)."""
    stream_usage: bool | None = None
    """Attach usage to the last streamed chunk (default yes; ``False``: chunks carry no usage)."""
    reasoning_effort: str | None = None
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra request parameters: known option names are validated as such, others sent as JSON fields."""
    extra_body: dict[str, Any] | None = None
    """Extra top-level JSON fields for new xAI parameters this package does not model yet."""
    allow_unknown_models: bool = False
    """Send a model slug the catalog does not know (refused before paying otherwise)."""

    def __init__(self, **data: Any) -> None:
        super().__init__(**_refuse_or_collect(type(self), data))
        if self.n is not None and self.n > 1 and self.streaming:
            raise to_langchain_error(
                InvalidRequestError("n > 1 cannot be combined with streaming=True", hint="set one of them")
            )
        try:  # the framework validates at construction: the same checks the first call would make
            self._build_request([], None, {}, warn=False)
        except GrokMPPError as exc:
            raise to_langchain_error(exc) from exc

    @property
    def model(self) -> str:
        """The model slug (``ChatOpenAI``/``ChatXAI`` spelling of ``model_name``)."""
        return self.model_name

    # -- LangChain plumbing ------------------------------------------------------------------------
    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["langchain_grok_mpp", "chat_models"]

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "endpoint": self.endpoint,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "stop": self.stop,
            "reasoning_effort": self.reasoning_effort,
            "top_p": self.top_p,
            "n": self.n,
            "seed": self.seed,
            "logprobs": self.logprobs,
            "top_logprobs": self.top_logprobs,
            "model_kwargs": self.model_kwargs,
            "base_url": self.base_url,
            "max_price_usd": self.max_price_usd,
            "budget_usd": self.budget_usd,
        }

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider="xai",
            ls_model_name=str(kwargs.get("model") or self.model_name),
            ls_model_type="chat",
        )
        temperature = kwargs.get("temperature", self.temperature)
        if isinstance(temperature, int | float):
            params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        if isinstance(max_tokens, int):
            params["ls_max_tokens"] = max_tokens
        stops = stop or self.stop
        if stops:
            params["ls_stop"] = list(stops)
        return params

    def _resolve_model_profile(self) -> ModelProfile | None:
        info = get_model_info(self.model_name)
        if info.kind != "chat":
            return None
        profile = ModelProfile(
            text_inputs=True,
            image_inputs=info.image_input,
            image_url_inputs=info.image_input,
            pdf_inputs=False,
            audio_inputs=False,
            video_inputs=False,
            reasoning_output=info.reasoning,
            text_outputs=True,
            tool_calling=True,
            tool_choice=True,
            tool_call_streaming=False,
            structured_output=self.endpoint == ChatRequest.endpoint,
            temperature=True,
        )
        if info.known:  # an unknown (opted-in) slug gets no invented window
            profile["max_input_tokens"] = info.context_window
            profile["max_output_tokens"] = info.max_output_tokens
        if info.reasoning_effort_levels:
            profile["reasoning_effort_levels"] = list(info.reasoning_effort_levels)
        if info.default_reasoning_effort:
            profile["reasoning_effort_default"] = info.default_reasoning_effort
        return profile

    # -- request / response ------------------------------------------------------------------------
    def _options(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Constructor fields < model_kwargs < call-time kwargs, as one set of chat_request options."""
        call = {OPTION_ALIASES.get(k, k): v for k, v in kwargs.items() if k not in _IGNORED_KWARGS}
        unknown = set(call) - set(CHAT_OPTIONS) - {"stop"}
        if unknown:
            raise InvalidRequestError(
                f"unsupported call options {sorted(unknown)}; put new xAI parameters in extra_body",
                hint="nothing was sent or paid",
            )
        known, extra = split_options(self.model_kwargs)
        fields = {
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "top_p": self.top_p,
            "n": self.n,
            "seed": self.seed,
            "logprobs": self.logprobs,
            "top_logprobs": self.top_logprobs,
            "presence_penalty": self.presence_penalty,
            "frequency_penalty": self.frequency_penalty,
            "reasoning_effort": self.reasoning_effort,
            "allow_unknown_models": self.allow_unknown_models,
        }
        options = {**fields, **{k: v for k, v in known.items() if k != "model"}}
        options.update({k: v for k, v in call.items() if k not in ("extra_body", "stop")})
        options["model"] = call.get("model") or known.get("model") or self.model_name
        options["extra_body"] = {**extra, **(self.extra_body or {}), **(call.get("extra_body") or {})} or None
        return options

    def _build_request(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any], *, warn: bool = True
    ) -> GrokRequest:
        options = self._options(kwargs)
        if stop is None:
            stop = kwargs.get("stop") if kwargs.get("stop") is not None else self.stop
        converted = convert_to_openai_messages(messages) if messages else [{"role": "user", "content": "."}]
        return chat_request(
            self.endpoint,
            messages=converted,  # type: ignore[arg-type]
            stop=stop,
            warn=warn,
            **options,
        )

    def _request_for(self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]) -> GrokRequest:
        try:
            return self._build_request(messages, stop, kwargs)
        except GrokMPPError as exc:
            raise to_langchain_error(exc) from exc

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request = self._request_for(messages, stop, kwargs)
        return to_chat_result(self._paid_call(lambda: request), request)

    def _convert_cached_generations(self, cache_val: list[Any]) -> list[Any]:
        """Cache hits (sync and async) pay nothing: their ``mpp`` block must not claim the original payment."""
        generations = super()._convert_cached_generations(cache_val)
        for gen in generations:
            message = getattr(gen, "message", None)
            block = message.response_metadata.get("mpp") if isinstance(message, AIMessage) else None
            if isinstance(block, dict) and not block.get("cached"):
                meta = {**message.response_metadata, "mpp": cached_payment_metadata(block)}  # type: ignore[union-attr]
                gen.message = message.model_copy(update={"response_metadata": meta})  # type: ignore[union-attr]
        return generations

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request = self._request_for(messages, stop, kwargs)
        return to_chat_result(await self._apaid_call(lambda: request), request)

    def _stream_request(self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]) -> GrokRequest:
        request = self._request_for(messages, stop, kwargs)
        if (getattr(request, "n", None) or 1) > 1:
            raise to_langchain_error(
                InvalidRequestError(
                    "n > 1 cannot be streamed (a stream has one message); call invoke/generate instead",
                    hint="nothing was sent or paid",
                )
            )
        return request

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        # LangChain core reports each yielded chunk to on_llm_new_token itself.
        request = self._stream_request(messages, stop, kwargs)
        yield from to_chunks(self._paid_call(lambda: request), request, usage=self.stream_usage is not False)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        request = self._stream_request(messages, stop, kwargs)
        for chunk in to_chunks(await self._apaid_call(lambda: request), request, usage=self.stream_usage is not False):
            yield chunk

    # -- tools and structured output ---------------------------------------------------------------
    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | bool | dict[str, Any] | None = None,
        strict: bool | None = None,
        parallel_tool_calls: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind function tools (any LangChain tool form) and/or server tools.

        ``tool_choice``: ``"auto"``, ``"none"``, ``"any"``/``"required"``/``True`` (must call a tool),
        a tool name, or an OpenAI-style dict. Server tools are dicts ``{"type": "web_search" |
        "x_search" | "code_execution", ...filters}``; they route the call to that Locus route.
        """
        formatted = [_format_tool(t, strict) for t in tools]
        choice = None if tool_choice is False else tool_choice
        try:
            functions, _server = split_tools(formatted)
            normalize_tool_choice(choice, functions)  # fail at bind time on an unknown name
        except GrokMPPError as exc:
            raise to_langchain_error(exc) from exc
        if choice is not None:
            kwargs["tool_choice"] = choice
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        return super().bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: StructuredMethod = "function_calling",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | Any]:
        """Structured output by forced tool call (default), JSON schema ``response_format`` or JSON mode."""
        if kwargs:
            raise ValueError(f"unsupported arguments {sorted(kwargs)}")
        is_pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)
        json_schema = convert_to_json_schema(schema) if schema is not None else None
        trace: dict[str, Any] = {"kwargs": {"method": method, "strict": strict}, "schema": json_schema}
        parser: Runnable[Any, Any]
        if method == "function_calling":
            if schema is None:
                raise ValueError("schema is required for method='function_calling'")
            tool_name = convert_to_openai_tool(schema)["function"]["name"]
            llm = self.bind_tools([schema], tool_choice=tool_name, strict=strict, ls_structured_output_format=trace)
            parser = (
                PydanticToolsParser(tools=[schema], first_tool_only=True)  # type: ignore[list-item]
                if is_pydantic
                else JsonOutputKeyToolsParser(key_name=tool_name, first_tool_only=True)
            )
        elif method in ("json_schema", "json_mode"):
            if method == "json_schema":
                if json_schema is None:
                    raise ValueError("schema is required for method='json_schema'")
                response_format = json_schema_response_format(json_schema, strict=strict)
            else:
                response_format = dict(JSON_MODE)
            llm = self.bind(response_format=response_format, ls_structured_output_format=trace)
            parser = PydanticOutputParser(pydantic_object=schema) if is_pydantic else JsonOutputParser()  # type: ignore[arg-type]
        else:
            raise ValueError(f"method must be function_calling, json_schema or json_mode, got {method!r}")
        if not include_raw:
            return llm | parser
        parsed = RunnablePassthrough.assign(parsed=itemgetter("raw") | parser, parsing_error=lambda _: None)
        fallback = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | parsed.with_fallbacks([fallback], exception_key="parsing_error")


class ChatGrokMPP(_BaseChatGrokMPP):
    """Grok chat over ``POST /grok/chat``, paid per call over MPP (HTTP 402, Tempo stablecoins).

    Example::

        from langchain_grok_mpp import ChatGrokMPP
        llm = ChatGrokMPP(model="grok-3-mini", max_tokens=64, max_price_usd="0.05")  # key: GROK_MPP_PRIVATE_KEY
        msg = llm.invoke("Capital of France?")
        print(msg.content, msg.response_metadata["mpp"]["paid_usd"])  # what this call cost; receipt alongside
    """

    endpoint: ClassVar[str] = ChatRequest.endpoint

    @property
    def _llm_type(self) -> str:
        return "grok-mpp-chat"


class ChatGrokMPPCodeExecution(_BaseChatGrokMPP):
    """Grok with xAI's server-side Python sandbox, over ``POST /grok/code-execution``.

    The code xAI ran and its output appear as ``server_tool_call``/``server_tool_result`` content
    blocks and in ``additional_kwargs["code_execution"]``. Function tools can be bound as well.
    Structured output works by function calling only (the route takes no ``response_format``);
    ``stop`` is not sent (the route does not take it).

    Example::

        from langchain_grok_mpp import ChatGrokMPPCodeExecution
        llm = ChatGrokMPPCodeExecution(max_tokens=1024)   # a Grok-4-family reasoning model by default
        msg = llm.invoke("Use Python to compute 17 * 23.")
        for run in msg.additional_kwargs["code_execution"]:
            print(run["code"], run["outputs"])
    """

    endpoint: ClassVar[str] = CodeExecutionRequest.endpoint

    model_name: str = Field(default=DEFAULT_CODE_EXECUTION_MODEL, alias="model")

    @property
    def _llm_type(self) -> str:
        return "grok-mpp-code-execution"
