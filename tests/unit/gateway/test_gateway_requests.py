"""Request validation, dropping and byte-stable serialization for every Locus Grok route."""

from __future__ import annotations

import base64
import json
from datetime import date
from typing import Any

import pytest
from gateway_samples import tiny_png
from hypothesis import given, settings
from hypothesis import strategies as st

from grok_mpp.errors import InvalidRequestError
from grok_mpp.gateway.catalog import DEFAULT_CHAT_MODEL, DEFAULT_IMAGE_MODEL, DEFAULT_SEARCH_MODEL
from grok_mpp.gateway.requests import (
    REQUEST_TYPES,
    SEARCH_FILTER_KEY,
    ChatRequest,
    CodeExecutionRequest,
    GrokRequest,
    ImageEditRequest,
    ImageGenerateRequest,
    TTSRequest,
    WebSearchRequest,
    XSearchRequest,
)

USER = [{"role": "user", "content": "hello"}]


def body(req: Any) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(req.to_body())
    return out


def invalid(cls: type, **kwargs: Any) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as info:
        cls(**kwargs)
    return info.value


# --- chat: basics and error surface ---------------------------------------------------------------


def test_minimal_chat_body_uses_default_model_and_only_set_fields() -> None:
    req = ChatRequest(messages=USER)
    assert req.endpoint == "/grok/chat"
    assert body(req) == {"model": DEFAULT_CHAT_MODEL, "messages": USER}
    assert req.dropped == []


def test_invalid_request_error_is_value_error_and_names_the_field() -> None:
    err = invalid(ChatRequest, messages=USER, temperature=2.5)
    assert isinstance(err, ValueError)
    assert "temperature" in str(err)
    assert "nothing was sent or paid" in str(err)
    assert err.context["fields"] == ["temperature"]


def test_model_validate_also_raises_invalid_request_error() -> None:
    with pytest.raises(InvalidRequestError, match="top_p"):
        ChatRequest.model_validate({"messages": USER, "top_p": 1.5})


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"temperature": -0.1}, "temperature"),
        ({"temperature": 2.01}, "temperature"),
        ({"top_p": 1.01}, "top_p"),
        ({"top_p": -0.5}, "top_p"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"n": 0}, "n"),
        ({"presence_penalty": 3}, "presence_penalty"),
        ({"frequency_penalty": -2.5}, "frequency_penalty"),
        ({"stop": ""}, "stop"),
        ({"stop": ["ok", ""]}, "stop"),
        ({"max_tokens": 131_073}, "max_tokens"),
        ({"model": "  "}, "model"),
        ({"model": "grok-imagine-image"}, "model"),
    ],
)
def test_chat_numeric_and_model_rules(kwargs: dict[str, Any], field: str) -> None:
    err = invalid(ChatRequest, messages=USER, **kwargs)
    assert field in str(err)


def test_boundaries_are_inclusive() -> None:
    req = ChatRequest(messages=USER, temperature=2, top_p=0, max_tokens=1, n=1)
    assert body(req)["temperature"] == 2
    assert body(req)["top_p"] == 0
    assert body(req)["max_tokens"] == 1


def test_empty_messages_rejected() -> None:
    assert "messages" in str(invalid(ChatRequest, messages=[]))


def test_unknown_field_is_refused_with_allowed_list_and_extra_body_hint() -> None:
    err = invalid(ChatRequest, messages=USER, sede=7)
    text = str(err)
    assert "sede" in text and "unknown field" in text and "extra_body" in text
    assert "temperature" in text  # the allowed list is shown


def test_extra_body_is_merged_when_opted_in() -> None:
    req = ChatRequest(messages=USER, extra_body={"user": "u-7"})
    assert body(req)["user"] == "u-7"


def test_extra_body_cannot_smuggle_validated_fields() -> None:
    err = invalid(ChatRequest, messages=USER, extra_body={"temperature": 9})
    assert "extra_body" in str(err) and "temperature" in str(err)


