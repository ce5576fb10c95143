"""Chat message parts, function tools, tool choice and response formats (shared by all chat routes)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Annotated, Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from grok_mpp.gateway.requests.base import _fail, _Strict

_FUNCTION_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_DATA_URI_RE = re.compile(r"^data:(image/(?:png|jpeg|jpg|webp|gif));base64,(?P<b64>[A-Za-z0-9+/=\s]+)$")


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
