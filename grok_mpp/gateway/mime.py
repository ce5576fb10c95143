"""Media types from magic bytes (pure, dependency-free).

Its own module because both ends need it: request building (raw image bytes -> a ``data:`` URI for
an edit) and response parsing (decoded images and audio). Keeping it below both is what lets
``requests`` -> ``parsing`` never point back up.
"""

from __future__ import annotations

#: MIME type per TTS codec, for raw formats that carry no magic bytes.
CODEC_MIME: dict[str, str] = {
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "pcm": "audio/L16",
    "mulaw": "audio/basic",
    "ulaw": "audio/basic",
    "alaw": "audio/x-alaw-basic",
}


def sniff_image_mime(data: bytes) -> str | None:
    """MIME type from magic bytes; xAI has returned JPEG whatever format was asked for."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    return None


def sniff_audio_mime(data: bytes) -> str | None:
    if data.startswith(b"ID3") or (len(data) >= 2 and data[0] == 0xFF and (data[1] & 0xE0) == 0xE0):
        return "audio/mpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data.startswith(b"OggS"):
        return "audio/ogg"
    return None
