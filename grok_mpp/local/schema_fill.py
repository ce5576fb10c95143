"""Fill a JSON schema with values taken from a prompt, deterministically.

Why this exists: the local gateway must answer tool calls and structured-output requests with
arguments that *validate* against the caller's schema and that visibly come from the prompt, so the
LangChain standard integration tests (``magic_function(3)`` -> ``{"input": 3}``, a quoted unicode
customer name -> that name) and demos behave like a real model without any model. The rules:

* numbers (integer / number) are taken from the numbers in the prompt, in order, then clamped into
  the schema's bounds;
* strings come from ``'quoted'`` / ``"quoted"`` / curly-quoted text first, then from content words
  of the prompt (minus stop words and words the caller asks to skip, e.g. the tool's own name);
* booleans are ``True``, ``enum`` takes its first value, ``const`` its value;
* arrays get one element (or ``minItems``), objects get every property (required and optional),
  ``$ref`` / ``allOf`` / ``anyOf`` / ``oneOf`` are followed (the first non-null branch wins).

Pure functions only; nothing here knows about HTTP.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: Small English stop-word list: enough to skip filler words when picking "a word from the prompt".
_STOP_WORDS_TEXT = """a an and are as at be been but by can could did do does for from give had has have hello hi
how i if in into is it its it's let me my no not of on or our please return say should so tell that the their
them then there these this to tool use using was we were what what's when where which who why will with would
you your about after before any all some just only also than very json result results nothing other keys key"""
STOP_WORDS: frozenset[str] = frozenset(_STOP_WORDS_TEXT.split())

_NUMBER_RE = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.]*\w)")
_WORD_RE = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)?")
# Quotes: an opening quote must follow the start or a non-word character, a closing quote must be
# followed by the end or a non-word character, so apostrophes ("what's") are not mistaken for quotes.
_QUOTED_RES: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?<!\w)'([^'\n]+?)'(?!\w)"),
    re.compile(r'"([^"\n]+?)"'),
    re.compile(r"\u201c([^\u201d\n]+?)\u201d"),
    re.compile(r"\u2018([^\u2019\n]+?)\u2019"),
)

_FORMAT_DEFAULTS: dict[str, str] = {
    "date": "2026-01-01",
    "date-time": "2026-01-01T00:00:00Z",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "hostname": "example.com",
}

_MAX_DEPTH = 12
_FALLBACK_WORD = "synthetic"


def find_numbers(text: str) -> list[int | float]:
    """Numbers in reading order; digits glued to identifiers (``grok-4``'s 4 is kept, ``x2`` not)."""
    out: list[int | float] = []
    for match in _NUMBER_RE.finditer(text):
        token = match.group(0)
        out.append(float(token) if "." in token else int(token))
    return out


def find_quoted(text: str) -> list[str]:
    """Quoted substrings in reading order (ASCII single/double and curly quotes)."""
    hits: list[tuple[int, str]] = []
    for pattern in _QUOTED_RES:
        hits.extend((m.start(), m.group(1).strip()) for m in pattern.finditer(text))
    return [value for _, value in sorted(hits) if value]


def content_words(text: str, exclude: Iterable[str] = ()) -> list[str]:
    """Words of ``text`` minus stop words and ``exclude`` (case-insensitive), in order, no repeats."""
    skip = STOP_WORDS | {w.lower() for w in exclude}
    seen: set[str] = set()
    words: list[str] = []
    for word in _WORD_RE.findall(text):
        key = word.lower()
        if key in skip or key in seen or word.isdigit():
            continue
        seen.add(key)
        words.append(word)
    return words


@dataclass
class PromptValues:
    """Cursor over the values a prompt offers; each filled field consumes the next one."""

    numbers: list[int | float] = field(default_factory=list)
    strings: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    _number_pos: int = 0
    _string_pos: int = 0

    @classmethod
    def from_prompt(cls, prompt: str, *, exclude_words: Iterable[str] = ()) -> PromptValues:
        quoted = find_quoted(prompt)
        excluded = set(exclude_words)
        # Words inside quotes were already offered whole; do not offer their parts again.
        for q in quoted:
            excluded.update(_WORD_RE.findall(q))
        return cls(numbers=find_numbers(prompt), strings=quoted, words=content_words(prompt, excluded))

    def next_number(self) -> int | float | None:
        if self._number_pos < len(self.numbers):
            self._number_pos += 1
            return self.numbers[self._number_pos - 1]
        return None

    def next_string(self) -> str:
        pool = self.strings + self.words
        if not pool:
            return _FALLBACK_WORD
        # Once quoted strings and words are used up, cycle through the words (or quotes if no words).
        if self._string_pos < len(pool):
            value = pool[self._string_pos]
        else:
            cycle = self.words or self.strings
            value = cycle[(self._string_pos - len(pool)) % len(cycle)]
        self._string_pos += 1
        return value


def fill_schema(schema: Mapping[str, Any], values: PromptValues) -> Any:
    """A value that validates against ``schema`` (for the keywords listed in the module docstring)."""
    return _fill(schema, values, root=schema, depth=0)


def _resolve_ref(ref: str, root: Mapping[str, Any]) -> Mapping[str, Any]:
    if not ref.startswith("#"):
        return {}
    node: Any = root
    for part in ref.lstrip("#").split("/"):
        if not part:
            continue
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, Mapping) or part not in node:
            return {}
        node = node[part]
    return node if isinstance(node, Mapping) else {}


