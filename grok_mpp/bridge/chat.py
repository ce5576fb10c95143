"""Framework chat calls -> one validated gateway request.

Both adapters end up with OpenAI-shaped message dicts (LangChain via ``convert_to_openai_messages``,
LlamaIndex via its own converters) and framework-level options (tools, tool choice, stop,
structured output). This module decides, once, how those become a :class:`GrokRequest`:

* **Messages** are reduced to what the gateway accepts (``sanitize_messages``): reasoning and
  other provider-specific blocks are dropped from history, v1 image blocks become ``image_url``
  parts, text-only part lists become strings, images outside user turns are refused.
* **Routing**: server-side tools bound as dicts (``{"type": "web_search"}``, ``"x_search"``,
  ``"code_execution"``) move the call to the matching Locus route; everything else goes to the
  route the framework object was made for (``/grok/chat`` or ``/grok/code-execution``).
* **Per-route fields**: options a route does not take are refused before paying (sampling
  options such as ``top_p``/``n``/``seed``/``logprobs``, structured output, function tools where the
  route cannot honour them). The only things ever removed are parameters the gateway or model is
  known to reject (``stop`` on reasoning models and on server-tool routes, the penalties): each
  removal is a :class:`DroppedParameterWarning` at build time and a note in ``request.dropped``,
  which the adapters copy into the response metadata.
* **Framework pass-through dicts** (LangChain ``model_kwargs``, LlamaIndex ``additional_kwargs``,
  call-time kwargs): :func:`split_options` sends known option names through the validated fields
  and everything else as-is through ``extra_body``, as OpenAI-style integrations do.
"""

from __future__ import annotations

import base64
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from grok_mpp.bridge.tools import normalize_tool_choice
from grok_mpp.errors import InvalidRequestError
from grok_mpp.gateway.requests import (
    ChatRequest,
    CodeExecutionRequest,
    GrokRequest,
    WebSearchRequest,
    XSearchRequest,
)

SERVER_TOOL_ROUTES: dict[str, type[GrokRequest]] = {
    "web_search": WebSearchRequest,
    "x_search": XSearchRequest,
    "code_execution": CodeExecutionRequest,
    "code_interpreter": CodeExecutionRequest,  # the OpenAI / xAI SDK spelling
}
ROUTES: dict[str, type[GrokRequest]] = {
    ChatRequest.endpoint: ChatRequest,
    CodeExecutionRequest.endpoint: CodeExecutionRequest,
    WebSearchRequest.endpoint: WebSearchRequest,
    XSearchRequest.endpoint: XSearchRequest,
}
#: Options :func:`chat_request` takes besides messages (what a framework call may set).
CHAT_OPTIONS: tuple[str, ...] = (
    "model",
    "temperature",
    "max_tokens",
    "top_p",
    "n",
    "seed",
    "logprobs",
    "top_logprobs",
    "stop",
    "presence_penalty",
    "frequency_penalty",
    "tools",
    "tool_choice",
    "response_format",
    "parallel_tool_calls",
    "reasoning_effort",
    "extra_body",
    "allow_unknown_models",
)
#: Options only ``/grok/chat`` takes (Locus documents model, messages, temperature and max_tokens
#: for the server-tool routes); refused elsewhere rather than silently not sent.
CHAT_ROUTE_ONLY: tuple[str, ...] = ("top_p", "n", "seed", "logprobs", "top_logprobs")
#: Spellings other integrations use for the same option.
OPTION_ALIASES: dict[str, str] = {"max_completion_tokens": "max_tokens", "stop_sequences": "stop"}


class DroppedParameterWarning(UserWarning):
    """A parameter was removed before sending because the gateway or model is known to reject it."""


def split_options(options: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """``model_kwargs`` / ``additional_kwargs`` -> (validated options, extra body sent as-is)."""
    known: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in (options or {}).items():
        name = OPTION_ALIASES.get(key, key)
        if name == "extra_body":
            extra.update(value or {})
        elif name in CHAT_OPTIONS:
            known[name] = value
        else:
            extra[key] = value
    return known, extra


def warn_dropped(notes: Sequence[str], *, stacklevel: int = 3) -> None:
    for note in notes:
        warnings.warn(note, DroppedParameterWarning, stacklevel=stacklevel)


_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant", "tool": "tool"}


# --- messages -------------------------------------------------------------------------------------


def _image_part(part: Mapping[str, Any]) -> dict[str, Any] | None:
    if part.get("type") == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, Mapping) else image
        out: dict[str, Any] = {"url": url}
        if isinstance(image, Mapping) and image.get("detail"):
            out["detail"] = image["detail"]
        return {"type": "image_url", "image_url": out}
    # v1 standard image block that escaped conversion
    if part.get("base64"):
        mime = part.get("mime_type") or "image/png"
        data = part["base64"]
        if isinstance(data, bytes | bytearray):
            data = base64.b64encode(bytes(data)).decode()
        return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{data}"}}
    if part.get("url"):
        return {"type": "image_url", "image_url": {"url": part["url"]}}
    return None


