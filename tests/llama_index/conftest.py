"""Fixtures for the LlamaIndex adapter: objects paying from a fresh funded wallet on the local gateway."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from llama_index.core import Settings

from grok_mpp.ledger import open_ledger


@pytest.fixture
def paid(local_gateway: Any, funded_wallet: Any) -> dict[str, Any]:
    """Constructor arguments every adapter object accepts: this test's wallet, the local gateway.

    The ledger is the per-test SQLite file set by the autouse fixture in tests/conftest.py.
    """
    return {"wallet": funded_wallet, "base_url": local_gateway.url, "rpc_url": local_gateway.rpc_url}


@pytest.fixture
def settled(local_gateway: Any, funded_wallet: Any) -> Any:
    """``settled()`` -> the gateway's settled payments made by this test's wallet."""
    payer = funded_wallet.address.lower()
    return lambda: [p for p in local_gateway.payments if p.payer.lower() == payer]


@pytest.fixture
def ledger_rows() -> Any:
    """``ledger_rows()`` -> rows of this test's ledger (GROK_MPP_LEDGER)."""

    def read() -> list[Any]:
        ledger = open_ledger()
        try:
            return ledger.rows()
        finally:
            ledger.close()

    return read


@pytest.fixture
def reset_settings() -> Iterator[None]:
    """Tests that set ``Settings.llm`` / ``embed_model`` / ``callback_manager`` leave them as found."""
    saved = {name: getattr(Settings, f"_{name}") for name in ("llm", "embed_model", "callback_manager")}
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(Settings, f"_{name}", value)
