"""Per-model facts for the Grok models sold behind the Locus gateway.

Why a table and not a live lookup: every rule here is applied BEFORE a request is paid for. A request
that xAI would reject with HTTP 400 still costs money through Locus (the 402 is settled first), so
the request builders consult this table to drop or refuse parameters locally.

Facts come from /work/shared/reference/grok-api.md §3 (docs.x.ai model pages, models.dev, observed
Locus traffic; corpus snapshot around 2026-10). Two things make the table unusual:

* **Redirects.** xAI retired grok-3, grok-3-mini, grok-4-0709, grok-4-1-fast-*, grok-code-fast-1 and
  grok-imagine-image-pro on 2026-05-15; their slugs are now served by ``grok-4.3`` (images: by
  ``grok-imagine-image-quality``) and billed at the served model's rates. ``served_as`` records that,
  and pricing always goes through it. Locus still advertises the old names, so they stay valid input.
* **Parameter rejections.** Current models reject ``presence_penalty``/``frequency_penalty`` (dropped
  everywhere by the request layer) and reasoning models reject ``stop`` (``rejects_stop``). Because a
  retired slug is served by a reasoning model, ``stop`` is dropped for every redirected slug; only
  ``grok-4.20-0309-non-reasoning`` is known to accept it.

Unknown slugs get a permissive fallback (see :func:`get_model_info`): xAI ships models faster than
this table changes, and refusing a new model locally would be worse than letting xAI judge it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

ModelKind = Literal["chat", "image", "tts"]

#: Default model per endpoint family (grok-api.md §5.1). grok-3-mini is the model observed working
#: through Locus; grok-4-1-fast-reasoning is the first Locus-listed Grok-4-family slug.
DEFAULT_CHAT_MODEL = "grok-3-mini"
DEFAULT_SEARCH_MODEL = "grok-4-1-fast-reasoning"
DEFAULT_CODE_EXECUTION_MODEL = "grok-4-1-fast-reasoning"
DEFAULT_IMAGE_MODEL = "grok-imagine-image"
#: TTS has no model field on the wire; this pseudo slug only keys the pricing table and estimates.
TTS_MODEL = "grok-tts"

ALL_EFFORT_LEVELS: tuple[str, ...] = ("none", "low", "medium", "high", "xhigh")


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What we know about one model slug.

    ``reasoning_effort_levels`` empty means the model rejects ``reasoning_effort`` outright.
    ``grok4_family`` means Locus accepts the model on the search and code-execution endpoints.
    ``known`` is False for the fallback built for an unrecognised slug.
    """

    name: str
    context_window: int
    max_output_tokens: int
    reasoning: bool
    image_input: bool
    reasoning_effort_levels: tuple[str, ...]
    served_as: str
    grok4_family: bool
    rejects_stop: bool
    kind: ModelKind = "chat"
    retired: bool = False
    known: bool = True
    default_reasoning_effort: str | None = None

    @property
    def redirected(self) -> bool:
        """True when xAI serves (and bills) this slug as another model."""
        return self.served_as != self.name


def _chat(
    name: str,
    context_window: int,
    max_output_tokens: int,
    *,
    reasoning: bool,
    image_input: bool,
    effort: tuple[str, ...] = (),
    served_as: str | None = None,
    grok4_family: bool = False,
    rejects_stop: bool = True,
    default_effort: str | None = None,
) -> ModelInfo:
    return ModelInfo(
        name=name,
        context_window=context_window,
        max_output_tokens=max_output_tokens,
        reasoning=reasoning,
        image_input=image_input,
        reasoning_effort_levels=effort,
        served_as=served_as or name,
        grok4_family=grok4_family,
        rejects_stop=rejects_stop,
        kind="chat",
        retired=served_as is not None and served_as != name,
        default_reasoning_effort=default_effort,
    )


def _image(name: str, served_as: str | None = None) -> ModelInfo:
    return ModelInfo(
        name=name,
        context_window=0,
        max_output_tokens=0,
        reasoning=False,
        image_input=True,
        reasoning_effort_levels=(),
        served_as=served_as or name,
        grok4_family=False,
        rejects_stop=False,
        kind="image",
        retired=served_as is not None and served_as != name,
    )


_G43 = "grok-4.3"

