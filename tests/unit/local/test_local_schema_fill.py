"""Schema filling: values come from the prompt and always validate (pydantic and jsonschema as judges)."""

from __future__ import annotations

import enum
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from grok_mpp.local.schema_fill import (
    PromptValues,
    content_words,
    fill_schema,
    find_numbers,
    find_quoted,
)


def fill(schema: dict[str, Any], prompt: str, **kw: Any) -> Any:
    return fill_schema(schema, PromptValues.from_prompt(prompt, **kw))


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


class Address(BaseModel):
    street: str
    number: int = Field(ge=1, le=9999)


class Order(BaseModel):
    customer: str
    quantity: int
    price: float
    express: bool
    colour: Colour
    size: Literal["small", "large"]
    address: Address
    tags: list[str]
    note: str | None = None
    discount: float | None = None


def test_nested_enum_array_optional_model_validates_and_uses_prompt_values() -> None:
    prompt = "Order 4 widgets at 2.5 dollars each for 'Ada Lovelace' to street \"Main Road\" number 12"
    value = fill(Order.model_json_schema(), prompt)
    order = Order.model_validate(value)
    # Numbers are consumed in reading order: quantity, price, then address.number.
    assert order.quantity == 4
    assert order.price == 2.5
    assert order.address.number == 12
    # Quoted strings win over loose words, in order.
    assert order.customer == "Ada Lovelace"
    assert order.address.street == "Main Road"
    assert order.colour is Colour.RED
    assert order.size == "small"
    assert order.express is True
    assert len(order.tags) == 1
    # Optional fields are included, with their non-null branch.
    assert order.note is not None and order.discount is not None


def test_unicode_quoted_strings_are_preserved() -> None:
    schema = {"type": "object", "properties": {"customer_name": {"type": "string"}}, "required": ["customer_name"]}
    value = fill(schema, "Create a customer named '你好啊集团' (Hello Group) - a Chinese technology company")
    assert value == {"customer_name": "你好啊集团"}
    value = fill(schema, "Create a customer named \u201cこんにちは株式会社\u201d please")
    assert value == {"customer_name": "こんにちは株式会社"}


def test_apostrophes_are_not_quotes() -> None:
    assert find_quoted("What's the weather in 'San Francisco'? It's cold") == ["San Francisco"]
    assert find_quoted("say \"a\" then 'b'") == ["a", "b"]


def test_numbers_skip_identifiers_but_keep_signs() -> None:
    assert find_numbers("grok-4 with x2 and -5 degrees, then 3.25 and magic_function(3).") == [4, -5, 3.25, 3]


def test_words_skip_stop_words_and_excluded_words() -> None:
    words = content_words("Using the tool, generate a Pirate greeting.", exclude=["generate", "greeting"])
    assert words == ["Pirate"]


def test_bounds_are_respected_when_prompt_numbers_fall_outside() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "integer", "minimum": 10},
            "b": {"type": "integer", "exclusiveMaximum": 5},
            "c": {"type": "number", "minimum": 0, "maximum": 1},
        },
    }
    assert fill(schema, "values 3, 99 and 7") == {"a": 10, "b": 4, "c": 1}


def test_no_numbers_gives_a_value_inside_bounds() -> None:
    schema = {"type": "integer", "exclusiveMinimum": -1000, "exclusiveMaximum": 1000}
    assert fill(schema, "Hello!") == 1
    assert fill({"type": "integer", "minimum": 50}, "Hello!") == 50


def test_refs_allof_anyof_formats_and_lengths_validate() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = {
        "$defs": {
            "Item": {"type": "object", "properties": {"sku": {"type": "string", "minLength": 12}}, "required": ["sku"]},
            "Base": {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}}, "required": ["id"]},
        },
        "allOf": [{"$ref": "#/$defs/Base"}],
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}, "minItems": 2},
            "when": {"type": "string", "format": "date"},
            "mode": {"anyOf": [{"type": "null"}, {"enum": ["fast", "slow"]}]},
            "pair": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "boolean"}], "minItems": 2},
            "short": {"type": "string", "maxLength": 3},
            "fixed": {"const": 42},
            "nullable": {"type": ["string", "null"]},
        },
        "required": ["items", "when", "mode", "pair", "short", "fixed"],
    }
    value = fill(schema, "Buy 'x' and 'averyveryverylongword' on 2026-03-04")
    jsonschema.validate(value, schema, format_checker=jsonschema.FormatChecker())
    assert len(value["items"]) == 2
    assert value["mode"] == "fast"
    assert value["fixed"] == 42
    assert value["items"][0]["sku"].startswith("x")


def test_recursive_schema_terminates() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = {
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
                },
                "required": ["name"],
            }
        },
        "$ref": "#/$defs/Node",
    }
    value = fill(schema, "tree of words")
    jsonschema.validate(value, schema)


def test_empty_object_schema_gives_empty_object() -> None:
    assert fill({"type": "object", "properties": {}}, "What is magic_function_no_args()?") == {}


@settings(max_examples=60, deadline=None)
@given(prompt=st.text(max_size=120))
def test_any_prompt_fills_a_valid_order(prompt: str) -> None:
    Order.model_validate(fill(Order.model_json_schema(), prompt))
