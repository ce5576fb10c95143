"""Image generation / edit and text-to-speech: synthetic PNGs and WAV audio with xAI-shaped bodies."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from grok_mpp.gateway.catalog import DEFAULT_IMAGE_MODEL, get_model_info
from grok_mpp.local import media
from grok_mpp.local.responder.common import (
    IMAGE_TICKS,
    MAX_IMAGES,
    MAX_TTS_CHARS,
    TTS_TICKS_PER_CHAR,
    TTS_VOICES,
    BadRequestError,
    _Context,
    _optional_int,
)
from grok_mpp.local.synthesis import (
    SYNTHETIC_MARKER,
)

# --- images and speech -----------------------------------------------------------------------------


def _image_source(body: Mapping[str, Any]) -> str | None:
    for key in ("image", "image_url"):
        value = body.get(key)
        if isinstance(value, Mapping):
            value = value.get("url")
        if isinstance(value, str) and value.strip():
            return value
    images = body.get("images")
    if isinstance(images, list) and images:
        first = images[0]
        first = first.get("url") if isinstance(first, Mapping) else first
        if isinstance(first, str) and first.strip():
            return first
    return None


def _images(ctx: _Context, *, edit: bool) -> dict[str, Any]:
    body = ctx.body
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise BadRequestError("'prompt' is required")
    model = body.get("model") or DEFAULT_IMAGE_MODEL
    if not isinstance(model, str):
        raise BadRequestError("'model' must be a string")
    n = _optional_int(body, "n", low=1, high=MAX_IMAGES) or 1
    response_format = body.get("response_format") or "url"
    if response_format not in ("url", "b64_json"):
        raise BadRequestError("response_format must be 'url' or 'b64_json'")
    source = _image_source(body) if edit else None
    if edit and source is None:
        raise BadRequestError("image-edit needs a source image ('image', 'image_url' or 'images')")
    aspect = body.get("aspect_ratio")
    width, height = media.image_size(aspect if isinstance(aspect, str) else None)
    data: list[dict[str, Any]] = []
    for index in range(n):
        seed = ctx.digest + f"image-{index}".encode()
        encoded = base64.b64encode(media.png_bytes(seed, width, height)).decode("ascii")
        item: dict[str, Any] = (
            {"b64_json": encoded}
            if response_format == "b64_json"
            else {"url": f"data:{media.PNG_MIME};base64,{encoded}"}
        )
        verb = "edit of the source image" if edit else "gradient image"
        item["revised_prompt"] = f"{SYNTHETIC_MARKER}A {width}x{height} {verb} for: {prompt}"
        data.append(item)
    served = get_model_info(model).served_as
    per_image = IMAGE_TICKS.get(served, IMAGE_TICKS[DEFAULT_IMAGE_MODEL])
    # Edits are billed for the input image too (docs.x.ai images page).
    billed = n + (1 if edit else 0)
    return {"created": ctx.created, "model": model, "data": data, "usage": {"cost_in_usd_ticks": per_image * billed}}


def _tts(ctx: _Context) -> dict[str, Any]:
    body = ctx.body
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequestError("'text' is required")
    if len(text) > MAX_TTS_CHARS:
        raise BadRequestError(f"'text' is limited to {MAX_TTS_CHARS} characters")
    voice = body.get("voice_id", body.get("voice")) or "eve"
    if not isinstance(voice, str) or voice.lower() not in TTS_VOICES:
        raise BadRequestError(f"voice must be one of {', '.join(sorted(TTS_VOICES))}")
    output_format = body.get("output_format")
    sample_rate = media.DEFAULT_SAMPLE_RATE
    if isinstance(output_format, Mapping) and output_format.get("sample_rate") is not None:
        sample_rate = output_format["sample_rate"]
        if sample_rate not in media.TTS_SAMPLE_RATES:
            raise BadRequestError(f"sample_rate must be one of {sorted(media.TTS_SAMPLE_RATES)}")
    # Whatever codec was asked for, the fake returns WAV and says so in content_type; clients
    # must trust the label (or sniff), not assume the requested codec.
    audio = media.wav_bytes(text, sample_rate=sample_rate, voice=voice)
    return {
        "data": base64.b64encode(audio).decode("ascii"),
        "content_type": media.WAV_MIME,
        "characters": len(text),
        "voice_id": voice.lower(),
        "language": body.get("language") or "auto",
        "sample_rate": sample_rate,
        "duration_seconds": round(media.speech_seconds(text), 3),
        "usage": {"cost_in_usd_ticks": len(text) * TTS_TICKS_PER_CHAR},
    }
