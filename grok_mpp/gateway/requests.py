"""Request bodies for the seven Locus Grok routes: allow-lists, per-model rules, serialize once.

Why so strict: Locus settles the 402 payment BEFORE forwarding to xAI, so a body xAI rejects with
HTTP 400 is money spent for nothing (Locus may refund on ``success: false``, but that is slow and not
guaranteed). Everything we can know locally is checked here, and parameters current models are known
to reject are dropped with a note in ``dropped`` instead of being sent (grok-api.md §3.3, §5.1).

Why serialize once: the MPP flow sends the body, receives a 402, pays, and re-sends. The paid retry
must carry byte-identical JSON (the challenge may be bound to a digest of the body), so the bytes are
computed at construction and :meth:`GrokRequest.to_body` always returns the same object.

Every validation failure surfaces as :class:`~grok_mpp.errors.InvalidRequestError` (a ``ValueError``)
naming the field, what was wrong, and what to do; nothing is signed or paid when it is raised.

Unknown keys are refused rather than forwarded. A caller who knows better (a new xAI parameter) can
opt in through ``extra_body``, which is merged at the top level of the JSON body.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from grok_mpp.errors import InvalidRequestError
from grok_mpp.gateway.catalog import (
    DEFAULT_CHAT_MODEL,
    DEFAULT_CODE_EXECUTION_MODEL,
    DEFAULT_IMAGE_MODEL,
    DEFAULT_SEARCH_MODEL,
    LOCUS_GROK4_MODELS,
    ModelInfo,
    get_model_info,
    grok4_family_models,
    models_of_kind,
)

MAX_TTS_CHARS = 15_000
MAX_IMAGES = 10
MAX_SEARCH_DOMAINS = 5
MAX_X_HANDLES = 10
TTS_VOICES: tuple[str, ...] = ("eve", "ara", "rex", "sal", "leo")
IMAGE_ASPECT_RATIOS: tuple[str, ...] = (
    "1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "2:1", "1:2",
    "19.5:9", "9:19.5", "20:9", "9:20", "auto",
)  # fmt: skip

AspectRatio = Literal[
    "1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "2:1", "1:2",
    "19.5:9", "9:19.5", "20:9", "9:20", "auto",
]  # fmt: skip
Voice = Literal["eve", "ara", "rex", "sal", "leo"]
Codec = Literal["mp3", "wav", "pcm", "mulaw", "alaw"]
SampleRate = Literal[8000, 16000, 22050, 24000, 44100, 48000]
ImageResponseFormat = Literal["url", "b64_json"]

_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
_HANDLE_RE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FUNCTION_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_LANGUAGE_RE = re.compile(r"^(?:auto|[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)$")
_DATA_URI_RE = re.compile(r"^data:(image/(?:png|jpeg|jpg|webp|gif));base64,(?P<b64>[A-Za-z0-9+/=\s]+)$")


def _serialize(payload: dict[str, Any]) -> bytes:
    """Compact, order-preserving UTF-8 JSON. The paid retry re-sends exactly these bytes."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


# --- error reporting ------------------------------------------------------------------------------

_TYPE_LOC_PARTS = {"str", "int", "float", "bool", "dict", "list", "none", "date", "bytes"}
_PART_TAGS = {"text", "image_url"}


def _clean_loc(loc: tuple[int | str, ...]) -> str:
    """``('messages', 0, 'content', 'list[...]', 0, 'text', 'text')`` -> ``messages[0].content[0].text``.

    pydantic puts union branch names (``str``, ``list[...]``) and discriminator tags (the part type,
    right after a list index) into error locations; users only care about their own field names.
    """
    out = ""
    after_index = False
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            after_index = True
            continue
        if "[" in part or part in _TYPE_LOC_PARTS or (after_index and part in _PART_TAGS):
            after_index = False
            continue
        after_index = False
        out += f".{part}" if out else part
    return out or "request"


