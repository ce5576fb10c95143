"""No key or credential in the LangChain / LlamaIndex surfaces: serialization, reprs, callbacks, events.

The models get the key as a plain ``private_key=`` string (the riskiest way: it is a model field),
pay real 402s at the local gateway, and everything the frameworks can print, serialize or hand to
user callbacks is scanned. Credentials are captured by wrapping ``sign_payment`` in the auth flow,
so the scan knows every bearer token that left the process.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from grok_mpp.local import LocalGateway
from grok_mpp.payment import auth as auth_module
from grok_mpp.payment.signer import SignedPayment

from .support import assert_no_secret, exception_texts, jsonish

MSG = "What is 2+3?"


@pytest.fixture
def secrets(local_gateway: LocalGateway, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    wallet = local_gateway.new_funded_wallet(usd="5")
    key = wallet.export_private_key()
    credentials: list[str] = []
    original = auth_module.sign_payment

    def spy(*args: Any, **kwargs: Any) -> SignedPayment:
        signed = original(*args, **kwargs)
        credentials.append(signed.credential)
        return signed

    monkeypatch.setattr(auth_module, "sign_payment", spy)
    return {"key": key, "credentials": credentials, "gateway": local_gateway}


def needles(secrets: dict[str, Any]) -> list[str]:
    key = secrets["key"]
    out = {key, key[2:], key[2:].upper()}
    for credential in secrets["credentials"]:
        token = credential.split(" ", 1)[1]
        out.update({credential, token, token[:48]})
    return sorted(out)


def test_langchain_model_serialization_callbacks_and_errors(
    secrets: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("langchain_core")
    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.load import dumpd, dumps

    from langchain_grok_mpp import ChatGrokMPP

    seen: list[str] = []

    class Recorder(BaseCallbackHandler):
        """Records every callback LangChain makes, with all arguments."""

    def _record(name: str) -> Any:
        def method(self: Any, *args: Any, **kwargs: Any) -> None:
            seen.append(name + jsonish(args) + jsonish(kwargs))

        return method

    for name in dir(BaseCallbackHandler):
        if name.startswith("on_"):
            setattr(Recorder, name, _record(name))

    caplog.set_level(logging.DEBUG)
    gw = secrets["gateway"]
    model = ChatGrokMPP(private_key=secrets["key"], base_url=gw.url, ledger="off", max_tokens=20)
    handler = Recorder()
    answer = model.invoke(MSG, config={"callbacks": [handler]})
    chunks = list(model.stream(MSG, config={"callbacks": [handler]}))
    assert len(secrets["credentials"]) == 2 and answer.content and chunks

    texts = [json.dumps(dumpd(model)), dumps(model), repr(model), str(model), repr(model.model_dump()),
             jsonish(answer.response_metadata), repr(answer), repr(chunks), *seen]
    assert any("on_chat_model_start" in s for s in seen) and any("on_llm_end" in s for s in seen)
    assert "private_key" in json.dumps(dumpd(model))  # serialized, but only as a secret reference
    assert_no_secret(texts, needles(secrets), "LangChain serialization / callbacks")

    refused = ChatGrokMPP(private_key=secrets["key"], base_url=gw.url, ledger="off", max_price_usd="0.000001")
    with pytest.raises(Exception) as err:
        refused.invoke(MSG, config={"callbacks": [handler]})
    assert_no_secret(exception_texts(err.value) + seen, needles(secrets), "LangChain error path")
    assert_no_secret([r.getMessage() for r in caplog.records], needles(secrets), "DEBUG logs")


def test_llama_index_to_dict_events_and_errors(secrets: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    pytest.importorskip("llama_index.core")
    from llama_index.core.base.llms.types import ChatMessage
    from llama_index.core.instrumentation import get_dispatcher
    from llama_index.core.instrumentation.event_handlers import BaseEventHandler

    from llama_index_grok_mpp import GrokMPP

    seen: list[str] = []

    class Recorder(BaseEventHandler):
        @classmethod
        def class_name(cls) -> str:
            return "SecretScanRecorder"

        def handle(self, event: Any, **kwargs: Any) -> None:
            seen.append(repr(event) + event.model_dump_json() + jsonish(kwargs))

    caplog.set_level(logging.DEBUG)
    gw = secrets["gateway"]
    root = get_dispatcher()
    recorder = Recorder()
    root.add_event_handler(recorder)
    try:
        llm = GrokMPP(private_key=secrets["key"], base_url=gw.url, ledger="off", max_tokens=20)
        chat = llm.chat([ChatMessage(role="user", content=MSG)])
        completion = llm.complete(MSG)
        refused = GrokMPP(private_key=secrets["key"], base_url=gw.url, ledger="off", max_price_usd="0.000001")
        with pytest.raises(Exception) as err:
            refused.complete(MSG)
    finally:
        root.event_handlers.remove(recorder)
    assert len(secrets["credentials"]) == 2 and chat.message.content and completion.text
    assert seen, "the event handler received nothing"
    texts = [json.dumps(llm.to_dict()), llm.to_json(), repr(llm), str(llm), repr(chat), repr(completion),
             jsonish(chat.raw), jsonish(completion.additional_kwargs), *seen]
    texts += exception_texts(err.value)
    assert_no_secret(texts, needles(secrets), "LlamaIndex to_dict / events / errors")
    assert_no_secret([r.getMessage() for r in caplog.records], needles(secrets), "DEBUG logs")
