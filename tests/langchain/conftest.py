"""LangChain adapter tests: everything runs against the local gateway on loopback, offline.

Every test in this directory gets pytest-socket's ``allow_hosts(["127.0.0.1"])`` marker, which
blocks any connection that is not to loopback (the same effect as running pytest with
``--disable-socket --allow-hosts=127.0.0.1``), so the plain ``pytest`` command enforces it too.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import pytest

HERE = Path(__file__).parent

#: A real 1x1 PNG: the standard multimodal tests download images; offline they get this instead.
PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.allow_hosts(["127.0.0.1"]))


@pytest.fixture
def offline_images(monkeypatch: pytest.MonkeyPatch) -> None:
    """Serve the PNG above to langchain-tests' image downloads (httpx.get in its module)."""
    import langchain_tests.integration_tests.chat_models as standard

    def fake_get(url: str, **_: Any) -> httpx.Response:
        return httpx.Response(200, content=PNG_1X1, request=httpx.Request("GET", url))

    monkeypatch.setattr(standard.httpx, "get", fake_get)


@pytest.fixture
def gateway_kwargs(local_gateway: Any, funded_wallet: Any) -> dict[str, Any]:
    """Constructor settings for a model/retriever/tool paying from this test's funded wallet."""
    return {"wallet": funded_wallet, "base_url": local_gateway.url, "rpc_url": local_gateway.rpc_url}


@pytest.fixture
def snapshot(snapshot: Any) -> Any:
    """syrupy's snapshot minus ``lc_versions`` (the installed langchain-core version, not ours)."""
    from syrupy.filters import props

    return snapshot.with_defaults(exclude=props("lc_versions"))