def _invalid(model: type[GrokRequest] | type[BaseModel], exc: ValidationError) -> InvalidRequestError:
    endpoint = getattr(model, "endpoint", None)
    allowed = ", ".join(sorted(model.model_fields))
    problems: list[str] = []
    seen: set[str] = set()
    errors = exc.errors()
    cleaned = [_clean_loc(e["loc"]) for e in errors]
    for err, loc in zip(errors, cleaned, strict=True):
        raw_last = err["loc"][-1] if err["loc"] else None
        if raw_last in _TYPE_LOC_PARTS and any(o != loc and o.startswith(loc) for o in cleaned):
            # a failed union branch ("should be a valid string") next to the real, deeper error
            continue
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, InvalidRequestError) and cause.context.get("field"):
            field = str(cause.context["field"])
            loc = field if loc == "request" else f"{loc}.{field}"
        msg = str(err["msg"])
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if err["type"] == "extra_forbidden":
            msg = "unknown field, not sent by this client"
            if endpoint is not None and "." not in loc and "[" not in loc:
                msg += f" (allowed: {allowed}; put it in extra_body to send it anyway)"
        line = f"{loc}: {msg}"
        if line not in seen:
            seen.add(line)
            problems.append(line)
    where = f"{model.__name__} for {endpoint}" if endpoint else model.__name__
    return InvalidRequestError(
        f"invalid {where}: " + "; ".join(problems),
        hint="fix the field(s) named above; nothing was sent or paid",
        fields=[p.split(":", 1)[0] for p in problems],
    )


def _fail(message: str, *, field: str | None = None) -> InvalidRequestError:
    """Raised inside validators; pydantic wraps it and :func:`_invalid` unwraps it with the field path.

    ``field`` names the offending field for model-level rules, whose pydantic location is empty.
    """
    return InvalidRequestError(message, field=field)


# --- message parts -------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class TextPart(_Strict):
    type: Literal["text"] = "text"
    text: str


def _check_image_url(url: str) -> str:
    url = url.strip()
    if url.startswith(("https://", "http://")):
        if len(url.split("://", 1)[1]) == 0:
            raise _fail("image URL has no host")
        return url
    match = _DATA_URI_RE.match(url)
    if match:
        try:
            base64.b64decode(re.sub(r"\s", "", match.group("b64")), validate=True)
        except (binascii.Error, ValueError):
            raise _fail("image data URI is not valid base64") from None
        return url
    raise _fail(f"image must be an http(s) URL or a data:image/<png|jpeg|webp|gif>;base64,... URI (got {url[:40]!r})")


class ImageURL(_Strict):
    url: str
    detail: Literal["auto", "low", "high"] | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return _check_image_url(v)


class ImagePart(_Strict):
    type: Literal["image_url"] = "image_url"
    image_url: ImageURL

    @field_validator("image_url", mode="before")
    @classmethod
    def _bare_url(cls, v: Any) -> Any:
        return {"url": v} if isinstance(v, str) else v


ContentPart = Annotated[TextPart | ImagePart, Field(discriminator="type")]


class FunctionCall(_Strict):
    name: str
    arguments: str = "{}"

    @field_validator("arguments", mode="before")
    @classmethod
    def _args(cls, v: Any) -> Any:
        # Adapters hold parsed dicts; the wire wants the JSON string xAI returned.
        return json.dumps(v, separators=(",", ":"), ensure_ascii=False) if isinstance(v, dict) else v


