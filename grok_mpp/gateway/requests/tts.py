"""``/grok/tts``: text to speech."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

from pydantic import Field, field_validator, model_validator

from grok_mpp.gateway.requests.base import GrokRequest, _fail

MAX_TTS_CHARS = 15_000
TTS_VOICES: tuple[str, ...] = ("eve", "ara", "rex", "sal", "leo")
Voice = Literal["eve", "ara", "rex", "sal", "leo"]
Codec = Literal["mp3", "wav", "pcm", "mulaw", "ulaw", "alaw"]
#: MP3 bit rates xAI accepts (32k-192k, MP3 only) [locus-2026-12.md §5, X13].
BIT_RATES: tuple[int, ...] = (32_000, 64_000, 96_000, 128_000, 160_000, 192_000)
SampleRate = Literal[8000, 16000, 22050, 24000, 44100, 48000]

_LANGUAGE_RE = re.compile(r"^(?:auto|[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)$")


def tts_output_format_body(codec: str | None, sample_rate: int | None, bit_rate: int | None = None) -> dict[str, Any]:
    """Where codec options go: xAI's nested ``output_format`` (Locus key unverified, grok-api.md §1.6)."""
    fmt: dict[str, Any] = {}
    if codec is not None:
        fmt["codec"] = codec
    if sample_rate is not None:
        fmt["sample_rate"] = sample_rate
    if bit_rate is not None:
        fmt["bit_rate"] = bit_rate
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
    bit_rate: int | None = None
    """MP3 only: one of 32000, 64000, 96000, 128000, 160000, 192000."""

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

    @model_validator(mode="after")
    def _bit_rate(self) -> Self:
        if self.bit_rate is not None:
            if self.bit_rate not in BIT_RATES:
                raise _fail(f"bit_rate must be one of {', '.join(map(str, BIT_RATES))}", field="bit_rate")
            if (self.codec or "mp3") != "mp3":
                raise _fail(f"bit_rate only applies to codec 'mp3', not {self.codec!r}", field="bit_rate")
        return self

    @property
    def characters(self) -> int:
        return len(self.text)

    def _payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"text": self.text, "language": self.language, "voice_id": self.voice_id}
        body.update(tts_output_format_body(self.codec, self.sample_rate, self.bit_rate))
        return body
