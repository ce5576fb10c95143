"""GrokMPP / GrokMPPCodeExecution against the local gateway over real loopback HTTP."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.base.llms.types import (
    AudioBlock,
    ChatMessage,
    CitationBlock,
    ImageBlock,
    TextBlock,
    ThinkingBlock,
)
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events.llm import LLMChatEndEvent, LLMCompletionEndEvent
from llama_index.core.llms.function_calling import FunctionCallingLLM

from grok_mpp import GrokClient
from grok_mpp.errors import AmountOverCapError, BudgetExceededError, ConfigurationError, InvalidRequestError
from grok_mpp.gateway.catalog import get_model_info
from grok_mpp.local.media import png_bytes
from grok_mpp.local.responder import IMAGE_TOKENS
from llama_index_grok_mpp import GrokMPP, GrokMPPCodeExecution, GrokMPPPaymentEvent

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

USER = [ChatMessage(role="user", content="What is 2+3?")]


class Collect(BaseEventHandler):
    """Records every instrumentation event it sees."""

    events: list[Any] = []

    @classmethod
    def class_name(cls) -> str:
        return "Collect"

    def handle(self, event: Any, **kwargs: Any) -> None:
        self.events.append(event)


@pytest.fixture
def collected() -> Any:
    root = get_dispatcher()
    handler = Collect(events=[])
    root.add_event_handler(handler)
    yield handler.events
    root.event_handlers = [h for h in root.event_handlers if h is not handler]


def test_is_a_function_calling_llm_with_catalog_metadata(paid: dict[str, Any]) -> None:
    llm = GrokMPP(model="grok-4.3", max_tokens=300, **paid)
    assert isinstance(llm, FunctionCallingLLM)
    meta = llm.metadata
    assert meta.context_window == get_model_info("grok-4.3").context_window == 1_000_000
    assert (meta.num_output, meta.is_chat_model, meta.is_function_calling_model) == (300, True, True)
    assert meta.model_name == "grok-4.3"
    assert GrokMPP(context_window=8192, **paid).metadata.context_window == 8192
    assert GrokMPPCodeExecution(**paid).metadata.model_name == "grok-4-1-fast-reasoning"
    # the async streaming entry points are coroutines returning async generators
    assert inspect.iscoroutinefunction(GrokMPP.astream_chat)
    assert inspect.iscoroutinefunction(GrokMPP.astream_complete)


def test_chat_pays_and_reports_usage_cost_and_reasoning(paid: dict[str, Any], settled: Any) -> None:
    llm = GrokMPP(**paid)
    response = llm.chat(USER)
    (payment,) = settled()
    assert "5" in (response.message.content or "")
    thinking = [b for b in response.message.blocks if isinstance(b, ThinkingBlock)]
    assert thinking and thinking[0].content and thinking[0].num_tokens == response.raw["usage"]["reasoning_tokens"]
    usage = response.raw["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    assert response.raw["mpp"]["amount"] == payment.amount
    assert response.raw["mpp"]["tx_hash"] == response.additional_kwargs["tx_hash"] == payment.tx_hash
    assert response.raw["model"] == response.additional_kwargs["model"] == "grok-3-mini"
    kw = response.additional_kwargs
    assert {k: kw[k] for k in usage} == usage
    assert kw["paid_usd"] == response.raw["mpp"]["paid_usd"] and kw["estimated_usd"]


async def test_async_and_streaming_variants_each_pay_once(paid: dict[str, Any], settled: Any) -> None:
    llm = GrokMPP(**paid)
    achat = await llm.achat([ChatMessage(role="user", content="What is 6*7?")])
    assert "42" in (achat.message.content or "")

    chunks = list(llm.stream_chat([ChatMessage(role="user", content="What is 10-4?")]))
    assert "".join(c.delta or "" for c in chunks) == chunks[-1].message.content
    assert "6" in chunks[-1].message.content and chunks[-1].raw["usage"]["total_tokens"] > 0

    agen = await llm.astream_chat([ChatMessage(role="user", content="What is 9+9?")])
    achunks = [c async for c in agen]
    assert "18" in (achunks[-1].delta or "") and achunks[-1].additional_kwargs["completion_tokens"] > 0
    assert achunks[-1].additional_kwargs.get("thinking_delta")

    assert "hello" in llm.complete("say hello").text
    assert "bye" in (await llm.acomplete("say bye")).text
    stream = list(llm.stream_complete("say stream"))
    assert stream[-1].delta == stream[-1].text and "stream" in stream[-1].text
    astream = [c async for c in await llm.astream_complete("say async")]
    assert "async" in astream[-1].text and astream[-1].raw["usage"]["prompt_tokens"] > 0
    assert len(settled()) == 7


def test_callback_decorators_fire_instrumentation_and_payment_events(paid: dict[str, Any], collected: list) -> None:
    llm = GrokMPP(**paid)
    chat = llm.chat(USER)
    completion = llm.complete("say hi")
    chat_end = [e for e in collected if isinstance(e, LLMChatEndEvent)]
    completion_end = [e for e in collected if isinstance(e, LLMCompletionEndEvent)]
    payments = [e for e in collected if isinstance(e, GrokMPPPaymentEvent)]
    assert [e.response.message.content for e in chat_end] == [chat.message.content]
    assert [e.response.text for e in completion_end] == [completion.text]
    assert [p.tx_hash for p in payments] == [chat.raw["mpp"]["tx_hash"], completion.raw["mpp"]["tx_hash"]]
    assert all(p.component == "GrokMPP" and p.endpoint == "/grok/chat" for p in payments)


def test_token_counting_handler_counts_exactly_what_the_gateway_billed(
    paid: dict[str, Any], local_gateway: Any, funded_wallet: Any
) -> None:
    counter = TokenCountingHandler()
    llm = GrokMPP(callback_manager=CallbackManager([counter]), **paid)
    llm.chat(USER)
    list(llm.stream_chat([ChatMessage(role="user", content="say streaming")]))
    # the same requests straight through the core client (the synthetic model is deterministic)
    with GrokClient(wallet=funded_wallet, base_url=local_gateway.url, ledger="off") as client:
        a = client.chat(messages=[{"role": "user", "content": "What is 2+3?"}]).usage
        b = client.chat(messages=[{"role": "user", "content": "say streaming"}]).usage
    assert counter.prompt_llm_token_count == a.input_tokens + b.input_tokens
    assert counter.completion_llm_token_count == a.output_tokens + b.output_tokens  # reasoning included
    assert counter.total_llm_token_count == a.total_tokens + b.total_tokens
    assert len(counter.llm_token_counts) == 2


def test_image_blocks_are_sent_from_bytes_path_and_url(paid: dict[str, Any], tmp_path: Path) -> None:
    llm = GrokMPP(**paid)
    png = png_bytes(b"seed", 8, 8)
    path = tmp_path / "pixel.png"
    path.write_bytes(png)
    text_only = llm.chat(USER).raw["usage"]["prompt_tokens"]
    for block in (ImageBlock(image=png), ImageBlock(path=path), ImageBlock(url="https://example.com/cat.png")):
        msg = ChatMessage(role="user", blocks=[TextBlock(text="What is 2+3?"), block])
        assert llm.chat([msg]).raw["usage"]["prompt_tokens"] == text_only + IMAGE_TOKENS


def test_unsupported_content_and_bad_options_are_refused_before_paying(paid: dict[str, Any], settled: Any) -> None:
    llm = GrokMPP(**paid)
    with pytest.raises(InvalidRequestError, match="AudioBlock"):
        llm.chat([ChatMessage(role="user", blocks=[AudioBlock(audio=b"RIFF0000", format="wav")])])
    with pytest.raises(InvalidRequestError, match="temperature"):
        llm.chat(USER, temperature=7)
    with pytest.raises(InvalidRequestError, match="frobnicate"):
        llm.chat(USER, frobnicate=True)
    with pytest.raises(InvalidRequestError, match="images are only accepted in user messages"):
        llm.chat([ChatMessage(role="assistant", blocks=[ImageBlock(image=png_bytes(b"seed", 4, 4))])])
    assert settled() == []


def test_budget_and_cap_refusals_pay_nothing(
    paid: dict[str, Any], settled: Any, local_gateway: Any, funded_wallet: Any
) -> None:
    before = local_gateway.balance(funded_wallet.address)
    with pytest.raises(BudgetExceededError):
        GrokMPP(budget_usd="0.000001", ledger="off", **paid).chat(USER)
    with pytest.raises(AmountOverCapError):
        GrokMPP(max_price_usd="0.000001", **paid).complete("say hi")
    assert settled() == []
    assert local_gateway.balance(funded_wallet.address) == before


def test_budget_is_shared_between_sync_and_async_calls(paid: dict[str, Any], settled: Any) -> None:
    import asyncio

    llm = GrokMPP(ledger="off", **paid)
    mpp = llm.chat(USER).raw["mpp"]
    price, fee = mpp["amount"], mpp["fee"]  # budgets hold amount + worst-case fee, settle to the actual
    capped = GrokMPP(ledger="off", budget_usd=f"{(price + fee) * 1.5 / 1_000_000:.6f}", **paid)
    capped.chat(USER)
    with pytest.raises(BudgetExceededError):
        asyncio.run(capped.achat(USER))
    assert len(settled()) == 2


def test_private_key_is_consumed_and_never_serialized(local_gateway: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    wallet = local_gateway.new_funded_wallet("1")
    key = wallet.export_private_key()
    llm = GrokMPP(private_key=key, base_url=local_gateway.url, ledger="off", max_price_usd=0.5)
    assert llm.payer_address == wallet.address
    for text in (
        json.dumps(llm.to_dict()),
        llm.to_json(),
        repr(llm),
        str(llm.model_dump()),
        json.dumps(llm.to_payload()),
    ):
        assert key[2:].lower() not in text.lower()
    assert "private_key" not in llm.to_dict() and llm.to_dict()["max_price_usd"] == "0.5"
    # a restored LLM reads the key from the environment, not from the serialized form
    restored = GrokMPP.from_dict(llm.to_dict())
    with pytest.raises(ConfigurationError, match="no wallet"):
        _ = restored.payer_address
    monkeypatch.setenv("GROK_MPP_PRIVATE_KEY", key)
    assert GrokMPP.from_dict(llm.to_dict()).payer_address == wallet.address
    with pytest.raises(ConfigurationError) as bad:
        GrokMPP(private_key="0x" + "zz" * 32)
    assert "zz" * 8 not in str(bad.value)


def test_code_execution_llm_reports_the_run(paid: dict[str, Any], settled: Any) -> None:
    llm = GrokMPPCodeExecution(**paid)
    response = llm.chat([ChatMessage(role="user", content="compute 17*23")])
    (run,) = response.raw["code_execution"]
    assert run["outputs"] == ["391\n"] and "17*23" in run["code"]
    assert "391" in (response.message.content or "")
    assert response.raw["endpoint"] == "/grok/code-execution" == settled()[0].endpoint
    with pytest.raises(InvalidRequestError, match="Grok-4"):
        GrokMPPCodeExecution(model="grok-3-mini", **paid).complete("compute 1+1")
    assert len(settled()) == 1


def test_citations_from_search_routes_become_citation_blocks(paid: dict[str, Any]) -> None:
    llm = GrokMPP(model="grok-4-1-fast-reasoning", **paid)
    response = llm.chat([ChatMessage(role="user", content="tempo blockchain")], tools=[{"type": "web_search"}])
    citations = [b for b in response.message.blocks if isinstance(b, CitationBlock)]
    assert citations and [c.source for c in citations] == [c["url"] for c in response.raw["citations"]]
    first = citations[0]
    assert "tempo blockchain" in first.cited_content.text and "[[" not in first.cited_content.text
    assert set(first.additional_location_info) == {"start_index", "end_index"}
    # the answer text is unchanged by the extra blocks
    assert response.message.content and response.message.content.startswith("[synthetic]")
