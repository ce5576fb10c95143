"""Every argument ChatGrokMPP takes is honoured end to end or refused before paying (issue 14).

Calls go to the local gateway over real HTTP and pay real (local) MPP payments; "nothing paid" is
checked against what the gateway settled for this test's wallet.
"""

from __future__ import annotations

import pickle
import warnings
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.tools import ToolException

from grok_mpp.bridge.chat import DroppedParameterWarning
from grok_mpp.wallet import Wallet
from langchain_grok_mpp import ChatGrokMPP, ChatGrokMPPCodeExecution, GrokWebSearchTool
from langchain_grok_mpp.errors import GrokMPPConfigurationError, GrokMPPInvalidRequestError, MPPPriceCapError
from langchain_grok_mpp.tools import GrokImageGenerationTool


def _settled(gateway: Any, wallet: Any) -> list[Any]:
    return [p for p in gateway.payments if p.payer.lower() == wallet.address.lower()]


def _body(llm: ChatGrokMPP, **kwargs: Any) -> dict[str, Any]:
    return llm._build_request([HumanMessage("hi")], None, kwargs, warn=False).payload()


# --- sent ------------------------------------------------------------------------------------------


def test_sampling_arguments_are_sent() -> None:
    llm = ChatGrokMPP(model="grok-4.3", seed=7, top_p=0.5, n=2, logprobs=True, top_logprobs=2, max_completion_tokens=33)
    body = _body(llm)
    assert (body["seed"], body["top_p"], body["n"], body["logprobs"], body["top_logprobs"]) == (7, 0.5, 2, True, 2)
    assert body["max_tokens"] == 33 and llm.max_tokens == 33
    assert llm.model == "grok-4.3"


def test_call_time_options_override_fields() -> None:
    llm = ChatGrokMPP(model="grok-4.3", seed=1)
    assert _body(llm, seed=2, top_p=0.1, max_completion_tokens=9)["seed"] == 2
    assert _body(llm, max_completion_tokens=9)["max_tokens"] == 9


def test_model_kwargs_known_names_are_validated_and_the_rest_sent() -> None:
    llm = ChatGrokMPP(model="grok-4.3", model_kwargs={"seed": 3, "user": "u-1"})
    body = _body(llm)
    assert body["seed"] == 3 and body["user"] == "u-1"
    with pytest.raises(GrokMPPInvalidRequestError, match="top_p"):
        ChatGrokMPP(model="grok-4.3", model_kwargs={"top_p": 7})


def test_unknown_constructor_kwarg_moves_to_model_kwargs_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="transferred to model_kwargs"):
        llm = ChatGrokMPP(model="grok-4.3", user="u-9")
    assert llm.model_kwargs == {"user": "u-9"} and _body(llm)["user"] == "u-9"


@pytest.mark.parametrize("name", ["xai_api_key", "search_parameters", "logit_bias", "use_responses_api", "client"])
def test_chatxai_only_arguments_are_refused_with_a_reason(name: str) -> None:
    with pytest.raises(GrokMPPConfigurationError, match=name):
        ChatGrokMPP(model="grok-4.3", **{name: {"x": 1}})


# --- effects surfaced --------------------------------------------------------------------------------


def test_n_gives_several_generations_paid_once(local_gateway: Any, gateway_kwargs: dict[str, Any]) -> None:
    llm = ChatGrokMPP(model="grok-4.3", n=3, max_tokens=40, **gateway_kwargs)
    result = llm.generate([[HumanMessage("Say hi")]])
    generations = result.generations[0]
    assert len(generations) == 3
    first, *rest = generations
    assert first.message.response_metadata["mpp"]["amount"] > 0 and first.message.usage_metadata
    for index, gen in enumerate(rest, 1):
        assert "mpp" not in gen.message.response_metadata and gen.message.usage_metadata is None
        assert gen.message.response_metadata["choice_index"] == index and gen.text
    assert len(_settled(local_gateway, gateway_kwargs["wallet"])) == 1


def test_n_cannot_be_streamed(gateway_kwargs: dict[str, Any], local_gateway: Any) -> None:
    llm = ChatGrokMPP(model="grok-4.3", n=2, **gateway_kwargs)
    with pytest.raises(GrokMPPInvalidRequestError, match="cannot be streamed"):
        list(llm.stream("hi"))
    with pytest.raises(GrokMPPInvalidRequestError, match="streaming"):
        ChatGrokMPP(model="grok-4.3", n=2, streaming=True)
    assert _settled(local_gateway, gateway_kwargs["wallet"]) == []


