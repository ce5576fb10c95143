"""``/grok/image-generate`` and ``/grok/image-edit``.

``grok-imagine-image-2.0`` (and ``-quality``/``-pro``, served as 2.0 since 2026-11-02) adds
``quality`` (low|medium), ``resolution`` (1k|2k), the 21:9 and 5:2 aspect ratios and up to 5 edit
sources [locus-2026-12.md §4, X1]. Those are refused for the 1.0 model instead of being sent to it.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

from pydantic import Field, field_validator, model_validator

from grok_mpp.gateway.catalog import DEFAULT_IMAGE_MODEL, ModelInfo, get_model_info, models_of_kind, unusable_reason
from grok_mpp.gateway.mime import sniff_image_mime
from grok_mpp.gateway.requests.base import GrokRequest, _fail
from grok_mpp.gateway.requests.messages import _check_image_url

MAX_IMAGES = 10
#: Edit sources per call on grok-imagine-image-2.0 (1.0 takes one).
MAX_EDIT_SOURCES = 5
IMAGE_ASPECT_RATIOS: tuple[str, ...] = (
    "1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "2:1", "1:2",
    "19.5:9", "9:19.5", "20:9", "9:20", "21:9", "5:2", "auto",
)  # fmt: skip
#: Only grok-imagine-image-2.0 takes these.
V2_ASPECT_RATIOS: tuple[str, ...] = ("21:9", "5:2")

AspectRatio = Literal[
    "1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "2:1", "1:2",
    "19.5:9", "9:19.5", "20:9", "9:20", "21:9", "5:2", "auto",
]  # fmt: skip
ImageResponseFormat = Literal["url", "b64_json"]
ImageQuality = Literal["low", "medium"]
ImageResolution = Literal["1k", "2k"]


def _image_model(v: str) -> str:
    v = v.strip()
    info = get_model_info(v)
    if info.kind != "image":
        raise _fail(f"{v!r} is not an image model; use one of {', '.join(models_of_kind('image'))}")
    return v


def _v2_rules(model: str, info: ModelInfo, allow_unknown: bool, features: dict[str, Any]) -> None:
    """Refuse unknown/withdrawn slugs and 2.0-only options on a model that is not served as 2.0."""
    reason = unusable_reason(info)
    if reason is not None and not allow_unknown:
        raise _fail(reason, field="model")
    if info.image_v2 or not info.known:
        return
    for name, value in features.items():
        if value:
            raise _fail(
                f"{name} is only supported by grok-imagine-image-2.0, not {model!r}; use"
                " model='grok-imagine-image-2.0' or remove it",
                field=name,
            )


def _prompt(v: str) -> str:
    if not v.strip():
        raise _fail("prompt must not be empty; describe the image you want")
    return v


class _ImageRequest(GrokRequest):
    """What both image routes share: prompt, model rules, count, format and the 2.0 options.

    The options are sent by :meth:`_options`, so a field validated here cannot be left out of one
    route's body (image-edit once validated ``quality``/``resolution`` and never sent them).
    """

    if TYPE_CHECKING:  # accept dicts for nested models (pydantic converts them) in typed callers

        def __init__(self, **data: Any) -> None: ...

    prompt: str
    model: str = DEFAULT_IMAGE_MODEL
    n: int | None = Field(default=None, ge=1, le=MAX_IMAGES)
    response_format: ImageResponseFormat = "b64_json"
    quality: ImageQuality | None = None
    resolution: ImageResolution | None = None
    #: Not sent: opts in to an image model slug the catalog does not know.
    allow_unknown_models: bool = False

    @property
    def premium(self) -> bool:
        """Quality or resolution above 2.0's base tier (unpublished price: estimates err high)."""
        return self.quality == "medium" or self.resolution == "2k"

    @property
    def image_count(self) -> int:
        return self.n or 1

    @field_validator("model")
    @classmethod
    def _check_model(cls, v: str) -> str:
        return _image_model(v)

    @field_validator("prompt")
    @classmethod
    def _check_prompt(cls, v: str) -> str:
        return _prompt(v)

    def _check_v2(self, route_features: dict[str, Any]) -> None:
        features = {"quality": self.quality, "resolution": self.resolution, **route_features}
        _v2_rules(self.model, get_model_info(self.model), self.allow_unknown_models, features)

    def _options(self, body: dict[str, Any], **route_fields: Any) -> dict[str, Any]:
        """Append n, the route's own fields, quality, resolution and response_format to ``body``."""
        optional = {"n": self.n, **route_fields, "quality": self.quality, "resolution": self.resolution}
        body.update({key: value for key, value in optional.items() if value is not None})
        body["response_format"] = self.response_format
        return body


class ImageGenerateRequest(_ImageRequest):
    """``POST /grok/image-generate``. ``b64_json`` is the default because upstream URLs expire."""

    endpoint: ClassVar[str] = "/grok/image-generate"

    aspect_ratio: AspectRatio | None = None

    @model_validator(mode="after")
    def _model_rules(self) -> Self:
        self._check_v2({"aspect_ratio": self.aspect_ratio if self.aspect_ratio in V2_ASPECT_RATIOS else None})
        return self

    def _payload(self) -> dict[str, Any]:
        return self._options({"model": self.model, "prompt": self.prompt}, aspect_ratio=self.aspect_ratio)


def image_edit_source_body(image: str | list[str]) -> dict[str, Any]:
    """Where the source image(s) go. xAI's JSON shape for one source; the Locus field name is
    unverified (grok-api.md §1.5), and so is ``images`` (a list) for several 2.0 sources."""
    if isinstance(image, str):
        return {"image": {"url": image, "type": "image_url"}}
    if len(image) == 1:
        return {"image": {"url": image[0], "type": "image_url"}}
    return {"images": [{"url": url, "type": "image_url"} for url in image]}


def _source(v: Any) -> Any:
    if isinstance(v, bytes | bytearray):
        mime = sniff_image_mime(bytes(v))
        if mime is None:
            raise _fail("image bytes are not PNG, JPEG, WEBP or GIF")
        v = f"data:{mime};base64,{base64.b64encode(bytes(v)).decode()}"
    if isinstance(v, str):
        return _check_image_url(v)
    return v


class ImageEditRequest(_ImageRequest):
    """``POST /grok/image-edit``: ``image`` is an http(s) URL, a ``data:image/...;base64,`` URI or raw bytes."""

    endpoint: ClassVar[str] = "/grok/image-edit"

    image: str | list[str]

    @model_validator(mode="after")
    def _model_rules(self) -> Self:
        several = isinstance(self.image, list) and len(self.image) > 1
        self._check_v2({"several edit sources (image list)": several})
        return self

    @property
    def source_count(self) -> int:
        """Billed input images (xAI bills every edit source as well as each output)."""
        return len(self.image) if isinstance(self.image, list) else 1

    @field_validator("image", mode="before")
    @classmethod
    def _image(cls, v: Any) -> Any:
        if isinstance(v, list | tuple):
            if not v:
                raise _fail("image list is empty; pass at least one source image")
            if len(v) > MAX_EDIT_SOURCES:
                raise _fail(f"{len(v)} edit sources; at most {MAX_EDIT_SOURCES} are allowed (grok-imagine-image-2.0)")
            return [_source(item) for item in v]
        return _source(v)

    def _payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "prompt": self.prompt}
        body.update(image_edit_source_body(self.image))
        return self._options(body)
