"""Images and speech: base64 decoded strictly, MIME types sniffed from the bytes."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import replace
from typing import Any

from grok_mpp.errors import GatewayError
from grok_mpp.gateway.mime import CODEC_MIME, sniff_audio_mime, sniff_image_mime
from grok_mpp.gateway.parsing.coerce import _dict, _list, _opt_int, _str
from grok_mpp.gateway.results import Cost, GeneratedImage, ImageResult, SpeechResult, ticks_to_base_units

_DATA_URI_PREFIX_RE = re.compile(r"^data:[^;,]*(?:;[^,]*)?,")


def _b64decode(value: str, what: str) -> bytes:
    """Strict base64 (standard or URL-safe alphabet, padding optional, data: URI prefix allowed)."""
    text = _DATA_URI_PREFIX_RE.sub("", value.strip(), count=1)
    text = re.sub(r"\s", "", text).replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise GatewayError(f"{what} is not valid base64", body=value[:100]) from None


def _upstream_ticks(data: dict[str, Any]) -> int | None:
    ticks = _opt_int(_dict(data.get("usage")).get("cost_in_usd_ticks"))
    return ticks if ticks is not None and ticks >= 0 else None


def _with_ticks(cost: Cost | None, ticks: int | None) -> Cost:
    if cost is None:
        return Cost.unpaid(ticks_to_base_units(ticks) if ticks is not None else 0, ticks)
    if cost.upstream_ticks is None and ticks is not None:
        return replace(cost, upstream_ticks=ticks)
    return cost


def parse_image(data: dict[str, Any], *, requested_model: str, cost: Cost | None = None) -> ImageResult:
    """Images from ``{"data": [{"b64_json"|"url", "revised_prompt"}], ...}``; b64 decoded, MIME sniffed."""
    images: list[GeneratedImage] = []
    for raw in _list(_dict(data).get("data")):
        item = _dict(raw)
        b64 = _str(item.get("b64_json"))
        blob = _b64decode(b64, "image b64_json") if b64 else None
        images.append(
            GeneratedImage(
                data=blob,
                url=_str(item.get("url")),
                mime_type=sniff_image_mime(blob) if blob else _str(item.get("mime_type")),
                revised_prompt=_str(item.get("revised_prompt")),
            )
        )
    if not images:
        raise GatewayError("image response contains no images", body=data)
    return ImageResult(
        images=tuple(images),
        model=_str(data.get("model")) or requested_model,
        cost=_with_ticks(cost, _upstream_ticks(data)),
        raw=data,
    )


def parse_speech(
    data: dict[str, Any] | str,
    *,
    characters: int,
    codec: str | None = None,
    cost: Cost | None = None,
) -> SpeechResult:
    """Audio from Locus's base64 (``data["data"]``, ``data["audio"]`` or a bare string); MIME sniffed,
    falling back to the requested codec (raw PCM/mulaw/alaw have no magic bytes)."""
    raw: dict[str, Any] = data if isinstance(data, dict) else {"data": data}
    encoded = _str(raw.get("data")) or _str(raw.get("audio")) or _str(raw.get("audio_base64"))
    if not encoded:
        raise GatewayError("speech response contains no base64 audio at data.data", body=raw)
    audio = _b64decode(encoded, "speech audio")
    if not audio:
        raise GatewayError("speech response audio is empty", body=raw)
    mime = sniff_audio_mime(audio) or CODEC_MIME.get((codec or "").lower()) or "application/octet-stream"
    return SpeechResult(
        audio=audio,
        mime_type=mime,
        characters=characters,
        cost=_with_ticks(cost, _upstream_ticks(raw)),
        raw=raw,
    )
