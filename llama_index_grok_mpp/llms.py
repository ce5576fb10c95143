"""``GrokMPP`` and ``GrokMPPCodeExecution``: Grok as LlamaIndex ``FunctionCallingLLM`` s, paid per call.

Both are thin: the request is built and validated by the core (:func:`grok_mpp.bridge.chat.chat_request`,
which raises before anything is paid), paid for by the gateway client, and the normalized
:class:`~grok_mpp.gateway.results.ChatResult` is re-shaped into LlamaIndex types. They differ only
in the Locus route (``/grok/chat`` vs ``/grok/code-execution``) and the default model.

The gateway answers in one piece, so the ``stream_*`` methods yield a single chunk carrying the
whole answer as ``delta`` plus the usage (it is also the last chunk, where LlamaIndex looks for
usage). The payment happens when the stream is requested, so a refusal surfaces at the call site.

The wallet key is consumed by the constructor into a private :class:`~grok_mpp.wallet.Wallet`; it
is never a field, so ``to_dict()``/``to_json()``, callbacks and traces cannot carry it. Pickling
carries the payer's address, not the key: the unpickled LLM pays only if its process resolves the
same wallet (``GROK_MPP_PRIVATE_KEY`` / ``GROK_MPP_KEYSTORE``) and refuses otherwise.

Arguments follow ``OpenAI``/``OpenAILike`` (the full list is docs/PARITY.md): ``api_key`` is the
payer key, ``api_base`` is mapped to ``base_url``; unknown constructor keywords go into
``additional_kwargs`` with a warning; ``additional_kwargs`` and call-time keywords that name a known
option (``top_p``, ``seed``...) are validated as that option and the rest are sent as JSON fields;
arguments that cannot apply (OpenAI SDK clients, audio modalities) are refused. Settings changed
after construction (``llm.max_price_usd = ...``, ``model_copy(update=...)``, ``llm.timeout``) apply
to the next call. Removed parameters (``stop`` on reasoning models, penalties) raise
:class:`~grok_mpp.bridge.chat.DroppedParameterWarning` and are listed in ``raw["dropped_params"]``.
"""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import AsyncGenerator, Generator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
    ToolCallBlock,
)
from llama_index.core.constants import DEFAULT_CONTEXT_WINDOW
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from pydantic import Field, PrivateAttr, field_validator

from grok_mpp.bridge.chat import CHAT_OPTIONS, OPTION_ALIASES, chat_request, split_options
from grok_mpp.bridge.clients import CLIENT_SETTINGS, GrokClients, check_client_settings, usd_setting
from grok_mpp.errors import ConfigurationError, InvalidRequestError
from grok_mpp.gateway.catalog import DEFAULT_CHAT_MODEL, DEFAULT_CODE_EXECUTION_MODEL, get_model_info
from grok_mpp.gateway.requests import ChatRequest, CodeExecutionRequest, GrokRequest
from llama_index_grok_mpp._messages import chat_response, completion_response, stream_chunk, to_openai_messages
from llama_index_grok_mpp._paid import asend, build_clients, send

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool

#: Per-call keyword arguments understood by :meth:`_GrokMPPBase.chat` (anything else is refused).
CALL_OPTIONS: tuple[str, ...] = (*CHAT_OPTIONS, *OPTION_ALIASES, "strict")

#: OpenAI / OpenAILike constructor arguments refused, with the reason (docs/PARITY.md).
REFUSED_ARGUMENTS: dict[str, str] = {
    "api_version": "Azure-only option",
    "modalities": "audio output is not available on the chat route; use GrokMPPToolSpec text_to_speech",
    "audio_config": "audio output is not available on the chat route; use GrokMPPToolSpec text_to_speech",
    "http_client": "the paying httpx client is built by grok-mpp (it carries the MPP auth flow)",
    "async_http_client": "the paying httpx client is built by grok-mpp (it carries the MPP auth flow)",
    "openai_client": "the OpenAI SDK client is not used: payment needs the grok-mpp client",
    "async_openai_client": "the OpenAI SDK client is not used: payment needs the grok-mpp client",
    "tokenizer": "token counts come from the gateway's usage, not a local tokenizer",
    "should_use_structured_outputs": "structured output goes through function calling (as_structured_llm)",
    "api_type": "Azure-only option",
}
#: Refused only with these values (the default is what this class does anyway).
_REFUSED_VALUES: dict[str, tuple[Any, str]] = {
    "reuse_client": (False, "clients are always reused (one per event loop); reuse_client=False is not supported"),
}
_BUILD_LOCK = threading.Lock()