#: Content a user sends that the gateway cannot take: refused, never dropped (a text-only call
#: would still be paid without the document the user asked about).
_REFUSED_BLOCKS: dict[str, str] = {
    "file": "file/PDF inputs are not accepted by the Grok gateway; extract the text and send it as text",
    "input_file": "file/PDF inputs are not accepted by the Grok gateway; extract the text and send it as text",
    "document": "document inputs are not accepted by the Grok gateway; extract the text and send it as text",
    "audio": "audio inputs are not accepted by the Grok chat routes",
    "input_audio": "audio inputs are not accepted by the Grok chat routes",
    "video": "video inputs are not accepted by the Grok chat routes",
}


def _parts(content: Any) -> list[dict[str, Any]]:
    """Content -> text and image parts.

    Blocks that only describe earlier output (reasoning, tool calls, server-tool runs, citations)
    are left out of the history; inputs the gateway cannot take (files, audio, video) are refused.
    """
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    parts: list[dict[str, Any]] = []
    for part in content or ():
        if isinstance(part, str):
            parts.append({"type": "text", "text": part})
        elif isinstance(part, Mapping):
            kind = part.get("type")
            if kind == "text" and isinstance(part.get("text"), str):
                parts.append({"type": "text", "text": part["text"]})
            elif kind in ("image_url", "image"):
                image = _image_part(part)
                if image is None:
                    raise InvalidRequestError(
                        "an image block has neither a URL nor base64 data",
                        hint="pass the image as an https URL or base64; nothing was sent or paid",
                    )
                parts.append(image)
            elif kind in _REFUSED_BLOCKS:
                raise InvalidRequestError(
                    f"a {kind!r} content block cannot be sent: {_REFUSED_BLOCKS[kind]}",
                    hint="nothing was sent or paid",
                    field="content",
                )
    return parts


def _content(role: str, content: Any, *, has_tool_calls: bool) -> str | list[dict[str, Any]] | None:
    if content is None:
        return None if role == "assistant" and has_tool_calls else ""
    parts = _parts(content)
    if any(p["type"] == "image_url" for p in parts):
        if role != "user":
            raise InvalidRequestError(
                f"images are only accepted in user messages, found one in a {role!r} message",
                hint="move the image into a user turn; nothing was sent or paid",
            )
        return [p for p in parts if p["type"] == "image_url" or p["text"]]
    text = "".join(p["text"] for p in parts) if role == "assistant" else "\n".join(p["text"] for p in parts)
    if not text and role == "assistant" and has_tool_calls:
        return None
    return text


def _tool_calls(raw: Any) -> list[dict[str, Any]] | None:
    if not raw:
        return None
    calls = []
    for call in raw:
        function = call.get("function") or {}
        calls.append(
            {
                "id": call.get("id") or "",
                "type": "function",
                "function": {"name": function.get("name", ""), "arguments": function.get("arguments") or "{}"},
            }
        )
    return calls


