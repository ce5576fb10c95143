"""Function calling with GrokMPP: chat_with_tools, predict_and_call, tool choice, and a FunctionAgent loop."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, TextBlock, ToolCallBlock
from llama_index.core.tools import FunctionTool

from grok_mpp.errors import InvalidRequestError
from llama_index_grok_mpp import GrokMPP, GrokMPPCodeExecution, GrokMPPToolSpec, track_grok_mpp_costs

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


def multiply(a: int, b: int) -> int:
    """Multiply two integers a and b."""
    return a * b


def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny in {city}"


TOOLS = [FunctionTool.from_defaults(multiply), FunctionTool.from_defaults(get_weather)]


def test_chat_with_tools_returns_tool_call_blocks(paid: dict[str, Any], settled: Any) -> None:
    llm = GrokMPP(**paid)
    response = llm.chat_with_tools(TOOLS, user_msg="What's the weather in Paris?")
    blocks = [b for b in response.message.blocks if isinstance(b, ToolCallBlock)]
    (selection,) = llm.get_tool_calls_from_response(response)
    assert (selection.tool_name, selection.tool_kwargs) == ("get_weather", {"city": "Paris"})
    assert selection.tool_id == blocks[0].tool_call_id and selection.tool_id
    assert response.additional_kwargs["tx_hash"] == settled()[0].tx_hash


def test_predict_and_call_runs_the_tool(paid: dict[str, Any]) -> None:
    llm = GrokMPP(**paid)
    result = llm.predict_and_call(TOOLS, user_msg="multiply 6 by 7")
    assert result.response == "42"
    assert result.sources[0].tool_name == "multiply" and result.sources[0].raw_input["kwargs"] == {"a": 6, "b": 7}


async def test_apredict_and_call_and_tool_choice_by_name(paid: dict[str, Any]) -> None:
    llm = GrokMPP(**paid)
    result = await llm.apredict_and_call(TOOLS, user_msg="the weather in Oslo please")
    assert result.response == "Sunny in Oslo"
    forced = llm.chat_with_tools(TOOLS, user_msg="What's the weather in Rome?", tool_choice="multiply")
    assert [s.tool_name for s in llm.get_tool_calls_from_response(forced)] == ["multiply"]


def test_tool_required_forces_a_call_and_auto_may_answer(paid: dict[str, Any]) -> None:
    llm = GrokMPP(**paid)
    free = llm.chat_with_tools(TOOLS, user_msg="say hello")
    assert llm.get_tool_calls_from_response(free, error_on_no_tool_call=False) == []
    with pytest.raises(ValueError, match="0 tool calls"):
        llm.get_tool_calls_from_response(free)
    forced = llm.chat_with_tools(TOOLS, user_msg="say hello", tool_required=True)
    assert len(llm.get_tool_calls_from_response(forced)) == 1


def test_tool_round_trip_history_is_accepted(paid: dict[str, Any]) -> None:
    """An assistant tool-call turn and the tool's answer go back to the gateway as history."""
    llm = GrokMPP(**paid)
    first = llm.chat_with_tools(TOOLS, user_msg="What's the weather in Lima?")
    (call,) = llm.get_tool_calls_from_response(first)
    history = [
        ChatMessage(role="user", content="What's the weather in Lima?"),
        first.message,
        ChatMessage(
            role="tool", content=get_weather(**call.tool_kwargs), additional_kwargs={"tool_call_id": call.tool_id}
        ),
    ]
    final = llm.chat_with_tools(TOOLS, chat_history=history)
    assert "Sunny in Lima" in (final.message.content or "")


def test_validation_keeps_one_call_unless_parallel_allowed(paid: dict[str, Any]) -> None:
    llm = GrokMPP(**paid)
    two = [ToolCallBlock(tool_call_id=f"c{i}", tool_name="multiply", tool_kwargs={"a": i, "b": 2}) for i in (1, 2)]

    def response() -> ChatResponse:
        return ChatResponse(message=ChatMessage(role="assistant", blocks=[TextBlock(text=""), *two]))

    single = llm._validate_chat_with_tools_response(response(), TOOLS, allow_parallel_tool_calls=False)
    assert [s.tool_id for s in llm.get_tool_calls_from_response(single)] == ["c1"]
    both = llm._validate_chat_with_tools_response(response(), TOOLS, allow_parallel_tool_calls=True)
    assert [s.tool_kwargs for s in llm.get_tool_calls_from_response(both)] == [{"a": 1, "b": 2}, {"a": 2, "b": 2}]


def test_openai_style_tool_calls_in_additional_kwargs_are_read(paid: dict[str, Any]) -> None:
    llm = GrokMPP(**paid)
    legacy = ChatMessage(
        role="assistant",
        content="",
        additional_kwargs={
            "tool_calls": [
                {"id": "x1", "type": "function", "function": {"name": "multiply", "arguments": '{"a": 3, "b": 4}'}}
            ]
        },
    )
    (selection,) = llm.get_tool_calls_from_response(ChatResponse(message=legacy))
    assert (selection.tool_id, selection.tool_name, selection.tool_kwargs) == ("x1", "multiply", {"a": 3, "b": 4})


def test_code_execution_llm_refuses_structured_output_before_paying(paid: dict[str, Any], settled: Any) -> None:
    llm = GrokMPPCodeExecution(**paid)
    with pytest.raises(InvalidRequestError, match="response_format"):
        llm.chat([ChatMessage(role="user", content="hi")], response_format={"type": "json_object"})
    assert settled() == []


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # llama-index workflow introspects pydantic models
async def test_function_agent_searches_the_web_and_answers(paid: dict[str, Any], settled: Any) -> None:
    spec = GrokMPPToolSpec(**paid)
    llm = GrokMPP(**paid)
    agent = FunctionAgent(
        tools=spec.to_tool_list(spec_functions=[("web_search", "aweb_search")]),
        llm=llm,
        system_prompt="Use web_search for questions about the world.",
    )
    with track_grok_mpp_costs() as costs:
        handler = agent.run(user_msg="Search the web for tempo blockchain")
        results = [ev async for ev in handler.stream_events() if isinstance(ev, ToolCallResult)]
        answer = await handler
    (search,) = results
    assert search.tool_name == "web_search" and not search.tool_output.is_error
    first_source = search.tool_output.blocks[0].text
    assert "https://" in first_source
    assert first_source.splitlines()[0] in str(answer)  # the agent's final answer quotes the tool result
    endpoints = sorted(p.endpoint for p in settled())
    assert endpoints == ["/grok/chat", "/grok/chat", "/grok/web-search"]
    assert costs.calls == 3 and costs.paid == sum(p.amount + p.fee for p in settled())