def _parse_arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        parsed = json.loads(raw or "{}")
    except (TypeError, json.JSONDecodeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


class _GrokMPPBase(FunctionCallingLLM):
    """Everything both LLMs share; subclasses set the route and default model."""

    _endpoint: ClassVar[str] = ChatRequest.endpoint

    model: str = Field(default=DEFAULT_CHAT_MODEL, description="Grok model slug")
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, description="max output tokens (reasoning included)")
    top_p: float | None = Field(default=None, ge=0, le=1, description="nucleus sampling")
    logprobs: bool | None = Field(default=None, description="return token log probabilities (ChatResponse.logprobs)")
    top_logprobs: int | None = Field(default=None, ge=0, le=8, description="alternatives per token with logprobs")
    reasoning_effort: str | None = Field(default=None, description="per-model effort level (see the catalog)")
    strict: bool = Field(default=False, description="strict JSON schemas for function tools")
    additional_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="extra request options: known names validated, others sent as-is"
    )
    timeout: float | None = Field(default=None, description="request timeout in seconds (default GROK_MPP_TIMEOUT)")
    max_retries: int = Field(default=2, ge=0, description="retries for errors raised before any payment")
    base_url: str | None = Field(default=None, description="gateway URL (default GROK_MPP_BASE_URL)")
    max_price_usd: str | None = Field(default=None, description="refuse any single payment above this")
    budget_usd: str | None = Field(default=None, description="this object's total budget (or its budget_scope's)")
    budget_scope: str | None = Field(default=None, description="named budget scope shared across objects/processes")
    chain_id: int | None = None
    rpc_url: str | None = None
    ledger: str | None = Field(default=None, description='ledger path, PostgreSQL DSN or "off"')
    default_headers: dict[str, str] | None = Field(default=None, description="extra HTTP headers on every request")
    context_window: int | None = Field(default=None, description="override the catalog's context window")
    is_chat_model: bool = Field(default=True, description="reported in metadata (OpenAILike)")
    is_function_calling_model: bool = Field(default=True, description="reported in metadata (OpenAILike)")
    allow_unknown_models: bool = Field(default=False, description="send a slug the catalog does not know")
    extra_body: dict[str, Any] = Field(default_factory=dict, description="extra JSON fields sent as-is")

    _clients: GrokClients = PrivateAttr()

    def __init__(
        self,
        *,
        private_key: Any = None,
        wallet: Any = None,
        client: Any = None,
        async_client: Any = None,
        **data: Any,
    ) -> None:
        data = self._openai_like_arguments(data)
        if private_key is None:
            private_key = data.pop("api_key", None)
        else:
            data.pop("api_key", None)
        super().__init__(**data)
        check_client_settings(**self._client_settings())
        self._request([ChatMessage(role=MessageRole.USER, content=".")], {}, warn=False)  # validate now
        self._clients = build_clients(
            private_key=private_key,
            wallet=wallet,
            client=client,
            async_client=async_client,
            **self._client_settings(),
        )

    @classmethod
    def _openai_like_arguments(cls, data: dict[str, Any]) -> dict[str, Any]:
        """OpenAILike conventions: api_base -> base_url, refusals, unknown -> additional_kwargs."""
        data = dict(data)
        api_base = data.pop("api_base", None)
        if api_base is not None:
            if data.get("base_url") not in (None, api_base):
                raise ConfigurationError(
                    f"api_base={api_base!r} and base_url={data['base_url']!r} disagree; pass only base_url"
                )
            data["base_url"] = str(api_base)
        refused = sorted(k for k in data if k in REFUSED_ARGUMENTS and data[k] is not None)
        refused += sorted(k for k, (bad, _) in _REFUSED_VALUES.items() if k in data and data[k] == bad)
        if refused:
            reasons = "; ".join(f"{k}: {REFUSED_ARGUMENTS.get(k) or _REFUSED_VALUES[k][1]}" for k in refused)
            raise ConfigurationError(
                f"{cls.__name__} does not take {', '.join(refused)} ({reasons})",
                hint="remove them; see docs/PARITY.md; nothing was sent or paid",
            )
        for name in _REFUSED_VALUES:
            data.pop(name, None)
        known = set(cls.model_fields) | {"api_key"}
        extra = dict(data.get("additional_kwargs") or {})
        for key in [k for k in data if k not in known]:
            warnings.warn(
                f"{key} is not a parameter of {cls.__name__}; it was moved to additional_kwargs and will be"
                " sent with every request. Please confirm that this is what you intended.",
                stacklevel=4,
            )
            extra[key] = data.pop(key)
        if extra:
            data["additional_kwargs"] = extra
        return data

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the clients as (payer address, settings), loudly or not at all (see module docstring)."""
        self._clients.__reduce__()  # raises TypeError for injected clients / guard objects / observers
        return super().__getstate__()

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)  # LlamaIndex re-runs __init__ (without a key) ...
        clients = (state.get("__pydantic_private__") or {}).get("_clients")
        if not isinstance(clients, GrokClients):
            raise TypeError("pickled GrokMPP state has no payer; it was not produced by this class")
        self._clients = clients  # ... so the payer pinned at pickling time is put back here

    def _client_settings(self) -> dict[str, Any]:
        settings = {name: getattr(self, name, None) for name in CLIENT_SETTINGS}
        settings["headers"] = self.default_headers
        return settings

    def _current_clients(self) -> GrokClients:
        """Clients for the CURRENT settings: changed fields apply to the next call (same payer)."""
        settings = self._client_settings()
        clients = self._clients
        if clients.matches(**settings):
            return clients
        with _BUILD_LOCK:
            if not self._clients.matches(**settings):
                check_client_settings(**settings)
                self._clients = self._clients.with_settings(**settings)
            return self._clients

    @field_validator("max_price_usd", "budget_usd", mode="before")
    @classmethod
    def _usd(cls, value: Any) -> Any:
        return usd_setting(value)

    # -- LlamaIndex surface ----------------------------------------------------------------------
    @property
    def metadata(self) -> LLMMetadata:
        info = get_model_info(self.model)
        return LLMMetadata(
            # an unknown (opted-in) slug has no known window: LlamaIndex's own default, not an invented one
            context_window=self.context_window or info.context_window or DEFAULT_CONTEXT_WINDOW,
            num_output=self.max_tokens or -1,
            is_chat_model=self.is_chat_model,
            is_function_calling_model=self.is_function_calling_model,
            model_name=self.model,
        )

    @property
    def payer_address(self) -> str:
        """The wallet address paying for calls (resolves the key from the environment if needed)."""
        return self._current_clients().address

    def close(self) -> None:
        self._clients.close()

    async def aclose(self) -> None:
        await self._clients.aclose()

    # -- request / response ----------------------------------------------------------------------
    def _request(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any], *, warn: bool = True) -> GrokRequest:
        options = {OPTION_ALIASES.get(k, k): v for k, v in kwargs.items() if v is not None}
        unknown = sorted(set(options) - set(CALL_OPTIONS))
        if unknown:
            raise InvalidRequestError(
                f"{type(self).__name__} does not understand {unknown}",
                hint=f"per-call options are {', '.join(CHAT_OPTIONS)}; nothing was sent or paid",
            )
        strict = options.pop("strict", None)
        if strict and options.get("tools"):
            options["tools"] = [
                {**spec, "function": {**spec["function"], "strict": True}} if spec.get("type") == "function" else spec
                for spec in options["tools"]
            ]
        known, extra = split_options(self.additional_kwargs)
        merged: dict[str, Any] = {
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "top_p": self.top_p,
            "logprobs": self.logprobs,
            "top_logprobs": self.top_logprobs,
            "reasoning_effort": self.reasoning_effort,
            "allow_unknown_models": self.allow_unknown_models,
            **known,
            **{k: v for k, v in options.items() if k != "extra_body"},
        }
        merged["model"] = merged.get("model") or self.model
        if (merged.get("n") or 1) > 1:
            raise InvalidRequestError(
                "n > 1 is not supported: a LlamaIndex ChatResponse holds one message, so the other"
                " completions would be paid for and never seen",
                hint="call the LLM n times instead; nothing was sent or paid",
            )
        body = {**extra, **self.extra_body, **(options.get("extra_body") or {})}
        merged["extra_body"] = body or None
        return chat_request(self._endpoint, messages=to_openai_messages(messages), warn=warn, **merged)

    def _chat(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> ChatResponse:
        request = self._request(messages, kwargs)
        result = send(self._current_clients(), request, max_retries=self.max_retries, component=self.class_name())
        return chat_response(result, request)

    async def _achat(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> ChatResponse:
        request = self._request(messages, kwargs)
        clients = self._current_clients()
        result = await asend(clients, request, max_retries=self.max_retries, component=self.class_name())
        return chat_response(result, request)

    @staticmethod
    def _prompt_messages(prompt: str) -> list[ChatMessage]:
        return [ChatMessage(role=MessageRole.USER, content=prompt)]

    # -- chat ------------------------------------------------------------------------------------
    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._chat(messages, kwargs)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return await self._achat(messages, kwargs)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        chunk = stream_chunk(self._chat(messages, kwargs))

        def gen() -> Generator[ChatResponse, None, None]:
            yield chunk

        return gen()

    @llm_chat_callback()
    async def astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        chunk = stream_chunk(await self._achat(messages, kwargs))

        async def gen() -> AsyncGenerator[ChatResponse, None]:
            yield chunk

        return gen()

    # -- completion ------------------------------------------------------------------------------
    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return completion_response(self._chat(self._prompt_messages(prompt), kwargs))

    @llm_completion_callback()
    async def acomplete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return completion_response(await self._achat(self._prompt_messages(prompt), kwargs))

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        chunk = completion_response(stream_chunk(self._chat(self._prompt_messages(prompt), kwargs)), stream=True)

        def gen() -> Generator[CompletionResponse, None, None]:
            yield chunk

        return gen()

    @llm_completion_callback()
    async def astream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseAsyncGen:
        response = await self._achat(self._prompt_messages(prompt), kwargs)
        chunk = completion_response(stream_chunk(response), stream=True)

        async def gen() -> AsyncGenerator[CompletionResponse, None]:
            yield chunk

        return gen()

    # -- function calling ------------------------------------------------------------------------
    def _prepare_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: Any = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Tools as OpenAI function specs; ``tool_required`` -> ``tool_choice="required"``."""
        specs = [tool.metadata.to_openai_tool(skip_length_check=True) for tool in tools]
        strict = self.strict if strict is None else strict
        if strict:
            for spec in specs:
                spec["function"]["strict"] = strict
        messages = list(chat_history or [])
        if isinstance(user_msg, str):
            messages.append(ChatMessage(role=MessageRole.USER, content=user_msg))
        elif user_msg is not None:
            messages.append(user_msg)
        if specs and tool_choice is None:
            tool_choice = "required" if tool_required else "auto"
        return {
            "messages": messages,
            "tools": specs or None,
            "tool_choice": tool_choice if specs else None,
            "parallel_tool_calls": allow_parallel_tool_calls if specs else None,
            **kwargs,
        }

    def _validate_chat_with_tools_response(
        self,
        response: ChatResponse,
        tools: Sequence[BaseTool],
        allow_parallel_tool_calls: bool = False,
        **kwargs: Any,
    ) -> ChatResponse:
        """Without parallel calls allowed, keep only the first tool call (as the caller expects one)."""
        if not allow_parallel_tool_calls:
            calls = [b for b in response.message.blocks if isinstance(b, ToolCallBlock)]
            if len(calls) > 1:
                response.message.blocks = [
                    b for b in response.message.blocks if not isinstance(b, ToolCallBlock) or b is calls[0]
                ]
        return response

    def get_tool_calls_from_response(
        self, response: ChatResponse, error_on_no_tool_call: bool = True, **kwargs: Any
    ) -> list[ToolSelection]:
        """ToolSelections from ``ToolCallBlock`` s (or OpenAI-style ``additional_kwargs["tool_calls"]``)."""
        selections = [
            ToolSelection(
                tool_id=b.tool_call_id or "", tool_name=b.tool_name, tool_kwargs=_parse_arguments(b.tool_kwargs)
            )
            for b in response.message.blocks
            if isinstance(b, ToolCallBlock)
        ]
        if not selections:
            for call in response.message.additional_kwargs.get("tool_calls") or ():
                data = call.model_dump() if hasattr(call, "model_dump") else dict(call)
                function = data.get("function") or {}
                selections.append(
                    ToolSelection(
                        tool_id=data.get("id") or "",
                        tool_name=function.get("name", ""),
                        tool_kwargs=_parse_arguments(function.get("arguments")),
                    )
                )
        if not selections and error_on_no_tool_call:
            raise ValueError(f"Expected at least one tool call, but got 0 tool calls from {self.model}.")
        return selections


