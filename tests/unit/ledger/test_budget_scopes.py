"""Budget scopes: an object's budget counts what it spends, named scopes are shared, ledger-wide
limits count everything — each enforced atomically across threads and processes."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from grok_mpp import GrokClient
from grok_mpp.errors import BudgetExceededError
from grok_mpp.ledger import Budget, SQLiteLedger
from grok_mpp.payment.fees import fee_bound
from grok_mpp.payment.signer import fee_cap_per_gas

from .support import intent, run_released_workers

MSG = [{"role": "user", "content": "What is 2+3?"}]
#: What the local gateway's chain makes a client reserve per call for the fee: eth_estimateGas
#: 300,000 + 20 % + 5,000 = 365,000 gas at the signed fee cap (20 gwei x 1.2) -> 8,760 base units
#: (the actual fee is 6,000).
WORST_FEE = fee_bound(365_000, fee_cap_per_gas(20_000_000_000))


def _processes(db: Path, specs: list[tuple[str, str]], count: int, amount: int) -> list[dict[str, Any]]:
    """Start one worker per (scope, budget), release them together, return their results."""
    return run_released_workers([["scoped", str(db), scope, limit, str(count), str(amount)] for scope, limit in specs])


def test_named_scope_is_shared_across_processes_and_ignores_other_history(db_path: Path) -> None:
    with SQLiteLedger(db_path) as other:  # earlier spending by someone else in the same ledger
        other.reserve(intent(1_000_000))
    results = _processes(db_path, [("agent", str(10 * 500))] * 4, count=8, amount=500)
    assert sum(len(r["ok"]) for r in results) == 10 and sum(r["refused"] for r in results) == 22
    with SQLiteLedger(db_path, scope="agent") as agent:
        assert agent.committed().total == 10 * 500
        assert len(agent.rows(scope="agent")) == 10


def test_ledger_wide_budget_counts_every_scope_across_processes(db_path: Path) -> None:
    with SQLiteLedger(db_path) as admin:
        admin.set_budget(Budget(total=10 * 500))  # `grok-mpp ledger budget set --total-usd ...`
    specs = [("team-a", "none"), ("team-a", "none"), ("team-b", "none"), ("team-c", str(10**9))]
    results = _processes(db_path, specs, count=8, amount=500)
    assert sum(len(r["ok"]) for r in results) == 10
    with SQLiteLedger(db_path) as admin:
        assert admin.committed().total == 10 * 500  # the default scope sees every row


def test_object_budget_counts_only_its_own_scope_in_threads(db_path: Path) -> None:
    with SQLiteLedger(db_path) as history:
        history.reserve(intent(50_000))
    with SQLiteLedger(db_path, scope="obj-1", budget=Budget(total=5 * 1_000)) as one, \
            SQLiteLedger(db_path, scope="obj-2", budget=Budget(total=3 * 1_000)) as two:
        ok: list[str] = []
        refused: list[str] = []

        def pay(ledger: SQLiteLedger, n: int) -> None:
            try:
                ok.append(ledger.reserve(intent(1_000, n=n)) and ledger.scope)
            except BudgetExceededError:
                refused.append(ledger.scope)

        threads = [threading.Thread(target=pay, args=(led, n)) for n in range(10) for led in (one, two)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert ok.count("obj-1") == 5 and ok.count("obj-2") == 3 and len(refused) == 12


def test_client_budget_is_the_clients_own(local_gateway: Any, funded_wallet: Any, db_path: Path) -> None:
    kwargs = {"wallet": funded_wallet, "base_url": local_gateway.url, "rpc_url": local_gateway.rpc_url,
              "ledger": str(db_path)}
    with GrokClient(**kwargs) as unlimited:  # 0.0127+ USD of earlier history in the shared ledger
        first = unlimited.chat(messages=MSG, max_tokens=16)
        unlimited.chat(messages=MSG, max_tokens=16)
    room = 2 * first.cost.paid + WORST_FEE  # two calls at their actual cost; a third cannot fit whatever the timing
    with GrokClient(budget_usd=f"{room / 1_000_000:.6f}", **kwargs) as capped:
        results: list[Any] = []

        def call() -> None:
            try:
                results.append(capped.chat(messages=MSG, max_tokens=16))
            except BudgetExceededError as exc:
                results.append(exc)

        threads = [threading.Thread(target=call) for _ in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    paid = [r for r in results if not isinstance(r, Exception)]
    assert len(paid) == 2 and len(results) == 5  # its own budget, not the ledger's history
    with SQLiteLedger(db_path) as ledger:
        assert {r.scope for r in ledger.rows()} == {"default", capped.budget_scope}


def test_named_scope_is_shared_by_two_clients(local_gateway: Any, funded_wallet: Any, db_path: Path) -> None:
    kwargs = {"wallet": funded_wallet, "base_url": local_gateway.url, "rpc_url": local_gateway.rpc_url,
              "ledger": str(db_path), "budget_scope": "my-agent"}
    with GrokClient(**kwargs) as probe:
        cost = probe.chat(messages=MSG, max_tokens=16).cost
    room = f"{(2 * cost.paid + WORST_FEE) / 1_000_000:.6f}"
    with GrokClient(budget_usd=room, **kwargs) as a, GrokClient(budget_usd=room, **kwargs) as b:
        a.chat(messages=MSG, max_tokens=16)  # the probe's call already counts in 'my-agent'
        with pytest.raises(BudgetExceededError, match="my-agent"):
            b.chat(messages=MSG, max_tokens=16)


def test_adapter_budgets_ignore_earlier_ledger_history(local_gateway: Any, funded_wallet: Any) -> None:
    """The reported case: after earlier spend in the shared ledger (GROK_MPP_LEDGER), a new
    ChatGrokMPP / GrokMPP with a small budget_usd still pays its first call, and a shared
    budget_scope on an LLM and a tool spec caps them together."""
    from langchain_grok_mpp import ChatGrokMPP
    from llama_index_grok_mpp import GrokMPP, GrokMPPToolSpec

    kwargs = {"wallet": funded_wallet, "base_url": local_gateway.url, "rpc_url": local_gateway.rpc_url}
    for _ in range(3):  # 0.03+ USD of history in this test's ledger
        ChatGrokMPP(max_tokens=16, **kwargs).invoke("hi")
    assert ChatGrokMPP(max_tokens=16, budget_usd="0.02", **kwargs).invoke("hi").response_metadata["mpp"]["paid"]
    assert GrokMPP(max_tokens=16, budget_usd="0.02", **kwargs).complete("hi").raw["mpp"]["paid"]

    llm = GrokMPP(max_tokens=16, budget_usd="0.015", budget_scope="crew", **kwargs)
    tools = GrokMPPToolSpec(output_dir=None, budget_usd="0.015", budget_scope="crew", **kwargs)
    llm.complete("hi")  # ~0.010 USD (amount + fee) of the crew's 0.015
    with pytest.raises(BudgetExceededError, match="crew"):
        tools.text_to_speech("this would exceed the crew's budget")
    alone = GrokMPPToolSpec(output_dir=None, budget_usd="0.015", **kwargs)  # its own budget: fits
    assert "paid" in alone.text_to_speech("this fits a fresh budget")


def test_object_scope_survives_settings_changed_after_construction(local_gateway: Any, funded_wallet: Any) -> None:
    """Lowering budget_usd on a live model rebuilds its clients but keeps its private scope: what it
    already spent still counts (a rebuilt client must never get a fresh budget)."""
    from langchain_grok_mpp import ChatGrokMPP

    model = ChatGrokMPP(max_tokens=16, budget_usd="1", wallet=funded_wallet, base_url=local_gateway.url,
                        rpc_url=local_gateway.rpc_url)
    paid = model.invoke("hi").response_metadata["mpp"]["paid"]
    model.budget_usd = f"{(paid + WORST_FEE) / 1_000_000:.6f}"  # room for one call, and one was made
    with pytest.raises(BudgetExceededError):
        model.invoke("hi again")
