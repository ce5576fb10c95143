"""pytest plugin: test your own chains and agents offline, with real MPP payments on loopback.

Installed with the package and registered as a ``pytest11`` entry point, so the fixtures below are
available in any test suite that has ``grok-mpp`` installed. It only defines fixtures and one marker:
nothing is autouse, nothing runs unless a test asks for a fixture, and the heavy imports (httpx,
the gateway, the ledger) happen inside the fixtures, not when pytest loads the plugin.

Fixtures (all function-scoped, all prefixed ``grok_`` so they do not clash with yours):

``grok_script``   a fresh :class:`grok_mpp.local.script.Script` (unscripted calls: HTTP 409, unpaid)
``grok_gateway``  a running :class:`grok_mpp.local.LocalGateway` on 127.0.0.1 answering from it
``grok_wallet``   a throwaway wallet funded with 5 test USD on the gateway's chain
``grok_ledger``   a temporary SQLite spend ledger (the same file ``grok_env`` points clients at)
``grok_env``      environment so ``ChatGrokMPP()`` / ``GrokMPP()`` / ``GrokClient()`` pay the gateway
``grok_spend``    assertions on what left the wallet: payments, amounts, fees, ledger rows

Options per test: ``@pytest.mark.grok_gateway(fee_payer=True, wallet_usd="1", fallback="synthetic")``
(any other keyword goes to ``LocalGateway``).

Example::

    from grok_mpp.local.script import text, tool_call

    def test_my_agent(grok_env, grok_script, grok_spend):
        grok_script.queue("chat", tool_call("lookup", q="tempo"), text("Tempo is a chain."))
        answer = my_agent.invoke("What is Tempo?")        # builds ChatGrokMPP() from the environment
        assert "Tempo" in answer
        grok_spend.assert_payments(2, endpoint="/grok/chat")
        grok_spend.assert_ledger(settled=2)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # pragma: no cover - types only
    from grok_mpp.ledger.base import LedgerBase
    from grok_mpp.local.script import Script
    from grok_mpp.local.server import LocalGateway, SettledPayment
    from grok_mpp.wallet import Wallet

MARKER = "grok_gateway"
_PLUGIN_OPTIONS = ("wallet_usd", "fallback")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): options for the grok-mpp local gateway fixtures "
        "(wallet_usd=, fallback='error'|'synthetic', and LocalGateway keywords such as fee_payer=True)",
    )


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker(MARKER)
    return dict(marker.kwargs) if marker is not None else {}


class SpendChecker:
    """What a test spent, seen from the gateway (settled payments) and from the ledger.

    All amounts are integer base units (6 decimals: 1_000_000 = 1 USD). Only payments from
    ``wallet`` count, so a test sharing a gateway sees its own spend.
    """

    def __init__(self, gateway: LocalGateway, wallet: Wallet, ledger_path: Path) -> None:
        self.gateway = gateway
        self.wallet = wallet
        self.ledger_path = ledger_path
        self._start = len(gateway.payments)
        self._start_balance = gateway.balance(wallet.address) if gateway.local_chain is not None else None

    @property
    def payments(self) -> list[SettledPayment]:
        """Payments the gateway settled from this wallet since the fixture was created, in order."""
        payer = self.wallet.address.lower()
        return [p for p in self.gateway.payments[self._start :] if p.payer.lower() == payer]

    @property
    def count(self) -> int:
        return len(self.payments)

    @property
    def amount(self) -> int:
        """Sum of the charged amounts (what the server asked and got)."""
        return sum(p.amount for p in self.payments)

    @property
    def fees(self) -> int:
        """Sum of the network fees paid by the wallet (0 when the gateway sponsors gas)."""
        return sum(p.fee for p in self.payments if not p.sponsored)

    @property
    def total(self) -> int:
        """What left the wallet: amounts plus fees."""
        return self.amount + self.fees

    def wallet_delta(self) -> int | None:
        """Balance change of the wallet on the local chain (None when settling on a real node)."""
        if self._start_balance is None:
            return None
        return self._start_balance - self.gateway.balance(self.wallet.address)

    def ledger_rows(self, state: str | None = None) -> list[Any]:
        """Rows of the temporary ledger (``grok_ledger`` / ``GROK_MPP_LEDGER``), oldest first."""
        if not self.ledger_path.exists():
            return []
        from grok_mpp.ledger.factory import open_ledger

        with open_ledger(self.ledger_path) as ledger:
            return ledger.rows(state=state)

    def assert_payments(self, count: int, *, endpoint: str | None = None, amount: int | None = None) -> None:
        """Exactly ``count`` settled payments (optionally all to ``endpoint``; ``amount`` = their sum)."""
        payments = self.payments
        summary = [(p.endpoint, p.amount, p.scripted) for p in payments]
        assert len(payments) == count, f"expected {count} payment(s), the gateway settled {len(payments)}: {summary}"
        if endpoint is not None:
            wrong = [p.endpoint for p in payments if p.endpoint != endpoint]
            assert not wrong, f"expected every payment to {endpoint}, got {wrong}"
        if amount is not None:
            assert self.amount == amount, f"expected {amount} base units charged, got {self.amount}"
        delta = self.wallet_delta()
        if delta is not None:
            assert delta == self.total, f"the wallet lost {delta} base units, the payments say {self.total}"

    def assert_ledger(self, *, settled: int | None = None, total_rows: int | None = None) -> None:
        """The ledger agrees with the gateway: ``settled`` paid rows whose amounts match the payments."""
        rows = self.ledger_rows()
        paid = [r for r in rows if r.paid]
        if settled is not None:
            assert len(paid) == settled, f"expected {settled} paid ledger row(s), got {[r.state for r in rows]}"
        if total_rows is not None:
            assert len(rows) == total_rows, f"expected {total_rows} ledger row(s), got {len(rows)}"
        by_tx = {p.tx_hash.lower(): p for p in self.payments}
        for row in paid:
            payment = by_tx.get((row.tx_hash or "").lower())
            assert payment is not None, f"ledger row {row.id} ({row.tx_hash}) has no settled payment at the gateway"
            assert row.amount == payment.amount, f"ledger row {row.id}: {row.amount} != paid {payment.amount}"


@pytest.fixture
def grok_script(request: pytest.FixtureRequest) -> Script:
    """An empty script for ``grok_gateway``; queue or add rules before the code under test runs."""
    from grok_mpp.local.script import Script

    return Script(fallback=str(_options(request).get("fallback", "error")))


@pytest.fixture
def grok_gateway(request: pytest.FixtureRequest, grok_script: Script) -> Iterator[LocalGateway]:
    """A local gateway on 127.0.0.1 answering from ``grok_script``; stopped after the test."""
    from grok_mpp.local import LocalGateway

    kwargs = {k: v for k, v in _options(request).items() if k not in _PLUGIN_OPTIONS}
    with LocalGateway(script=grok_script, **kwargs) as gateway:
        yield gateway


@pytest.fixture
def grok_wallet(request: pytest.FixtureRequest, grok_gateway: LocalGateway) -> Wallet:
    """A throwaway wallet funded on the gateway's local chain (5 USD unless ``wallet_usd=``)."""
    return grok_gateway.new_funded_wallet(usd=_options(request).get("wallet_usd", "5"))


