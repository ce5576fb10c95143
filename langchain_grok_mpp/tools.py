"""Ready-made LangChain tools for the paid Grok routes (``response_format="content_and_artifact"``).

The model calling a tool reads the ``content`` (a short text with the cost); the program gets the
``artifact``: search tools return the source ``Document`` list, image tools the ``ImageResult``
(bytes in ``images[i].data``), the speech tool the ``SpeechResult`` (``audio`` bytes). Each call is
one payment, reported to cost callbacks as a ``grok_mpp_payment`` custom event.

Search tools delegate to a retriever. Give the settings to the retriever, or to the tool, which
builds its retriever from them (giving both is refused, so no setting is silently ignored)::

    tool = GrokWebSearchTool(retriever=GrokWebSearchRetriever(k=3, max_price_usd="0.05"))
    tool = GrokWebSearchTool(k=3, max_price_usd="0.05")          # the same

Errors in what the calling model asked for (a bad domain, an empty prompt) are raised as
``ToolException`` so ``handle_tool_error=True`` turns them into a message for the agent instead of
ending the run; nothing is paid for them. Unknown constructor arguments are refused.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.documents import Document
from langchain_core.tools import BaseTool, ToolException
from pydantic import BaseModel, ConfigDict, Field, model_validator

from grok_mpp import errors as core
from grok_mpp.bridge.describe import cost_phrase, describe_images, describe_speech
from grok_mpp.gateway.catalog import DEFAULT_IMAGE_MODEL
from grok_mpp.gateway.requests import (
    AspectRatio,
    GrokRequest,
    ImageEditRequest,
    ImageGenerateRequest,
    ImageQuality,
    ImageResolution,
    TTSRequest,
    Voice,
)
from grok_mpp.gateway.results import ChatResult, ImageResult, SpeechResult
from langchain_grok_mpp._events import aemit_payment, emit_payment
from langchain_grok_mpp._settings import GrokMPPSettings
from langchain_grok_mpp.retrievers import GrokWebSearchRetriever, GrokXSearchRetriever, _GrokSearchRetriever

# --- search ------------------------------------------------------------------------------------------


class WebSearchInput(BaseModel):
    query: str = Field(description="What to search the web for")
    allowed_domains: list[str] | None = Field(default=None, description="Only these domains (max 5)")
    excluded_domains: list[str] | None = Field(default=None, description="Never these domains (max 5)")


class XSearchInput(BaseModel):
    query: str = Field(description="What to search X (Twitter) posts for")
    allowed_x_handles: list[str] | None = Field(default=None, description="Only posts by these handles")
    excluded_x_handles: list[str] | None = Field(default=None, description="No posts by these handles")
    from_date: str | None = Field(default=None, description="Earliest post date, YYYY-MM-DD")
    to_date: str | None = Field(default=None, description="Latest post date, YYYY-MM-DD")


def search_content(result: ChatResult, docs: list[Document]) -> str:
    """What the agent reads: Grok's answer, then the numbered sources, then the cost."""
    lines = [result.text.strip(), "", "Sources:"]
    lines.extend(
        f"[{d.metadata.get('rank', i)}] {d.metadata.get('title')} - {d.metadata.get('url')}"
        for i, d in enumerate(docs, 1)
    )
    if not docs:
        lines.append("(none cited)")
    lines.append(f"({cost_phrase(result.cost)})")
    return "\n".join(lines)


def _as_tool_error(exc: BaseException) -> BaseException:
    """A request the calling model got wrong -> ToolException (handle_tool_error can answer it)."""
    if isinstance(exc, core.InvalidRequestError):
        error = ToolException(str(exc))
        error.__cause__ = exc
        return error
    return exc


