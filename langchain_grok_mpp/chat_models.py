"""LangChain chat models over the paid Grok routes: ``ChatGrokMPP`` and ``ChatGrokMPPCodeExecution``.

Both are thin: messages and options become one validated gateway request
(:func:`grok_mpp.bridge.chat.chat_request`, which refuses bad input before anything is paid), the
core client pays and sends it, and the normalized result becomes an ``AIMessage``
(:mod:`langchain_grok_mpp._convert`).

Streaming: Locus answers in one piece, so ``stream()`` pays once and replays the finished answer
as chunks (reasoning, server tools, text pieces, then one final chunk that alone carries usage,
tool calls and the response metadata). Time to first token is therefore the full call latency.

Retries: ``max_retries`` applies only to errors raised before any payment (connection failures,
timeouts, 429, 5xx before paying); a call that may have been paid is never retried.
"""

from __future__ import annotations

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
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import ConfigDict, Field

from grok_mpp.bridge.chat import SERVER_TOOL_ROUTES, chat_request, split_tools
from grok_mpp.bridge.tools import JSON_MODE, json_schema_response_format, normalize_tool_choice
from grok_mpp.errors import GrokMPPError, InvalidRequestError
from grok_mpp.gateway.catalog import DEFAULT_CHAT_MODEL, DEFAULT_CODE_EXECUTION_MODEL, get_model_info
from grok_mpp.gateway.requests import ChatRequest, CodeExecutionRequest, GrokRequest
from grok_mpp.gateway.results import ChatResult as GrokChatResult
from langchain_grok_mpp._convert import to_chunks, to_message
from langchain_grok_mpp._settings import GrokMPPSettings
from langchain_grok_mpp.errors import to_langchain_error

StructuredMethod = Literal["function_calling", "json_schema", "json_mode"]

#: Call-time keywords LangChain itself may pass down that carry no request meaning.
_IGNORED_KWARGS = frozenset({"stream", "ls_structured_output_format"})


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
    max_tokens: int | None = None
    stop: list[str] | None = Field(default=None, alias="stop_sequences")
    streaming: bool = False
    """Stream by default (the answer is still paid and produced in one piece; see module docstring)."""
    reasoning_effort: str | None = None
    extra_body: dict[str, Any] | None = None
    """Extra top-level JSON fields for new xAI parameters this package does not model yet."""

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
            max_input_tokens=info.context_window,
            max_output_tokens=info.max_output_tokens,
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
        if info.reasoning_effort_levels:
            profile["reasoning_effort_levels"] = list(info.reasoning_effort_levels)
        if info.default_reasoning_effort:
            profile["reasoning_effort_default"] = info.default_reasoning_effort
        return profile

    # -- request / response ------------------------------------------------------------------------
    def _build_request(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> GrokRequest:
        options = {k: v for k, v in kwargs.items() if k not in _IGNORED_KWARGS}
        unknown = set(options) - {
            "model", "temperature", "max_tokens", "tools", "tool_choice", "response_format",
            "parallel_tool_calls", "reasoning_effort", "extra_body",
        }  # fmt: skip
        if unknown:
            raise InvalidRequestError(
                f"unsupported call options {sorted(unknown)}; put new xAI parameters in extra_body",
                hint="nothing was sent or paid",
            )
        extra = {**(self.extra_body or {}), **(options.get("extra_body") or {})}
        return chat_request(
            self.endpoint,
            model=options.get("model") or self.model_name,
            messages=convert_to_openai_messages(messages),  # type: ignore[arg-type]
            temperature=options.get("temperature", self.temperature),
            max_tokens=options.get("max_tokens", self.max_tokens),
            stop=stop if stop is not None else self.stop,
            tools=options.get("tools"),
            tool_choice=options.get("tool_choice"),
            response_format=options.get("response_format"),
            parallel_tool_calls=options.get("parallel_tool_calls"),
            reasoning_effort=options.get("reasoning_effort", self.reasoning_effort),
            extra_body=extra or None,
        )

    def _call(self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]) -> GrokChatResult:
        return self._paid_call(lambda: self._build_request(messages, stop, kwargs))  # type: ignore[no-any-return]

    async def _acall(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> GrokChatResult:
        return await self._apaid_call(lambda: self._build_request(messages, stop, kwargs))  # type: ignore[no-any-return]

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = to_message(self._call(messages, stop, kwargs))
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = to_message(await self._acall(messages, stop, kwargs))
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        # LangChain core reports each yielded chunk to on_llm_new_token itself.
        yield from to_chunks(self._call(messages, stop, kwargs))

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in to_chunks(await self._acall(messages, stop, kwargs)):
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
