"""docs/PARITY.md is executable: every row is checked here, and the table covers every argument.

The argument lists below are snapshots of ``langchain-xai`` 1.3.0 ``ChatXAI`` (with the fields it
inherits from ``langchain-openai``'s ``BaseChatOpenAI``) and ``llama-index-llms-openai-like`` 0.8.1
``OpenAILike`` (with ``OpenAI``'s fields and constructor arguments), read from their wheels on
2026-12-04. They are not runtime or test dependencies; if either package happens to be installed,
its live field list is compared too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from grok_mpp.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "PARITY.md"

CHATXAI_ARGS = [
    "client",
    "async_client",
    "root_client",
    "root_async_client",
    "model_name",
    "model",
    "temperature",
    "model_kwargs",
    "openai_api_key",
    "api_key",
    "openai_api_base",
    "base_url",
    "openai_organization",
    "organization",
    "openai_proxy",
    "request_timeout",
    "timeout",
    "stream_usage",
    "max_retries",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "logprobs",
    "top_logprobs",
    "logit_bias",
    "streaming",
    "n",
    "top_p",
    "max_tokens",
    "reasoning_effort",
    "reasoning",
    "verbosity",
    "tiktoken_model_name",
    "default_headers",
    "default_query",
    "http_client",
    "http_async_client",
    "http_socket_options",
    "stream_chunk_timeout",
    "stop",
    "stop_sequences",
    "extra_body",
    "include_response_headers",
    "disabled_params",
    "context_management",
    "include",
    "prompt_cache_options",
    "service_tier",
    "store",
    "truncation",
    "use_previous_response_id",
    "use_responses_api",
    "output_version",
    "xai_api_key",
    "xai_api_base",
    "search_parameters",
]
OPENAILIKE_ARGS = [
    "model",
    "temperature",
    "max_tokens",
    "logprobs",
    "top_logprobs",
    "additional_kwargs",
    "max_retries",
    "timeout",
    "default_headers",
    "reuse_client",
    "api_key",
    "api_base",
    "api_version",
    "strict",
    "reasoning_effort",
    "modalities",
    "audio_config",
    "context_window",
    "is_chat_model",
    "is_function_calling_model",
    "should_use_structured_outputs",
    "tokenizer",
    "callback_manager",
    "system_prompt",
    "messages_to_prompt",
    "completion_to_prompt",
    "pydantic_program_mode",
    "output_parser",
    "http_client",
    "async_http_client",
    "openai_client",
    "async_openai_client",
]

SAMPLES: dict[str, Any] = {
    "model": "grok-4.20-0309-non-reasoning",
    "model_name": "grok-4.20-0309-non-reasoning",
    "temperature": 0.3,
    "max_tokens": 77,
    "max_completion_tokens": 77,
    "top_p": 0.4,
    "seed": 11,
    "top_logprobs": 2,
    "reasoning_effort": "high",
    "extra_body": {"user": "u-1"},
    "streaming": True,
    "max_retries": 5,
    "api_key": "0x" + "22" * 32,
    "base_url": "http://127.0.0.1:9",
    "context_window": 8192,
}
EXPECTED_BODY: dict[str, Any] = {"extra_body": "u-1"}
#: Other constructor arguments a sample needs to be valid (top_logprobs needs logprobs).
COMPANIONS: dict[str, dict[str, Any]] = {"top_logprobs": {"logprobs": True}}


def _rows(section: str) -> list[tuple[str, str, str, str]]:
    text = DOC.read_text()
    start = text.index(f"## {section}")
    end = text.find("\n## ", start + 1)
    rows = []
    for line in text[start : end if end > 0 else None].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] not in ("Argument", "---"):
            rows.append((cells[0], cells[1], cells[2], cells[3]))
    return rows


def _names(arg: str) -> list[str]:
    return [n.strip() for n in arg.split("/") if re.fullmatch(r"[a-z_]+", n.strip())]


LANGCHAIN = _rows("LangChain")
LLAMA = _rows("LlamaIndex")
TEST_SOURCES = "\n".join(p.read_text() for d in ("langchain", "llama_index") for p in (ROOT / "tests" / d).glob("*.py"))


def _langchain(**kwargs: Any) -> Any:
    from langchain_grok_mpp import ChatGrokMPP

    default = {} if "model_name" in kwargs else {"model": "grok-4.3"}
    return ChatGrokMPP(**{**default, **kwargs})


def _llama(**kwargs: Any) -> Any:
    from llama_index_grok_mpp import GrokMPP

    return GrokMPP(**{"model": "grok-4.3", **kwargs})


def _body(framework: str, obj: Any) -> dict[str, Any]:
    if framework == "langchain":
        from langchain_core.messages import HumanMessage

        return obj._build_request([HumanMessage("hi")], None, {}, warn=False).payload()  # type: ignore[no-any-return]
    from llama_index.core.base.llms.types import ChatMessage

    return obj._request([ChatMessage(role="user", content="hi")], {}, warn=False).payload()  # type: ignore[no-any-return]


def _check(framework: str, arg: str, status: str, check: str) -> None:
    build = _langchain if framework == "langchain" else _llama
    kind, _, target = check.partition(" ")
    assert (status == "refused") == (kind == "refused") or arg.startswith(("invoke(unknown", "chat(n>1", "file")), arg
    if kind == "body":
        for name in _names(arg):
            obj = build(**{name: SAMPLES[name], **COMPANIONS.get(name, {})})
            expected = EXPECTED_BODY.get(name, SAMPLES[name])
            assert _body(framework, obj)[target] == expected, (arg, name)
    elif kind == "attr":
        for name in _names(arg):
            value = getattr(build(**{name: SAMPLES[name]}), target)
            value = value.get_secret_value() if hasattr(value, "get_secret_value") else value
            assert value == SAMPLES[name], (arg, name)
    elif kind == "refused":
        for name in _names(arg):
            with pytest.raises(ConfigurationError, match=name):
                build(**{name: object() if name != "reuse_client" else False})
    elif kind == "base":
        if framework == "langchain":
            from langchain_core.language_models.chat_models import BaseChatModel as Base
        else:
            from llama_index.core.llms.function_calling import FunctionCallingLLM as Base
        assert target in Base.model_fields, arg
    elif kind == "method":
        cls = type(build())
        assert callable(getattr(cls, target, None)) and target in vars(cls.__mro__[1]) | vars(cls), arg
    elif kind == "test":
        assert re.search(rf"^(async )?def {target}\(", TEST_SOURCES, re.MULTILINE), f"{arg}: no test {target}"
    else:  # pragma: no cover - a malformed row
        raise AssertionError(f"unknown check {check!r} for {arg}")


@pytest.mark.parametrize(("arg", "kind", "status", "check"), LANGCHAIN, ids=[r[0] for r in LANGCHAIN])
def test_langchain_row(arg: str, kind: str, status: str, check: str) -> None:
    _check("langchain", arg, status, check)


@pytest.mark.parametrize(("arg", "kind", "status", "check"), LLAMA, ids=[r[0] for r in LLAMA])
def test_llama_index_row(arg: str, kind: str, status: str, check: str) -> None:
    _check("llama_index", arg, status, check)


def test_table_covers_every_chatxai_argument() -> None:
    listed = {n for row in LANGCHAIN for n in _names(row[0])}
    assert set(CHATXAI_ARGS) - listed == set()
    try:
        from langchain_xai import ChatXAI
    except ImportError:
        return
    live = set(ChatXAI.model_fields) | {f.alias for f in ChatXAI.model_fields.values() if f.alias}
    base = {"name", "cache", "verbose", "callbacks", "tags", "metadata", "custom_get_token_ids", "rate_limiter"}
    assert live - base - {"disable_streaming", "profile"} - listed == set()


def test_table_covers_every_openai_like_argument() -> None:
    listed = {n for row in LLAMA for n in _names(row[0])}
    assert set(OPENAILIKE_ARGS) - listed == set()
    try:
        from llama_index.llms.openai_like import OpenAILike
    except ImportError:
        return
    live = {n for n in OpenAILike.model_fields if not n.startswith("_")}
    assert live - {"query_wrapper_prompt", "rate_limiter", "api_key", "api_base"} - listed == set()


def test_status_values_are_the_two_allowed() -> None:
    assert {row[2] for row in LANGCHAIN + LLAMA} == {"honoured", "refused"}
    assert len(LANGCHAIN) >= 50 and len(LLAMA) >= 30