class _GrokSearchTool(BaseTool):
    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    retriever: _GrokSearchRetriever
    retriever_type: ClassVar[type[_GrokSearchRetriever]]

    @model_validator(mode="before")
    @classmethod
    def _settings_to_retriever(cls, data: Any) -> Any:
        """Retriever settings given to the tool (``max_price_usd``, ``k``...) build its retriever."""
        if not isinstance(data, dict):
            return data
        own = set(cls.model_fields) | {f.alias for f in cls.model_fields.values() if f.alias}
        rtype = cls.retriever_type
        theirs = set(rtype.model_fields) | {f.alias for f in rtype.model_fields.values() if f.alias}
        settings = {k: data[k] for k in list(data) if k not in own and k in theirs}
        if not settings:
            return data
        if data.get("retriever") is not None:
            raise ValueError(
                f"{sorted(settings)} were given to the tool and a retriever was given too; put them on"
                " the retriever (or drop the retriever and let the tool build one)"
            )
        rest = {k: v for k, v in data.items() if k not in settings}
        return {**rest, "retriever": rtype(**settings)}

    def _run(
        self, query: str, run_manager: CallbackManagerForToolRun | None = None, **filters: Any
    ) -> tuple[str, list[Document]]:
        try:
            result, k, _ = self.retriever.search(query, **{n: v for n, v in filters.items() if v is not None})
        except core.InvalidRequestError as exc:
            raise _as_tool_error(exc) from exc
        emit_payment(run_manager, result)
        docs = self.retriever.documents(result, k=k, include_answer=False)
        return search_content(result, docs), docs

    async def _arun(
        self, query: str, run_manager: AsyncCallbackManagerForToolRun | None = None, **filters: Any
    ) -> tuple[str, list[Document]]:
        try:
            result, k, _ = await self.retriever.asearch(query, **{n: v for n, v in filters.items() if v is not None})
        except core.InvalidRequestError as exc:
            raise _as_tool_error(exc) from exc
        await aemit_payment(run_manager, result)
        docs = self.retriever.documents(result, k=k, include_answer=False)
        return search_content(result, docs), docs


class GrokWebSearchTool(_GrokSearchTool):
    """Search the web with Grok; content = answer + sources, artifact = source Documents.

    Example::

        from langchain_grok_mpp import GrokWebSearchRetriever, GrokWebSearchTool
        tool = GrokWebSearchTool(retriever=GrokWebSearchRetriever(k=3, max_tokens=512))
        call = {"name": tool.name, "args": {"query": "Machine Payments Protocol"}, "id": "1", "type": "tool_call"}
        msg = tool.invoke(call)                  # a ToolMessage, as an agent receives it
        print(msg.content)                       # answer, numbered sources, what the search cost
        print([doc.metadata["url"] for doc in msg.artifact])
    """

    name: str = "grok_web_search"
    description: str = (
        "Search the web with Grok and get a cited answer. Input: a search query, optionally"
        " allowed_domains or excluded_domains. Each call costs money."
    )
    args_schema: type[BaseModel] = WebSearchInput
    retriever: _GrokSearchRetriever = Field(default_factory=GrokWebSearchRetriever)
    retriever_type: ClassVar[type[_GrokSearchRetriever]] = GrokWebSearchRetriever


class GrokXSearchTool(_GrokSearchTool):
    """Search X posts with Grok; content = answer + sources, artifact = source Documents.

    Example::

        from langchain_grok_mpp import GrokXSearchRetriever, GrokXSearchTool
        tool = GrokXSearchTool(retriever=GrokXSearchRetriever(k=3, max_tokens=512))
        print(tool.invoke({"query": "Grok API news", "from_date": "2025-01-01"}))   # answer, sources, cost
    """

    name: str = "grok_x_search"
    description: str = (
        "Search recent X (Twitter) posts with Grok and get a cited answer. Input: a search query,"
        " optionally handles to include or exclude and a date range. Each call costs money."
    )
    args_schema: type[BaseModel] = XSearchInput
    retriever: _GrokSearchRetriever = Field(default_factory=GrokXSearchRetriever)
    retriever_type: ClassVar[type[_GrokSearchRetriever]] = GrokXSearchRetriever


# --- images and speech ---------------------------------------------------------------------------------


class ImageGenerationInput(BaseModel):
    prompt: str = Field(description="Description of the image to generate")
    n: int | None = Field(default=None, ge=1, le=10, description="Number of images (default 1)")
    aspect_ratio: AspectRatio | None = Field(default=None, description="e.g. 1:1, 16:9 (21:9 and 5:2 need image 2.0)")
    quality: ImageQuality | None = Field(default=None, description="low or medium (grok-imagine-image-2.0 only)")
    resolution: ImageResolution | None = Field(default=None, description="1k or 2k (grok-imagine-image-2.0 only)")


class ImageEditInput(BaseModel):
    prompt: str = Field(description="How to change the image")
    image: str = Field(description="The image to edit: an https URL or a data:image/...;base64 URI")


class SpeechInput(BaseModel):
    text: str = Field(description="Text to speak (max 15,000 characters)")
    voice_id: Voice | None = Field(default=None, description="eve, ara, rex, sal or leo")
    language: str | None = Field(default=None, description="BCP-47 language such as en or pt-BR")


