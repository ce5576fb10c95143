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

Layout (one module per route family; every public name is re-exported here):

* :mod:`.base`: :class:`GrokRequest`, error reporting, serialization;
* :mod:`.messages`: message parts, function tools, tool choice, response formats;
* :mod:`.chat`: ``/grok/chat`` and the chat-like base;
* :mod:`.server_tools`: code execution, web and X search, and the search-filter body;
* :mod:`.images`: image generation and edits;
* :mod:`.tts`: text to speech.
"""

from __future__ import annotations

from grok_mpp.gateway.requests.base import GrokRequest, _fail, _invalid, _serialize, _Strict
from grok_mpp.gateway.requests.chat import ChatRequest, _ChatLike
from grok_mpp.gateway.requests.images import (
    IMAGE_ASPECT_RATIOS,
    MAX_EDIT_SOURCES,
    MAX_IMAGES,
    V2_ASPECT_RATIOS,
    AspectRatio,
    ImageEditRequest,
    ImageGenerateRequest,
    ImageQuality,
    ImageResolution,
    ImageResponseFormat,
    image_edit_source_body,
)
from grok_mpp.gateway.requests.messages import (
    AssistantToolCall,
    ContentPart,
    FunctionCall,
    FunctionDefinition,
    FunctionTool,
    ImagePart,
    ImageURL,
    JsonSchemaFormat,
    Message,
    NamedFunction,
    NamedToolChoice,
    ResponseFormat,
    TextPart,
    ToolChoice,
)
from grok_mpp.gateway.requests.server_tools import (
    MAX_SEARCH_DOMAINS,
    MAX_X_HANDLES,
    SEARCH_FILTER_KEY,
    CodeExecutionRequest,
    WebSearchRequest,
    XSearchRequest,
    _ServerToolRequest,
    search_filters_body,
)
from grok_mpp.gateway.requests.tts import (
    BIT_RATES,
    MAX_TTS_CHARS,
    TTS_VOICES,
    Codec,
    SampleRate,
    TTSRequest,
    Voice,
    tts_output_format_body,
)

__all__ = [
    "BIT_RATES",
    "IMAGE_ASPECT_RATIOS",
    "MAX_EDIT_SOURCES",
    "MAX_IMAGES",
    "MAX_SEARCH_DOMAINS",
    "MAX_TTS_CHARS",
    "MAX_X_HANDLES",
    "REQUEST_TYPES",
    "SEARCH_FILTER_KEY",
    "TTS_VOICES",
    "V2_ASPECT_RATIOS",
    "AnyRequest",
    "AspectRatio",
    "AssistantToolCall",
    "ChatRequest",
    "CodeExecutionRequest",
    "Codec",
    "ContentPart",
    "FunctionCall",
    "FunctionDefinition",
    "FunctionTool",
    "GrokRequest",
    "ImageEditRequest",
    "ImageGenerateRequest",
    "ImagePart",
    "ImageQuality",
    "ImageResolution",
    "ImageResponseFormat",
    "ImageURL",
    "JsonSchemaFormat",
    "Message",
    "NamedFunction",
    "NamedToolChoice",
    "ResponseFormat",
    "SampleRate",
    "TTSRequest",
    "TextPart",
    "ToolChoice",
    "Voice",
    "WebSearchRequest",
    "XSearchRequest",
    "_ChatLike",
    "_ServerToolRequest",
    "_Strict",
    "_fail",
    "_invalid",
    "_serialize",
    "image_edit_source_body",
    "search_filters_body",
    "tts_output_format_body",
]

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