class AssistantToolCall(_Strict):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class Message(_Strict):
    """One OpenAI-style chat message (xAI does not require role alternation)."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: list[AssistantToolCall] | None = None

    @model_validator(mode="after")
    def _role_rules(self) -> Self:
        if self.role == "tool":
            if not self.tool_call_id:
                raise _fail(
                    "a tool message needs tool_call_id (the id of the assistant tool call it answers)",
                    field="tool_call_id",
                )
            if not isinstance(self.content, str):
                raise _fail("a tool message needs string content (the tool's result)", field="content")
        elif self.tool_call_id is not None:
            raise _fail(f"tool_call_id is only valid on role 'tool', not {self.role!r}", field="tool_call_id")
        if self.tool_calls and self.role != "assistant":
            raise _fail(f"tool_calls are only valid on role 'assistant', not {self.role!r}", field="tool_calls")
        if self.content is None and not (self.role == "assistant" and self.tool_calls):
            raise _fail(
                f"a {self.role} message needs content (only assistant tool-call turns may omit it)", field="content"
            )
        if isinstance(self.content, list):
            if not self.content:
                raise _fail("content list is empty; pass a string or at least one part", field="content")
            if self.role != "user" and any(isinstance(p, ImagePart) for p in self.content):
                raise _fail(f"image parts are only allowed in user messages, not {self.role!r}", field="content")
        return self

    @property
    def has_image(self) -> bool:
        return isinstance(self.content, list) and any(isinstance(p, ImagePart) for p in self.content)


# --- tools ---------------------------------------------------------------------------------------


class FunctionDefinition(_Strict):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _FUNCTION_NAME_RE.match(v):
            raise _fail(f"function name {v!r} must be 1-64 characters of letters, digits, '_' or '-'")
        return v


class FunctionTool(_Strict):
    type: Literal["function"] = "function"
    function: FunctionDefinition


class NamedFunction(_Strict):
    name: str


class NamedToolChoice(_Strict):
    type: Literal["function"] = "function"
    function: NamedFunction


ToolChoice = Literal["none", "auto", "required"] | NamedToolChoice


class JsonSchemaFormat(_Strict):
    name: str
    schema_: dict[str, Any] = Field(alias="schema")
    description: str | None = None
    strict: bool | None = None


class ResponseFormat(_Strict):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None

    @model_validator(mode="after")
    def _schema_iff_json_schema(self) -> Self:
        if (self.type == "json_schema") != (self.json_schema is not None):
            raise _fail("json_schema is required for type 'json_schema' and not allowed otherwise", field="json_schema")
        return self


def _check_tool_choice(tools: list[FunctionTool] | None, choice: ToolChoice | None) -> None:
    if choice is None:
        return
    if not tools:
        raise _fail("tool_choice was set but no tools were given; pass tools or drop tool_choice", field="tool_choice")
    if isinstance(choice, NamedToolChoice):
        names = [t.function.name for t in tools]
        if choice.function.name not in names:
            raise _fail(
                f"tool_choice names {choice.function.name!r}, which is not among tools {names}", field="tool_choice"
            )


# --- base request -------------------------------------------------------------------------------


class GrokRequest(BaseModel):
    """Base of every endpoint request: immutable, validated, serialized exactly once.

    Construct with keyword arguments (or :meth:`model_validate`); both raise
    :class:`InvalidRequestError`. Do not use ``model_copy(update=...)``: it skips validation. Use
    :meth:`replace`, which re-validates and re-serializes.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    endpoint: ClassVar[str]

    extra_body: dict[str, Any] | None = None

    _dropped: list[str] = PrivateAttr(default_factory=list)
    _notices: list[str] = PrivateAttr(default_factory=list)
    _body: bytes = PrivateAttr(default=b"")

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _invalid(type(self), exc) from None

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise _invalid(cls, exc) from None

    def model_post_init(self, context: Any, /) -> None:
        payload = self._payload()
        for key, value in (self.extra_body or {}).items():
            current = payload.get(key)
            if key not in payload:
                payload[key] = value
            elif isinstance(current, dict) and isinstance(value, dict) and not set(current) & set(value):
                # e.g. extra search_parameters options next to validated filters
                payload[key] = {**current, **value}
            else:
                # Validators already refuse clashes with declared fields; this catches derived keys.
                raise InvalidRequestError(
                    f"extra_body key {key!r} would overwrite what this client sets there",
                    hint="set it through the request fields instead",
                    field="extra_body",
                )
        self._body = _serialize(payload)

    @model_validator(mode="after")
    def _extra_body_no_clash(self) -> Self:
        if self.extra_body:
            clash = sorted(k for k in self.extra_body if k in type(self).model_fields and k != "extra_body")
            if clash:
                raise _fail(
                    f"extra_body keys {clash} are regular fields; set them directly so they are validated",
                    field="extra_body",
                )
        return self

    # subclasses build their JSON object here (and record drops via self._drop)
    def _payload(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _drop(self, note: str) -> None:
        self._dropped.append(note)

    def _notice(self, note: str) -> None:
        self._notices.append(note)

    @property
    def dropped(self) -> list[str]:
        """Human-readable notes of parameters accepted but deliberately not sent, with the reason."""
        return list(self._dropped)

    @property
    def notices(self) -> list[str]:
        """Warnings that did not block the request (e.g. images sent to a text-only legacy slug)."""
        return list(self._notices)

    def to_body(self) -> bytes:
        """The exact JSON bytes to POST; identical on every call (the paid retry re-sends them)."""
        return self._body

    def payload(self) -> dict[str, Any]:
        """The body as a dict (a fresh copy decoded from the bytes that will be sent)."""
        result: dict[str, Any] = json.loads(self._body)
        return result

    def replace(self, **changes: Any) -> Self:
        """A validated copy with some fields changed."""
        data = self.model_dump(by_alias=True, exclude_unset=True)
        data.update(changes)
        return type(self)(**data)


# --- chat-like requests ---------------------------------------------------------------------------

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
    n: int | None = Field(default=None, ge=1)
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
        return self

    def _payload(self) -> dict[str, Any]:
        info = self.info
        body = self._base_payload()
        if self.top_p is not None:
            body["top_p"] = self.top_p
        if self.n is not None and self.n != 1:
            body["n"] = self.n
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


# --- images ---------------------------------------------------------------------------------------


def _image_model(v: str) -> str:
    v = v.strip()
    info = get_model_info(v)
    if info.kind != "image":
        raise _fail(f"{v!r} is not an image model; use one of {', '.join(models_of_kind('image'))}")
    return v


def _prompt(v: str) -> str:
    if not v.strip():
        raise _fail("prompt must not be empty; describe the image you want")
    return v


class ImageGenerateRequest(GrokRequest):
    """``POST /grok/image-generate``. ``b64_json`` is the default because upstream URLs expire."""

    if TYPE_CHECKING:  # accept dicts for nested models (pydantic converts them) in typed callers

        def __init__(self, **data: Any) -> None: ...

    endpoint: ClassVar[str] = "/grok/image-generate"

    prompt: str
    model: str = DEFAULT_IMAGE_MODEL
    n: int | None = Field(default=None, ge=1, le=MAX_IMAGES)
    aspect_ratio: AspectRatio | None = None
    response_format: ImageResponseFormat = "b64_json"

    @field_validator("model")
    @classmethod
    def _check_model(cls, v: str) -> str:
        return _image_model(v)

    @field_validator("prompt")
    @classmethod
    def _check_prompt(cls, v: str) -> str:
        return _prompt(v)

    @property
    def image_count(self) -> int:
        return self.n or 1

    def _payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "prompt": self.prompt}
        if self.n is not None:
            body["n"] = self.n
        if self.aspect_ratio is not None:
            body["aspect_ratio"] = self.aspect_ratio
        body["response_format"] = self.response_format
        return body