_MODELS: tuple[ModelInfo, ...] = (
    # Retired 2026-05-15; served as grok-4.3 (reasoning slugs at effort low, others at effort none).
    _chat("grok-3", 131_072, 8_192, reasoning=False, image_input=False, served_as=_G43),
    _chat(
        "grok-3-mini",
        131_072,
        8_192,
        reasoning=True,
        image_input=False,
        effort=("low", "high"),
        served_as=_G43,
        default_effort="low",
    ),
    _chat(
        "grok-4-0709",
        256_000,
        64_000,
        reasoning=True,
        image_input=True,
        served_as=_G43,
        grok4_family=True,
        default_effort="low",
    ),
    _chat(
        "grok-4-1-fast-reasoning",
        2_000_000,
        30_000,
        reasoning=True,
        image_input=True,
        served_as=_G43,
        grok4_family=True,
        default_effort="low",
    ),
    _chat(
        "grok-4-1-fast-non-reasoning",
        2_000_000,
        30_000,
        reasoning=False,
        image_input=True,
        served_as=_G43,
        grok4_family=True,
    ),
    _chat(
        "grok-code-fast-1",
        256_000,
        10_000,
        reasoning=True,
        image_input=False,
        served_as=_G43,
        default_effort="low",
    ),
    # Current models.
    _chat(
        "grok-4.3",
        1_000_000,
        30_000,
        reasoning=True,
        image_input=True,
        effort=("none", "low", "medium", "high"),
        grok4_family=True,
        default_effort="low",
    ),
    _chat(
        "grok-4.20-0309-reasoning",
        1_000_000,
        30_000,
        reasoning=True,
        image_input=True,
        grok4_family=True,
        default_effort="low",
    ),
    _chat(
        "grok-4.20-0309-non-reasoning",
        1_000_000,
        30_000,
        reasoning=False,
        image_input=True,
        grok4_family=True,
        rejects_stop=False,
    ),
    # Max output is not published for grok-build-0.1 / grok-4.5; 30k mirrors the other current models.
    _chat("grok-build-0.1", 256_000, 30_000, reasoning=True, image_input=True, default_effort="low"),
    _chat(
        "grok-4.5",
        500_000,
        30_000,
        reasoning=True,
        image_input=True,
        effort=("low", "medium", "high"),
        grok4_family=True,
        default_effort="high",
    ),
    _image("grok-imagine-image"),
    _image("grok-imagine-image-quality"),
    _image("grok-imagine-image-pro", served_as="grok-imagine-image-quality"),
    ModelInfo(
        name=TTS_MODEL,
        context_window=0,
        max_output_tokens=0,
        reasoning=False,
        image_input=False,
        reasoning_effort_levels=(),
        served_as=TTS_MODEL,
        grok4_family=False,
        rejects_stop=False,
        kind="tts",
    ),
)

MODELS: dict[str, ModelInfo] = {m.name: m for m in _MODELS}

#: Alternative spellings xAI accepts for the same model.
ALIASES: dict[str, str] = {
    "grok-4": "grok-4-0709",
    "grok-4.20-reasoning": "grok-4.20-0309-reasoning",
    "grok-4.20-non-reasoning": "grok-4.20-0309-non-reasoning",
}

#: Grok-4-family slugs Locus documents for /grok/web-search, /grok/x-search and /grok/code-execution.
#: Newer Grok-4-family models (grok-4.3, grok-4.20, grok-4.5) are allowed too but untested via Locus.
LOCUS_GROK4_MODELS: tuple[str, ...] = (
    "grok-4-0709",
    "grok-4-1-fast-reasoning",
    "grok-4-1-fast-non-reasoning",
)


def canonical_name(name: str) -> str:
    """Resolve an alias (``grok-4`` -> ``grok-4-0709``); other names come back stripped, as given."""
    key = name.strip()
    return ALIASES.get(key.lower(), ALIASES.get(key, key))


def get_model_info(name: str) -> ModelInfo:
    """Facts for ``name``; never raises.

    Unknown slugs get a permissive fallback so new xAI models work without a release:

    * ``grok-imagine*`` / ``*image*``: an image model served as itself;
    * anything else: a chat model assumed to reason (so ``stop`` is dropped, which is the safe side),
      Grok-4-family-like (allowed on search/code endpoints), image-capable, accepting every effort
      level (xAI validates), with a conservative 256k context / 30k output. ``known`` is False.
    """
    key = canonical_name(name)
    info = MODELS.get(key) or MODELS.get(key.lower())
    if info is not None:
        return info
    lowered = key.lower()
    if "imagine" in lowered or "image" in lowered:
        return replace(_image(key), known=False)
    return ModelInfo(
        name=key,
        context_window=256_000,
        max_output_tokens=30_000,
        reasoning=True,
        image_input=True,
        reasoning_effort_levels=ALL_EFFORT_LEVELS,
        served_as=key,
        grok4_family=True,
        rejects_stop=True,
        kind="chat",
        known=False,
    )


def grok4_family_models() -> tuple[str, ...]:
    """Known slugs allowed on the search and code-execution endpoints (for error messages)."""
    return tuple(m.name for m in _MODELS if m.grok4_family)


def models_of_kind(kind: ModelKind) -> tuple[str, ...]:
    return tuple(m.name for m in _MODELS if m.kind == kind)