# --- messages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("messages", "needle"),
    [
        ([{"role": "robot", "content": "x"}], "role"),
        ([{"role": "tool", "content": "42"}], "tool_call_id"),
        ([{"role": "tool", "tool_call_id": "c1"}], "content"),
        ([{"role": "user", "content": "x", "tool_call_id": "c1"}], "tool_call_id"),
        (
            [{"role": "user", "content": "x", "tool_calls": [{"id": "c", "function": {"name": "f"}}]}],
            "tool_calls",
        ),
        ([{"role": "user"}], "content"),
        ([{"role": "user", "content": []}], "content"),
        ([{"role": "user", "content": [{"type": "text"}]}], "messages[0].content[0].text"),
        ([{"role": "user", "content": [{"type": "video", "url": "x"}]}], "messages[0].content"),
        (
            [{"role": "system", "content": [{"type": "image_url", "image_url": {"url": "https://a.example/i.png"}}]}],
            "image parts are only allowed in user messages",
        ),
        (
            [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "ftp://a.example/i.png"}}]}],
            "image_url.url",
        ),
        (
            [{"role": "user", "content": [{"type": "image_url", "image_url": "data:image/png;base64,@@@"}]}],
            "image",
        ),
        ([{"role": "user", "content": "x", "reasoning_content": "y"}], "reasoning_content"),
    ],
)
def test_message_rules(messages: list[dict[str, Any]], needle: str) -> None:
    assert needle in str(invalid(ChatRequest, messages=messages))


def test_multimodal_and_tool_turns_serialize_openai_style() -> None:
    png = base64.b64encode(tiny_png()).decode()
    messages = [
        {"role": "system", "content": "be brief"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": "https://a.example/cat.png"},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}", "detail": "high"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "call_1", "function": {"name": "lookup", "arguments": {"q": "cat"}}}],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "a cat"},
    ]
    sent = body(ChatRequest(model="grok-4.3", messages=messages))["messages"]
    assert sent[1]["content"][1] == {"type": "image_url", "image_url": {"url": "https://a.example/cat.png"}}
    assert sent[1]["content"][2]["image_url"]["detail"] == "high"
    assert "content" not in sent[2]
    assert sent[2]["tool_calls"][0] == {
        "id": "call_1",
        "type": "function",
        "function": {"name": "lookup", "arguments": '{"q":"cat"}'},
    }
    assert sent[3] == {"role": "tool", "content": "a cat", "tool_call_id": "call_1"}


def test_images_to_text_only_legacy_slug_warn_but_send() -> None:
    messages = [{"role": "user", "content": [{"type": "image_url", "image_url": "https://a.example/i.png"}]}]
    req = ChatRequest(model="grok-3-mini", messages=messages)
    assert any("text-only" in n for n in req.notices)
    assert body(req)["messages"][0]["content"][0]["type"] == "image_url"
    assert ChatRequest(model="grok-4.3", messages=messages).notices == []


# --- dropping --------------------------------------------------------------------------------


def test_penalties_are_accepted_but_dropped_with_reason() -> None:
    req = ChatRequest(model="grok-4.3", messages=USER, presence_penalty=0.5, frequency_penalty=-1)
    sent = body(req)
    assert "presence_penalty" not in sent and "frequency_penalty" not in sent
    assert len(req.dropped) == 2
    assert any("presence_penalty=0.5" in d and "reject" in d for d in req.dropped)
    assert any(d.startswith("frequency_penalty") for d in req.dropped)


@pytest.mark.parametrize("model", ["grok-3-mini", "grok-4-0709", "grok-4.3", "grok-4-1-fast-non-reasoning"])
def test_stop_dropped_for_models_served_by_reasoning_models(model: str) -> None:
    req = ChatRequest(model=model, messages=USER, stop=["END"])
    assert "stop" not in body(req)
    assert any(d.startswith("stop dropped") and model in d for d in req.dropped)


def test_stop_kept_for_non_reasoning_model_string_when_single_list_otherwise() -> None:
    model = "grok-4.20-0309-non-reasoning"
    assert body(ChatRequest(model=model, messages=USER, stop="END"))["stop"] == "END"
    assert body(ChatRequest(model=model, messages=USER, stop=["END"]))["stop"] == "END"
    assert body(ChatRequest(model=model, messages=USER, stop=["A", "B"]))["stop"] == ["A", "B"]
    assert ChatRequest(model=model, messages=USER, stop=["A", "B"]).dropped == []


def test_n_one_is_omitted_and_larger_n_sent() -> None:
    assert "n" not in body(ChatRequest(messages=USER, n=1))
    assert body(ChatRequest(messages=USER, n=3))["n"] == 3


# --- reasoning effort ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "effort"),
    [("grok-3-mini", "low"), ("grok-3-mini", "high"), ("grok-4.3", "none"), ("grok-4.5", "medium")],
)
def test_reasoning_effort_accepted_where_listed(model: str, effort: str) -> None:
    assert body(ChatRequest(model=model, messages=USER, reasoning_effort=effort))["reasoning_effort"] == effort


