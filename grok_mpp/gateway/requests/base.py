"""Shared machinery of every request model: strict pydantic config, error reporting, serialize once.

Every validation failure surfaces as :class:`~grok_mpp.errors.InvalidRequestError` naming the field,
what was wrong and what to do (:func:`_invalid` turns pydantic's report into that); :class:`GrokRequest`
computes the exact JSON bytes once so the paid retry re-sends the identical body.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError, model_validator

from grok_mpp.errors import InvalidRequestError


def _serialize(payload: dict[str, Any]) -> bytes:
    """Compact, order-preserving UTF-8 JSON. The paid retry re-sends exactly these bytes."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


# --- error reporting ------------------------------------------------------------------------------

_TYPE_LOC_PARTS = {"str", "int", "float", "bool", "dict", "list", "none", "date", "bytes"}
_PART_TAGS = {"text", "image_url"}


def _clean_loc(loc: tuple[int | str, ...]) -> str:
    """``('messages', 0, 'content', 'list[...]', 0, 'text', 'text')`` -> ``messages[0].content[0].text``.

    pydantic puts union branch names (``str``, ``list[...]``) and discriminator tags (the part type,
    right after a list index) into error locations; users only care about their own field names.
    """
    out = ""
    after_index = False
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            after_index = True
            continue
        if "[" in part or part in _TYPE_LOC_PARTS or (after_index and part in _PART_TAGS):
            after_index = False
            continue
        after_index = False
        out += f".{part}" if out else part
    return out or "request"


def _invalid(model: type[GrokRequest] | type[BaseModel], exc: ValidationError) -> InvalidRequestError:
    endpoint = getattr(model, "endpoint", None)
    allowed = ", ".join(sorted(model.model_fields))
    problems: list[str] = []
    seen: set[str] = set()
    errors = exc.errors()
    cleaned = [_clean_loc(e["loc"]) for e in errors]
    for err, loc in zip(errors, cleaned, strict=True):
        raw_last = err["loc"][-1] if err["loc"] else None
        if raw_last in _TYPE_LOC_PARTS and any(o != loc and o.startswith(loc) for o in cleaned):
            # a failed union branch ("should be a valid string") next to the real, deeper error
            continue
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, InvalidRequestError) and cause.context.get("field"):
            field = str(cause.context["field"])
            loc = field if loc == "request" else f"{loc}.{field}"
        msg = str(err["msg"])
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if err["type"] == "extra_forbidden":
            msg = "unknown field, not sent by this client"
            if endpoint is not None and "." not in loc and "[" not in loc:
                msg += f" (allowed: {allowed}; put it in extra_body to send it anyway)"
        line = f"{loc}: {msg}"
        if line not in seen:
            seen.add(line)
            problems.append(line)
    where = f"{model.__name__} for {endpoint}" if endpoint else model.__name__
    return InvalidRequestError(
        f"invalid {where}: " + "; ".join(problems),
        hint="fix the field(s) named above; nothing was sent or paid",
        fields=[p.split(":", 1)[0] for p in problems],
    )


def _fail(message: str, *, field: str | None = None) -> InvalidRequestError:
    """Raised inside validators; pydantic wraps it and :func:`_invalid` unwraps it with the field path.

    ``field`` names the offending field for model-level rules, whose pydantic location is empty.
    """
    return InvalidRequestError(message, field=field)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --- base request -------------------------------------------------------------------------------


class GrokRequest(BaseModel):
    """Base of every endpoint request: immutable, validated, serialized exactly once.

    Construct with keyword arguments (or :meth:`model_validate`); both raise
    :class:`InvalidRequestError`. Do not use ``model_copy(update=...)``: it skips validation. Use
    :meth:`replace`, which re-validates and re-serializes.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    endpoint: ClassVar[str]

    extra_body: dict[str, Any] | None = None

    _dropped: list[str] = PrivateAttr(default_factory=list)
    _notices: list[str] = PrivateAttr(default_factory=list)
    _body: bytes = PrivateAttr(default=b"")

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _invalid(type(self), exc) from None

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise _invalid(cls, exc) from None

    def model_post_init(self, context: Any, /) -> None:
        payload = self._payload()
        for key, value in (self.extra_body or {}).items():
            current = payload.get(key)
            if key not in payload:
                payload[key] = value
            elif isinstance(current, dict) and isinstance(value, dict) and not set(current) & set(value):
                # e.g. extra search_parameters options next to validated filters
                payload[key] = {**current, **value}
            else:
                # Validators already refuse clashes with declared fields; this catches derived keys.
                raise InvalidRequestError(
                    f"extra_body key {key!r} would overwrite what this client sets there",
                    hint="set it through the request fields instead",
                    field="extra_body",
                )
        self._body = _serialize(payload)

    @model_validator(mode="after")
    def _extra_body_no_clash(self) -> Self:
        if self.extra_body:
            clash = sorted(k for k in self.extra_body if k in type(self).model_fields and k != "extra_body")
            if clash:
                raise _fail(
                    f"extra_body keys {clash} are regular fields; set them directly so they are validated",
                    field="extra_body",
                )
        return self

    # subclasses build their JSON object here (and record drops via self._drop)
    def _payload(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _drop(self, note: str) -> None:
        self._dropped.append(note)

    def _notice(self, note: str) -> None:
        self._notices.append(note)

    @property
    def dropped(self) -> list[str]:
        """Human-readable notes of parameters accepted but deliberately not sent, with the reason."""
        return list(self._dropped)

    @property
    def notices(self) -> list[str]:
        """Warnings that did not block the request (e.g. images sent to a text-only legacy slug)."""
        return list(self._notices)

    def to_body(self) -> bytes:
        """The exact JSON bytes to POST; identical on every call (the paid retry re-sends them)."""
        return self._body

    def payload(self) -> dict[str, Any]:
        """The body as a dict (a fresh copy decoded from the bytes that will be sent)."""
        result: dict[str, Any] = json.loads(self._body)
        return result

    def replace(self, **changes: Any) -> Self:
        """A validated copy with some fields changed."""
        data = self.model_dump(by_alias=True, exclude_unset=True)
        data.update(changes)
        return type(self)(**data)
