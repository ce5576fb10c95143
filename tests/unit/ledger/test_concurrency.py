"""Budgets hold under contention: threads, asyncio tasks and separate processes share one file."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from grok_mpp.errors import BudgetExceededError
from grok_mpp.ledger import Budget, SQLiteLedger, open_ledger

from .support import intent, race_for_budget, run_released_workers


def test_64_threads_against_a_budget_for_10_pay_at_most_10(db_path: Path) -> None:
    amount = 6_000
    with SQLiteLedger(db_path, budget=Budget(total=10 * amount)) as ledger:
        race = race_for_budget(lambda _n, i: ledger.reserve(i), amount=amount)
        race.assert_paid(10)
        assert {r.id for r in ledger.rows()} == set(race.ok)
        assert ledger.committed().total == 10 * amount


def test_threads_with_separate_connections_share_the_budget(db_path: Path) -> None:
    """Each thread opens its own ledger object: only SQLite's lock serializes them."""
    with SQLiteLedger(db_path) as admin:
        admin.set_budget(Budget(total=10))
    results: list[bool] = []
    barrier = threading.Barrier(16)

    def pay() -> None:
        with open_ledger(str(db_path)) as mine:
            barrier.wait()
            for n in range(4):
                try:
                    mine.reserve(intent(1, n=n))
                    results.append(True)
                except BudgetExceededError:
                    results.append(False)

    threads = [threading.Thread(target=pay) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 10 and results.count(False) == 54


async def test_asyncio_tasks_share_the_budget(db_path: Path) -> None:
    with SQLiteLedger(db_path, budget=Budget(total=10)) as ledger:

        async def pay(n: int) -> bool:
            try:
                await asyncio.to_thread(ledger.reserve, intent(1, n=n))
            except BudgetExceededError:
                return False
            return True

        outcomes = await asyncio.gather(*(pay(n) for n in range(64)))
    assert outcomes.count(True) == 10


def test_four_processes_times_16_against_a_budget_for_10(db_path: Path) -> None:
    with SQLiteLedger(db_path) as admin:
        admin.set_budget(Budget(total=10 * 500))  # stored: every process enforces it
    results = run_released_workers([["reserve", str(db_path), "16", "500"]] * 4)
    ids = [rid for r in results for rid in r["ok"]]
    assert len(ids) == 10 and sum(r["refused"] for r in results) == 54
    with SQLiteLedger(db_path) as check:
        assert {r.id for r in check.rows()} == set(ids)
        assert check.committed().total == 5_000