@pytest.mark.parametrize(
    ("model", "effort", "needle"),
    [
        ("grok-3-mini", "medium", "use one of low|high"),
        ("grok-4.5", "none", "use one of low|medium|high"),
        ("grok-4-1-fast-reasoning", "low", "-reasoning / -non-reasoning variant"),
        ("grok-3", "low", "not supported by grok-3"),
        ("grok-4-0709", "high", "not supported"),
        ("grok-4.20-0309-reasoning", "high", "not supported"),
    ],
)
def test_reasoning_effort_rejected(model: str, effort: str, needle: str) -> None:
    err = invalid(ChatRequest, model=model, messages=USER, reasoning_effort=effort)
    assert "reasoning_effort" in str(err) and needle in str(err)


def test_unknown_future_model_accepts_effort_and_drops_stop_when_opted_in() -> None:
    req = ChatRequest(model="grok-9", messages=USER, reasoning_effort="xhigh", stop="x", allow_unknown_models=True)
    assert body(req)["reasoning_effort"] == "xhigh" and "stop" not in body(req)
    assert "allow_unknown_models" not in body(req)  # the opt-in is never sent
    assert any("stop dropped" in note for note in req.dropped)


@pytest.mark.parametrize("model", ["gpt-4o", "grok-99", "grok-3-minii"])
def test_unknown_model_is_refused_before_paying(model: str) -> None:
    err = invalid(ChatRequest, model=model, messages=USER)
    assert "not a known Grok chat model" in str(err) and "allow_unknown_models" in str(err)
    assert err.context.get("fields") == ["model"]


@pytest.mark.parametrize("cls", [WebSearchRequest, CodeExecutionRequest, XSearchRequest])
def test_unknown_model_is_refused_on_server_tool_routes(cls: type) -> None:
    assert "not a known Grok" in str(invalid(cls, model="gpt-4o", messages=USER))


@pytest.mark.parametrize("model", ["grok-build-0.1", "grok-code-fast-1"])
def test_withdrawn_slugs_are_refused_with_the_conflict_named(model: str) -> None:
    text = str(invalid(ChatRequest, model=model, messages=USER))
    assert "withdrawn" in text and "2026-11-19" in text and "grok-4.3" in text
    assert ChatRequest(model=model, messages=USER, allow_unknown_models=True).model == model


@pytest.mark.parametrize("model", ["grok-4.20", "grok-4.20-0309", "grok-4.20-reasoning-latest", "grok-4.20-beta-0309"])
def test_grok_420_aliases_are_known_and_refuse_effort(model: str) -> None:
    assert "not supported" in str(invalid(ChatRequest, model=model, messages=USER, reasoning_effort="high"))
    assert body(ChatRequest(model=model, messages=USER))["model"] == model


def test_grok_47_takes_xhigh_and_grok_46_does_not() -> None:
    assert body(ChatRequest(model="grok-4.7", messages=USER, reasoning_effort="xhigh"))["reasoning_effort"] == "xhigh"
    assert "xhigh" in str(invalid(ChatRequest, model="grok-4.6", messages=USER, reasoning_effort="xhigh"))
    assert "none" in str(invalid(ChatRequest, model="grok-4.7", messages=USER, reasoning_effort="none"))


def test_seed_logprobs_top_logprobs_and_n_are_sent() -> None:
    req = ChatRequest(messages=USER, seed=7, logprobs=True, top_logprobs=3, n=2, top_p=0.5)
    sent = body(req)
    assert (sent["seed"], sent["logprobs"], sent["top_logprobs"], sent["n"], sent["top_p"]) == (7, True, 3, 2, 0.5)


def test_top_logprobs_needs_logprobs_and_is_bounded() -> None:
    assert "needs logprobs" in str(invalid(ChatRequest, messages=USER, top_logprobs=2))
    assert "top_logprobs" in str(invalid(ChatRequest, messages=USER, logprobs=True, top_logprobs=9))


# --- tools and response format ------------------------------------------------------------------

TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