def image_edit_source_body(image: str) -> dict[str, Any]:
    """Where the source image goes. xAI's JSON shape; the Locus field name is unverified (grok-api.md §1.5)."""
    return {"image": {"url": image, "type": "image_url"}}


class ImageEditRequest(GrokRequest):
    """``POST /grok/image-edit``: ``image`` is an http(s) URL, a ``data:image/...;base64,`` URI or raw bytes."""

    if TYPE_CHECKING:  # accept dicts for nested models (pydantic converts them) in typed callers

        def __init__(self, **data: Any) -> None: ...

    endpoint: ClassVar[str] = "/grok/image-edit"

    prompt: str
    image: str
    model: str = DEFAULT_IMAGE_MODEL
    n: int | None = Field(default=None, ge=1, le=MAX_IMAGES)
    response_format: ImageResponseFormat = "b64_json"

    @field_validator("model")
    @classmethod
    def _check_model(cls, v: str) -> str:
        return _image_model(v)

    @field_validator("prompt")
    @classmethod
    def _check_prompt(cls, v: str) -> str:
        return _prompt(v)

    @field_validator("image", mode="before")
    @classmethod
    def _image(cls, v: Any) -> Any:
        if isinstance(v, bytes | bytearray):
            from grok_mpp.gateway.parsing import sniff_image_mime

            mime = sniff_image_mime(bytes(v))
            if mime is None:
                raise _fail("image bytes are not PNG, JPEG, WEBP or GIF")
            v = f"data:{mime};base64,{base64.b64encode(bytes(v)).decode()}"
        if isinstance(v, str):
            return _check_image_url(v)
        return v

    @property
    def image_count(self) -> int:
        return self.n or 1

    def _payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "prompt": self.prompt}
        body.update(image_edit_source_body(self.image))
        if self.n is not None:
            body["n"] = self.n
        body["response_format"] = self.response_format
        return body