def test_logprobs_reach_response_metadata(gateway_kwargs: dict[str, Any]) -> None:
    llm = ChatGrokMPP(model="grok-4.3", logprobs=True, top_logprobs=1, max_tokens=40, **gateway_kwargs)
    msg = llm.invoke("Say hello world")
    content = msg.response_metadata["logprobs"]["content"]
    assert content and all("logprob" in entry for entry in content)
    chunks = list(llm.stream("Say hello world"))
    assert chunks[-1].response_metadata["logprobs"]["content"]


def test_stop_on_a_reasoning_model_warns_and_is_noted(gateway_kwargs: dict[str, Any]) -> None:
    llm = ChatGrokMPP(model="grok-4.3", max_tokens=40, **gateway_kwargs)
    with pytest.warns(DroppedParameterWarning, match="stop dropped"):
        msg = llm.invoke("hi", stop=["."])
    assert any("stop dropped" in note for note in msg.response_metadata["dropped_params"])


def test_penalties_warn_and_are_noted(gateway_kwargs: dict[str, Any]) -> None:
    llm = ChatGrokMPP(model="grok-4.3", presence_penalty=0.5, max_tokens=40, **gateway_kwargs)
    with pytest.warns(DroppedParameterWarning, match="presence_penalty"):
        msg = llm.invoke("hi")
    assert any("presence_penalty" in note for note in msg.response_metadata["dropped_params"])


def test_stream_usage_false_leaves_chunks_without_usage(gateway_kwargs: dict[str, Any]) -> None:
    llm = ChatGrokMPP(model="grok-4.3", stream_usage=False, max_tokens=40, **gateway_kwargs)
    assert all(chunk.usage_metadata is None for chunk in llm.stream("hi"))


# --- validated at construction ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "kwargs", "error", "needle"),
    [
        (ChatGrokMPP, {"max_price_usd": "abc"}, ValueError, "USD amount"),
        (ChatGrokMPP, {"budget_usd": "-1"}, ValueError, "non-negative"),
        (ChatGrokMPP, {"base_url": "ftp://x"}, GrokMPPConfigurationError, "http"),
        (ChatGrokMPP, {"timeout": -1}, GrokMPPConfigurationError, "timeout"),
        (ChatGrokMPP, {"model": "gpt-4o"}, GrokMPPInvalidRequestError, "allow_unknown_models"),
        (ChatGrokMPP, {"model": "grok-3-mini", "reasoning_effort": "medium"}, GrokMPPInvalidRequestError, "low|high"),
        (ChatGrokMPPCodeExecution, {"reasoning_effort": "low"}, GrokMPPInvalidRequestError, "reasoning_effort"),
        (ChatGrokMPPCodeExecution, {"top_p": 0.5}, GrokMPPInvalidRequestError, "top_p"),
    ],
)
def test_bad_settings_fail_at_construction(cls: type, kwargs: dict[str, Any], error: type, needle: str) -> None:
    with pytest.raises(error, match=needle):
        cls(**kwargs)


def test_unknown_model_only_with_opt_in() -> None:
    llm = ChatGrokMPP(model="grok-99", allow_unknown_models=True)
    assert _body(llm)["model"] == "grok-99"
    assert "max_input_tokens" not in (llm.profile or {})  # no invented context window
    with pytest.raises(GrokMPPInvalidRequestError, match="not a known Grok chat model"):
        ChatGrokMPP(model="grok-4.3").invoke("hi", model="gpt-4o")


# --- settings changed after construction -----------------------------------------------------------


def test_price_cap_changed_after_construction_applies(local_gateway: Any, gateway_kwargs: dict[str, Any]) -> None:
    llm = ChatGrokMPP(model="grok-4.3", max_tokens=40, **gateway_kwargs)
    llm.invoke("hi")
    assert len(_settled(local_gateway, gateway_kwargs["wallet"])) == 1
    llm.max_price_usd = "0.000001"
    with pytest.raises(MPPPriceCapError):
        llm.invoke("hi")
    copy = llm.model_copy(update={"max_price_usd": "1"})
    copy.invoke("hi")
    with pytest.raises(MPPPriceCapError):
        llm.invoke("hi")  # the copy's change does not leak back
    assert len(_settled(local_gateway, gateway_kwargs["wallet"])) == 2
    assert copy.payer_address == llm.payer_address == gateway_kwargs["wallet"].address


