"""The PNG and WAV files are real: decoded here with an independent chunk walker and stdlib ``wave``."""

from __future__ import annotations

import io
import struct
import wave
import zlib

import pytest

from grok_mpp.local import media


def parse_png(data: bytes) -> tuple[dict[str, int], list[bytes]]:
    """Walk the chunks, check every CRC, return IHDR fields and the unfiltered scanlines."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, kind
        chunks.append((kind, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1] == (b"IEND", b"")
    width, height, depth, colour, comp, filt, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = 1 + width * 3
    assert len(raw) == stride * height
    rows = [raw[i * stride : (i + 1) * stride] for i in range(height)]
    ihdr = {"width": width, "height": height, "depth": depth, "colour": colour, "interlace": interlace}
    assert (comp, filt) == (0, 0)
    return ihdr, rows


def test_png_is_valid_and_deterministic() -> None:
    data = media.png_bytes(b"a cat", 64, 64)
    ihdr, rows = parse_png(data)
    assert ihdr == {"width": 64, "height": 64, "depth": 8, "colour": 2, "interlace": 0}
    assert all(row[0] == 0 for row in rows)  # filter type "none"
    assert media.png_bytes(b"a cat", 64, 64) == data
    other = media.png_bytes(b"a dog", 64, 64)
    assert other != data
    # A gradient: neighbouring pixels differ, so the image is not a flat colour.
    first = rows[0][1:]
    assert first[0:3] != first[3:6]


def test_png_respects_size_and_rejects_absurd_sizes() -> None:
    ihdr, _ = parse_png(media.png_bytes(b"x", 64, 36))
    assert (ihdr["width"], ihdr["height"]) == (64, 36)
    with pytest.raises(ValueError):
        media.png_bytes(b"x", 0, 10)


@pytest.mark.parametrize(
    ("ratio", "size"),
    [("1:1", (64, 64)), ("16:9", (64, 36)), ("9:16", (36, 64)), ("auto", (64, 64)), ("x:y", (64, 64))],
)
def test_image_size_from_aspect_ratio(ratio: str, size: tuple[int, int]) -> None:
    assert media.image_size(ratio) == size


def test_wav_parses_with_stdlib_wave_and_scales_with_text() -> None:
    short = media.wav_bytes("Hello there")
    long = media.wav_bytes("Hello there, this sentence is quite a bit longer than the first one.")
    for data in (short, long):
        with wave.open(io.BytesIO(data)) as wav:
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
            frames = wav.readframes(wav.getnframes())
            assert len(frames) == wav.getnframes() * 2
            assert any(frames)  # not silence
    with wave.open(io.BytesIO(short)) as a, wave.open(io.BytesIO(long)) as b:
        assert b.getnframes() > a.getnframes()
        assert a.getnframes() == int(media.speech_seconds("Hello there") * 8000)
    assert media.wav_bytes("Hello there") == short


def test_wav_sample_rates() -> None:
    with wave.open(io.BytesIO(media.wav_bytes("hi", sample_rate=24000))) as wav:
        assert wav.getframerate() == 24000
    with pytest.raises(ValueError):
        media.wav_bytes("hi", sample_rate=12345)


def test_wav_voice_changes_audio() -> None:
    assert media.wav_bytes("same words", voice="eve") != media.wav_bytes("same words", voice="rex")