def test_tools_tool_choice_parallel_and_response_format_pass_through() -> None:
    rf = {"type": "json_schema", "json_schema": {"name": "w", "schema": {"type": "object"}, "strict": True}}
    req = ChatRequest(
        messages=USER,
        tools=[TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        parallel_tool_calls=False,
        response_format=rf,
    )
    sent = body(req)
    assert sent["tools"] == [TOOL]
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert sent["parallel_tool_calls"] is False
    assert sent["response_format"] == rf
    assert body(ChatRequest(messages=USER, tools=[TOOL], tool_choice="required"))["tool_choice"] == "required"


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"tool_choice": "auto"}, "tool_choice"),
        ({"tools": [TOOL], "tool_choice": {"type": "function", "function": {"name": "nope"}}}, "tool_choice"),
        ({"tools": [TOOL], "tool_choice": "sometimes"}, "tool_choice"),
        ({"tools": [{"type": "function", "function": {"name": "bad name!"}}]}, "tools[0].function.name"),
        ({"tools": [{"type": "web_search"}]}, "tools[0].type"),
        ({"response_format": {"type": "json_schema"}}, "json_schema"),
        ({"response_format": {"type": "json_object", "json_schema": {"name": "x", "schema": {}}}}, "json_schema"),
        ({"response_format": {"type": "yaml"}}, "response_format.type"),
    ],
)
def test_tool_and_format_rules(kwargs: dict[str, Any], needle: str) -> None:
    assert needle in str(invalid(ChatRequest, messages=USER, **kwargs))


def test_parallel_tool_calls_without_tools_is_dropped() -> None:
    req = ChatRequest(messages=USER, parallel_tool_calls=True)
    assert "parallel_tool_calls" not in body(req)
    assert any("parallel_tool_calls" in d for d in req.dropped)


# --- serialization -----------------------------------------------------------------------------


def test_to_body_is_computed_once_and_compact_utf8() -> None:
    req = ChatRequest(messages=[{"role": "user", "content": "Olá, café ☕"}], temperature=0.5)
    first = req.to_body()
    assert req.to_body() is first
    assert b'","' in first and b'":' in first
    assert b'", ' not in first and b'": ' not in first
    assert "Olá, café ☕".encode() in first  # ensure_ascii=False
    assert first == json.dumps(json.loads(first), separators=(",", ":"), ensure_ascii=False).encode()


def test_to_body_unaffected_by_later_mutation_of_inputs() -> None:
    messages = [{"role": "user", "content": "first"}]
    req = ChatRequest(messages=messages)
    before = req.to_body()
    messages.append({"role": "user", "content": "second"})
    messages[0]["content"] = "changed"
    req.messages.append(req.messages[0])
    assert req.to_body() == before


def test_request_is_frozen() -> None:
    req = ChatRequest(messages=USER)
    with pytest.raises(Exception, match="frozen"):
        req.temperature = 1.0  # type: ignore[misc]


def test_replace_revalidates() -> None:
    req = ChatRequest(messages=USER, temperature=0.2)
    assert body(req.replace(temperature=1.5))["temperature"] == 1.5
    with pytest.raises(InvalidRequestError, match="temperature"):
        req.replace(temperature=5)


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(min_size=1, max_size=200),
    temperature=st.none() | st.floats(min_value=0, max_value=2, allow_nan=False),
    max_tokens=st.none() | st.integers(min_value=1, max_value=8_000),
)
def test_equal_requests_give_identical_bytes(text: str, temperature: float | None, max_tokens: int | None) -> None:
    kwargs = {"messages": [{"role": "user", "content": text}], "temperature": temperature, "max_tokens": max_tokens}
    a, b = ChatRequest(**kwargs), ChatRequest(**kwargs)
    assert a.to_body() == b.to_body()
    assert json.loads(a.to_body())["messages"][0]["content"] == text


# --- server-tool routes --------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [WebSearchRequest, XSearchRequest, CodeExecutionRequest])
def test_server_tool_routes_require_grok4_family(cls: type[GrokRequest]) -> None:
    err = invalid(cls, model="grok-3-mini", messages=USER)
    text = str(err)
    assert "model" in text and "Grok-4-family" in text
    assert "grok-4-1-fast-reasoning" in text and "grok-4-0709" in text
    assert cls.endpoint in text