@pytest.fixture
def grok_ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "grok-mpp-ledger.sqlite3"


@pytest.fixture
def grok_ledger(grok_ledger_path: Path) -> Iterator[LedgerBase]:
    """A temporary SQLite ledger, closed after the test. Pass it as ``ledger=`` or use ``grok_env``."""
    from grok_mpp.ledger.factory import open_ledger

    ledger = open_ledger(grok_ledger_path)
    try:
        yield ledger
    finally:
        ledger.close()


@pytest.fixture
def grok_env(
    monkeypatch: pytest.MonkeyPatch, grok_gateway: LocalGateway, grok_wallet: Wallet, grok_ledger_path: Path
) -> LocalGateway:
    """Point every grok-mpp client built from the environment at the gateway, the wallet and the ledger."""
    import os

    for name in list(os.environ):
        if name.startswith("GROK_MPP_") or name == "TEMPO_RPC_URL":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GROK_MPP_BASE_URL", grok_gateway.url)
    monkeypatch.setenv("TEMPO_RPC_URL", grok_gateway.rpc_url)
    monkeypatch.setenv("GROK_MPP_PRIVATE_KEY", grok_wallet.export_private_key())
    monkeypatch.setenv("GROK_MPP_LEDGER", str(grok_ledger_path))
    return grok_gateway


@pytest.fixture
def grok_spend(grok_gateway: LocalGateway, grok_wallet: Wallet, grok_ledger_path: Path) -> SpendChecker:
    """Assertions on this test's spend: ``grok_spend.assert_payments(2)``, ``.assert_ledger(settled=2)``."""
    return SpendChecker(grok_gateway, grok_wallet, grok_ledger_path)


__all__ = ["SpendChecker"]