def sanitize_messages(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """OpenAI-style message dicts -> the subset the gateway's ``Message`` model accepts."""
    out: list[dict[str, Any]] = []
    for message in messages:
        role = _ROLES.get(str(message.get("role")))
        if role is None:
            raise InvalidRequestError(
                f"message role {message.get('role')!r} is not supported; use system, user, assistant or tool"
            )
        tool_calls = _tool_calls(message.get("tool_calls")) if role == "assistant" else None
        item: dict[str, Any] = {
            "role": role,
            "content": _content(role, message.get("content"), has_tool_calls=bool(tool_calls)),
        }
        if tool_calls:
            item["tool_calls"] = tool_calls
        if role == "tool":
            item["tool_call_id"] = message.get("tool_call_id") or ""
        elif message.get("name") and role in ("user", "system", "assistant"):
            item["name"] = str(message["name"])
        out.append(item)
    return out


# --- tools and routing ----------------------------------------------------------------------------


def split_tools(tools: Sequence[Mapping[str, Any]] | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(function tools, server-side tools) from OpenAI-shaped tool dicts."""
    functions: list[dict[str, Any]] = []
    server: list[dict[str, Any]] = []
    for tool in tools or ():
        kind = tool.get("type")
        if kind == "function":
            functions.append(dict(tool))
        elif kind in SERVER_TOOL_ROUTES:
            server.append(dict(tool))
        else:
            raise InvalidRequestError(
                f"tool type {kind!r} is not supported; bind functions, or one of"
                f" {', '.join(sorted(SERVER_TOOL_ROUTES))} as {{'type': ...}}"
            )
    return functions, server


def route_for(endpoint: str, server_tools: Sequence[Mapping[str, Any]]) -> type[GrokRequest]:
    """The request class for a call: the object's own route unless a server tool picks another."""
    kinds = {SERVER_TOOL_ROUTES[t["type"]] for t in server_tools}
    if len(kinds) > 1:
        raise InvalidRequestError(
            "only one kind of server-side tool can be used per call (each is a separate Locus route)"
        )
    if kinds:
        return kinds.pop()
    try:
        return ROUTES[endpoint]
    except KeyError:
        raise InvalidRequestError(f"{endpoint!r} is not a chat route") from None


def chat_request(
    endpoint: str,
    *,
    model: str | None,
    messages: Sequence[Mapping[str, Any]],
    temperature: float | None = None,
    max_tokens: int | None = None,
    top_p: float | None = None,
    n: int | None = None,
    seed: int | None = None,
    logprobs: bool | None = None,
    top_logprobs: int | None = None,
    stop: str | Sequence[str] | None = None,
    presence_penalty: float | None = None,
    frequency_penalty: float | None = None,
    tools: Sequence[Mapping[str, Any]] | None = None,
    tool_choice: Any = None,
    response_format: Mapping[str, Any] | None = None,
    parallel_tool_calls: bool | None = None,
    reasoning_effort: str | None = None,
    extra_body: Mapping[str, Any] | None = None,
    allow_unknown_models: bool = False,
    warn: bool = True,
) -> GrokRequest:
    """Build the validated request (raises :class:`InvalidRequestError` before anything is paid).

    Removed parameters are announced with :class:`DroppedParameterWarning` (``warn=False`` for a
    construction-time probe) and listed in ``request.dropped``.
    """
    functions, server = split_tools(tools)
    kind = route_for(endpoint, server)
    fields: dict[str, Any] = {"messages": sanitize_messages(messages)}
    if model:
        fields["model"] = model
    if allow_unknown_models:
        fields["allow_unknown_models"] = True
    for name, value in (
        ("temperature", temperature),
        ("max_tokens", max_tokens),
        ("presence_penalty", presence_penalty),
        ("frequency_penalty", frequency_penalty),
    ):
        if value is not None:
            fields[name] = value
    if extra_body:
        fields["extra_body"] = dict(extra_body)
    # server-tool options given in the bound dict (e.g. allowed_domains) are request fields
    for tool in server:
        fields.update({k: v for k, v in tool.items() if k != "type"})
    if functions:
        if kind in (WebSearchRequest, XSearchRequest):
            raise InvalidRequestError(
                f"{kind.endpoint} runs its own search tool and does not take function tools;"
                " call the search and your functions in separate steps"
            )
        fields["tools"] = functions
        choice = normalize_tool_choice(tool_choice, functions)
        if choice is not None:
            fields["tool_choice"] = choice
    chat_only = {"top_p": top_p, "n": n, "seed": seed, "logprobs": logprobs, "top_logprobs": top_logprobs}
    notes: list[str] = []
    if kind is ChatRequest:
        fields.update({k: v for k, v in chat_only.items() if v is not None})
        if stop:
            fields["stop"] = [stop] if isinstance(stop, str) else list(stop)
        if response_format is not None:
            fields["response_format"] = dict(response_format)
        if parallel_tool_calls is not None and functions:
            fields["parallel_tool_calls"] = parallel_tool_calls
        if reasoning_effort is not None:
            fields["reasoning_effort"] = reasoning_effort
    else:
        given = sorted(k for k, v in chat_only.items() if v is not None and not (k == "n" and v == 1))
        if given:
            raise InvalidRequestError(
                f"{kind.endpoint} does not take {', '.join(given)} (Locus documents only model, messages,"
                " temperature and max_tokens there); remove them or use the chat route",
                hint="nothing was sent or paid",
                fields=given,
            )
        if response_format is not None:
            raise InvalidRequestError(
                f"{kind.endpoint} does not support response_format (structured output);"
                " use the chat model with function calling instead"
            )
        if reasoning_effort is not None:
            raise InvalidRequestError(f"{kind.endpoint} does not take reasoning_effort")
        if stop:
            notes.append(f"stop dropped: {kind.endpoint} does not take stop sequences")
    request = kind(**fields)
    for note in notes:
        request._drop(note)
    if warn:
        warn_dropped(request.dropped, stacklevel=3)
    return request
