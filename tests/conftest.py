"""Shared fixtures: an isolated ledger per test and the local gateway on loopback.

The local gateway is a real MPP server (challenges, verification, settlement) with a synthetic
model; tests that pay go through it over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's real key, gateway or ledger."""
    for name in list(os.environ):
        if name.startswith("GROK_MPP_") or name == "TEMPO_RPC_URL":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GROK_MPP_LEDGER", str(tmp_path / "ledger.sqlite3"))


@pytest.fixture(scope="session")
def local_gateway() -> Iterator[Any]:
    from grok_mpp.local import LocalGateway

    with LocalGateway() as gateway:
        yield gateway


@pytest.fixture
def funded_wallet(local_gateway: Any) -> Any:
    return local_gateway.new_funded_wallet(usd="5")


@pytest.fixture
def gateway_env(local_gateway: Any, funded_wallet: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Environment variables pointing every client at the local gateway with a funded key."""
    monkeypatch.setenv("GROK_MPP_BASE_URL", local_gateway.url)
    monkeypatch.setenv("TEMPO_RPC_URL", local_gateway.rpc_url)
    monkeypatch.setenv("GROK_MPP_PRIVATE_KEY", funded_wallet.export_private_key())
    return local_gateway
