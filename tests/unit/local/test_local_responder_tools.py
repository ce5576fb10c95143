"""Responses-API endpoints (code execution, web and X search), images and speech."""

from __future__ import annotations

import base64
import io
import json
import re
import wave
from typing import Any

import pytest

from grok_mpp.local.responder import TOOL_CALL_TICKS, BadRequestError, respond, search_filters, token_cost_ticks
from tests.unit.local.test_local_media import parse_png


def body(prompt: str, model: str = "grok-4-1-fast-reasoning", **kw: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": prompt}], **kw}


def items_of(data: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [item for item in data["output"] if item["type"] == kind]


def message_text(data: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    (message,) = items_of(data, "message")
    (part,) = message["content"]
    assert part["type"] == "output_text" and message["role"] == "assistant"
    return part["text"], part["annotations"]


def check_responses_usage(data: dict[str, Any], *, tools: int, sources: int) -> None:
    usage = data["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["output_tokens"] > usage["output_tokens_details"]["reasoning_tokens"] >= 0
    assert usage["num_server_side_tools_used"] == tools and usage["num_sources_used"] == sources
    cached = usage["input_tokens_details"]["cached_tokens"]
    tokens_only = token_cost_ticks(data["model"], usage["input_tokens"], cached, usage["output_tokens"])
    assert usage["cost_in_usd_ticks"] == tokens_only + tools * TOOL_CALL_TICKS


# --- code execution ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "logs", "value_text"),
    [
        ("Use Python to compute 17 * 23 + 4", "395\n", "395"),
        ("What is 2 ** 0.5?", f"{2**0.5}\n", "1.41421356237"),
        ("what is (10 - 4) / 4", "1.5\n", "1.5"),
    ],
)
def test_code_execution_computes_arithmetic(prompt: str, logs: str, value_text: str) -> None:
    data = respond("/grok/code-execution", body(prompt))
    assert data["object"] == "response" and data["status"] == "completed"
    (call,) = items_of(data, "code_interpreter_call")
    assert call["name"] == "code_execution" and call["status"] == "completed"
    code = json.loads(call["arguments"])["code"]
    assert code == call["code"] and code.startswith("result = ")
    assert call["outputs"] == [{"type": "logs", "logs": logs}]
    text, annotations = message_text(data)
    assert text.startswith("[synthetic] ") and f"```python\n{code}\n```" in text
    assert f"is {value_text}." in text and annotations == []
    check_responses_usage(data, tools=1, sources=0)
    assert items_of(data, "reasoning")  # a reasoning model


def test_code_execution_reports_errors_and_never_runs_arbitrary_code() -> None:
    data = respond("/grok/code-execution", body("what is 5 / 0"))
    (call,) = items_of(data, "code_interpreter_call")
    assert call["outputs"][0]["logs"] == "Error: division by zero\n"
    hostile = "__import__('os').system('echo pwned')"
    data = respond("/grok/code-execution", body(hostile, model="grok-4-1-fast-non-reasoning"))
    (call,) = items_of(data, "code_interpreter_call")
    # The request text only ever appears as a string literal in the generated code.
    assert call["code"].startswith(f"text = {hostile!r}\n")
    assert call["outputs"][0]["logs"] == "2 words\n"
    assert not items_of(data, "reasoning")
    assert data["usage"]["output_tokens_details"]["reasoning_tokens"] == 0


# --- search ----------------------------------------------------------------------------------------


def check_citations(text: str, annotations: list[dict[str, Any]]) -> None:
    for ann in annotations:
        assert ann["type"] == "url_citation" and ann["title"]
        assert text[ann["start_index"] : ann["end_index"]].endswith(f"]]({ann['url']})")


def test_web_search_cites_at_least_five_sources() -> None:
    data = respond("/grok/web-search", body("latest news about the Tempo blockchain"))
    (call,) = items_of(data, "web_search_call")
    assert (
        call["name"] == "web_search"
        and json.loads(call["arguments"])["query"] == "latest news about the Tempo blockchain"
    )
    text, annotations = message_text(data)
    assert len(annotations) >= 5 and len({a["url"] for a in annotations}) == len(annotations)
    check_citations(text, annotations)
    assert all(re.match(r"https://([a-z]+\.)?example\.[a-z]+/", a["url"]) for a in annotations)
    assert data["citations"] == [a["url"] for a in annotations]
    check_responses_usage(data, tools=1, sources=len(annotations))


@pytest.mark.parametrize(
    "extra",
    [
        {
            "search_parameters": {
                "sources": [{"type": "web", "allowed_websites": ["docs.tempo.xyz", "https://www.mpp.dev/"]}]
            }
        },
        {"allowed_domains": ["docs.tempo.xyz", "mpp.dev"]},
        {"tools": [{"type": "web_search", "allowed_domains": ["docs.tempo.xyz", "mpp.dev"]}]},
        {"search_parameters": {"allowed_domains": ["docs.tempo.xyz", "mpp.dev"]}},
    ],
)
def test_web_search_honours_allowed_domains_wherever_they_are(extra: dict[str, Any]) -> None:
    data = respond("/grok/web-search", body("tempo fees", **extra))
    _, annotations = message_text(data)
    hosts = {a["url"].split("/")[2] for a in annotations}
    assert hosts == {"docs.tempo.xyz", "mpp.dev"}


def test_web_search_honours_excluded_domains_and_max_results() -> None:
    extra = {
        "search_parameters": {
            "max_search_results": 8,
            "sources": [{"type": "web", "excluded_websites": ["example.com"]}],
        }
    }
    _, annotations = message_text(respond("/grok/web-search", body("tempo", **extra)))
    assert len(annotations) == 8
    hosts = [a["url"].split("/")[2] for a in annotations]
    assert not any(h == "example.com" or h.endswith(".example.com") for h in hosts)
    _, few = message_text(respond("/grok/web-search", body("tempo", max_search_results=2)))
    assert len(few) == 2


def test_x_search_uses_status_urls_and_handles() -> None:
    data = respond("/grok/x-search", body("what are people saying about MPP"))
    (call,) = items_of(data, "x_search_call")
    assert json.loads(call["arguments"])["limit"] == len(call["action"]["sources"])
    text, annotations = message_text(data)
    assert len(annotations) >= 5
    check_citations(text, annotations)
    assert all(re.fullmatch(r"https://x\.com/\w+/status/\d{19}", a["url"]) for a in annotations)
    allowed = respond(
        "/grok/x-search", body("mpp", tools=[{"type": "x_search", "allowed_x_handles": ["@xai", "tempo"]}])
    )
    _, annotations = message_text(allowed)
    assert {a["url"].split("/")[3] for a in annotations} == {"xai", "tempo"}
    excluded = respond("/grok/x-search", body("mpp", excluded_x_handles=["grok_mpp_demo"]))
    assert all("/grok_mpp_demo/" not in a["url"] for a in message_text(excluded)[1])


@pytest.mark.parametrize(
    "extra",
    [
        {"allowed_domains": ["a.com"], "excluded_domains": ["b.com"]},
        {"allowed_domains": [f"d{i}.com" for i in range(6)]},
        {"allowed_x_handles": [f"h{i}" for i in range(11)]},
        {"allowed_domains": "a.com"},
        {"max_search_results": 0},
    ],
)
def test_search_filter_limits(extra: dict[str, Any]) -> None:
    with pytest.raises(BadRequestError):
        search_filters(extra)


def test_search_max_tokens_marks_response_incomplete() -> None:
    data = respond("/grok/web-search", body("tempo", max_tokens=20))
    text, annotations = message_text(data)
    assert data["status"] == "incomplete" and len(text) == 80
    assert all(a["end_index"] <= len(text) for a in annotations)


# --- images ------------------------------------------------------------------------------------------


def test_image_generate_returns_real_pngs_and_cost() -> None:
    data = respond(
        "/grok/image-generate",
        {"prompt": "a cat in a hat", "n": 2, "response_format": "b64_json", "aspect_ratio": "16:9"},
    )
    assert len(data["data"]) == 2
    pngs = [base64.b64decode(item["b64_json"]) for item in data["data"]]
    assert pngs[0] != pngs[1]
    for png in pngs:
        ihdr, _ = parse_png(png)
        assert (ihdr["width"], ihdr["height"]) == (64, 36)
    assert "a cat in a hat" in data["data"][0]["revised_prompt"]
    assert data["usage"]["cost_in_usd_ticks"] == 2 * 200_000_000
    quality = respond("/grok/image-generate", {"prompt": "x", "model": "grok-imagine-image-pro"})
    assert quality["usage"]["cost_in_usd_ticks"] == 400_000_000  # served as grok-imagine-image-2.0


def test_image_url_form_is_a_data_uri() -> None:
    (item,) = respond("/grok/image-generate", {"prompt": "a dog"})["data"]
    prefix = "data:image/png;base64,"
    assert item["url"].startswith(prefix)
    parse_png(base64.b64decode(item["url"][len(prefix) :]))


def test_image_edit_needs_a_source_and_bills_it() -> None:
    source = "data:image/png;base64,iVBORw0KGgo="
    for field in ({"image": {"url": source, "type": "image_url"}}, {"image_url": source}, {"images": [source]}):
        data = respond("/grok/image-edit", {"prompt": "make it blue", "response_format": "b64_json", **field})
        parse_png(base64.b64decode(data["data"][0]["b64_json"]))
        assert data["usage"]["cost_in_usd_ticks"] == 2 * 200_000_000
    with pytest.raises(BadRequestError):
        respond("/grok/image-edit", {"prompt": "make it blue"})


@pytest.mark.parametrize(
    "bad", [{}, {"prompt": ""}, {"prompt": "x", "n": 11}, {"prompt": "x", "response_format": "gif"}]
)
def test_image_bad_requests(bad: dict[str, Any]) -> None:
    with pytest.raises(BadRequestError):
        respond("/grok/image-generate", bad)


# --- speech ------------------------------------------------------------------------------------------


def test_tts_returns_wav_that_stdlib_can_read() -> None:
    text = "Hello from the local gateway."
    data = respond("/grok/tts", {"text": text, "language": "en", "voice_id": "Ara"})
    assert data["content_type"] == "audio/wav" and data["characters"] == len(text) and data["voice_id"] == "ara"
    with wave.open(io.BytesIO(base64.b64decode(data["data"]))) as wav:
        assert wav.getframerate() == 8000 and wav.getnchannels() == 1 and wav.getsampwidth() == 2
        assert wav.getnframes() > 0
    assert data["usage"]["cost_in_usd_ticks"] == len(text) * 42_000
    hi = respond("/grok/tts", {"text": text, "output_format": {"codec": "wav", "sample_rate": 16000}})
    with wave.open(io.BytesIO(base64.b64decode(hi["data"]))) as wav:
        assert wav.getframerate() == 16000


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"text": " "},
        {"text": "x" * 15_001},
        {"text": "hi", "voice_id": "bob"},
        {"text": "hi", "output_format": {"sample_rate": 1}},
    ],
)
def test_tts_bad_requests(bad: dict[str, Any]) -> None:
    with pytest.raises(BadRequestError):
        respond("/grok/tts", bad)


@pytest.mark.parametrize(
    ("endpoint", "payload"),
    [
        ("/grok/code-execution", body("what is 2+2")),
        ("/grok/web-search", body("tempo")),
        ("/grok/x-search", body("tempo")),
        ("/grok/image-generate", {"prompt": "cat"}),
        ("/grok/tts", {"text": "hi"}),
    ],
)
def test_every_endpoint_is_deterministic(endpoint: str, payload: dict[str, Any]) -> None:
    assert respond(endpoint, payload) == respond(endpoint.rstrip("/") + "/", json.loads(json.dumps(payload)))