class GrokMPP(_GrokMPPBase):
    """Grok chat (``/grok/chat``): vision, function calling, structured output, reasoning effort.

    Example::

        from llama_index_grok_mpp import GrokMPP
        llm = GrokMPP(model="grok-3-mini", max_tokens=64)   # key from GROK_MPP_PRIVATE_KEY
        response = llm.complete("Say hi")
        print(response.text, response.raw["mpp"]["paid_usd"])   # what this call cost
    """

    _endpoint: ClassVar[str] = ChatRequest.endpoint

    @classmethod
    def class_name(cls) -> str:
        return "GrokMPP"


class GrokMPPCodeExecution(_GrokMPPBase):
    """Grok with xAI's server-side Python sandbox (``/grok/code-execution``; Grok-4-family models).

    The code the model ran and its output are in ``response.raw["code_execution"]``.

    Example::

        from llama_index_grok_mpp import GrokMPPCodeExecution
        llm = GrokMPPCodeExecution(max_tokens=1024)
        response = llm.complete("Use Python to compute 17 * 23.")
        for run in response.raw["code_execution"]:
            print(run["code"], run["outputs"])
    """

    _endpoint: ClassVar[str] = CodeExecutionRequest.endpoint

    model: str = Field(default=DEFAULT_CODE_EXECUTION_MODEL, description="Grok-4-family model slug")

    @classmethod
    def class_name(cls) -> str:
        return "GrokMPPCodeExecution"