def test_budget_changed_after_construction_counts_what_was_spent(
    local_gateway: Any, gateway_kwargs: dict[str, Any]
) -> None:
    llm = ChatGrokMPP(model="grok-4.3", max_tokens=40, ledger="off", **gateway_kwargs)
    msg = llm.invoke("hi")
    spent = msg.response_metadata["mpp"]["amount"]
    llm.budget_usd = f"{spent * 1.5 / 1_000_000:.6f}"  # room for half a call more: refused
    with pytest.raises(Exception, match="budget"):
        llm.invoke("hi")
    assert len(_settled(local_gateway, gateway_kwargs["wallet"])) == 1


def test_timeout_changed_after_construction_reaches_the_client(gateway_kwargs: dict[str, Any]) -> None:
    llm = ChatGrokMPP(model="grok-4.3", **gateway_kwargs)
    first = llm._grok_clients().sync()
    llm.request_timeout = 3.5
    second = llm._grok_clients().sync()
    assert second is not first and second.settings.timeout == 3.5 and second.wallet is first.wallet


# --- pickling ----------------------------------------------------------------------------------------


def test_pickle_never_carries_the_key_and_pins_the_payer(
    local_gateway: Any, funded_wallet: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = funded_wallet.export_private_key()
    llm = ChatGrokMPP(model="grok-4.3", private_key=key, base_url=local_gateway.url, rpc_url=local_gateway.rpc_url)
    blob = pickle.dumps(llm)
    assert key[2:].encode() not in blob and bytes.fromhex(key[2:]) not in blob
    # a worker whose environment holds another wallet refuses instead of paying from it
    other = Wallet.create()
    monkeypatch.setenv("GROK_MPP_PRIVATE_KEY", other.export_private_key())
    with pytest.raises(GrokMPPConfigurationError, match="refusing to switch payer"):
        pickle.loads(blob).invoke("hi")  # noqa: S301 - our own blob
    monkeypatch.delenv("GROK_MPP_PRIVATE_KEY")
    with pytest.raises(GrokMPPConfigurationError, match="unpickled"):
        pickle.loads(blob).invoke("hi")  # noqa: S301 - our own blob
    # the same key in the worker's environment: pays from the original payer
    monkeypatch.setenv("GROK_MPP_PRIVATE_KEY", key)
    restored = pickle.loads(blob)  # noqa: S301 - our own blob
    assert restored.invoke("hi", max_tokens=20).response_metadata["mpp"]["amount"] > 0
    assert restored.payer_address == funded_wallet.address
    assert len(_settled(local_gateway, funded_wallet)) == 1


def test_pickle_with_a_spend_guard_object_is_refused(gateway_kwargs: dict[str, Any]) -> None:
    from grok_mpp.payment.hooks import InMemoryBudget

    llm = ChatGrokMPP(model="grok-4.3", spend_guard=InMemoryBudget(), **gateway_kwargs)
    with pytest.raises(TypeError, match="ledger"):
        pickle.dumps(llm)


# --- tools and content -------------------------------------------------------------------------------


def test_search_tool_money_arguments_are_honoured(local_gateway: Any, gateway_kwargs: dict[str, Any]) -> None:
    tool = GrokWebSearchTool(max_price_usd="0.000001", **gateway_kwargs)
    assert tool.retriever.max_price_usd == "0.000001"
    with pytest.raises(MPPPriceCapError):
        tool.invoke({"query": "MPP"})
    assert _settled(local_gateway, gateway_kwargs["wallet"]) == []
    with pytest.raises(ValueError, match="retriever"):
        GrokWebSearchTool(max_price_usd="1", retriever=tool.retriever)
    with pytest.raises(ValueError):
        GrokWebSearchTool(max_pric_usd="1")  # a typo is refused, not ignored


def test_tool_input_errors_are_tool_exceptions(local_gateway: Any, gateway_kwargs: dict[str, Any]) -> None:
    tool = GrokWebSearchTool(**gateway_kwargs)
    with pytest.raises(ToolException, match="bare domain"):
        tool.invoke({"query": "MPP", "allowed_domains": ["https://x.com/a"]})
    tool.handle_tool_error = True
    call = {
        "name": tool.name,
        "args": {"query": "MPP", "allowed_domains": ["nope nope"]},
        "id": "1",
        "type": "tool_call",
    }
    message = tool.invoke(call)
    assert message.status == "error" and "bare domain" in message.content
    image = GrokImageGenerationTool(handle_tool_error=True, **gateway_kwargs)
    assert "prompt" in image.invoke({"prompt": "   "})
    assert _settled(local_gateway, gateway_kwargs["wallet"]) == []


def test_pdf_block_is_refused_before_paying(local_gateway: Any, gateway_kwargs: dict[str, Any]) -> None:
    llm = ChatGrokMPP(model="grok-4.3", **gateway_kwargs)
    pdf = {"type": "file", "base64": "JVBERi0xLjQK", "mime_type": "application/pdf"}
    with pytest.raises(GrokMPPInvalidRequestError, match="file/PDF"):
        llm.invoke([HumanMessage(content=[{"type": "text", "text": "summarize"}, pdf])])
    assert _settled(local_gateway, gateway_kwargs["wallet"]) == []


def test_no_warning_for_plain_calls(gateway_kwargs: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ChatGrokMPP(model="grok-4.20-0309-non-reasoning", max_tokens=30, **gateway_kwargs).invoke("hi", stop=["zz"])


def test_bind_tools_strict_and_parallel_reach_the_body() -> None:
    def weather(city: str) -> str:
        """Weather in a city."""
        return city

    bound = ChatGrokMPP(model="grok-4.3").bind_tools([weather], strict=True, parallel_tool_calls=False)
    body = _body(ChatGrokMPP(model="grok-4.3"), **bound.kwargs)  # type: ignore[attr-defined]
    assert body["tools"][0]["function"]["strict"] is True and body["parallel_tool_calls"] is False


def test_a_bad_value_assigned_after_construction_is_refused_loudly(
    local_gateway: Any, gateway_kwargs: dict[str, Any]
) -> None:
    llm = ChatGrokMPP(model="grok-4.3", **gateway_kwargs)
    llm.max_price_usd = "abc"  # pydantic does not validate assignment; the next call does
    with pytest.raises(GrokMPPConfigurationError, match="max_price_usd"):
        llm.invoke("hi")
    assert _settled(local_gateway, gateway_kwargs["wallet"]) == []


def test_image_tool_takes_image_2_options(local_gateway: Any, gateway_kwargs: dict[str, Any]) -> None:
    tool = GrokImageGenerationTool(model="grok-imagine-image-2.0", max_price_usd="0.5", **gateway_kwargs)
    message = tool.invoke({"prompt": "a lighthouse", "quality": "medium", "resolution": "2k"})
    assert "Generated 1 image" in message
    old = GrokImageGenerationTool(handle_tool_error=True, **gateway_kwargs)
    assert "grok-imagine-image-2.0" in old.invoke({"prompt": "a lighthouse", "quality": "medium"})


def test_default_headers_are_sent_and_reserved_ones_refused(gateway_kwargs: dict[str, Any]) -> None:
    import httpx

    llm = ChatGrokMPP(model="grok-4.3", default_headers={"X-Team": "research"}, **gateway_kwargs)
    client = llm._grok_clients().sync()
    with httpx.Client() as http:
        sent, _ = client._build(http, llm._build_request([HumanMessage("hi")], None, {}, warn=False))
    assert sent.headers["X-Team"] == "research" and sent.headers["Content-Type"] == "application/json"
    for name in ("Authorization", "Payment-Authorization", "content-type", "Idempotency-Key", "Accept-Payment"):
        with pytest.raises(GrokMPPConfigurationError, match="cannot be overridden"):
            ChatGrokMPP(model="grok-4.3", default_headers={name: "x"})


@pytest.mark.parametrize("factory", ["retriever", "tool"])
def test_retrievers_and_tools_pickle_with_the_payer_pinned_and_no_key(factory: str) -> None:
    from langchain_grok_mpp import GrokWebSearchRetriever

    wallet = Wallet.create()
    key = wallet.export_private_key()
    obj = GrokWebSearchRetriever(private_key=key) if factory == "retriever" else GrokWebSearchTool(private_key=key)
    blob = pickle.dumps(obj)
    assert key[2:].encode() not in blob and bytes.fromhex(key[2:]) not in blob
    restored = pickle.loads(blob)  # noqa: S301 - our own blob
    clients = restored._clients if factory == "retriever" else restored.retriever._clients
    assert clients.payer_hint == wallet.address