@pytest.mark.parametrize("cls", [WebSearchRequest, XSearchRequest, CodeExecutionRequest])
def test_server_tool_routes_default_model_and_allowlist(cls: type[GrokRequest]) -> None:
    req = cls(messages=USER, temperature=0.3, max_tokens=64, presence_penalty=1)
    assert body(req)["model"] == DEFAULT_SEARCH_MODEL
    assert body(req)["max_tokens"] == 64
    assert "presence_penalty" not in body(req)
    assert "top_p" in str(invalid(cls, messages=USER, top_p=0.5))


def test_newer_grok4_models_allowed_on_search() -> None:
    for model in ("grok-4.3", "grok-4.20-0309-reasoning", "grok-4.5", "grok-4"):
        assert body(WebSearchRequest(model=model, messages=USER))["model"] == model


def test_web_search_filters_in_one_documented_place() -> None:
    req = WebSearchRequest(messages=USER, allowed_domains=["Example.com", "docs.x.ai", "example.com"])
    assert body(req)[SEARCH_FILTER_KEY] == {"allowed_domains": ["example.com", "docs.x.ai"]}
    req = WebSearchRequest(messages=USER, excluded_domains=["spam.example"])
    assert body(req)[SEARCH_FILTER_KEY] == {"excluded_domains": ["spam.example"]}
    assert SEARCH_FILTER_KEY not in body(WebSearchRequest(messages=USER))


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"allowed_domains": ["a.com"], "excluded_domains": ["b.com"]}, "mutually exclusive"),
        ({"allowed_domains": [f"d{i}.com" for i in range(6)]}, "at most 5"),
        ({"excluded_domains": [f"d{i}.com" for i in range(6)]}, "excluded_domains"),
        ({"allowed_domains": ["https://a.com/path"]}, "not a bare domain"),
        ({"allowed_domains": ["localhost"]}, "allowed_domains"),
    ],
)
def test_web_search_filter_rules(kwargs: dict[str, Any], needle: str) -> None:
    err = str(invalid(WebSearchRequest, messages=USER, **kwargs))
    assert needle in err
    assert "domains" in err


def test_x_search_filters_serialize() -> None:
    req = XSearchRequest(
        messages=USER, allowed_x_handles=["@xai", "elonmusk", "XAI"], from_date="2026-01-01", to_date=date(2026, 2, 1)
    )
    assert body(req)[SEARCH_FILTER_KEY] == {
        "allowed_x_handles": ["xai", "elonmusk"],
        "from_date": "2026-01-01",
        "to_date": "2026-02-01",
    }
    same_day = XSearchRequest(messages=USER, from_date="2026-03-03", to_date="2026-03-03")
    assert body(same_day)[SEARCH_FILTER_KEY] == {"from_date": "2026-03-03", "to_date": "2026-03-03"}


@pytest.mark.parametrize(
    ("kwargs", "field", "needle"),
    [
        ({"allowed_x_handles": ["a"], "excluded_x_handles": ["b"]}, "allowed_x_handles", "mutually exclusive"),
        ({"excluded_x_handles": [f"h{i}" for i in range(21)]}, "excluded_x_handles", "at most 20"),
        ({"allowed_x_handles": ["not a handle"]}, "allowed_x_handles", "not an X handle"),
        ({"allowed_x_handles": ["waytoolonghandle_x"]}, "allowed_x_handles", "not an X handle"),
        ({"from_date": "2026/01/01"}, "from_date", "YYYY-MM-DD"),
        ({"to_date": "2026-13-01"}, "to_date", "YYYY-MM-DD"),
        ({"from_date": 1767225600}, "from_date", "YYYY-MM-DD"),
        ({"from_date": "2026-02-02", "to_date": "2026-02-01"}, "from_date", "after to_date"),
    ],
)
def test_x_search_filter_rules(kwargs: dict[str, Any], field: str, needle: str) -> None:
    err = str(invalid(XSearchRequest, messages=USER, **kwargs))
    assert field in err and needle in err


def test_code_execution_accepts_extra_function_tools() -> None:
    req = CodeExecutionRequest(messages=USER, tools=[TOOL], tool_choice="auto")
    assert body(req)["tools"] == [TOOL] and body(req)["tool_choice"] == "auto"
    assert "tool_choice" in str(invalid(CodeExecutionRequest, messages=USER, tool_choice="auto"))


# --- images ------------------------------------------------------------------------------------


