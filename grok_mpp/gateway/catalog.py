"""Per-model facts for the Grok models sold behind the Locus gateway.

Why a table and not a live lookup: every rule here is applied BEFORE a request is paid for. A request
that xAI would reject with HTTP 400 still costs money through Locus (the 402 is settled first), so
the request builders consult this table to drop or refuse parameters locally.

Facts come from docs.x.ai model pages, models.dev, xai-sdk and observed Locus traffic (checked
2026-10, updated 2026-12; see docs/SOURCES.md). Two things make the table unusual:

* **Redirects.** xAI retired grok-3, grok-3-mini, grok-4-0709, grok-4-1-fast-*, grok-code-fast-1 and
  grok-imagine-image-pro on 2026-05-15; their slugs are now served by ``grok-4.3`` (images: by
  ``grok-imagine-image-quality``) and billed at the served model's rates. ``served_as`` records that,
  and pricing always goes through it. Locus still advertises the old names, so they stay valid input.
* **Parameter rejections.** Current models reject ``presence_penalty``/``frequency_penalty`` (dropped
  everywhere by the request layer) and reasoning models reject ``stop`` (``rejects_stop``). Because a
  retired slug is served by a reasoning model, ``stop`` is dropped for every redirected slug; only
  ``grok-4.20-0309-non-reasoning`` is known to accept it.

Unknown slugs (``gpt-4o``, ``grok-99``) are refused by the request layer before anything is paid,
unless the caller opts in (``allow_unknown_model=True`` on a request, ``allow_unknown_models=True``
on the framework models): a typo must not become a paid HTTP 400. :func:`get_model_info` still
returns a fallback for them, marked ``known=False`` and with ``context_window=0`` (unknown, never an
invented figure).

**Sources and dates.** Every row names where its facts come from (``source``) and when they were
last checked (``as_of``); the tags (X1..X20, L5) resolve in ``docs/SOURCES.md``.

**Withdrawn slugs.** A third-party notice (2026-11-27, [X7]) says ``grok-build-0.1`` reached end of
life on 2026-11-19 and that ``grok-code-fast-1`` had been redirected to it; xAI's own May-15 page
[X8] maps ``grok-code-fast-1`` to ``grok-4.3``. The conflict is unresolved, and either way a call
may be a paid failure, so both are ``withdrawn``: refused before paying unless the caller opts in
exactly as for an unknown model.
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
    #: Why the slug is refused by default although it is in the table (``None``: usable).
    withdrawn: str | None = None
    #: Where the row's facts come from and when they were checked (see the module docstring).
    source: str = ""
    as_of: str = ""
    #: Image models only: accepts ``quality``/``resolution``, the 2.0 aspect ratios and several edit sources.
    image_v2: bool = False

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
    source: str,
    as_of: str,
    withdrawn: str | None = None,
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
        source=source,
        as_of=as_of,
        withdrawn=withdrawn,
    )


def _image(name: str, served_as: str | None = None, *, source: str, as_of: str, v2: bool = False) -> ModelInfo:
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
        source=source,
        as_of=as_of,
        image_v2=v2,
    )


_G43 = "grok-4.3"
_IMG2 = "grok-imagine-image-2.0"
_MAY15 = "xAI May-15 retirement notice [X8]; Locus traffic 2026-06 [L5]"
_WITHDRAWN = (
    "reported end of life on 2026-11-19 by a third party [X7], while xAI's own notice [X8] says"
    " grok-code-fast-1 is served as grok-4.3; unresolved, so a call may be a paid failure"
)

_MODELS: tuple[ModelInfo, ...] = (
    # Retired 2026-05-15; served as grok-4.3 (reasoning slugs at effort low, others at effort none).
    _chat("grok-3", 131_072, 8_192, reasoning=False, image_input=False, served_as=_G43, source=_MAY15, as_of="2026-12"),
    _chat(
        "grok-3-mini",
        131_072,
        8_192,
        reasoning=True,
        image_input=False,
        effort=("low", "high"),
        served_as=_G43,
        default_effort="low",
        source=_MAY15,
        as_of="2026-12",
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
        source=_MAY15,
        as_of="2026-12",
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
        source=_MAY15,
        as_of="2026-12",
    ),
    _chat(
        "grok-4-1-fast-non-reasoning",
        2_000_000,
        30_000,
        reasoning=False,
        image_input=True,
        served_as=_G43,
        grok4_family=True,
        source=_MAY15,
        as_of="2026-12",
    ),
    _chat(
        "grok-code-fast-1",
        256_000,
        10_000,
        reasoning=True,
        image_input=False,
        served_as=_G43,
        default_effort="low",
        source="[X8] (served as grok-4.3) vs [X7] (not served since 2026-11-19)",
        as_of="2026-12",
        withdrawn=_WITHDRAWN,
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
        source="models.dev grok-4.3 [X4b]; grok-api.md §3.1",
        as_of="2026-12",
    ),
    _chat(
        "grok-4.20-0309-reasoning",
        1_000_000,
        30_000,
        reasoning=True,
        image_input=True,
        grok4_family=True,
        default_effort="low",
        source="docs.x.ai grok-4.20-0309 [X2]",
        as_of="2026-12",
    ),
    _chat(
        "grok-4.20-0309-non-reasoning",
        1_000_000,
        30_000,
        reasoning=False,
        image_input=True,
        grok4_family=True,
        rejects_stop=False,
        source="docs.x.ai grok-4.20-0309 [X2]",
        as_of="2026-12",
    ),
    # Max output is not published for grok-build-0.1 / grok-4.5 / grok-4.6; 30k mirrors the other
    # current models. grok-4.7: 500k per models.dev, 200k per Venice; the lower figure is kept.
    _chat(
        "grok-build-0.1",
        256_000,
        30_000,
        reasoning=True,
        image_input=True,
        default_effort="low",
        source="grok-api.md §3.1; end of life per [X7] (third party)",
        as_of="2026-12",
        withdrawn=_WITHDRAWN,
    ),
    _chat(
        "grok-4.5",
        500_000,
        30_000,
        reasoning=True,
        image_input=True,
        effort=("low", "medium", "high"),
        grok4_family=True,
        default_effort="high",
        source="models.dev grok-4.5 [X5]; [X11b]",
        as_of="2026-12",
    ),
    # grok-4.6 effort: models.dev says low|medium|high, xai-sdk 1.18 says xhigh is "supported by
    # models such as grok-4.6" [X12]. The documented set is kept: refusing xhigh locally costs
    # nothing, sending it to a model that rejects it costs a paid HTTP 400.
    _chat(
        "grok-4.6",
        500_000,
        30_000,
        reasoning=True,
        image_input=True,
        effort=("low", "medium", "high"),
        grok4_family=True,
        default_effort="high",
        source="models.dev grok-4.6 [X4]; xai-sdk 1.18 changelog [X12]",
        as_of="2026-12",
    ),
    _chat(
        "grok-4.7",
        500_000,
        200_000,
        reasoning=True,
        image_input=True,
        effort=("low", "medium", "high", "xhigh"),
        grok4_family=True,
        default_effort="high",
        source="models.dev grok-4.7 [X3]; litellm #42287 [X6]; Venice [X20]",
        as_of="2026-12",
    ),
    _image("grok-imagine-image", source="grok-api.md §3.4; unaffected by the Nov-2 change [X1]", as_of="2026-12"),
    _image(_IMG2, source="docs.x.ai imagine-image-quality-nov-2 [X1]; xai-sdk 1.19 [X12]", as_of="2026-12", v2=True),
    # Retired 2026-11-02: both now served as grok-imagine-image-2.0 at quality "low" [X1].
    _image("grok-imagine-image-quality", served_as=_IMG2, source="[X1]", as_of="2026-12", v2=True),
    _image("grok-imagine-image-pro", served_as=_IMG2, source="[X1]; [X8]", as_of="2026-12", v2=True),
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
        source="docs.x.ai text-to-speech [X13]",
        as_of="2026-12",
    ),
)

MODELS: dict[str, ModelInfo] = {m.name: m for m in _MODELS}

#: Alternative spellings xAI accepts for the same model.
ALIASES: dict[str, str] = {
    "grok-4": "grok-4-0709",
    "grok-4.20-reasoning": "grok-4.20-0309-reasoning",
    "grok-4.20-non-reasoning": "grok-4.20-0309-non-reasoning",
    # docs.x.ai grok-4.20-0309 [X2]; the grok-4.20-beta* family is handled in canonical_name.
    "grok-4.20": "grok-4.20-0309-reasoning",
    "grok-4.20-0309": "grok-4.20-0309-reasoning",
    "grok-4.20-reasoning-latest": "grok-4.20-0309-reasoning",
}
_BETA_ALIAS_PREFIX = "grok-4.20-beta"

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
    if key.lower().startswith(_BETA_ALIAS_PREFIX):
        return "grok-4.20-0309-reasoning"
    return ALIASES.get(key.lower(), ALIASES.get(key, key))


def get_model_info(name: str) -> ModelInfo:
    """Facts for ``name``; never raises.

    Unknown slugs get a fallback marked ``known=False`` (the request layer refuses them unless the
    caller opts in, see the module docstring). For an opted-in call it is permissive where xAI
    judges anyway and safe where money is at stake:

    * ``grok-imagine*`` / ``*image*``: an image model served as itself;
    * anything else: a chat model assumed to reason (so ``stop`` is dropped, with a warning),
      Grok-4-family-like (allowed on search/code endpoints), image-capable, accepting every effort
      level (xAI validates). Context window and max output are 0: unknown, not invented.
    """
    key = canonical_name(name)
    info = MODELS.get(key) or MODELS.get(key.lower())
    if info is not None:
        return info
    lowered = key.lower()
    if "imagine" in lowered or "image" in lowered:
        return replace(_image(key, source="", as_of=""), known=False)
    return ModelInfo(
        name=key,
        context_window=0,
        max_output_tokens=0,
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
    """Known, usable slugs allowed on the search and code-execution endpoints (for error messages)."""
    return tuple(m.name for m in _MODELS if m.grok4_family and not m.withdrawn)


def models_of_kind(kind: ModelKind) -> tuple[str, ...]:
    return tuple(m.name for m in _MODELS if m.kind == kind and not m.withdrawn)


def unusable_reason(info: ModelInfo) -> str | None:
    """Why a request naming ``info`` is refused unless the caller opts in (``None``: it is usable)."""
    if not info.known:
        current = ", ".join(m.name for m in _MODELS if m.kind == info.kind and not m.retired and not m.withdrawn)
        return (
            f"{info.name!r} is not a known Grok {info.kind} model (known current ones: {current});"
            " check the spelling, or pass allow_unknown_models=True to send it anyway"
        )
    if info.withdrawn:
        return f"{info.name!r} is withdrawn: {info.withdrawn}; use grok-4.3, or pass allow_unknown_models=True"
    return None
