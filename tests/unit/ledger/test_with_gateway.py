"""The ledger behind a real client paying the local gateway over loopback HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from grok_mpp import GrokClient
from grok_mpp.config import Settings
from grok_mpp.errors import BudgetExceededError, PaymentOutcomeUnknownError
from grok_mpp.ledger import Budget, SQLiteLedger, guard_from_settings, reconcile
from grok_mpp.local.faults import FAULT_HEADER
from grok_mpp.payment.hooks import InMemoryBudget

MSG = [{"role": "user", "content": "What is 2+3?"}]


def settled_for(gw: Any, wallet: Any) -> list[Any]:
    return [p for p in gw.payments if p.payer.lower() == wallet.address.lower()]


def test_paid_calls_are_recorded_and_no_secret_is_stored(local_gateway: Any, funded_wallet: Any, db_path: Path) -> None:
    credentials: list[str] = []

    def capture(request: httpx.Request) -> None:
        if "authorization" in request.headers:
            credentials.append(request.headers["authorization"])

    http = httpx.Client(timeout=30, event_hooks={"request": [capture]})
    with GrokClient(wallet=funded_wallet, base_url=local_gateway.url, rpc_url=local_gateway.rpc_url,
                    ledger=str(db_path), http_client=http) as client:
        first = client.chat(messages=MSG, max_tokens=50)
        second = client.chat(messages=MSG, max_tokens=50, model="grok-3-mini")
    http.close()
    payments = settled_for(local_gateway, funded_wallet)
    assert len(credentials) == 2 and all(c.startswith("Payment ") for c in credentials)

    with SQLiteLedger(db_path) as ledger:
        rows = ledger.rows()
        assert [r.state for r in rows] == ["settled", "settled"]
        assert [r.tx_hash for r in rows] == [first.cost.tx_hash, second.cost.tx_hash]
        assert [r.amount for r in rows] == [p.amount for p in payments]
        assert rows[0].endpoint == "/grok/chat" and rows[1].model == "grok-3-mini"
        assert rows[0].estimate == first.cost.estimated and rows[0].payer == funded_wallet.address.lower()
        assert rows[0].receipt is not None and rows[0].receipt["reference"].lower() == first.cost.tx_hash
        assert ledger.totals()["amount"] == sum(p.amount for p in payments)
        assert ledger.totals()["paid"] == first.cost.paid + second.cost.paid  # amounts + actual network fees
        assert [r.fee for r in rows] == [first.cost.fee, second.cost.fee] and rows[0].fee

    key_hex = funded_wallet.export_private_key().lower().removeprefix("0x")
    stored = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))
    assert stored and rows[0].tx_hash is not None and rows[0].tx_hash.encode() in stored  # the scan reads real data
    lowered = stored.lower()
    assert key_hex.encode() not in lowered and bytes.fromhex(key_hex) not in stored
    assert b"payment " not in lowered
    for credential in credentials:
        token = credential.split(" ", 1)[1].encode()
        assert token not in stored and token[:40] not in stored


def test_outcome_unknown_is_resolved_from_the_gateway_chain_by_the_client(
    local_gateway: Any, funded_wallet: Any, db_path: Path
) -> None:
    """A 5xx after paying: the client asks the chain for its receipt at once, so the row is
    concluded as settled_onchain with the actual fee (reconciliation has nothing left to do)."""
    before = local_gateway.balance(funded_wallet.address)
    http = httpx.Client(timeout=30, headers={FAULT_HEADER: "error-5xx-after-payment"})
    with GrokClient(wallet=funded_wallet, base_url=local_gateway.url, rpc_url=local_gateway.rpc_url,
                    ledger=str(db_path), http_client=http) as client, pytest.raises(PaymentOutcomeUnknownError) as err:
        client.chat(messages=MSG)
    http.close()
    with SQLiteLedger(db_path) as ledger:
        (row,) = ledger.rows()
        assert err.value.tx_hash is not None
        assert row.state == "settled_onchain" and row.tx_hash == err.value.tx_hash.lower()
        spent = before - local_gateway.balance(funded_wallet.address)
        assert row.fee and spent == row.amount + row.fee == ledger.totals()["paid"]
        assert err.value.cost.failed and err.value.cost.paid == spent  # type: ignore[attr-defined]
        report = reconcile(ledger, local_gateway.rpc_url)
        assert report.checked == 0 and report.errors == []


def test_stored_budget_refuses_before_signing(local_gateway: Any, funded_wallet: Any, db_path: Path) -> None:
    with SQLiteLedger(db_path) as admin:
        admin.set_budget(Budget(total=1))
    with GrokClient(wallet=funded_wallet, base_url=local_gateway.url, rpc_url=local_gateway.rpc_url,
                    ledger=str(db_path)) as client, pytest.raises(BudgetExceededError, match="total budget"):
        client.chat(messages=MSG)
    assert settled_for(local_gateway, funded_wallet) == []
    with SQLiteLedger(db_path) as ledger:
        assert ledger.rows() == []


def test_guard_from_settings(db_path: Path) -> None:
    off = guard_from_settings(Settings.resolve(ledger="off", budget_usd="2", environ={}))
    assert isinstance(off, InMemoryBudget) and off.total == 2_000_000
    guard = guard_from_settings(Settings.resolve(ledger=str(db_path), budget_usd="1.5", environ={}))
    # GROK_MPP_BUDGET_USD-style settings budget: ledger-wide
    assert isinstance(guard, SQLiteLedger) and guard.ledger_budget == Budget(total=1_500_000)
    assert guard.scope == "default" and guard.effective_budget() == Budget(total=1_500_000)
    guard.close()
    # an object's budget: its own scope
    scoped = guard_from_settings(Settings.resolve(ledger=str(db_path), environ={}), scope="agent", budget=500_000)
    assert isinstance(scoped, SQLiteLedger) and scoped.scope == "agent" and scoped.budget == Budget(total=500_000)
    scoped.close()
