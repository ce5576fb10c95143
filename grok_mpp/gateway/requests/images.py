"""``/grok/image-generate`` and ``/grok/image-edit``."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, field_validator

from grok_mpp.gateway.catalog import DEFAULT_IMAGE_MODEL, get_model_info, models_of_kind
from grok_mpp.gateway.mime import sniff_image_mime
from grok_mpp.gateway.requests.base import GrokRequest, _fail
from grok_mpp.gateway.requests.messages import _check_image_url

MAX_IMAGES = 10
IMAGE_ASPECT_RATIOS: tuple[str, ...] = (
    "1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "2:1", "1:2",
    "19.5:9", "9:19.5", "20:9", "9:20", "auto",
)  # fmt: skip

AspectRatio = Literal[
    "1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "2:1", "1:2",
    "19.5:9", "9:19.5", "20:9", "9:20", "auto",
]  # fmt: skip
ImageResponseFormat = Literal["url", "b64_json"]


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
