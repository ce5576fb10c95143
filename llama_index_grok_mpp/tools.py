"""``GrokMPPToolSpec``: paid Grok capabilities as LlamaIndex agent tools.

``to_tool_list()`` gives four tools, each with a real async implementation (agents run on an event
loop): ``web_search`` and ``x_search`` return one ``Document`` per cited source (title, URL and the
cited passage in the text, so the agent's model can quote and link them); ``generate_image`` and
``text_to_speech`` cannot hand bytes to a language model, so they save the media under
``output_dir`` and return a short description with the file paths and what the call cost.
"""

from __future__ import annotations

import mimetypes
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llama_index.core.schema import Document
from llama_index.core.tools.tool_spec.base import BaseToolSpec

from grok_mpp.bridge.clients import CLIENT_SETTINGS, check_client_settings
from grok_mpp.bridge.describe import describe_images, describe_speech
from grok_mpp.bridge.search import search_sources
from grok_mpp.gateway.requests import ImageGenerateRequest, TTSRequest, WebSearchRequest, XSearchRequest
from grok_mpp.gateway.results import ChatResult, ImageResult, SpeechResult
from llama_index_grok_mpp._paid import asend, build_clients, send
from llama_index_grok_mpp.retrievers import PROVIDERS, SearchRequest, search_request

_EXTENSIONS = {"audio/mpeg": ".mp3", "audio/wav": ".wav", "audio/x-wav": ".wav", "image/jpeg": ".jpg"}


def _extension(mime: str | None) -> str:
    if not mime:
        return ".bin"
    return _EXTENSIONS.get(mime) or mimetypes.guess_extension(mime) or ".bin"


