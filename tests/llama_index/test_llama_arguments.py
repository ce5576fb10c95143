"""GrokMPP honours every argument or refuses it before paying (issue 14), against the local gateway."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.prompts import PromptTemplate
from pydantic import BaseModel

from grok_mpp.bridge.chat import DroppedParameterWarning
from grok_mpp.errors import AmountOverCapError, BudgetExceededError, ConfigurationError, InvalidRequestError
from grok_mpp.wallet import Wallet
from llama_index_grok_mpp import GrokMPP, GrokMPPCodeExecution

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

USER = [ChatMessage(role="user", content="Say hello world")]


class Person(BaseModel):
    name: str
    age: int


def _body(llm: GrokMPP, **kwargs: Any) -> dict[str, Any]:
    return llm._request(USER, kwargs, warn=False).payload()


# --- sent --------------------------------------------------------------------------------------------


def test_fields_additional_kwargs_and_call_options_are_sent() -> None:
    llm = GrokMPP(
        model="grok-4.3", top_p=0.4, logprobs=True, top_logprobs=2, additional_kwargs={"seed": 5, "user": "u"}
    )
    body = _body(llm)
    assert (body["top_p"], body["logprobs"], body["top_logprobs"], body["seed"], body["user"]) == (0.4, True, 2, 5, "u")
    assert _body(llm, seed=9, max_completion_tokens=12)["seed"] == 9
    assert _body(llm, max_completion_tokens=12)["max_tokens"] == 12


def test_unknown_constructor_kwargs_go_to_additional_kwargs_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="additional_kwargs"):
        llm = GrokMPP(model="grok-4.3", user="u-2")
    assert llm.additional_kwargs == {"user": "u-2"} and _body(llm)["user"] == "u-2"


def test_api_base_maps_to_base_url_and_api_key_is_the_payer_key() -> None:
    key = Wallet.create()
    llm = GrokMPP(model="grok-4.3", api_base="http://127.0.0.1:9", api_key=key.export_private_key())
    assert llm.base_url == "http://127.0.0.1:9" and llm.payer_address == key.address
    with pytest.raises(ConfigurationError, match="disagree"):
        GrokMPP(api_base="http://127.0.0.1:9", base_url="http://127.0.0.1:8")


@pytest.mark.parametrize(
    "kwargs",
    [{"api_version": "1"}, {"modalities": ["audio"]}, {"tokenizer": "x"}, {"reuse_client": False}],
)
def test_openai_only_arguments_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match=next(iter(kwargs))):
        GrokMPP(model="grok-4.3", **kwargs)


def test_strict_marks_function_tools() -> None:
    from llama_index.core.tools import FunctionTool

    tool = FunctionTool.from_defaults(fn=lambda city: city, name="weather", description="weather in a city")
    prepared = GrokMPP(model="grok-4.3", strict=True)._prepare_chat_with_tools([tool], user_msg="hi")
    assert prepared["tools"][0]["function"]["strict"] is True


def test_metadata_fields_of_openai_like_are_honoured() -> None:
    meta = GrokMPP(model="grok-4.3", is_function_calling_model=False, is_chat_model=False).metadata
    assert (meta.is_function_calling_model, meta.is_chat_model) == (False, False)
    unknown = GrokMPP(model="grok-99", allow_unknown_models=True).metadata
    assert unknown.context_window != 256_000 and unknown.context_window > 0


# --- validated at construction -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "kwargs", "error", "needle"),
    [
        (GrokMPP, {"max_price_usd": "abc"}, ValueError, "USD amount"),
        (GrokMPP, {"base_url": "ftp://x"}, ConfigurationError, "http"),
        (GrokMPP, {"model": "gpt-4o"}, InvalidRequestError, "allow_unknown_models"),
        (GrokMPPCodeExecution, {"reasoning_effort": "low"}, InvalidRequestError, "reasoning_effort"),
        (GrokMPPCodeExecution, {"top_p": 0.5}, InvalidRequestError, "top_p"),
    ],
)
def test_bad_settings_fail_at_construction(cls: type, kwargs: dict[str, Any], error: type, needle: str) -> None:
    with pytest.raises(error, match=needle):
        cls(**kwargs)


def test_n_above_one_is_refused(paid: dict[str, Any], settled: Any) -> None:
    with pytest.raises(InvalidRequestError, match="one message"):
        GrokMPP(model="grok-4.3", **paid).chat(USER, n=2)
    assert settled() == []


# --- effects surfaced --------------------------------------------------------------------------------


def test_logprobs_and_dropped_params_are_surfaced(paid: dict[str, Any]) -> None:
    llm = GrokMPP(model="grok-4.3", logprobs=True, top_logprobs=1, max_tokens=40, **paid)
    response = llm.chat(USER)
    assert response.logprobs and response.raw["logprobs"]["content"]
    with pytest.warns(DroppedParameterWarning, match="stop dropped"):
        response = llm.chat(USER, stop=["."])
    assert any("stop dropped" in note for note in response.raw["dropped_params"])


def test_streamed_structured_predict_gives_the_same_object(paid: dict[str, Any]) -> None:
    llm = GrokMPP(model="grok-4.3", max_tokens=200, **paid)
    prompt = PromptTemplate("Extract the person: {text}")
    direct = llm.structured_predict(Person, prompt, text="Ada is 36")
    streamed = list(llm.stream_structured_predict(Person, prompt, text="Ada is 36"))
    assert streamed and streamed[-1].name == direct.name and streamed[-1].age == direct.age
    assert streamed[-1].name  # not the empty object of issue 14
    message = ChatMessage(role="user", content="Extract the person: Ada is 36")
    chunks = list(llm.as_structured_llm(Person).stream_chat([message]))
    assert chunks[-1].raw.name == direct.name


async def test_async_streamed_structured_predict(paid: dict[str, Any]) -> None:
    llm = GrokMPP(model="grok-4.3", max_tokens=200, **paid)
    prompt = PromptTemplate("Extract the person: {text}")
    objects = [obj async for obj in await llm.astream_structured_predict(Person, prompt, text="Ada is 36")]
    assert objects and objects[-1].name


# --- settings changed after construction ---------------------------------------------------------------


def test_cap_budget_and_timeout_changed_after_construction_apply(paid: dict[str, Any], settled: Any) -> None:
    llm = GrokMPP(model="grok-4.3", max_tokens=40, ledger="off", **paid)
    spent = llm.chat(USER).raw["mpp"]["amount"]
    llm.max_price_usd = "0.000001"
    with pytest.raises(AmountOverCapError):
        llm.chat(USER)
    copy = llm.model_copy(update={"max_price_usd": "1"})
    copy.chat(USER)
    with pytest.raises(AmountOverCapError):
        llm.chat(USER)
    llm.max_price_usd = "1"
    llm.budget_usd = f"{spent * 1.5 / 1_000_000:.6f}"  # what was spent still counts
    with pytest.raises(BudgetExceededError):
        llm.chat(USER)
    assert len(settled()) == 2
    llm.timeout = 0.5
    assert llm._current_clients().sync().settings.timeout == 0.5


# --- pickling ------------------------------------------------------------------------------------------


def test_pickle_pins_the_payer_and_never_carries_the_key(
    local_gateway: Any, funded_wallet: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = funded_wallet.export_private_key()
    llm = GrokMPP(model="grok-4.3", private_key=key, base_url=local_gateway.url, rpc_url=local_gateway.rpc_url)
    blob = pickle.dumps(llm)
    assert key[2:].encode() not in blob and bytes.fromhex(key[2:]) not in blob
    monkeypatch.setenv("GROK_MPP_PRIVATE_KEY", Wallet.create().export_private_key())
    with pytest.raises(ConfigurationError, match="refusing to switch payer"):
        pickle.loads(blob).chat(USER)  # noqa: S301 - our own blob
    monkeypatch.setenv("GROK_MPP_PRIVATE_KEY", key)
    restored = pickle.loads(blob)  # noqa: S301 - our own blob
    assert restored.chat(USER, max_tokens=20).raw["mpp"]["amount"] > 0
    assert restored.payer_address == funded_wallet.address


@pytest.mark.parametrize("kwargs", [{"max_price_usd": "abc"}, {"base_url": "ftp://x"}, {"timeout": 0}])
def test_retrievers_and_tool_spec_validate_settings_at_construction(kwargs: dict[str, Any]) -> None:
    from llama_index_grok_mpp import GrokMPPToolSpec, GrokWebSearchRetriever

    for cls in (GrokWebSearchRetriever, GrokMPPToolSpec):
        with pytest.raises(ConfigurationError):
            cls(**kwargs)


def test_llama_default_headers_are_sent(paid: dict[str, Any]) -> None:
    import httpx

    llm = GrokMPP(model="grok-4.3", default_headers={"X-Team": "research"}, **paid)
    client = llm._current_clients().sync()
    with httpx.Client() as http:
        sent, _ = client._build(http, llm._request(USER, {}, warn=False))
    assert sent.headers["X-Team"] == "research"
    llm.default_headers = {"X-Team": "ops"}  # changed after construction: the next call uses it
    with httpx.Client() as http:
        sent, _ = llm._current_clients().sync()._build(http, llm._request(USER, {}, warn=False))
    assert sent.headers["X-Team"] == "ops"
    with pytest.raises(ConfigurationError, match="cannot be overridden"):
        GrokMPP(model="grok-4.3", default_headers={"Authorization": "Bearer x"})


def test_llama_retriever_and_tool_spec_pickle_with_the_payer_pinned_and_no_key() -> None:
    from llama_index_grok_mpp import GrokMPPToolSpec, GrokWebSearchRetriever

    wallet = Wallet.create()
    key = wallet.export_private_key()
    for obj in (GrokWebSearchRetriever(private_key=key), GrokMPPToolSpec(private_key=key)):
        blob = pickle.dumps(obj)
        assert key[2:].encode() not in blob and bytes.fromhex(key[2:]) not in blob
        assert pickle.loads(blob)._clients.payer_hint == wallet.address  # noqa: S301 - our own blob