def test_image_generate_body_defaults_to_b64() -> None:
    req = ImageGenerateRequest(prompt="a red fox", n=2, aspect_ratio="16:9")
    assert body(req) == {
        "model": DEFAULT_IMAGE_MODEL,
        "prompt": "a red fox",
        "n": 2,
        "aspect_ratio": "16:9",
        "response_format": "b64_json",
    }
    assert body(ImageGenerateRequest(prompt="x", response_format="url"))["response_format"] == "url"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"prompt": "   "}, "prompt"),
        ({}, "prompt"),
        ({"prompt": "x", "n": 0}, "n"),
        ({"prompt": "x", "n": 11}, "n"),
        ({"prompt": "x", "aspect_ratio": "5:4"}, "aspect_ratio"),
        ({"prompt": "x", "response_format": "png"}, "response_format"),
        ({"prompt": "x", "model": "grok-3-mini"}, "model"),
        ({"prompt": "x", "size": "1024x1024"}, "size"),
    ],
)
def test_image_generate_rules(kwargs: dict[str, Any], field: str) -> None:
    assert field in str(invalid(ImageGenerateRequest, **kwargs))


@pytest.mark.parametrize("request_type", [ImageGenerateRequest, ImageEditRequest])
def test_every_image_option_reaches_the_body(request_type: Any) -> None:
    """quality / resolution / n / response_format are validated, so they must also be sent (an edit
    once validated them and dropped them: a paid call that ignored what was asked)."""
    source = {"image": "https://a.example/in.png"} if request_type is ImageEditRequest else {}
    req = request_type(
        prompt="p", model="grok-imagine-image-2.0", n=2, quality="medium", resolution="2k", response_format="url",
        **source,
    )
    sent = body(req)
    assert {k: sent[k] for k in ("n", "quality", "resolution", "response_format")} == {
        "n": 2, "quality": "medium", "resolution": "2k", "response_format": "url",
    }  # fmt: skip


def test_image_edit_accepts_url_data_uri_and_bytes() -> None:
    url = ImageEditRequest(prompt="make it blue", image="https://a.example/in.png")
    assert body(url)["image"] == {"url": "https://a.example/in.png", "type": "image_url"}
    png = tiny_png()
    from_bytes = ImageEditRequest(prompt="make it blue", image=png, n=2)
    uri = body(from_bytes)["image"]["url"]
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == png
    assert body(from_bytes)["n"] == 2
    assert ImageEditRequest(prompt="x", image=uri).image == uri


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"image": "ftp://a.example/x.png"}, "image"),
        ({"image": b"not an image"}, "PNG, JPEG, WEBP or GIF"),
        ({"image": "data:image/png;base64,!!!"}, "base64"),
        ({"image": "data:text/plain;base64,aGk="}, "image"),
        ({"image": "https://a.example/x.png", "n": 11}, "n"),
    ],
)
def test_image_edit_rules(kwargs: dict[str, Any], needle: str) -> None:
    assert needle in str(invalid(ImageEditRequest, prompt="x", **kwargs))


# --- tts ---------------------------------------------------------------------------------------


def test_tts_body_defaults_and_codec() -> None:
    assert body(TTSRequest(text="hello")) == {"text": "hello", "language": "en", "voice_id": "eve"}
    req = TTSRequest(text="hi", voice_id="ARA", codec="WAV", sample_rate=24000, language="pt-BR")
    assert body(req) == {
        "text": "hi",
        "language": "pt-BR",
        "voice_id": "ara",
        "output_format": {"codec": "wav", "sample_rate": 24000},
    }
    assert TTSRequest(text="x" * 15_000).characters == 15_000


@pytest.mark.parametrize(
    ("kwargs", "field", "needle"),
    [
        ({"text": ""}, "text", "text"),
        ({"text": "   "}, "text", "something to say"),
        ({"text": "x" * 15_001}, "text", "split"),
        ({"text": "x", "voice_id": "bob"}, "voice_id", "eve, ara, rex, sal, leo"),
        ({"text": "x", "codec": "flac"}, "codec", "codec"),
        ({"text": "x", "sample_rate": 12345}, "sample_rate", "sample_rate"),
        ({"text": "x", "language": "english please"}, "language", "BCP-47"),
    ],
)
def test_tts_rules(kwargs: dict[str, Any], field: str, needle: str) -> None:
    err = str(invalid(TTSRequest, **kwargs))
    assert field in err and needle in err