class _GrokMediaTool(GrokMPPSettings, BaseTool):
    """A tool that pays for one gateway call and returns (description, result object)."""

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True, extra="forbid")

    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    request_type: ClassVar[type[GrokRequest]]

    def _request(self, **fields: Any) -> GrokRequest:
        return self.request_type(**{k: v for k, v in fields.items() if v is not None})

    def _describe(self, result: Any) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def _run(self, run_manager: CallbackManagerForToolRun | None = None, **fields: Any) -> tuple[str, Any]:
        try:
            result = self._paid_call(lambda: self._request(**fields))
        except core.InvalidRequestError as exc:
            raise _as_tool_error(exc) from exc
        emit_payment(run_manager, result, endpoint=self.request_type.endpoint)
        return self._describe(result), result

    async def _arun(self, run_manager: AsyncCallbackManagerForToolRun | None = None, **fields: Any) -> tuple[str, Any]:
        try:
            result = await self._apaid_call(lambda: self._request(**fields))
        except core.InvalidRequestError as exc:
            raise _as_tool_error(exc) from exc
        await aemit_payment(run_manager, result, endpoint=self.request_type.endpoint)
        return self._describe(result), result


class GrokImageGenerationTool(_GrokMediaTool):
    """Generate images (``/grok/image-generate``); artifact: ``ImageResult`` with PNG/JPEG bytes.

    Example::

        from pathlib import Path
        from langchain_grok_mpp import GrokImageGenerationTool
        tool = GrokImageGenerationTool()
        call = {"name": tool.name, "args": {"prompt": "a lighthouse at dusk"}, "id": "1", "type": "tool_call"}
        image = tool.invoke(call).artifact.images[0]     # the ToolMessage's content says what it cost
        Path("lighthouse." + image.mime_type.split("/")[1]).write_bytes(image.data)
    """

    name: str = "grok_image_generation"
    description: str = "Generate an image from a text description with Grok Imagine. Each call costs money."
    args_schema: type[BaseModel] = ImageGenerationInput
    request_type: ClassVar[type[GrokRequest]] = ImageGenerateRequest
    model_name: str = Field(default=DEFAULT_IMAGE_MODEL, alias="model")

    def _request(self, **fields: Any) -> GrokRequest:
        return super()._request(model=self.model_name, **fields)

    def _describe(self, result: ImageResult) -> str:
        return describe_images(result)


class GrokImageEditTool(_GrokMediaTool):
    """Edit an image (``/grok/image-edit``); artifact: ``ImageResult``.

    Example::

        import base64
        from grok_mpp import GrokClient
        from langchain_grok_mpp import GrokImageEditTool
        with GrokClient() as grok:               # any PNG/JPEG of yours works: a data: URI or an https URL
            source = grok.image_generate(prompt="a lighthouse").images[0]
        image = f"data:{source.mime_type};base64,{base64.b64encode(source.data).decode()}"
        print(GrokImageEditTool().invoke({"prompt": "paint the lighthouse red", "image": image}))
    """

    name: str = "grok_image_edit"
    description: str = "Edit an existing image (URL or data URI) following an instruction. Each call costs money."
    args_schema: type[BaseModel] = ImageEditInput
    request_type: ClassVar[type[GrokRequest]] = ImageEditRequest
    model_name: str = Field(default=DEFAULT_IMAGE_MODEL, alias="model")

    def _request(self, **fields: Any) -> GrokRequest:
        return super()._request(model=self.model_name, **fields)

    def _describe(self, result: ImageResult) -> str:
        return describe_images(result, action="Edited")


class GrokTextToSpeechTool(_GrokMediaTool):
    """Text to speech (``/grok/tts``); artifact: ``SpeechResult`` with the audio bytes.

    Example::

        from pathlib import Path
        from langchain_grok_mpp import GrokTextToSpeechTool
        tool = GrokTextToSpeechTool(voice_id="rex")
        call = {"name": tool.name, "args": {"text": "Paid per character."}, "id": "1", "type": "tool_call"}
        speech = tool.invoke(call).artifact      # SpeechResult: audio, mime_type, characters, cost
        Path("speech." + speech.mime_type.split("/")[1]).write_bytes(speech.audio)
    """

    name: str = "grok_text_to_speech"
    description: str = "Turn text into spoken audio with a Grok voice. Each call costs money."
    args_schema: type[BaseModel] = SpeechInput
    request_type: ClassVar[type[GrokRequest]] = TTSRequest
    voice_id: Voice | None = None
    """Default voice when the call does not name one."""

    def _request(self, **fields: Any) -> GrokRequest:
        fields.setdefault("voice_id", None)
        if fields["voice_id"] is None:
            fields["voice_id"] = self.voice_id
        return super()._request(**fields)

    def _describe(self, result: SpeechResult) -> str:
        return describe_speech(result)
