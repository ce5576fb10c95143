"""Envelope handling and normalization of Chat Completions, Responses, image and speech bodies."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

import pytest
from gateway_samples import real_wav, tiny_png

from grok_mpp.errors import GatewayError, UpstreamError
from grok_mpp.gateway.parsing import (
    extract_xai_error,
    make_citation,
    normalize_usage,
    parse_chat,
    parse_image,
    parse_speech,
    sniff_audio_mime,
    sniff_image_mime,
    unwrap_envelope,
)
from grok_mpp.gateway.pricing import cost_from_usage
from grok_mpp.gateway.results import Cost


def chat_completion(message: dict[str, Any], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "cmpl-1",
        "object": "chat.completion",
        "model": "grok-4.3",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }
    data.update(extra)
    return data


# --- envelope ----------------------------------------------------------------------------------------


def test_real_locus_sample_end_to_end(locus_chat_sample: dict[str, Any]) -> None:
    data = unwrap_envelope(200, locus_chat_sample)
    result = parse_chat(data, requested_model="grok-3-mini", endpoint="/grok/chat")
    assert result.requested_model == "grok-3-mini"
    assert result.served_model == "grok-4.3"
    assert result.text == "Tempo is …"
    assert result.reasoning == "The user asks: …"
    assert result.finish_reason == "stop"
    assert result.system_fingerprint == "fp_eb3c003fc66c14ed"
    u = result.usage
    assert (u.input_tokens, u.output_tokens, u.total_tokens) == (140, 621, 761)
    assert (u.reasoning_tokens, u.cached_input_tokens, u.completion_tokens) == (592, 128, 29)
    assert u.cost_in_usd_ticks == 15_931_000
    assert result.cost.upstream_cost_usd == Decimal("0.0015931")
    assert result.cost.paid is None
    assert result.tool_calls == () and result.citations == () and result.server_tool_calls == ()
    assert result.raw is data


def test_payment_cost_is_kept_and_upstream_ticks_filled(locus_chat_sample: dict[str, Any]) -> None:
    paid = Cost(2359, "USDC.e", 4217, "0xtx", "ch", None, estimated=6000, upstream_ticks=None)
    result = parse_chat(
        unwrap_envelope(200, locus_chat_sample), requested_model="grok-3-mini", endpoint="/grok/chat", cost=paid
    )
    assert result.cost.paid == 2359 and result.cost.tx_hash == "0xtx" and result.cost.estimated == 6000
    assert result.cost.upstream_ticks == 15_931_000
    assert result.cost.markup_usd == Decimal("0.002359") - Decimal("0.0015931")


def test_without_ticks_estimated_cost_comes_from_pricing_table(locus_chat_sample: dict[str, Any]) -> None:
    del locus_chat_sample["data"]["usage"]["cost_in_usd_ticks"]
    result = parse_chat(locus_chat_sample["data"], requested_model="grok-3-mini", endpoint="/grok/chat")
    assert result.cost.upstream_ticks is None
    assert result.cost.estimated == cost_from_usage("grok-4.3", result.usage) == 1594


def test_failed_envelope_raises_upstream_error_with_refund_note() -> None:
    body = {"success": False, "error": "Upstream API call failed", "paymentId": "7f1c-uuid"}
    with pytest.raises(UpstreamError) as info:
        unwrap_envelope(502, body)
    err = info.value
    assert err.payment_id == "7f1c-uuid" and err.status_code == 502 and err.paid
    assert "Upstream API call failed" in str(err)
    assert "refund" in str(err) and "7f1c-uuid" in str(err)
    assert err.body is body


def test_envelope_variants() -> None:
    assert unwrap_envelope(200, {"success": True, "data": {"a": 1}}) == {"a": 1}
    assert unwrap_envelope(200, {"success": True, "data": "QUJD"}) == {"data": "QUJD"}
    assert unwrap_envelope(200, {"success": True, "data": [1]}) == {"data": [1]}
    assert unwrap_envelope(200, {"success": True, "id": "x"}) == {"id": "x"}
    bare = {"object": "chat.completion", "choices": []}
    assert unwrap_envelope(200, bare) is bare
    with pytest.raises(GatewayError, match="list"):
        unwrap_envelope(200, [1, 2])


def test_error_status_without_envelope_surfaces_xai_message() -> None:
    body = {"code": "Client specified an invalid argument", "error": "Argument not supported on this model: stop"}
    with pytest.raises(GatewayError) as info:
        unwrap_envelope(400, body)
    assert not isinstance(info.value, UpstreamError)
    assert info.value.status_code == 400
    assert "Argument not supported on this model: stop" in str(info.value)


def test_extract_xai_error_forms() -> None:
    classic = extract_xai_error({"code": "Client specified an invalid argument", "error": "bad presencePenalty"})
    assert classic is not None and classic.message == "bad presencePenalty"
    assert classic.code == "Client specified an invalid argument"
    openai = extract_xai_error(
        b'{"error":{"message":"Model grok-4.5 does not support parameter presencePenalty.",'
        b'"type":"invalid_request_error","param":"presence_penalty","code":"unsupported"}}'
    )
    assert openai is not None and openai.param == "presence_penalty" and openai.type == "invalid_request_error"
    assert "presencePenalty" in openai.describe()
    assert extract_xai_error("upstream exploded").message == "upstream exploded"  # type: ignore[union-attr]
    assert extract_xai_error({"ok": True}) is None
    assert extract_xai_error([1]) is None
    assert extract_xai_error(b"") is None


# --- chat completions -----------------------------------------------------------------------------


def test_tool_calls_parsed_invalid_json_kept_raw() -> None:
    data = chat_completion(
        {
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"city":"Oslo"}'}},
                {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{not json"}},
                {"id": "c3", "type": "function", "function": {"name": "h", "arguments": "[1,2]"}},
            ],
        }
    )
    result = parse_chat(data, requested_model="grok-4.3", endpoint="/grok/chat")
    assert result.text == ""
    a, b, c = result.tool_calls
    assert (a.id, a.name, a.arguments, a.raw_arguments) == ("c1", "f", {"city": "Oslo"}, '{"city":"Oslo"}')
    assert (b.arguments, b.raw_arguments) == ({}, "{not json")
    assert (c.arguments, c.raw_arguments) == ({}, "[1,2]")


def test_server_tool_names_in_chat_tool_calls_map_on_search_routes_only() -> None:
    call = {"id": "s1", "type": "function", "function": {"name": "x_keyword_search", "arguments": '{"query":"q"}'}}
    data = chat_completion({"content": "done", "tool_calls": [call]})
    on_search = parse_chat(data, requested_model="grok-4.3", endpoint="/grok/x-search")
    assert on_search.tool_calls == ()
    (server,) = on_search.server_tool_calls
    assert (server.name, server.sub_tool, server.args) == ("x_search", "x_keyword_search", {"query": "q"})
    on_chat = parse_chat(data, requested_model="grok-4.3", endpoint="/grok/chat")
    assert on_chat.server_tool_calls == () and on_chat.tool_calls[0].name == "x_keyword_search"


def test_top_level_citations_with_x_post_tagging_and_dedup() -> None:
    data = chat_completion(
        {"content": "answer"},
        citations=[
            "https://x.com/elonmusk/status/1982000000000000002",
            "https://example.com/article",
            "https://x.com/i/status/1982000000000000001",
            "https://example.com/article",
            "https://twitter.com/xai/statuses/123",
            "https://x.com/xai",
        ],
    )
    cites = parse_chat(data, requested_model="grok-4.3", endpoint="/grok/web-search").citations
    assert [c.url for c in cites] == [
        "https://x.com/elonmusk/status/1982000000000000002",
        "https://example.com/article",
        "https://x.com/i/status/1982000000000000001",
        "https://twitter.com/xai/statuses/123",
        "https://x.com/xai",
    ]
    post, web, anon, legacy, profile = cites
    assert (post.source, post.post_id, post.author) == ("x", "1982000000000000002", "elonmusk")
    assert (web.source, web.post_id, web.author) == ("web", None, None)
    assert (anon.source, anon.post_id, anon.author) == ("x", "1982000000000000001", None)
    assert (legacy.source, legacy.post_id, legacy.author) == ("x", "123", "xai")
    assert (profile.source, profile.post_id) == ("x", None)


@pytest.mark.parametrize(
    ("url", "source", "post_id", "author"),
    [
        ("https://mobile.twitter.com/jack/status/20?s=20", "x", "20", "jack"),
        ("https://x.com/i/web/status/42", "x", "42", None),
        ("https://notx.com/a/status/1", "web", None, None),
        ("https://example.com/x.com/i/status/1", "web", None, None),
    ],
)
def test_make_citation_x_detection(url: str, source: str, post_id: str | None, author: str | None) -> None:
    c = make_citation(url)
    assert (c.source, c.post_id, c.author) == (source, post_id, author)


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        # xAI chat: reasoning outside completion_tokens
        ({"prompt_tokens": 140, "completion_tokens": 29, "total_tokens": 761,
          "completion_tokens_details": {"reasoning_tokens": 592}}, (140, 621, 761, 592)),
        # a chat body whose completion already includes reasoning (total says so)
        ({"prompt_tokens": 100, "completion_tokens": 700, "total_tokens": 800,
          "completion_tokens_details": {"reasoning_tokens": 600}}, (100, 700, 800, 600)),
        # no total: chat keys default to "reasoning outside"
        ({"prompt_tokens": 5, "completion_tokens": 5,
          "completion_tokens_details": {"reasoning_tokens": 10}}, (5, 15, 20, 10)),
        # Responses: output includes reasoning
        ({"input_tokens": 1200, "output_tokens": 1898, "total_tokens": 3098,
          "output_tokens_details": {"reasoning_tokens": 292}}, (1200, 1898, 3098, 292)),
        # Responses body whose total says reasoning was outside
        ({"input_tokens": 10, "output_tokens": 20, "total_tokens": 60,
          "output_tokens_details": {"reasoning_tokens": 30}}, (10, 50, 60, 30)),
        (None, (0, 0, 0, 0)),
        ({"prompt_tokens": "many", "completion_tokens": -3}, (0, 0, 0, 0)),
    ],
)  # fmt: skip
def test_normalize_usage(usage: Any, expected: tuple[int, int, int, int]) -> None:
    u = normalize_usage(usage)
    assert (u.input_tokens, u.output_tokens, u.total_tokens, u.reasoning_tokens) == expected


def test_chat_with_no_choices_and_no_usage_is_an_error() -> None:
    with pytest.raises(GatewayError, match="neither"):
        parse_chat({"object": "chat.completion"}, requested_model="m", endpoint="/grok/chat")


# --- responses API ------------------------------------------------------------------------------


def test_responses_shape_with_server_tools(responses_sample: dict[str, Any]) -> None:
    result = parse_chat(responses_sample, requested_model="grok-4-1-fast-reasoning", endpoint="/grok/web-search")
    assert result.text == "xAI builds Grok. fib(10) is 55."
    assert result.reasoning == "Need to search."
    assert result.served_model == "grok-4.3" and result.finish_reason == "stop"
    web, x, code = result.server_tool_calls
    assert (web.name, web.id, web.args, web.status) == (
        "web_search",
        "fc_web_1",
        {"query": "what is xAI", "num_results": 5},
        "completed",
    )
    assert (x.name, x.sub_tool, x.args["from_date"]) == ("x_search", "x_semantic_search", "2026-01-01")
    assert code.name == "code_execution" and "fibonacci(10)" in code.args["code"]
    assert code.outputs == ("55\n",)
    first, anon, tw = result.citations
    assert (first.url, first.title, first.start_index, first.end_index, first.source) == (
        "https://x.ai/company",
        "About xAI",
        0,
        15,
        "web",
    )
    assert (anon.source, anon.post_id, anon.author) == ("x", "1982000000000000001", None)
    assert (tw.source, tw.author) == ("x", "elonmusk")
    u = result.usage
    assert (u.input_tokens, u.output_tokens, u.total_tokens, u.reasoning_tokens) == (1200, 1898, 3098, 292)
    assert (u.cached_input_tokens, u.num_server_side_tools_used) == (200, 3)
    assert result.cost.upstream_cost_usd == Decimal("0.021")


def test_responses_function_call_and_incomplete_status() -> None:
    data = {
        "id": "r2",
        "output": [
            {"type": "function_call", "call_id": "call_9", "name": "lookup", "arguments": '{"q":1}'},
            {"type": "code_interpreter_call", "id": "ci", "code": "print(1)", "status": "in_progress"},
        ],
        "status": "incomplete",
        "incomplete_details": {"reason": "max_output_tokens"},
        "usage": {"input_tokens": 3, "output_tokens": 4},
    }
    result = parse_chat(data, requested_model="grok-4.3", endpoint="/grok/code-execution")
    (call,) = result.tool_calls
    assert (call.id, call.name, call.arguments) == ("call_9", "lookup", {"q": 1})
    (code,) = result.server_tool_calls
    assert code.args == {"code": "print(1)"} and code.status == "in_progress" and code.outputs == ()
    assert result.finish_reason == "length"
    assert result.served_model == "grok-4.3"  # falls back to the requested model
    assert result.usage.total_tokens == 7


# --- images -------------------------------------------------------------------------------------

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + b"\x00" * 16
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 16
GIF = b"GIF89a\x01\x00\x01\x00" + b"\x00" * 8


@pytest.mark.parametrize(
    ("blob", "mime"),
    [(tiny_png(), "image/png"), (JPEG, "image/jpeg"), (WEBP, "image/webp"), (GIF, "image/gif"), (b"BM...", None)],
)
def test_sniff_image_mime(blob: bytes, mime: str | None) -> None:
    assert sniff_image_mime(blob) == mime


def test_parse_image_decodes_and_sniffs_regardless_of_requested_format() -> None:
    data = {
        "data": [
            {"b64_json": base64.b64encode(JPEG).decode(), "revised_prompt": "a fox, detailed"},
            {"b64_json": "data:image/png;base64," + base64.b64encode(tiny_png()).decode()},
            {"url": "https://imgen.x.ai/tmp/abc.jpg"},
        ],
        "usage": {"cost_in_usd_ticks": 600_000_000},
    }
    result = parse_image(data, requested_model="grok-imagine-image")
    jpeg, png, url = result.images
    assert (jpeg.data, jpeg.mime_type, jpeg.revised_prompt) == (JPEG, "image/jpeg", "a fox, detailed")
    assert png.data == tiny_png() and png.mime_type == "image/png"
    assert (url.data, url.url, url.mime_type) == (None, "https://imgen.x.ai/tmp/abc.jpg", None)
    assert result.model == "grok-imagine-image"
    assert result.cost.upstream_cost_usd == Decimal("0.06") and result.cost.estimated == 60_000


def test_parse_image_errors() -> None:
    with pytest.raises(GatewayError, match="no images"):
        parse_image({"data": []}, requested_model="grok-imagine-image")
    with pytest.raises(GatewayError, match="base64"):
        parse_image({"data": [{"b64_json": "@@not base64@@"}]}, requested_model="grok-imagine-image")


# --- speech -------------------------------------------------------------------------------------


MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" + b"\x00" * 32


@pytest.mark.parametrize(
    ("blob", "mime"),
    [(MP3, "audio/mpeg"), (b"\xff\xfb\x90\x00" + b"\x00" * 8, "audio/mpeg"), (real_wav(), "audio/wav"),
     (b"OggS\x00\x02" + b"\x00" * 20, "audio/ogg"), (b"\x01\x02\x03", None)],
)  # fmt: skip
def test_sniff_audio_mime(blob: bytes, mime: str | None) -> None:
    assert sniff_audio_mime(blob) == mime


def test_parse_speech_from_locus_data_data_and_bare_string() -> None:
    encoded = base64.b64encode(MP3).decode()
    a = parse_speech({"data": encoded, "content_type": "audio/mpeg"}, characters=108)
    assert (a.audio, a.mime_type, a.characters) == (MP3, "audio/mpeg", 108)
    b = parse_speech(base64.b64encode(real_wav()).decode(), characters=5)
    assert b.mime_type == "audio/wav" and b.raw == {"data": base64.b64encode(real_wav()).decode()}
    pcm = parse_speech({"data": base64.b64encode(b"\x01\x02\x03\x04").decode()}, characters=1, codec="pcm")
    assert pcm.mime_type == "audio/L16"
    unknown = parse_speech({"data": base64.b64encode(b"\x01\x02").decode()}, characters=1)
    assert unknown.mime_type == "application/octet-stream"


def test_parse_speech_errors() -> None:
    with pytest.raises(GatewayError, match=r"data\.data"):
        parse_speech({"ok": True}, characters=1)
    with pytest.raises(GatewayError, match="base64"):
        parse_speech({"data": "!!!"}, characters=1)


def test_unwrapped_envelope_feeds_parsers() -> None:
    """The whole path a client takes for TTS: Locus envelope -> unwrap -> parse."""
    encoded = base64.b64encode(MP3).decode()
    envelope = json.loads(json.dumps({"success": True, "data": {"data": encoded}}))
    assert parse_speech(unwrap_envelope(200, envelope), characters=3).audio == MP3


def test_several_choices_and_logprobs_are_kept() -> None:
    lp = {"content": [{"token": "Hi", "logprob": -0.1, "top_logprobs": []}]}
    data = {
        "id": "c1",
        "model": "grok-4.3",
        "choices": [
            {"index": 1, "message": {"role": "assistant", "content": "Second"}, "finish_reason": "length"},
            {"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop", "logprobs": lp},
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9},
    }
    result = parse_chat(data, requested_model="grok-3-mini", endpoint="/grok/chat")
    assert (result.text, result.finish_reason, result.logprobs) == ("Hi", "stop", lp)
    (alt,) = result.alternatives
    assert (alt.text, alt.finish_reason, alt.logprobs, alt.alternatives) == ("Second", "length", None, ())
    assert alt.usage == result.usage and alt.id == "c1"