def _merge_all_of(schema: Mapping[str, Any], root: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    for sub in schema.get("allOf") or ():
        part = _resolve_ref(sub["$ref"], root) if isinstance(sub, Mapping) and "$ref" in sub else sub
        if not isinstance(part, Mapping):
            continue
        for key, value in part.items():
            if key == "properties" and isinstance(value, Mapping):
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required" and isinstance(value, list):
                merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
            else:
                merged.setdefault(key, value)
    return merged


def _is_null_schema(schema: Any) -> bool:
    return isinstance(schema, Mapping) and schema.get("type") == "null"


def _schema_type(schema: Mapping[str, Any]) -> str:
    declared = schema.get("type")
    if isinstance(declared, list):
        non_null = [t for t in declared if t != "null"]
        return str(non_null[0]) if non_null else "null"
    if isinstance(declared, str):
        return declared
    if "properties" in schema or "additionalProperties" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    return "string"


def _fill(schema: Any, values: PromptValues, *, root: Mapping[str, Any], depth: int) -> Any:
    if not isinstance(schema, Mapping):
        # ``true`` / ``{}`` accept anything; a string is the most useful "anything".
        return values.next_string()
    if "$ref" in schema:
        target = _resolve_ref(str(schema["$ref"]), root)
        extra = {k: v for k, v in schema.items() if k != "$ref"}
        return _fill({**target, **extra}, values, root=root, depth=depth + 1)
    if "allOf" in schema:
        return _fill(_merge_all_of(schema, root), values, root=root, depth=depth + 1)
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            chosen = next((o for o in options if not _is_null_schema(o)), options[0])
            return _fill(chosen, values, root=root, depth=depth + 1)
    kind = _schema_type(schema)
    if kind == "object":
        return _fill_object(schema, values, root=root, depth=depth)
    if kind == "array":
        return _fill_array(schema, values, root=root, depth=depth)
    if kind in ("integer", "number"):
        return _fill_number(schema, values, integer=kind == "integer")
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _fill_string(schema, values)


def _fill_object(
    schema: Mapping[str, Any], values: PromptValues, *, root: Mapping[str, Any], depth: int
) -> dict[str, Any]:
    properties = schema.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    required = [r for r in schema.get("required") or () if isinstance(r, str)]
    # Past the depth limit (recursive schemas), only required fields are filled, which terminates.
    names = list(properties) if depth < _MAX_DEPTH else [n for n in properties if n in required]
    out: dict[str, Any] = {}
    for name in names:
        out[name] = _fill(properties[name], values, root=root, depth=depth + 1)
    for name in required:
        if name not in out:
            out[name] = values.next_string()
    return out


def _fill_array(schema: Mapping[str, Any], values: PromptValues, *, root: Mapping[str, Any], depth: int) -> list[Any]:
    min_items = schema.get("minItems")
    max_items = schema.get("maxItems")
    count = max(1, min_items) if isinstance(min_items, int) else 1
    if isinstance(max_items, int):
        count = min(count, max_items)
    if depth >= _MAX_DEPTH:
        count = min_items if isinstance(min_items, int) else 0
    prefix = schema.get("prefixItems")
    items = schema.get("items")
    out: list[Any] = []
    for i in range(count):
        if isinstance(prefix, list) and i < len(prefix):
            item_schema = prefix[i]
        elif isinstance(items, list):  # draft-4 tuple form
            item_schema = items[i] if i < len(items) else {}
        else:
            item_schema = items if items is not None else {"type": "string"}
        out.append(_fill(item_schema, values, root=root, depth=depth + 1))
    return out


def _fill_number(schema: Mapping[str, Any], values: PromptValues, *, integer: bool) -> int | float:
    raw = values.next_number()
    value: float = 1.0 if raw is None else float(raw)
    low, high = _bounds(schema, integer=integer)
    if low is not None and value < low:
        value = low
    if high is not None and value > high:
        value = high
    if integer:
        return round(value)  # bounds are integral, so rounding stays inside them
    return raw if isinstance(raw, int) and value == raw else value


def _bounds(schema: Mapping[str, Any], *, integer: bool) -> tuple[float | None, float | None]:
    step = 1.0 if integer else 1e-6
    low: float | None = None
    high: float | None = None
    minimum, maximum = _as_number(schema.get("minimum")), _as_number(schema.get("maximum"))
    ex_min, ex_max = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if minimum is not None:
        low = minimum + (step if ex_min is True else 0.0)  # ``True``: draft-4 boolean form
    if (ex_min_value := _as_number(ex_min)) is not None:
        low = max(low if low is not None else -math.inf, ex_min_value + step)
    if maximum is not None:
        high = maximum - (step if ex_max is True else 0.0)
    if (ex_max_value := _as_number(ex_max)) is not None:
        high = min(high if high is not None else math.inf, ex_max_value - step)
    if integer:
        low = math.ceil(low) if low is not None else None
        high = math.floor(high) if high is not None else None
    return low, high


def _as_number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _fill_string(schema: Mapping[str, Any], values: PromptValues) -> str:
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt in _FORMAT_DEFAULTS:
        return _FORMAT_DEFAULTS[fmt]
    value = values.next_string()
    min_len, max_len = schema.get("minLength"), schema.get("maxLength")
    if isinstance(min_len, int) and len(value) < min_len:
        value = value.ljust(min_len, "x")
    if isinstance(max_len, int) and len(value) > max_len:
        value = value[:max_len]
    return value
