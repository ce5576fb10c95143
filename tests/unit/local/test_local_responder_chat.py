"""The synthetic chat model: tool choice, structured output, limits, usage, determinism.

Tool definitions are built with langchain-core from the very tools the LangChain standard
integration suite uses, and outputs are judged by their pydantic argument schemas.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.tools import tool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, Field

from grok_mpp.local.responder import (
    SYSTEM_FINGERPRINT,
    BadRequestError,
    UnknownEndpointError,
    cached_tokens,
    respond,
    token_cost_ticks,
    tokens,
)


class MagicInput(BaseModel):
    input: int = Field(..., gt=-1000, lt=1000)


@tool(args_schema=MagicInput)
def magic_function(_input: int) -> int:
    """Apply a magic function to an input."""
    return _input + 2


@tool
def magic_function_no_args() -> int:
    """Calculate a magic function."""
    return 5


@tool
def get_weather(location: str) -> str:
    """Get the current weather at a location."""
    return "sunny"


@tool
def unicode_customer(customer_name: str, description: str) -> str:
    """Create a customer with a unicode name."""
    return customer_name


@tool
def greeting_generator(answer_style: str) -> str:
    """Generate a greeting in a particular style of speaking."""
    return answer_style


def openai_tools(*tools: Any) -> list[dict[str, Any]]:
    return [convert_to_openai_tool(t) for t in tools]


def chat(prompt: str | list[dict[str, Any]], model: str = "grok-3-mini", **kw: Any) -> dict[str, Any]:
    messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
    return respond("/grok/chat", {"model": model, "messages": messages, **kw})


def only_tool_call(data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    choice = data["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    calls = choice["message"]["tool_calls"]
    assert len(calls) == 1 and calls[0]["type"] == "function" and calls[0]["id"].startswith("call_")
    return calls[0]["function"]["name"], json.loads(calls[0]["function"]["arguments"])


def text_of(data: dict[str, Any]) -> str:
    content = data["choices"][0]["message"]["content"]
    assert isinstance(content, str)
    return content


# --- tool choice --------------------------------------------------------------------------------


def test_required_tool_call_fills_arguments_from_the_prompt() -> None:
    data = chat(
        "What is the value of magic_function(3)? Use the tool.",
        tools=openai_tools(magic_function),
        tool_choice="required",
    )
    name, args = only_tool_call(data)
    assert (name, args) == ("magic_function", {"input": 3})
    MagicInput.model_validate(args)


def test_auto_calls_a_tool_mentioned_by_name_or_description() -> None:
    tools = openai_tools(magic_function, get_weather)
    assert only_tool_call(chat("What is the value of magic_function(3)?", tools=tools)) == (
        "magic_function",
        {"input": 3},
    )
    assert only_tool_call(chat("What's the weather in 'Paris'?", tools=tools)) == ("get_weather", {"location": "Paris"})


def test_auto_answers_with_text_when_no_tool_is_relevant() -> None:
    data = chat("What is 1 + 2", tools=openai_tools(magic_function, get_weather))
    assert "tool_calls" not in data["choices"][0]["message"]
    assert text_of(data) == "[synthetic] 1 + 2 = 3"


def test_none_never_calls_a_tool() -> None:
    data = chat("What is the value of magic_function(3)?", tools=openai_tools(magic_function), tool_choice="none")
    assert "tool_calls" not in data["choices"][0]["message"]
    assert data["choices"][0]["finish_reason"] == "stop"


def test_named_tool_choice_wins_over_prompt_match() -> None:
    tools = openai_tools(magic_function, get_weather)
    choice = {"type": "function", "function": {"name": "get_weather"}}
    name, args = only_tool_call(chat("What is the value of magic_function(3)?", tools=tools, tool_choice=choice))
    assert name == "get_weather" and isinstance(args["location"], str) and args["location"]


def test_required_without_any_match_still_calls_a_valid_tool() -> None:
    name, args = only_tool_call(chat("Hello!", tools=openai_tools(magic_function, get_weather), tool_choice="required"))
    assert name == "magic_function"
    MagicInput.model_validate(args)


def test_unknown_named_tool_is_a_bad_request() -> None:
    with pytest.raises(BadRequestError):
        chat("hi", tools=openai_tools(magic_function), tool_choice={"type": "function", "function": {"name": "nope"}})


def test_no_argument_tool_gets_empty_arguments() -> None:
    data = chat(
        "What is the value of magic_function_no_args()? Use the tool.",
        tools=openai_tools(magic_function_no_args),
        tool_choice="required",
    )
    assert only_tool_call(data) == ("magic_function_no_args", {})


def test_unicode_and_word_arguments() -> None:
    data = chat(
        "Create a customer named '你好啊集团' (Hello Group) - a Chinese technology company",
        tools=openai_tools(unicode_customer),
        tool_choice="required",
    )
    _, args = only_tool_call(data)
    assert args["customer_name"] == "你好啊集团"
    assert "你好啊集团" in data["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]  # not \u-escaped
    _, args = only_tool_call(
        chat(
            "Using the tool, generate a Pirate greeting.",
            tools=openai_tools(greeting_generator),
            tool_choice="required",
        )
    )
    assert args == {"answer_style": "Pirate"}


def test_after_a_tool_result_the_model_answers_with_text_quoting_it() -> None:
    tools = openai_tools(magic_function)
    first = chat("What is the value of magic_function(3)?", tools=tools, tool_choice="required")
    call = first["choices"][0]["message"]["tool_calls"][0]
    messages = [
        {"role": "user", "content": "What is the value of magic_function(3)?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": [{"type": "text", "text": "5"}]},
    ]
    for choice in ("auto", "required"):
        data = chat(messages, tools=tools, tool_choice=choice)
        assert "tool_calls" not in data["choices"][0]["message"]
        assert text_of(data) == "[synthetic] Using the tool results, magic_function returned: 5."


# --- structured output ----------------------------------------------------------------------------


class Joke(BaseModel):
    """Joke to tell user."""

    setup: str = Field(description="question to set up a joke")
    punchline: str | None = Field(default=None, description="answer to resolve the joke")
    rating: int = Field(ge=1, le=10)


def test_json_schema_response_format_validates() -> None:
    rf = {"type": "json_schema", "json_schema": {"name": "Joke", "schema": Joke.model_json_schema(), "strict": True}}
    data = chat("Tell me a joke about cats, rated 7.", response_format=rf)
    joke = Joke.model_validate_json(text_of(data))
    assert joke.rating == 7 and joke.punchline is not None
    assert data["choices"][0]["finish_reason"] == "stop"


def test_json_object_uses_the_keys_the_prompt_asks_for() -> None:
    prompt = (
        "Tell me a joke about cats. Return the result as a JSON with 'setup' and "
        "'punchline' keys. Return nothing other than JSON."
    )
    value = json.loads(text_of(chat(prompt, response_format={"type": "json_object"})))
    assert set(value) == {"setup", "punchline"} and all(isinstance(v, str) and v for v in value.values())
    value = json.loads(text_of(chat("What is 2 + 2?", response_format={"type": "json_object"})))
    assert value == {"answer": "[synthetic] 2 + 2 = 4"}


def test_bad_response_format_is_rejected() -> None:
    with pytest.raises(BadRequestError):
        chat("hi", response_format={"type": "json_schema", "json_schema": {"name": "x"}})


# --- text answers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("what is 2+3", "[synthetic] 2+3 = 5"),
        ("What is (2 + 3) * 4?", "[synthetic] (2 + 3) * 4 = 20"),
        ("what is 7 divided by 2", "[synthetic] 7 / 2 = 3.5"),
        ("compute 2^10", "[synthetic] 2**10 = 1024"),
        ("what is 1/0", "[synthetic] 1/0 cannot be computed (division by zero)."),
        ("Say 'hello world' and nothing else", "[synthetic] hello world"),
        ("repeat after me: the cat sat.", "[synthetic] the cat sat"),
        ("Hello", "[synthetic] Hello! This is a deterministic reply from the local grok-mpp gateway."),
    ],
)
def test_text_answers(prompt: str, expected: str) -> None:
    assert text_of(chat(prompt, model="grok-3")) == expected


def test_keyword_echo_and_dates_are_not_arithmetic() -> None:
    text = text_of(chat("Summarise the Tempo blockchain news from 2026-01-05"))
    assert text.startswith("[synthetic] You asked about Summarise, Tempo, blockchain, news")
    assert "=" not in text


def test_llamaindex_retrieval_prompt_quotes_the_most_relevant_sentence() -> None:
    from llama_index.core.prompts.default_prompts import DEFAULT_TEXT_QA_PROMPT

    context = (
        "file_path: /docs/tempo.md\n\n"
        "Tempo is a payments-focused blockchain. Its native stablecoin standard is TIP-20.\n"
        "MPP lets a server ask for payment with HTTP 402. Fees on Tempo are paid in stablecoins."
    )
    prompt = DEFAULT_TEXT_QA_PROMPT.format(context_str=context, query_str="How does a server ask for payment?")
    assert (
        text_of(chat(prompt)) == '[synthetic] Based on the context: "MPP lets a server ask for payment with HTTP 402."'
    )


def test_llamaindex_tree_summarize_and_refine_prompts() -> None:
    from llama_index.core.prompts.default_prompts import DEFAULT_REFINE_PROMPT, DEFAULT_TREE_SUMMARIZE_PROMPT

    context = "Cats sleep a lot. Dogs bark at night."
    prompt = DEFAULT_TREE_SUMMARIZE_PROMPT.format(context_str=context, query_str="When do dogs bark?")
    first = text_of(chat(prompt))
    assert first == '[synthetic] Based on the context: "Dogs bark at night."'
    refine = DEFAULT_REFINE_PROMPT.format(
        query_str="When do dogs bark?", existing_answer=first, context_msg="Birds sing."
    )
    assert text_of(chat(refine)) == first


def test_tool_name_must_appear_as_a_word() -> None:
    tools = openai_tools(get_weather)
    assert "tool_calls" not in chat("Tell me about get_weathering of rocks", tools=tools)["choices"][0]["message"]


def test_stop_sequences_cut_the_text() -> None:
    full = text_of(chat("Hello", model="grok-3"))
    cut = chat("Hello", model="grok-3", stop=["deterministic", "local"])
    assert text_of(cut) == full[: full.index("deterministic")]
    assert text_of(chat("Hello", model="grok-3", stop="Hello")) == "[synthetic] "
    with pytest.raises(BadRequestError):
        chat("Hello", stop=[1])


def test_max_tokens_truncates_with_finish_reason_length() -> None:
    full = text_of(chat("Hello", model="grok-3"))
    data = chat("Hello", model="grok-3", max_tokens=3)
    assert text_of(data) == full[:12]
    assert data["choices"][0]["finish_reason"] == "length"
    assert data["usage"]["completion_tokens"] == 3
    roomy = chat("Hello", model="grok-3", max_tokens=1000)
    assert roomy["choices"][0]["finish_reason"] == "stop"


def test_n_choices() -> None:
    data = chat("what is 2+3", n=3)
    assert [c["index"] for c in data["choices"]] == [0, 1, 2]
    single = chat("what is 2+3")
    assert data["usage"]["completion_tokens"] == 3 * single["usage"]["completion_tokens"]
    with pytest.raises(BadRequestError):
        chat("hi", n=0)


# --- usage, reasoning, cost -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "reasons"),
    [
        ("grok-3-mini", True),
        ("grok-4-1-fast-reasoning", True),
        ("grok-4-1-fast-non-reasoning", False),
        ("grok-4.3", True),
        ("grok-4-0709", True),
        ("grok-3", False),
        ("grok-4.20-0309-non-reasoning", False),
    ],
)
def test_reasoning_models_report_reasoning_outside_completion_tokens(model: str, reasons: bool) -> None:
    data = chat("In one sentence, what is the Tempo blockchain?", model=model)
    usage = data["usage"]
    reasoning = usage["completion_tokens_details"]["reasoning_tokens"]
    message = data["choices"][0]["message"]
    assert (reasoning > 0) is reasons
    assert ("reasoning_content" in message) is reasons
    if reasons:
        assert reasoning == 2 * usage["completion_tokens"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] + reasoning
    assert usage["completion_tokens"] == tokens(message["content"])
    assert data["model"] == model  # echo of the requested model
    assert data["system_fingerprint"] == SYSTEM_FINGERPRINT


def test_reasoning_effort_none_disables_reasoning() -> None:
    data = chat("hi", model="grok-4.3", reasoning_effort="none")
    assert data["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0


def test_prompt_tokens_cover_all_messages_and_images() -> None:
    short = chat("hi")["usage"]
    longer = chat([{"role": "system", "content": "x" * 400}, {"role": "user", "content": "hi"}])["usage"]
    assert longer["prompt_tokens"] >= short["prompt_tokens"] + 100
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    with_image = chat([{"role": "user", "content": [{"type": "text", "text": "hi"}, image]}])["usage"]
    details = with_image["prompt_tokens_details"]
    assert details["image_tokens"] > 0
    assert with_image["prompt_tokens"] == details["text_tokens"] + details["image_tokens"]


def test_cached_tokens_and_cost_formula() -> None:
    assert cached_tokens(100) == 0
    assert cached_tokens(1000) == 384
    data = chat([{"role": "user", "content": "tempo " * 400}], model="grok-3-mini")
    usage = data["usage"]
    cached = usage["prompt_tokens_details"]["cached_tokens"]
    assert 0 < cached < usage["prompt_tokens"]
    out = usage["completion_tokens"] + usage["completion_tokens_details"]["reasoning_tokens"]
    # grok-3-mini is served (and billed) as grok-4.3: $1.25 / $0.20 cached / $2.50 per 1M tokens.
    expected = (usage["prompt_tokens"] - cached) * 12_500 + cached * 2_000 + out * 25_000
    assert (
        usage["cost_in_usd_ticks"] == expected == token_cost_ticks("grok-3-mini", usage["prompt_tokens"], cached, out)
    )
    assert token_cost_ticks("grok-4.5", 10, 0, 10) > token_cost_ticks("grok-4.3", 10, 0, 10)


def test_long_prompt_tier_doubles_rates() -> None:
    assert token_cost_ticks("grok-4.3", 200_000, 0, 0) == 2 * 200_000 * 12_500


# --- determinism and validation ------------------------------------------------------------------


def test_same_body_same_output_and_different_body_different_ids() -> None:
    body = {
        "model": "grok-4.3",
        "messages": [{"role": "user", "content": "what is 2+3"}],
        "tools": openai_tools(magic_function),
    }
    assert respond("/grok/chat", body) == respond("/grok/chat", json.loads(json.dumps(body)))
    other = respond("/grok/chat", {**body, "messages": [{"role": "user", "content": "what is 2+4"}]})
    assert other["id"] != respond("/grok/chat", body)["id"]
    assert respond("/grok/chat", body, created=123)["created"] == 123


@pytest.mark.parametrize(
    "body",
    [
        {"messages": [{"role": "user", "content": "hi"}]},
        {"model": "grok-3", "messages": []},
        {"model": "grok-3", "messages": [{"content": "no role"}]},
        {"model": "grok-3", "messages": [{"role": "user", "content": "hi"}], "presence_penalty": 0.5},
        {"model": "grok-3", "messages": [{"role": "user", "content": "hi"}], "frequency_penalty": 0.1},
        {"model": "grok-3", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 0},
    ],
)
def test_invalid_bodies_raise_bad_request(body: dict[str, Any]) -> None:
    with pytest.raises(BadRequestError) as info:
        respond("/grok/chat", body)
    assert info.value.status_code == 400


def test_unknown_endpoint() -> None:
    with pytest.raises(UnknownEndpointError) as info:
        respond("/grok/video", {})
    assert isinstance(info.value, LookupError) and info.value.status_code == 404