# --- text to speech ------------------------------------------------------------------------------


def tts_output_format_body(codec: str | None, sample_rate: int | None) -> dict[str, Any]:
    """Where codec options go: xAI's nested ``output_format`` (Locus key unverified, grok-api.md §1.6)."""
    fmt: dict[str, Any] = {}
    if codec is not None:
        fmt["codec"] = codec
    if sample_rate is not None:
        fmt["sample_rate"] = sample_rate
    return {"output_format": fmt} if fmt else {}


class TTSRequest(GrokRequest):
    """``POST /grok/tts``: up to 15,000 characters per call (split longer texts)."""

    if TYPE_CHECKING:  # accept dicts for nested models (pydantic converts them) in typed callers

        def __init__(self, **data: Any) -> None: ...

    endpoint: ClassVar[str] = "/grok/tts"

    text: str = Field(min_length=1, max_length=MAX_TTS_CHARS)
    language: str = "en"
    voice_id: Voice = "eve"
    codec: Codec | None = None
    sample_rate: SampleRate | None = None

    @field_validator("text", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        if isinstance(v, str):
            if not v.strip():
                raise _fail("text must contain something to say")
            if len(v) > MAX_TTS_CHARS:
                raise _fail(
                    f"text has {len(v)} characters; the limit is {MAX_TTS_CHARS} per call,"
                    " so split it into smaller chunks"
                )
        return v

    @field_validator("voice_id", mode="before")
    @classmethod
    def _voice(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip().lower()
            if v not in TTS_VOICES:
                raise _fail(f"voice_id {v!r} is not a Grok voice; use one of {', '.join(TTS_VOICES)}")
        return v

    @field_validator("codec", mode="before")
    @classmethod
    def _codec(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v

    @field_validator("language")
    @classmethod
    def _language(cls, v: str) -> str:
        v = v.strip()
        if not _LANGUAGE_RE.match(v):
            raise _fail(f"language {v!r} must be a BCP-47 code such as 'en' or 'pt-BR', or 'auto'")
        return v

    @property
    def characters(self) -> int:
        return len(self.text)

    def _payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"text": self.text, "language": self.language, "voice_id": self.voice_id}
        body.update(tts_output_format_body(self.codec, self.sample_rate))
        return body


AnyRequest = (
    ChatRequest
    | CodeExecutionRequest
    | WebSearchRequest
    | XSearchRequest
    | ImageGenerateRequest
    | ImageEditRequest
    | TTSRequest
)

REQUEST_TYPES: dict[str, type[GrokRequest]] = {
    cls.endpoint: cls
    for cls in (
        ChatRequest,
        CodeExecutionRequest,
        WebSearchRequest,
        XSearchRequest,
        ImageGenerateRequest,
        ImageEditRequest,
        TTSRequest,
    )
}
