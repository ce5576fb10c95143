"""LlamaIndex agents and query engines on the scripted gateway, with exact payment counts."""

from __future__ import annotations

import asyncio
from typing import Any

from llama_index.core import Document, SummaryIndex
from llama_index.core.agent.workflow import ReActAgent
from llama_index.core.query_engine import SubQuestionQueryEngine
from llama_index.core.question_gen import LLMQuestionGenerator
from llama_index.core.tools import FunctionTool, QueryEngineTool

from grok_mpp.local.script import Script, react, text
from llama_index_grok_mpp import GrokMPP

CALLS: list[str] = []


def get_weather(city: str) -> str:
    """Current weather for a city, in degrees Celsius."""
    CALLS.append(city)
    return f"{city}: 21 C, sunny"


def test_react_agent_two_steps_two_payments(grok_env: Any, grok_script: Script, grok_spend: Any) -> None:
    CALLS.clear()
    grok_script.queue(
        "chat",
        react("I need the weather tool.", action="get_weather", action_input={"city": "Paris"}),
        react("I can answer without using any more tools.", answer="It is 21 C and sunny in Paris."),
    )
    llm = GrokMPP(model="grok-4.3", max_tokens=256)
    agent = ReActAgent(tools=[FunctionTool.from_defaults(get_weather)], llm=llm)

    async def run() -> Any:
        return await agent.run(user_msg="What is the weather in Paris?")

    response = asyncio.run(run())
    assert CALLS == ["Paris"]
    assert "21 C and sunny in Paris" in str(response)
    grok_spend.assert_payments(2, endpoint="/grok/chat")
    grok_spend.assert_ledger(settled=2, total_rows=2)
    grok_script.assert_exhausted()


def test_sub_question_query_engine(grok_env: Any, grok_script: Script, grok_spend: Any) -> None:
    llm = GrokMPP(model="grok-4.3", max_tokens=256)
    tools = [
        QueryEngineTool.from_defaults(
            SummaryIndex.from_documents([Document(text=f"{city} had 2 million visitors in 2025.")]).as_query_engine(
                llm=llm, response_mode="compact"
            ),
            name=f"{city.lower()}_facts",
            description=f"Facts about {city}",
        )
        for city in ("Paris", "Oslo")
    ]
    sub_questions = {
        "items": [
            {"sub_question": "How many visitors did Paris have?", "tool_name": "paris_facts"},
            {"sub_question": "How many visitors did Oslo have?", "tool_name": "oslo_facts"},
        ]
    }
    grok_script.queue("chat", text("```json\n" + __import__("json").dumps(sub_questions) + "\n```"))
    grok_script.rule("chat", text("Paris: 2 million."), last_message="visitors did Paris", times=1)
    grok_script.rule("chat", text("Oslo: 2 million."), last_message="visitors did Oslo", times=1)
    grok_script.queue("chat", text("Both cities had 2 million visitors."))
    engine = SubQuestionQueryEngine.from_defaults(
        query_engine_tools=tools,
        llm=llm,
        question_gen=LLMQuestionGenerator.from_defaults(llm=llm),
        use_async=False,
        verbose=False,
    )
    response = engine.query("Compare visitors of Paris and Oslo")

    assert str(response) == "Both cities had 2 million visitors."
    grok_spend.assert_payments(4, endpoint="/grok/chat")
    grok_spend.assert_ledger(settled=4, total_rows=4)
    assert [s.source for s in grok_script.served] == ["queue", "rule:0", "rule:1", "queue"]
    grok_script.assert_exhausted()
