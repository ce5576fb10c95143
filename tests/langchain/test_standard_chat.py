"""langchain-tests standard suites for the chat models, against the local gateway (real MPP payments).

The integration classes pay from a fresh funded wallet per test (``gateway_env`` sets the key,
gateway URL and RPC URL in the environment, which the models read at their first call).
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests

from langchain_grok_mpp import ChatGrokMPP, ChatGrokMPPCodeExecution

TEST_KEY = "0x" + "11" * 32

class _UnitBase(ChatModelUnitTests):
    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {"GROK_MPP_PRIVATE_KEY": TEST_KEY},
            {"model": "grok-4.3"},
            {"private_key": TEST_KEY, "model_name": "grok-4.3"},
        )

    @pytest.mark.xfail(
        reason="langchain-core 1.7 load(allowed_objects='all') only admits classes listed in"
        " langchain_core.load.mapping, which a third-party package cannot join; the snapshot part"
        " passes and test_payments.py::test_serialization_round_trip_without_secret loads with an"
        " explicit allow-list instead",
        raises=ValueError,
        strict=True,
    )
    def test_serdes(self, model: Any, snapshot: Any) -> None:
        super().test_serdes(model, snapshot)


class TestChatGrokMPPUnit(_UnitBase):
    @property
    def chat_model_class(self) -> type[ChatGrokMPP]:
        return ChatGrokMPP

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "grok-4.3"}


class TestChatGrokMPPCodeExecutionUnit(_UnitBase):
    @property
    def chat_model_class(self) -> type[ChatGrokMPPCodeExecution]:
        return ChatGrokMPPCodeExecution

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "grok-4.3"}


class TestChatGrokMPPIntegration(ChatModelIntegrationTests):
    @pytest.fixture(autouse=True)
    def _paying(self, gateway_env: Any, offline_images: None) -> None:
        """Per-test funded wallet and the local gateway, via the environment."""

    @property
    def chat_model_class(self) -> type[ChatGrokMPP]:
        return ChatGrokMPP

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "grok-4.3"}

    @property
    def model_override_value(self) -> str:
        return "grok-4.20-0309-non-reasoning"

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_image_urls(self) -> bool:
        return True

    @property
    def supported_usage_metadata_details(self) -> dict[str, list[Any]]:
        return {"invoke": ["reasoning_output"], "stream": ["reasoning_output"]}

    def invoke_with_reasoning_output(self, *, stream: bool = False) -> AIMessage:
        llm = ChatGrokMPP(model="grok-4.3", reasoning_effort="high")
        prompt = "Think step by step: what is 17 * 23?"
        if not stream:
            return llm.invoke(prompt)
        full = None
        for chunk in llm.stream(prompt):
            full = chunk if full is None else full + chunk
        assert full is not None
        return full  # type: ignore[return-value]


class TestChatGrokMPPCodeExecutionIntegration(ChatModelIntegrationTests):
    """The code-execution route: same contract, minus what the route cannot take."""

    @pytest.fixture(autouse=True)
    def _paying(self, gateway_env: Any) -> None:
        """Per-test funded wallet and the local gateway, via the environment."""

    @property
    def chat_model_class(self) -> type[ChatGrokMPPCodeExecution]:
        return ChatGrokMPPCodeExecution

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "grok-4.3"}

    @property
    def model_override_value(self) -> str:
        return "grok-4.20-0309-non-reasoning"

    @property
    def structured_output_kwargs(self) -> dict[str, Any]:
        return {"method": "function_calling"}
