"""What the LangChain adapter promises about money, against the local gateway (real MPP settlement).

Amounts are compared with what the gateway settled (``local_gateway.payments``), with the payer's
on-chain balance and with the ledger, never with constants.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from langchain_core.callbacks import UsageMetadataCallbackHandler
from langchain_core.exceptions import ModelAuthenticationError, ModelError
from langchain_core.load import dumpd, load
from langchain_core.prompts import ChatPromptTemplate

from grok_mpp.errors import BudgetExceededError, PaymentOutcomeUnknownError
from grok_mpp.ledger import open_ledger
from grok_mpp.local import LocalGateway
from langchain_grok_mpp import (
    ChatGrokMPP,
    ChatGrokMPPCodeExecution,
    GrokWebSearchRetriever,
    GrokWebSearchTool,
    GrokXSearchRetriever,
    MPPBudgetExceededError,
    MPPPaymentOutcomeUnknownError,
    MPPPriceCapError,
    get_grok_mpp_callback,
)
from langchain_grok_mpp.errors import GrokMPPAPIError, GrokMPPConfigurationError
from langchain_grok_mpp.tools import GrokImageGenerationTool


def _settled_for(gateway: Any, payer: str) -> list[Any]:
    return [p for p in gateway.payments if p.payer.lower() == payer.lower()]


def _by_reference(gateway: Any, reference: str) -> Any:
    matches = [p for p in gateway.payments if reference in (p.tx_hash, p.reference)]
    assert len(matches) == 1, f"no single settled payment for {reference}"
    return matches[0]


# --- payment metadata -----------------------------------------------------------------------------


def test_invoke_reports_the_settled_payment(local_gateway: Any, gateway_kwargs: dict[str, Any]) -> None:
    wallet = gateway_kwargs["wallet"]
    before = local_gateway.balance(wallet.address)
    msg = ChatGrokMPP(model="grok-4.3", **gateway_kwargs).invoke("What is 6 * 7?")

    mpp = msg.response_metadata["mpp"]
    settled = _by_reference(local_gateway, mpp["tx_hash"])
    assert mpp["amount"] == settled.amount
    assert mpp["endpoint"] == "/grok/chat" == settled.endpoint
    assert mpp["challenge_id"] == settled.challenge_id
    assert mpp["receipt"]["reference"] == settled.reference
    assert mpp["amount_usd"] == f"{settled.amount / 1_000_000:.6f}"
    spent = before - local_gateway.balance(wallet.address)
    assert spent == settled.amount + (0 if settled.sponsored else settled.fee)
    # paid is what left the wallet: amount + network fee
    assert mpp["paid"] == spent == mpp["amount"] + mpp["fee"] and mpp["paid_usd"] == f"{spent / 1_000_000:.6f}"
    meta = msg.response_metadata
    assert meta["model_provider"] == "grok_mpp"
    assert meta["model_name"] and meta["requested_model"] == "grok-4.3"
    assert meta["finish_reason"] == "stop"
    usage = msg.usage_metadata
    assert usage is not None
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["output_token_details"]["reasoning"] <= usage["output_tokens"]


def test_streaming_pays_once_and_puts_usage_on_exactly_one_chunk(
    local_gateway: Any, gateway_kwargs: dict[str, Any]
) -> None:
    llm = ChatGrokMPP(model="grok-4.3", **gateway_kwargs)
    chunks = list(llm.stream("Write a long answer about the history of payment channels, please."))

    with_usage = [c for c in chunks if c.usage_metadata]
    assert len(with_usage) == 1
    assert chunks[-1] is with_usage[0]
    assert chunks[-1].chunk_position == "last"
    assert [c for c in chunks if c.response_metadata.get("model_name")] == [chunks[-1]]
    assert len([c for c in chunks if c.content]) > 1  # the text really is split
    full = chunks[0]
    for c in chunks[1:]:
        full = full + c
    assert full.usage_metadata == with_usage[0].usage_metadata
    settled = _settled_for(local_gateway, gateway_kwargs["wallet"].address)
    assert len(settled) == 1
    assert full.response_metadata["mpp"]["amount"] == settled[0].amount


async def test_async_invoke_and_stream_pay(local_gateway: Any, gateway_kwargs: dict[str, Any]) -> None:
    llm = ChatGrokMPP(**gateway_kwargs)
    msg = await llm.ainvoke("hello")
    chunks = [c async for c in llm.astream("hello again")]
    paid = [msg.response_metadata["mpp"]["amount"], chunks[0].response_metadata["mpp"]["amount"]]
    assert paid == [p.amount for p in _settled_for(local_gateway, gateway_kwargs["wallet"].address)]


# --- refusals -------------------------------------------------------------------------------------


def test_budget_refusal_inside_a_chain_pays_nothing(local_gateway: Any, gateway_kwargs: dict[str, Any]) -> None:
    wallet = gateway_kwargs["wallet"]
    before = local_gateway.balance(wallet.address)
    chain = ChatPromptTemplate.from_messages([("user", "Tell me about {topic}")]) | ChatGrokMPP(
        budget_usd="0.000001", max_retries=3, **gateway_kwargs
    )
    with pytest.raises(MPPBudgetExceededError) as info:
        chain.invoke({"topic": "budgets"})

    err = info.value
    assert isinstance(err, BudgetExceededError) and isinstance(err, ModelError)
    assert err.is_retryable is False and err.paid is False
    assert _settled_for(local_gateway, wallet.address) == []
    assert local_gateway.balance(wallet.address) == before


def test_price_cap_refusal_pays_nothing(local_gateway: Any, gateway_kwargs: dict[str, Any]) -> None:
    llm = ChatGrokMPPCodeExecution(max_price_usd="0.000001", **gateway_kwargs)
    with pytest.raises(MPPPriceCapError) as info:
        llm.invoke("compute 2 ** 20")
    assert info.value.is_retryable is False
    assert _settled_for(local_gateway, gateway_kwargs["wallet"].address) == []


def test_invalid_request_is_refused_before_any_network_call() -> None:
    llm = ChatGrokMPP(api_key="not-a-key", base_url="http://127.0.0.1:9")  # nothing listens on port 9
    with pytest.raises(ModelError) as info:
        llm.invoke("hi", temperature=5)  # out of range: refused locally, before the key is even read
    assert "temperature" in str(info.value)


def test_bad_key_fails_at_call_time_not_construction() -> None:
    llm = ChatGrokMPP(api_key="test")  # what the standard unit tests do
    with pytest.raises(GrokMPPConfigurationError) as info:
        llm.invoke("hi")
    assert isinstance(info.value, ModelAuthenticationError)
    assert "test" not in str(info.value)


def test_outcome_unknown_is_never_retried(local_gateway: Any) -> None:
    with LocalGateway(default_fault="drop-connection-after-payment") as faulty:
        wallet = faulty.new_funded_wallet("1")
        llm = ChatGrokMPP(wallet=wallet, base_url=faulty.url, rpc_url=faulty.rpc_url, max_retries=5)
        with pytest.raises(MPPPaymentOutcomeUnknownError) as info:
            llm.invoke("hi")
        assert isinstance(info.value, PaymentOutcomeUnknownError)
        assert info.value.is_retryable is False
        assert len(faulty.payments) == 1  # settled once, and not paid again by a retry


def test_errors_before_payment_are_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 503 answered before any 402 is safe to retry: max_retries more attempts, then a retryable error."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import grok_mpp.bridge.retry as retry

    monkeypatch.setattr(retry, "BASE_DELAY_S", 0.0)
    hits: list[str] = []

    class Unavailable(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hits.append(self.path)
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(503)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"error": "maintenance"}')

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Unavailable)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        llm = ChatGrokMPP(
            api_key="0x" + "22" * 32,
            base_url=f"http://127.0.0.1:{server.server_address[1]}",
            max_retries=2,
            ledger="off",
        )
        with pytest.raises(GrokMPPAPIError) as info:
            llm.invoke("hi")
    finally:
        server.shutdown()
        server.server_close()
    assert hits == ["/grok/chat"] * 3
    assert info.value.is_retryable is True


# --- cost callback --------------------------------------------------------------------------------


async def test_callback_totals_equal_settled_payments_and_ledger(
    local_gateway: Any, gateway_kwargs: dict[str, Any]
) -> None:
    wallet = gateway_kwargs["wallet"]
    llm = ChatGrokMPP(model="grok-4.3", **gateway_kwargs)
    usage = UsageMetadataCallbackHandler()
    with get_grok_mpp_callback() as cb:
        llm.invoke("What is 2 + 2?", config={"callbacks": [usage]})
        list(llm.stream("hello"))
        await llm.ainvoke("and 3 + 3?")
        (ChatPromptTemplate.from_messages([("user", "{q}")]) | llm).invoke({"q": "chained"})
        GrokWebSearchRetriever(k=2, **gateway_kwargs).invoke("python news")
        await GrokXSearchRetriever(**gateway_kwargs).ainvoke("tempo")
        GrokWebSearchTool(retriever=GrokWebSearchRetriever(**gateway_kwargs)).invoke({"query": "mpp"})
        GrokImageGenerationTool(**gateway_kwargs).invoke({"prompt": "a receipt"})

    settled = _settled_for(local_gateway, wallet.address)
    assert cb.calls == len(settled) == 8
    assert cb.amount == sum(p.amount for p in settled)
    assert cb.paid == sum(p.amount + p.fee for p in settled) == cb.amount + cb.fee  # network fees included
    assert cb.paid_usd == f"{cb.paid / 1_000_000:.6f}"
    summary = cb.summary()
    assert summary["by_endpoint"]["/grok/chat"]["calls"] == 4
    assert summary["by_endpoint"]["/grok/web-search"]["calls"] == 2
    assert summary["by_endpoint"]["/grok/x-search"]["calls"] == 1
    assert summary["by_endpoint"]["/grok/image-generate"]["calls"] == 1
    assert cb.estimated > 0 and cb.input_tokens > 0
    assert "Paid (USD)" in repr(cb) and "/grok/web-search" in repr(cb)
    with open_ledger(os.environ["GROK_MPP_LEDGER"]) as ledger:
        totals = ledger.totals()
    assert totals["paid"] == cb.paid and totals["count"] == cb.calls
    # LangChain's own usage callback keeps working (keyed by the served model name)
    assert sum(u["total_tokens"] for u in usage.usage_metadata.values()) > 0


def test_callback_outside_the_block_sees_nothing(gateway_kwargs: dict[str, Any]) -> None:
    llm = ChatGrokMPP(**gateway_kwargs)
    with get_grok_mpp_callback() as cb:
        pass
    llm.invoke("hi")
    assert cb.calls == 0 and cb.paid == 0


# --- serialization and secrets --------------------------------------------------------------------


def test_serialization_round_trip_without_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "0x" + "ab" * 32
    llm = ChatGrokMPP(private_key=key, model="grok-4.3", max_price_usd="0.05", budget_usd=2)
    dumped = dumpd(llm)
    text = json.dumps(dumped)
    assert key not in text and key[2:] not in text
    assert key not in repr(llm) and key not in str(llm.dict())
    assert dumped["kwargs"]["private_key"] == {"lc": 1, "type": "secret", "id": ["GROK_MPP_PRIVATE_KEY"]}
    assert dumped["kwargs"]["budget_usd"] == "2"

    monkeypatch.setenv("GROK_MPP_PRIVATE_KEY", key)
    restored = load(
        dumped, valid_namespaces=["langchain_grok_mpp"], allowed_objects=[ChatGrokMPP], secrets_from_env=True
    )
    assert isinstance(restored, ChatGrokMPP)
    assert restored.private_key is not None and restored.private_key.get_secret_value() == key
    assert restored.max_price_usd == "0.05" and restored.model_name == "grok-4.3"


def test_client_is_private_and_not_serialized(gateway_kwargs: dict[str, Any]) -> None:
    llm = ChatGrokMPP(**gateway_kwargs)
    llm.invoke("hi")
    assert llm._clients is not None
    assert llm.payer_address == gateway_kwargs["wallet"].address
    assert "clients" not in json.dumps(dumpd(llm))
    assert gateway_kwargs["wallet"].export_private_key() not in json.dumps(dumpd(llm))


# --- tools, limiter, sandbox --------------------------------------------------------------------


async def test_image_edit_and_speech_tools_return_artifacts(local_gateway: Any, gateway_kwargs: dict[str, Any]) -> None:
    from langchain_core.messages import ToolMessage

    from grok_mpp.gateway.results import ImageResult, SpeechResult
    from langchain_grok_mpp.tools import GrokImageEditTool, GrokTextToSpeechTool
    from tests.langchain.conftest import PNG_1X1

    image = "data:image/png;base64," + __import__("base64").b64encode(PNG_1X1).decode()
    call = {"name": "grok_image_edit", "args": {"prompt": "add a hat", "image": image}, "id": "c1", "type": "tool_call"}
    msg = GrokImageEditTool(**gateway_kwargs).invoke(call)
    assert isinstance(msg, ToolMessage) and isinstance(msg.artifact, ImageResult)
    assert msg.artifact.images[0].data and msg.artifact.images[0].data.startswith(b"\x89PNG")
    settled = _settled_for(local_gateway, gateway_kwargs["wallet"].address)
    assert f"paid {(settled[-1].amount + settled[-1].fee) / 1_000_000:.6f} USD" in msg.content  # amount + fee

    speech = await GrokTextToSpeechTool(voice_id="rex", **gateway_kwargs).ainvoke(
        {"name": "grok_text_to_speech", "args": {"text": "hello"}, "id": "c2", "type": "tool_call"}
    )
    assert isinstance(speech.artifact, SpeechResult) and speech.artifact.audio
    assert settled[-1].endpoint == "/grok/image-edit"
    assert _settled_for(local_gateway, gateway_kwargs["wallet"].address)[-1].endpoint == "/grok/tts"


def test_rate_limiter_is_consulted_per_call(gateway_kwargs: dict[str, Any]) -> None:
    from langchain_core.rate_limiters import InMemoryRateLimiter

    class Counting(InMemoryRateLimiter):
        acquired: int = 0

        def acquire(self, *, blocking: bool = True) -> bool:
            self.acquired += 1
            return super().acquire(blocking=blocking)

    limiter = Counting(requests_per_second=1000, max_bucket_size=10)
    llm = ChatGrokMPP(rate_limiter=limiter, **gateway_kwargs)
    llm.invoke("one")
    list(llm.stream("two"))
    assert limiter.acquired == 2


@pytest.mark.filterwarnings("ignore:A test tried to use socket")
def test_only_loopback_connections_are_allowed() -> None:
    """The directory conftest applies pytest-socket's allow_hosts marker to every test here."""
    import socket

    from pytest_socket import SocketConnectBlockedError

    with pytest.raises(SocketConnectBlockedError):
        socket.create_connection(("192.0.2.1", 443), timeout=1)
