"""Messages in and out: content blocks, server tools, tool choice, structured output, images."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from langchain_core.exceptions import ModelError
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from pydantic import BaseModel, Field

from grok_mpp.gateway.catalog import get_model_info
from grok_mpp.gateway.requests import CodeExecutionRequest, WebSearchRequest
from langchain_grok_mpp import ChatGrokMPP, ChatGrokMPPCodeExecution
from tests.langchain.conftest import PNG_1X1

PNG_B64 = base64.b64encode(PNG_1X1).decode()


def _payload(llm: Any, messages: Any, **kwargs: Any) -> dict[str, Any]:
    """The exact JSON body a call would send (built and validated, not sent)."""
    msgs = [HumanMessage(messages)] if isinstance(messages, str) else messages
    return json.loads(llm._build_request(msgs, None, kwargs).to_body())


class Answer(BaseModel):
    """An answer and where it comes from (strings only: JSON mode carries no schema to the model)."""

    answer: str = Field(description="the answer")
    source: str = Field(description="where the answer comes from")


# --- content blocks -----------------------------------------------------------------------------


def test_web_search_server_tool_routes_and_yields_citations(local_gateway: Any, gateway_kwargs: dict[str, Any]) -> None:
    llm = ChatGrokMPP(model="grok-4.3", **gateway_kwargs).bind_tools(
        [{"type": "web_search", "allowed_domains": ["example.com"]}]
    )
    msg = llm.invoke("news about stablecoins")

    assert msg.response_metadata["mpp"]["endpoint"] == WebSearchRequest.endpoint
    assert local_gateway.payments[-1].endpoint == WebSearchRequest.endpoint
    urls = msg.additional_kwargs["citations"]
    assert urls and all(u.startswith("https://example.com/") for u in urls)
    blocks = msg.content_blocks
    assert [b["type"] for b in blocks if b["type"] != "reasoning"][:2] == ["server_tool_call", "server_tool_result"]
    text = [b for b in blocks if b["type"] == "text"]
    assert len(text) == 1
    annotations = text[0]["annotations"]
    assert [a["url"] for a in annotations] == urls
    first = annotations[0]
    assert first["type"] == "citation" and first["title"]
    assert msg.content[first["start_index"] : first["end_index"]].endswith(f"({first['url']})")


def test_streamed_v1_blocks_merge_into_one_annotated_text_block(gateway_kwargs: dict[str, Any]) -> None:
    llm = ChatGrokMPP(model="grok-4.3", output_version="v1", **gateway_kwargs).bind_tools([{"type": "web_search"}])
    full = None
    for chunk in llm.stream("latest on payment channels"):
        full = chunk if full is None else full + chunk
    assert full is not None and isinstance(full.content, list)
    text = [b for b in full.content if b["type"] == "text"]
    assert len(text) == 1
    assert len(text[0]["annotations"]) == len(full.additional_kwargs["citations"]) > 0


def test_code_execution_blocks(local_gateway: Any, gateway_kwargs: dict[str, Any]) -> None:
    msg = ChatGrokMPPCodeExecution(**gateway_kwargs).invoke("What is 12 ** 3? Use Python.")
    assert msg.response_metadata["mpp"]["endpoint"] == CodeExecutionRequest.endpoint
    (run,) = msg.additional_kwargs["code_execution"]
    assert "12 ** 3" in run["code"] or "12**3" in run["code"]
    assert run["outputs"] == ["1728\n"]
    call = next(b for b in msg.content_blocks if b["type"] == "server_tool_call")
    result = next(b for b in msg.content_blocks if b["type"] == "server_tool_result")
    assert call["name"] == "code_execution" and call["args"]["code"] == run["code"]
    assert result["tool_call_id"] == call["id"] and result["status"] == "success" and result["output"] == "1728\n"


def test_reasoning_is_kept_chatxai_style(gateway_kwargs: dict[str, Any]) -> None:
    msg = ChatGrokMPP(model="grok-4.3", **gateway_kwargs).invoke("Why is the sky blue?")
    reasoning = msg.additional_kwargs["reasoning_content"]
    assert msg.content_blocks[0] == {"type": "reasoning", "reasoning": reasoning}


# --- requests (built and validated locally) -------------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("any", "required"),
        ("required", "required"),
        (True, {"type": "function", "function": {"name": "magic"}}),
        ("magic", {"type": "function", "function": {"name": "magic"}}),
        ("auto", "auto"),
        (None, None),
    ],
)
def test_tool_choice_spellings(choice: Any, expected: Any) -> None:
    def magic(x: int) -> int:
        """Do magic."""
        return x

    bound = ChatGrokMPP(api_key="test").bind_tools([magic], tool_choice=choice)
    body = _payload(bound.bound, "use magic on 3", **bound.kwargs)  # type: ignore[attr-defined]
    assert body["tools"][0]["function"]["name"] == "magic"
    assert body.get("tool_choice") == expected


def test_unknown_tool_choice_fails_at_bind_time() -> None:
    def magic(x: int) -> int:
        """Do magic."""
        return x

    with pytest.raises(ModelError, match="nope"):
        ChatGrokMPP(api_key="test").bind_tools([magic], tool_choice="nope")


def test_search_route_refuses_function_tools_before_paying() -> None:
    def magic(x: int) -> int:
        """Do magic."""
        return x

    llm = ChatGrokMPP(api_key="test", model="grok-4.3").bind_tools([magic, {"type": "web_search"}])
    with pytest.raises(ModelError, match="function tools"):
        llm.invoke("hi")


def test_images_in_messages_become_image_url_parts() -> None:
    llm = ChatGrokMPP(api_key="test", model="grok-4.3")
    message = HumanMessage(
        content=[
            {"type": "text", "text": "compare"},
            {"type": "image", "base64": PNG_B64, "mime_type": "image/png"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}},
            {"type": "image", "url": "https://example.com/cat.png"},
        ]
    )
    (user,) = _payload(llm, [message])["messages"]
    assert user["content"][0] == {"type": "text", "text": "compare"}
    urls = [p["image_url"]["url"] for p in user["content"][1:]]
    assert urls == [f"data:image/png;base64,{PNG_B64}"] * 2 + ["https://example.com/cat.png"]


def test_history_drops_reasoning_and_keeps_tool_turns() -> None:
    llm = ChatGrokMPP(api_key="test")
    history = [
        HumanMessage("magic 3?"),
        AIMessage(
            content=[{"type": "reasoning", "reasoning": "secret thoughts"}, {"type": "text", "text": "calling"}],
            tool_calls=[{"name": "magic", "args": {"x": 3}, "id": "call_1"}],
        ),
        ToolMessage(content=[{"type": "text", "text": "5"}], tool_call_id="call_1"),
    ]
    messages = _payload(llm, history)["messages"]
    assert "secret thoughts" not in json.dumps(messages)
    assert messages[1]["content"] == "calling"
    assert messages[1]["tool_calls"][0]["function"] == {"name": "magic", "arguments": '{"x": 3}'}
    assert messages[2] == {"role": "tool", "content": "5", "tool_call_id": "call_1"}


def test_per_call_model_override_and_tracing_params(gateway_kwargs: dict[str, Any]) -> None:
    llm = ChatGrokMPP(model="grok-4.3", temperature=0.2, max_tokens=50, stop=["END"], **gateway_kwargs)
    msg = llm.invoke("hi", model="grok-4.20-0309-non-reasoning")
    assert msg.response_metadata["requested_model"] == "grok-4.20-0309-non-reasoning"
    params = llm._get_ls_params(model="grok-4.5")
    assert params["ls_provider"] == "xai" and params["ls_model_name"] == "grok-4.5"
    assert params["ls_temperature"] == 0.2 and params["ls_max_tokens"] == 50 and params["ls_stop"] == ["END"]


def test_profile_comes_from_the_catalog() -> None:
    for model in ("grok-4.5", "grok-3-mini", "grok-4.20-0309-non-reasoning"):
        info = get_model_info(model)
        profile = ChatGrokMPP(api_key="test", model=model).profile
        assert profile is not None
        assert profile["max_input_tokens"] == info.context_window
        assert profile["max_output_tokens"] == info.max_output_tokens
        assert profile["reasoning_output"] is info.reasoning
        assert profile["image_inputs"] is info.image_input


def test_unknown_call_option_is_refused() -> None:
    with pytest.raises(ModelError, match="frequency_typo"):
        ChatGrokMPP(api_key="test").invoke("hi", frequency_typo=1)


# --- structured output (paid) ---------------------------------------------------------------------


@pytest.mark.parametrize("method", ["function_calling", "json_schema", "json_mode"])
def test_structured_output_methods_with_raw(method: str, gateway_kwargs: dict[str, Any]) -> None:
    llm = ChatGrokMPP(model="grok-4.3", **gateway_kwargs)
    out = llm.with_structured_output(Answer, method=method, include_raw=True).invoke(  # type: ignore[arg-type]
        "Reply as a JSON object with 'answer' and 'source' keys: Paris, an atlas."
    )
    assert out["parsing_error"] is None
    assert isinstance(out["parsed"], Answer)
    assert isinstance(out["raw"], AIMessage) and out["raw"].response_metadata["mpp"]["amount"] > 0
    body_kind = "tool_calls" if method == "function_calling" else "content"
    assert out["raw"].tool_calls if body_kind == "tool_calls" else out["raw"].content


def test_code_execution_refuses_json_schema_before_paying(local_gateway: Any, gateway_kwargs: dict[str, Any]) -> None:
    llm = ChatGrokMPPCodeExecution(**gateway_kwargs).with_structured_output(Answer, method="json_schema")
    with pytest.raises(ModelError, match="response_format"):
        llm.invoke("hi")
    assert all(p.payer.lower() != gateway_kwargs["wallet"].address.lower() for p in local_gateway.payments)