class GrokMPPToolSpec(BaseToolSpec):
    """Web search, X search, image generation and text-to-speech, each one paid call.

    Search filters (``web_filters={"allowed_domains": [...]}``, ``x_filters={"allowed_x_handles":
    [...], "from_date": "YYYY-MM-DD"}``) are set by the application, not left for the agent's model
    to invent, and validated here. ``output_dir`` is where images and audio are written (a fresh temporary directory by default).
    Payment settings (``max_price_usd``, ``budget_usd``, ``base_url`` ...) and the key work as for
    :class:`~llama_index_grok_mpp.GrokMPP`.

    Example::

        from llama_index_grok_mpp import GrokMPPToolSpec
        spec = GrokMPPToolSpec(web_filters={"allowed_domains": ["docs.tempo.xyz"]}, output_dir="grok-media")
        tools = spec.to_tool_list()              # give these to a FunctionAgent or ReActAgent
        print([tool.metadata.name for tool in tools])
        print(spec.text_to_speech("Paid per character."))   # what it cost and where the audio was saved
    """

    spec_functions: list[Any] = [
        ("web_search", "aweb_search"),
        ("x_search", "ax_search"),
        ("generate_image", "agenerate_image"),
        ("text_to_speech", "atext_to_speech"),
    ]

    def __init__(
        self,
        *,
        search_model: str | None = None,
        image_model: str | None = None,
        web_filters: Mapping[str, Any] | None = None,
        x_filters: Mapping[str, Any] | None = None,
        output_dir: str | Path | None = None,
        max_retries: int = 2,
        private_key: Any = None,
        wallet: Any = None,
        client: Any = None,
        async_client: Any = None,
        **settings: Any,
    ) -> None:
        unknown = sorted(set(settings) - set(CLIENT_SETTINGS))
        if unknown:
            raise TypeError(f"unknown arguments {unknown}")
        check_client_settings(**settings)  # bad URL, amount or timeout: fail now, not at the first call
        self.search_model = search_model
        self.image_model = image_model
        self.web_filters = dict(web_filters or {})
        self.x_filters = dict(x_filters or {})
        # filters are chosen by the application, not the agent: validate them now, before any call
        search_request(WebSearchRequest, "validate", model=search_model, filters=self.web_filters)
        search_request(XSearchRequest, "validate", model=search_model, filters=self.x_filters)
        self.max_retries = max_retries
        self._output_dir = Path(output_dir) if output_dir is not None else None
        self._clients = build_clients(
            private_key=private_key, wallet=wallet, client=client, async_client=async_client, **settings
        )

    def __repr__(self) -> str:
        return f"GrokMPPToolSpec(search_model={self.search_model!r}, image_model={self.image_model!r})"

    @property
    def output_dir(self) -> Path:
        if self._output_dir is None:
            self._output_dir = Path(tempfile.mkdtemp(prefix="grok-mpp-"))
        self._output_dir.mkdir(parents=True, exist_ok=True)
        return self._output_dir

    # -- plumbing --------------------------------------------------------------------------------
    def _send(self, request: Any) -> Any:
        return send(self._clients, request, max_retries=self.max_retries, component="GrokMPPToolSpec")

    async def _asend(self, request: Any) -> Any:
        return await asend(self._clients, request, max_retries=self.max_retries, component="GrokMPPToolSpec")

    def _search_request(self, kind: type[SearchRequest], query: str) -> SearchRequest:
        filters = self.web_filters if kind is WebSearchRequest else self.x_filters
        return search_request(kind, query, model=self.search_model, filters=filters)

    @staticmethod
    def _documents(result: ChatResult, kind: type[SearchRequest], max_results: int) -> list[Document]:
        docs = []
        for source in search_sources(result, provider=PROVIDERS[kind], k=max(1, max_results)):
            text = f"{source.title or source.url}\n{source.url}\n{source.text}"
            docs.append(Document(text=text, metadata=source.metadata(result)))
        if not docs:
            docs.append(Document(text=result.text, metadata={"source": "grok", "provider": PROVIDERS[kind]}))
        return docs

    def _image_request(self, prompt: str, n: int, aspect_ratio: str | None) -> ImageGenerateRequest:
        fields: dict[str, Any] = {"prompt": prompt, "n": n}
        if aspect_ratio:
            fields["aspect_ratio"] = aspect_ratio
        if self.image_model:
            fields["model"] = self.image_model
        return ImageGenerateRequest(**fields)

    def _save_images(self, result: ImageResult) -> str:
        lines = [describe_images(result)]
        stem = (result.cost.tx_hash or "unpaid")[2:12]
        for i, image in enumerate(result.images, 1):
            if image.data:
                path = self.output_dir / f"grok-image-{stem}-{i}{_extension(image.mime_type)}"
                path.write_bytes(image.data)
                lines.append(f"Image {i} saved to {path}")
        return "\n".join(lines)

    def _save_speech(self, result: SpeechResult) -> str:
        stem = (result.cost.tx_hash or "unpaid")[2:12]
        path = self.output_dir / f"grok-speech-{stem}{_extension(result.mime_type)}"
        path.write_bytes(result.audio)
        return f"{describe_speech(result)}\nAudio saved to {path}"

    # -- tools (docstrings are what the agent's model reads) ------------------------------------
    def _search(self, kind: type[SearchRequest], query: str, max_results: int) -> list[Document]:
        return self._documents(self._send(self._search_request(kind, query)), kind, max_results)

    async def _asearch(self, kind: type[SearchRequest], query: str, max_results: int) -> list[Document]:
        return self._documents(await self._asend(self._search_request(kind, query)), kind, max_results)

    def web_search(self, query: str, max_results: int = 5) -> list[Document]:
        """Search the web (paid per call). Returns cited sources: title, URL and the passage citing it."""
        return self._search(WebSearchRequest, query, max_results)

    async def aweb_search(self, query: str, max_results: int = 5) -> list[Document]:
        """Search the web (paid per call). Returns cited sources: title, URL and the passage citing it."""
        return await self._asearch(WebSearchRequest, query, max_results)

    def x_search(self, query: str, max_results: int = 5) -> list[Document]:
        """Search posts on X (paid per call). Returns cited posts: author, URL and the passage citing it."""
        return self._search(XSearchRequest, query, max_results)

    async def ax_search(self, query: str, max_results: int = 5) -> list[Document]:
        """Search posts on X (paid per call). Returns cited posts: author, URL and the passage citing it."""
        return await self._asearch(XSearchRequest, query, max_results)

    def generate_image(self, prompt: str, n: int = 1, aspect_ratio: str | None = None) -> str:
        """Generate n images from a text prompt (paid per image). Returns where the files were saved.
        aspect_ratio: optional, e.g. "1:1", "16:9", "9:16"."""
        return self._save_images(self._send(self._image_request(prompt, n, aspect_ratio)))

    async def agenerate_image(self, prompt: str, n: int = 1, aspect_ratio: str | None = None) -> str:
        """Generate n images from a text prompt (paid per image). Returns where the files were saved.
        aspect_ratio: optional, e.g. "1:1", "16:9", "9:16"."""
        return self._save_images(await self._asend(self._image_request(prompt, n, aspect_ratio)))

    def text_to_speech(self, text: str, voice: str = "eve", language: str = "en") -> str:
        """Speak text aloud (paid per character). Returns where the audio file was saved.
        voice: eve, ara, rex, sal or leo; language: BCP-47 code such as "en"."""
        return self._save_speech(self._send(TTSRequest(text=text, voice_id=voice, language=language)))

    async def atext_to_speech(self, text: str, voice: str = "eve", language: str = "en") -> str:
        """Speak text aloud (paid per character). Returns where the audio file was saved.
        voice: eve, ara, rex, sal or leo; language: BCP-47 code such as "en"."""
        return self._save_speech(await self._asend(TTSRequest(text=text, voice_id=voice, language=language)))
