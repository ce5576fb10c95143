"""LangGraph and ``create_agent`` loops on the scripted gateway: every model step is one payment."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.tools import tool
from pydantic import BaseModel, Field

from grok_mpp.local.script import Script, text, tool_call, tool_calls

pytest.importorskip("langgraph")

CALLS: list[tuple[str, Any]] = []


@tool
def get_weather(city: str) -> str:
    """Current weather for a city, in degrees Celsius."""
    CALLS.append(("get_weather", city))
    return f"{city}: 21 C, sunny"


@tool
def to_fahrenheit(celsius: float) -> str:
    """Convert a temperature from Celsius to Fahrenheit."""
    CALLS.append(("to_fahrenheit", celsius))
    return f"{celsius * 9 / 5 + 32:.1f} F"


@pytest.fixture(autouse=True)
def _reset_calls() -> None:
    CALLS.clear()


def test_langgraph_react_loop_with_two_tool_steps_pays_once_per_model_step(
    grok_env: Any, grok_script: Script, grok_spend: Any
) -> None:
    from langgraph.prebuilt import create_react_agent  # the LangGraph prebuilt loop itself

    from langchain_grok_mpp import ChatGrokMPP

    grok_script.queue(
        "chat",
        tool_call("get_weather", city="Paris"),
        tool_call("to_fahrenheit", celsius=21),
        text("It is 21 C (69.8 F) and sunny in Paris."),
    )
    agent = create_react_agent(ChatGrokMPP(model="grok-4.3", max_tokens=256), [get_weather, to_fahrenheit])
    state = agent.invoke({"messages": [("user", "Weather in Paris, in Fahrenheit?")]})

    assert CALLS == [("get_weather", "Paris"), ("to_fahrenheit", 21.0)]
    assert state["messages"][-1].content == "It is 21 C (69.8 F) and sunny in Paris."
    paid = [m.response_metadata["mpp"]["amount"] for m in state["messages"] if m.type == "ai"]
    grok_spend.assert_payments(3, endpoint="/grok/chat", amount=sum(paid))
    grok_spend.assert_ledger(settled=3, total_rows=3)
    grok_script.assert_exhausted()


def test_parallel_tool_calls_in_one_turn_are_one_payment(grok_env: Any, grok_script: Script, grok_spend: Any) -> None:
    from langgraph.prebuilt import create_react_agent  # the LangGraph prebuilt loop itself

    from langchain_grok_mpp import ChatGrokMPP

    grok_script.queue(
        "chat",
        tool_calls(("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Oslo"})),
        text("Paris and Oslo are both at 21 C."),
    )
    agent = create_react_agent(ChatGrokMPP(model="grok-4.3", max_tokens=256), [get_weather])
    state = agent.invoke({"messages": [("user", "Weather in Paris and Oslo?")]})

    assert sorted(CALLS) == [("get_weather", "Oslo"), ("get_weather", "Paris")]
    assert state["messages"][-1].content == "Paris and Oslo are both at 21 C."
    grok_spend.assert_payments(2, endpoint="/grok/chat")
    grok_spend.assert_ledger(settled=2)


class Forecast(BaseModel):
    """A structured weather answer."""

    city: str = Field(description="City name")
    celsius: float
    summary: str


def test_create_agent_with_structured_response(grok_env: Any, grok_script: Script, grok_spend: Any) -> None:
    from langchain.agents import create_agent

    from langchain_grok_mpp import ChatGrokMPP

    forecast = {"city": "Paris", "celsius": 21.0, "summary": "sunny"}
    # create_agent may ask for the schema as a tool (ToolStrategy) or as response_format (ProviderStrategy):
    # the rule answers whichever the request offers, validated against that schema.
    grok_script.queue("chat", tool_call("get_weather", city="Paris"))
    grok_script.rule("chat", tool_call("Forecast", forecast), tools=["Forecast"], last_role="tool", times=1)
    grok_script.rule("chat", {"json": forecast}, last_role="tool", times=1)
    agent = create_agent(
        ChatGrokMPP(model="grok-4.3", max_tokens=256), tools=[get_weather], response_format=Forecast
    )
    state = agent.invoke({"messages": [("user", "Forecast for Paris?")]})

    assert state["structured_response"] == Forecast(**forecast)
    assert CALLS == [("get_weather", "Paris")]
    grok_spend.assert_payments(2, endpoint="/grok/chat")
    grok_spend.assert_ledger(settled=2)
    assert len(grok_script.served) == 2


def test_paid_search_tool_inside_an_agent(grok_env: Any, grok_script: Script, grok_spend: Any) -> None:
    from langgraph.prebuilt import create_react_agent  # the LangGraph prebuilt loop itself

    from langchain_grok_mpp import ChatGrokMPP, GrokWebSearchRetriever, GrokWebSearchTool

    grok_script.queue("chat", tool_call("grok_web_search", query="Tempo blockchain"))
    grok_script.queue("web-search", text("Tempo is a payments chain.", citations=["https://tempo.xyz/docs"]))
    grok_script.queue("chat", text("Tempo is a payments chain [1]."))
    search = GrokWebSearchTool(retriever=GrokWebSearchRetriever(k=3, max_tokens=256))
    agent = create_react_agent(ChatGrokMPP(model="grok-4.3", max_tokens=256), [search])
    state = agent.invoke({"messages": [("user", "What is Tempo?")]})

    tool_message = next(m for m in state["messages"] if m.type == "tool")
    assert "Tempo is a payments chain." in tool_message.content
    assert [d.metadata["url"] for d in tool_message.artifact] == ["https://tempo.xyz/docs"]
    grok_spend.assert_payments(3)
    assert [p.endpoint for p in grok_spend.payments] == ["/grok/chat", "/grok/web-search", "/grok/chat"]
    grok_spend.assert_ledger(settled=3)


def test_search_tool_failing_after_payment_is_paid_once_and_the_agent_goes_on(
    grok_env: Any, grok_script: Script, grok_spend: Any
) -> None:
    from langgraph.prebuilt import ToolNode, create_react_agent

    from langchain_grok_mpp import ChatGrokMPP, GrokWebSearchRetriever, GrokWebSearchTool

    grok_script.queue("chat", tool_call("grok_web_search", query="Tempo blockchain"))
    grok_script.queue("web-search", {"fault": "upstream-502"})
    grok_script.queue("chat", text("The search failed; I cannot say."))
    search = GrokWebSearchTool(retriever=GrokWebSearchRetriever(k=3, max_tokens=256))
    tools = ToolNode([search], handle_tool_errors=True)
    agent = create_react_agent(ChatGrokMPP(model="grok-4.3", max_tokens=256), tools)
    state = agent.invoke({"messages": [("user", "What is Tempo?")]})

    tool_message = next(m for m in state["messages"] if m.type == "tool")
    assert tool_message.status == "error"
    assert state["messages"][-1].content == "The search failed; I cannot say."
    # The failed search was paid exactly once (no retry of a paid call), and is on the books.
    grok_spend.assert_payments(3)
    assert [p.endpoint for p in grok_spend.payments] == ["/grok/chat", "/grok/web-search", "/grok/chat"]
    rows = grok_spend.ledger_rows()
    assert len(rows) == 3
    search_row = next(r for r in rows if r.endpoint == "/grok/web-search")
    assert search_row.amount == grok_spend.payments[1].amount
    assert search_row.state in ("settled", "settled_onchain", "outcome_unknown"), search_row.state
    grok_script.assert_exhausted()