def test_request_types_registry_covers_seven_routes() -> None:
    assert sorted(REQUEST_TYPES) == sorted(
        [
            "/grok/chat",
            "/grok/web-search",
            "/grok/x-search",
            "/grok/code-execution",
            "/grok/image-generate",
            "/grok/image-edit",
            "/grok/tts",
        ]
    )


def test_extra_body_merges_into_derived_objects_without_overwriting() -> None:
    req = WebSearchRequest(
        messages=USER, allowed_domains=["a.com"], extra_body={SEARCH_FILTER_KEY: {"max_search_results": 5}}
    )
    assert body(req)[SEARCH_FILTER_KEY] == {"allowed_domains": ["a.com"], "max_search_results": 5}
    with pytest.raises(InvalidRequestError, match="extra_body"):
        WebSearchRequest(
            messages=USER, allowed_domains=["a.com"], extra_body={SEARCH_FILTER_KEY: {"allowed_domains": []}}
        )
    with pytest.raises(InvalidRequestError, match="extra_body"):
        TTSRequest(text="x", codec="mp3", extra_body={"output_format": "mp3"})


def test_chat_wire_body_round_trips_through_the_model() -> None:
    """The local gateway re-validates wire bodies with these models; chat wire keys equal field names."""
    req = ChatRequest(
        model="grok-4.20-0309-non-reasoning",
        messages=[{"role": "system", "content": "s"}, {"role": "user", "content": "u"}],
        temperature=0.7,
        top_p=0.9,
        max_tokens=42,
        n=2,
        stop=["a", "b"],
        tools=[TOOL],
        tool_choice="auto",
        response_format={"type": "json_object"},
    )
    again = ChatRequest.model_validate(json.loads(req.to_body()))
    assert again.to_body() == req.to_body()


# --- 2026-12 catalog: image 2.0, TTS ulaw / bit_rate -------------------------------------------------


def test_image_2_quality_resolution_and_new_ratios_are_sent() -> None:
    req = ImageGenerateRequest(
        prompt="a cat", model="grok-imagine-image-2.0", quality="medium", resolution="2k", aspect_ratio="21:9"
    )
    sent = body(req)
    assert (sent["quality"], sent["resolution"], sent["aspect_ratio"]) == ("medium", "2k", "21:9")
    assert req.premium


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"quality": "low"}, "quality"),
        ({"resolution": "2k"}, "resolution"),
        ({"aspect_ratio": "5:2"}, "aspect_ratio"),
    ],
)
def test_image_2_options_are_refused_on_image_1(kwargs: dict[str, Any], needle: str) -> None:
    text = str(invalid(ImageGenerateRequest, prompt="a cat", model="grok-imagine-image", **kwargs))
    assert needle in text and "grok-imagine-image-2.0" in text


def test_image_edit_takes_up_to_five_sources_on_2_0() -> None:
    urls = [f"https://example.com/{i}.png" for i in range(5)]
    req = ImageEditRequest(prompt="merge", image=urls, model="grok-imagine-image-2.0")
    assert [s["url"] for s in body(req)["images"]] == urls and req.source_count == 5
    assert "at most 5" in str(invalid(ImageEditRequest, prompt="x", image=[*urls, urls[0]], model="grok-imagine-image-2.0"))
    assert "several edit sources" in str(invalid(ImageEditRequest, prompt="x", image=urls[:2]))
    one = ImageEditRequest(prompt="x", image=urls[:1])
    assert body(one)["image"] == {"url": urls[0], "type": "image_url"}


def test_unknown_image_model_is_refused_unless_opted_in() -> None:
    assert "allow_unknown_models" in str(invalid(ImageGenerateRequest, prompt="x", model="grok-imagine-image-9"))
    req = ImageGenerateRequest(prompt="x", model="grok-imagine-image-9", allow_unknown_models=True)
    assert "allow_unknown_models" not in body(req)


def test_tts_ulaw_and_bit_rate() -> None:
    assert body(TTSRequest(text="hi", codec="ulaw"))["output_format"] == {"codec": "ulaw"}
    assert body(TTSRequest(text="hi", codec="mp3", bit_rate=128_000))["output_format"]["bit_rate"] == 128_000
    assert "only applies to codec 'mp3'" in str(invalid(TTSRequest, text="hi", codec="wav", bit_rate=64_000))
    assert "bit_rate must be one of" in str(invalid(TTSRequest, text="hi", bit_rate=100))
