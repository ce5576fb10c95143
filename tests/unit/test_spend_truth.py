"""Spend truth: what left the wallet == the ledger == the LangChain callback == the LlamaIndex handler.

Every path a paid call can take on the local gateway (success, upstream 502 after settling, 5xx
after settling, connection dropped after settling), through both frameworks, sync and async. The
local gateway charges a real network fee in the payment token (gasUsed * gasPrice), so a report
that counts only the transfer amount fails here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from grok_mpp.errors import GrokMPPError
from grok_mpp.ledger import open_ledger
from grok_mpp.local.faults import parse_fault

PATHS = ["success", "upstream-502", "error-5xx-after-payment", "drop-connection-after-payment"]
PROMPT = "What is 2+3?"
#: Same length and price, but a distinct logical request: an identical one would be answered by
#: re-sending the first call's still-unresolved credential (the retry invariant), paying nothing new.
PROMPT_LI = "What is 3+2?"


@pytest.fixture
def fault(local_gateway: Any, request: pytest.FixtureRequest) -> Iterator[str]:
    """Every request of this test hits the given fault (restored afterwards)."""
    mode: str = request.param
    saved = local_gateway.default_fault
    local_gateway.default_fault = None if mode == "success" else parse_fault(mode)
    try:
        yield mode
    finally:
        local_gateway.default_fault = saved


def ledger_total() -> dict[str, int]:
    ledger = open_ledger()  # this test's GROK_MPP_LEDGER
    try:
        return ledger.totals()
    finally:
        ledger.close()


def _call(fn: Any, mode: str) -> None:
    if mode == "success":
        fn()
    else:
        with pytest.raises(GrokMPPError):
            fn()


@pytest.mark.parametrize("fault", PATHS, indirect=True)
@pytest.mark.parametrize("run", ["sync", "async"])
def test_wallet_ledger_callback_and_handler_agree(
    fault: str, run: str, local_gateway: Any, funded_wallet: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langchain_grok_mpp import ChatGrokMPP, get_grok_mpp_callback
    from llama_index_grok_mpp import GrokMPP, track_grok_mpp_costs

    kwargs = {"wallet": funded_wallet, "base_url": local_gateway.url, "rpc_url": local_gateway.rpc_url}
    # LangChain first, on its own ledger file
    monkeypatch.setenv("GROK_MPP_LEDGER", str(tmp_path / "lc.sqlite3"))
    before = local_gateway.balance(funded_wallet.address)
    chat = ChatGrokMPP(max_tokens=32, **kwargs)
    with get_grok_mpp_callback() as cb:
        if run == "sync":
            _call(lambda: chat.invoke(PROMPT), fault)
        else:
            _call(lambda: asyncio.run(chat.ainvoke(PROMPT)), fault)
    lc_delta = before - local_gateway.balance(funded_wallet.address)
    lc_ledger = ledger_total()

    # LlamaIndex, same request, on a second ledger file
    monkeypatch.setenv("GROK_MPP_LEDGER", str(tmp_path / "li.sqlite3"))
    before = local_gateway.balance(funded_wallet.address)
    llm = GrokMPP(max_tokens=32, **kwargs)
    with track_grok_mpp_costs() as handler:
        if run == "sync":
            _call(lambda: llm.complete(PROMPT_LI), fault)
        else:
            _call(lambda: asyncio.run(llm.acomplete(PROMPT_LI)), fault)
    li_delta = before - local_gateway.balance(funded_wallet.address)
    li_ledger = ledger_total()

    # every unit that left the wallet is in the ledger and in the tracker, fee included
    assert lc_delta > 0 and lc_ledger["fee"] > 0 and lc_ledger["pending"] == 0
    assert lc_delta == lc_ledger["paid"] == lc_ledger["amount"] + lc_ledger["fee"] == cb.paid == cb.amount + cb.fee
    assert li_delta == li_ledger["paid"] == handler.paid == handler.amount + handler.fee
    # same-size request, same price and fee: both frameworks report the same figures
    assert cb.paid == handler.paid and cb.fee == handler.fee
    failed = fault != "success"
    assert cb.failed_calls == handler.failed_calls == int(failed)
    if failed:
        (lc_failure,) = cb.failures
        (li_failure,) = handler.failures
        assert lc_failure["confirmed"] and li_failure["confirmed"] and lc_failure["paid"] == lc_delta
        assert lc_failure["error"] and li_failure["error"]
