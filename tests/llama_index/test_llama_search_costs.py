"""Search retrievers, the tool spec, a query engine on GrokMPP, and cost tracking vs gateway and ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.schema import MetadataMode

from grok_mpp.errors import InvalidRequestError
from llama_index_grok_mpp import (
    GrokMPP,
    GrokMPPCostHandler,
    GrokMPPToolSpec,
    GrokWebSearchRetriever,
    GrokXSearchRetriever,
    track_grok_mpp_costs,
)

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])


def test_web_retriever_returns_cited_sources_ranked(paid: dict[str, Any], settled: Any) -> None:
    retriever = GrokWebSearchRetriever(k=3, filters={"allowed_domains": ["docs.tempo.xyz"]}, **paid)
    hits = retriever.retrieve("tempo blockchain")
    assert len(hits) == 3 and len(settled()) == 1
    assert [h.score for h in hits] == [1.0, 0.5, pytest.approx(1 / 3)]
    for hit in hits:
        meta = hit.node.metadata
        assert meta["url"] == meta["source"] and meta["url"].startswith("https://docs.tempo.xyz/")
        assert meta["provider"] == "grok_web_search" and meta["title"]
        assert "tempo blockchain" in hit.node.get_content().lower() and "[[" not in hit.node.get_content()
        # the LLM sees title and url but not bookkeeping fields
        shown = hit.node.get_content(metadata_mode=MetadataMode.LLM)
        assert meta["url"] in shown and "paid_usd" not in shown


async def test_x_retriever_async_with_handles_and_answer_node(paid: dict[str, Any]) -> None:
    retriever = GrokXSearchRetriever(
        k=2, include_answer=True, filters={"allowed_x_handles": ["@tempo_xyz"], "from_date": "2026-01-01"}, **paid
    )
    hits = await retriever.aretrieve("grok")
    answer, *posts = hits
    assert answer.node.metadata["source"] == "grok" and answer.node.get_content().startswith("[synthetic]")
    assert len(posts) == 2
    for post in posts:
        assert post.node.metadata["author"] == "tempo_xyz" and post.node.metadata["post_id"]
        assert post.node.metadata["url"].startswith("https://x.com/tempo_xyz/status/")


def test_bad_filters_fail_at_construction(paid: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequestError, match="bare domain"):
        GrokWebSearchRetriever(filters={"allowed_domains": ["https://x.y/z"]}, **paid)
    with pytest.raises(InvalidRequestError, match="from_date"):
        GrokXSearchRetriever(filters={"from_date": "2026-02-01", "to_date": "2026-01-01"}, **paid)
    with pytest.raises(InvalidRequestError, match="Grok-4"):
        GrokWebSearchRetriever(model="grok-3-mini", **paid)
    with pytest.raises(InvalidRequestError, match="unknown field"):
        GrokMPPToolSpec(web_filters={"x_search_filters": 1}, **paid)


def test_tool_spec_functions_return_documents_and_files(paid: dict[str, Any], tmp_path: Path, settled: Any) -> None:
    spec = GrokMPPToolSpec(output_dir=tmp_path, **paid)
    tools = {t.metadata.name: t for t in spec.to_tool_list()}
    assert set(tools) == {"web_search", "x_search", "generate_image", "text_to_speech"}
    assert all(t.async_fn is not None for t in tools.values())

    docs = spec.web_search("tempo blockchain", max_results=2)
    assert len(docs) == 2 and docs[0].metadata["url"] in docs[0].text
    posts = spec.x_search("grok")
    assert posts and all(d.metadata["provider"] == "grok_x_search" for d in posts)

    image_text = tools["generate_image"].call(prompt="a lighthouse", n=2).content
    images = sorted(tmp_path.glob("grok-image-*.png"))
    assert len(images) == 2 and all(p.read_bytes()[:4] == b"\x89PNG" for p in images)
    assert "Generated 2 images" in image_text and str(images[0]) in image_text

    speech_text = spec.text_to_speech("hello there", voice="rex")
    (audio,) = tmp_path.glob("grok-speech-*")
    assert audio.read_bytes()[:4] == b"RIFF" and str(audio) in speech_text and "paid" in speech_text
    assert sorted(p.endpoint for p in settled()) == [
        "/grok/image-generate",
        "/grok/tts",
        "/grok/web-search",
        "/grok/x-search",
    ]


async def test_tool_spec_async_functions(paid: dict[str, Any], tmp_path: Path) -> None:
    spec = GrokMPPToolSpec(output_dir=tmp_path, **paid)
    docs = await spec.aweb_search("tempo blockchain", max_results=1)
    assert len(docs) == 1 and docs[0].metadata["rank"] == 1
    assert "saved to" in await spec.agenerate_image("a cat")
    assert "Audio saved" in await spec.atext_to_speech("hi")


def test_query_engine_with_settings_llm(paid: dict[str, Any], reset_settings: None, settled: Any) -> None:
    Settings.llm = GrokMPP(**paid)
    Settings.embed_model = MockEmbedding(embed_dim=8)
    index = VectorStoreIndex.from_documents(
        [Document(text="The Tempo chain id for mainnet is 4217. Fees are paid in stablecoins.")]
    )
    answer = index.as_query_engine(similarity_top_k=1).query("What is the Tempo mainnet chain id?")
    assert "4217" in str(answer)
    assert [p.endpoint for p in settled()] == ["/grok/chat"]


def test_cost_tracking_matches_gateway_and_ledger(paid: dict[str, Any], settled: Any, ledger_rows: Any) -> None:
    llm = GrokMPP(**paid)
    retriever = GrokWebSearchRetriever(k=1, **paid)
    spec = GrokMPPToolSpec(output_dir=None, **paid)
    with track_grok_mpp_costs() as costs:
        llm.complete("say one")
        llm.complete("say two")
        retriever.retrieve("tempo")
        spec.text_to_speech("cost check")
    llm.complete("outside the block")  # not counted
    payments = settled()
    assert len(payments) == 5
    inside = payments[:4]
    assert costs.calls == 4
    assert costs.amount == sum(p.amount for p in inside)
    assert costs.paid == sum(p.amount + p.fee for p in inside)  # what left the wallet: network fees included
    assert costs.by_endpoint["/grok/chat"].amount == sum(p.amount for p in inside if p.endpoint == "/grok/chat")
    assert costs.by_endpoint["/grok/web-search"].calls == costs.by_endpoint["/grok/tts"].calls == 1
    assert costs.by_model["grok-3-mini"].calls == 2 and costs.by_model["grok-3-mini"].input_tokens > 0
    assert costs.estimated > 0 and costs.paid_usd == f"{costs.paid / 1_000_000:.6f}"
    # the ledger recorded the same settled amounts, transaction for transaction
    rows = {r.tx_hash: r.amount for r in ledger_rows() if r.state == "settled"}
    assert {p.tx_hash: p.amount for p in payments} == rows
    assert "Grok MPP calls: 4" in str(costs)


def test_cost_handler_ignores_unrelated_events_and_counts_a_payment_once(paid: dict[str, Any]) -> None:
    from llama_index.core.instrumentation import get_dispatcher
    from llama_index.core.instrumentation.events.llm import LLMChatEndEvent

    from llama_index_grok_mpp import GrokMPPPaymentEvent

    handler = GrokMPPCostHandler()
    root = get_dispatcher()
    root.add_event_handler(handler)
    try:
        with track_grok_mpp_costs() as nested:
            response = GrokMPP(**paid).complete("say once")
    finally:
        root.event_handlers = [h for h in root.event_handlers if h is not handler]
    assert handler.calls == nested.calls == 1 and handler.paid == response.raw["mpp"]["paid"]
    assert handler.amount == response.raw["mpp"]["amount"] and handler.fee == response.raw["mpp"]["fee"] > 0
    handler.handle(LLMChatEndEvent(messages=[], response=None))
    event = GrokMPPPaymentEvent(
        component="test", payment={"mpp": response.raw["mpp"], "model": "m", "endpoint": "/grok/chat"}
    )
    handler.handle(event)  # same transaction again
    assert handler.calls == 1
    handler.reset()
    assert handler.calls == 0 and handler.paid_usd == "0.000000"
