"""One-line descriptions of paid results, for tool outputs an agent's model reads.

A tool that returns image or audio bytes cannot hand those bytes to the calling model; it returns
a short text (what was made, how big, what it cost) and keeps the bytes as an artifact. The
wording lives here so both frameworks' tools say the same thing.
"""

from __future__ import annotations

from grok_mpp.gateway.results import Cost, ImageResult, SpeechResult
from grok_mpp.units import format_usd


def cost_phrase(cost: Cost) -> str:
    """``"paid 0.020000 USD"``, or the estimate when nothing was paid."""
    if cost.paid is not None:
        return f"paid {format_usd(cost.paid)} USD"
    return f"estimated {format_usd(cost.estimated)} USD, not paid"


def describe_images(result: ImageResult, *, action: str = "Generated") -> str:
    count = len(result.images)
    noun = "image" if count == 1 else "images"
    parts = [f"{action} {count} {noun} with {result.model} ({cost_phrase(result.cost)})."]
    for i, image in enumerate(result.images, 1):
        where = image.url or (f"{len(image.data)} bytes {image.mime_type or ''}".strip() if image.data else "no data")
        line = f"Image {i}: {where}"
        if image.revised_prompt:
            line += f"; revised prompt: {image.revised_prompt}"
        parts.append(line)
    return "\n".join(parts)


def describe_speech(result: SpeechResult) -> str:
    return (
        f"Synthesized {result.characters} characters of speech as {result.mime_type}"
        f" ({len(result.audio)} bytes; {cost_phrase(result.cost)})."
    )
