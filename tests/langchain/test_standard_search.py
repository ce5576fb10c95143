"""langchain-tests standard suites for the search retrievers and tools (paid, on the local gateway)."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.tools import BaseTool
from langchain_tests.integration_tests import RetrieversIntegrationTests, ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests

from langchain_grok_mpp import GrokWebSearchRetriever, GrokWebSearchTool, GrokXSearchRetriever, GrokXSearchTool
from langchain_grok_mpp.tools import GrokImageGenerationTool, GrokTextToSpeechTool


class _Paying:
    @pytest.fixture(autouse=True)
    def _paying(self, gateway_env: Any) -> None:
        """Per-test funded wallet and the local gateway, via the environment."""


class TestWebSearchRetriever(_Paying, RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[GrokWebSearchRetriever]:
        return GrokWebSearchRetriever

    @property
    def retriever_query_example(self) -> str:
        return "latest Python release notes"


class TestXSearchRetriever(_Paying, RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[GrokXSearchRetriever]:
        return GrokXSearchRetriever

    @property
    def retriever_query_example(self) -> str:
        return "what people say about Tempo payments"


class TestWebSearchToolUnit(ToolsUnitTests):
    @property
    def tool_constructor(self) -> type[BaseTool]:
        return GrokWebSearchTool

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"query": "python news", "allowed_domains": ["python.org"]}


class TestWebSearchToolIntegration(_Paying, ToolsIntegrationTests):
    @property
    def tool_constructor(self) -> type[BaseTool]:
        return GrokWebSearchTool

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"query": "python news", "allowed_domains": ["python.org"]}


class TestXSearchToolUnit(ToolsUnitTests):
    @property
    def tool_constructor(self) -> type[BaseTool]:
        return GrokXSearchTool

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"query": "tempo", "allowed_x_handles": ["@tempo"], "from_date": "2026-01-01"}


class TestXSearchToolIntegration(_Paying, ToolsIntegrationTests):
    @property
    def tool_constructor(self) -> type[BaseTool]:
        return GrokXSearchTool

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"query": "tempo", "allowed_x_handles": ["@tempo"], "from_date": "2026-01-01"}


class TestImageToolIntegration(_Paying, ToolsIntegrationTests):
    @property
    def tool_constructor(self) -> type[BaseTool]:
        return GrokImageGenerationTool

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"prompt": "a lighthouse at dusk", "aspect_ratio": "16:9"}


class TestSpeechToolIntegration(_Paying, ToolsIntegrationTests):
    @property
    def tool_constructor(self) -> type[BaseTool]:
        return GrokTextToSpeechTool

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"text": "Paid per call.", "voice_id": "ara"}
