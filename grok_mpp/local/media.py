"""Real, tiny media files for the local gateway: PNG images and WAV speech stand-ins (stdlib only).

Why real files: adapters and notebooks sniff magic bytes, decode images and play audio. A fake that
returned random bytes would let MIME detection and decoding bugs slip through; these files are valid
enough for PIL, browsers and the stdlib ``wave`` module while staying a few kilobytes.

Both generators are pure and deterministic: the same seed and text give the same bytes.
"""

from __future__ import annotations

import hashlib
import math
import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WAV_MIME = "audio/wav"
PNG_MIME = "image/png"

#: Sample rates xAI TTS accepts (grok-api.md §3.5); anything else falls back to 8 kHz.
TTS_SAMPLE_RATES: frozenset[int] = frozenset({8000, 16000, 22050, 24000, 44100, 48000})
DEFAULT_SAMPLE_RATE = 8000

_SECONDS_PER_CHAR = 0.05
_MIN_SECONDS = 0.25
_MAX_SECONDS = 10.0
_MAX_SIDE = 512


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_bytes(seed: bytes, width: int = 64, height: int = 64) -> bytes:
    """An 8-bit RGB PNG showing a gradient whose colours derive from ``seed``.

    Rows use filter type 0 (none); the IDAT stream is one zlib block, as the PNG spec allows.
    """
    if not (1 <= width <= _MAX_SIDE and 1 <= height <= _MAX_SIDE):
        raise ValueError(f"image side must be within 1..{_MAX_SIDE}")
    digest = hashlib.sha256(seed).digest()
    base_r, base_g, base_b, step_x, step_y = digest[0], digest[1], digest[2], 1 + digest[3] % 7, 1 + digest[4] % 7
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows += bytes(
                (
                    (base_r + x * step_x) & 0xFF,
                    (base_g + y * step_y) & 0xFF,
                    (base_b + (x + y) * 2) & 0xFF,
                )
            )
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # depth 8, colour type 2 (RGB)
    return (
        PNG_SIGNATURE
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _png_chunk(b"IEND", b"")
    )


def image_size(aspect_ratio: str | None, base: int = 64) -> tuple[int, int]:
    """Width and height for an xAI ``aspect_ratio`` such as ``16:9``; ``auto``/unknown -> square."""
    if not aspect_ratio or ":" not in aspect_ratio:
        return base, base
    try:
        w_text, h_text = aspect_ratio.split(":", 1)
        w, h = float(w_text), float(h_text)
    except ValueError:
        return base, base
    if w <= 0 or h <= 0 or not math.isfinite(w / h):
        return base, base
    if w >= h:
        return base, max(8, round(base * h / w))
    return max(8, round(base * w / h)), base


def speech_seconds(text: str) -> float:
    """Clip length grows with the text (about 50 ms per character), bounded to keep bodies small."""
    return min(_MAX_SECONDS, max(_MIN_SECONDS, len(text) * _SECONDS_PER_CHAR))


def wav_bytes(text: str, *, sample_rate: int = DEFAULT_SAMPLE_RATE, voice: str = "eve") -> bytes:
    """16-bit PCM mono WAV: one short tone per word (pitch from the word and voice), gaps between.

    Written with ``struct`` rather than the ``wave`` module so tests can parse it with ``wave`` as
    an independent reader.
    """
    if sample_rate not in TTS_SAMPLE_RATES:
        raise ValueError(f"unsupported sample rate {sample_rate}")
    total = int(speech_seconds(text) * sample_rate)
    words = (text.split() or [text or " "])[: max(1, total)]
    per_word = max(1, total // len(words))
    gap = per_word // 5
    voice_offset = int.from_bytes(hashlib.sha256(voice.lower().encode()).digest()[:2], "big") % 120
    frames = bytearray()
    index = 0
    for word_index, word in enumerate(words):
        length = per_word if word_index < len(words) - 1 else total - per_word * (len(words) - 1)
        voiced = max(0, length - gap)
        freq = 180 + voice_offset + hashlib.sha256(word.encode()).digest()[0] * 2
        for position in range(length):
            if position >= voiced:
                sample = 0
            else:
                # Short linear fade in/out avoids clicks at word boundaries.
                ramp = min(1.0, position / 80, (voiced - position) / 80)
                sample = int(9000 * ramp * math.sin(2 * math.pi * freq * index / sample_rate))
            frames += struct.pack("<h", sample)
            index += 1
    data = bytes(frames)
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16)
    return header + fmt + b"data" + struct.pack("<I", len(data)) + data
