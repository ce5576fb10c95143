"""The pytest plugin stays out of the way of users who do not use it, and its fixtures work together."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from grok_mpp.local.script import Script, text

ROOT = Path(__file__).resolve().parents[2]


def test_loading_the_plugin_imports_nothing_heavy() -> None:
    code = (
        "import sys, grok_mpp.pytest_plugin as p;"
        "heavy=[m for m in ('httpx','pydantic','eth_account','grok_mpp.local','grok_mpp.ledger') if m in sys.modules];"
        "assert not heavy, heavy; assert not [n for n in dir(p) if getattr(getattr(p,n),'_pytestfixturefunction',None)"
        " and getattr(p,n)._pytestfixturefunction.autouse]"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT)})


def test_unscripted_call_is_refused_before_any_payment(grok_gateway: Any, grok_spend: Any) -> None:
    response = httpx.post(grok_gateway.url + "/grok/chat", json={"model": "grok-4.3", "messages": [
        {"role": "user", "content": "hi"}]})  # fmt: skip
    assert response.status_code == 409 and "no answer left" in response.json()["detail"]
    assert "www-authenticate" not in response.headers
    grok_spend.assert_payments(0)


def test_grok_env_client_pays_and_ledger_agrees(grok_env: Any, grok_script: Script, grok_spend: Any) -> None:
    from grok_mpp import GrokClient

    grok_script.queue("chat", text("one"), text("two"))
    with GrokClient() as client:
        answers = [client.chat(messages=[{"role": "user", "content": "x"}], max_tokens=16).text for _ in range(2)]
    assert answers == ["one", "two"]
    grok_spend.assert_payments(2, endpoint="/grok/chat")
    grok_spend.assert_ledger(settled=2, total_rows=2)
    assert grok_spend.fees > 0 and grok_spend.wallet_delta() == grok_spend.total


@pytest.mark.grok_gateway(fee_payer=True, fallback="synthetic", wallet_usd="1")
def test_marker_options_reach_the_gateway(grok_env: Any, grok_spend: Any) -> None:
    from grok_mpp import GrokClient

    with GrokClient() as client:
        result = client.chat(messages=[{"role": "user", "content": "What is 2+3?"}], max_tokens=16)
    assert "5" in result.text  # synthetic fallback
    grok_spend.assert_payments(1)
    assert grok_spend.fees == 0 and grok_spend.payments[0].sponsored
