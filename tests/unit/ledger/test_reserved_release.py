"""Reserved rows that can never be signed free their budget at once, without weakening crash safety."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import grok_mpp.payment.auth as auth_module
from grok_mpp import GrokClient
from grok_mpp.ledger import SQLiteLedger, reconcile
from grok_mpp.ledger.owner import current_owner, owner_alive

from .support import intent

ROOT = Path(__file__).resolve().parents[3]
MSG = [{"role": "user", "content": "What is 2+3?"}]


def test_row_of_a_dead_process_is_released_at_once(db_path: Path) -> None:
    script = (
        "import sys; sys.path.insert(0, sys.argv[2]);"
        "from support import intent; from grok_mpp.ledger import open_ledger;"
        "print(open_ledger(sys.argv[1]).reserve(intent(4_000)))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script, str(db_path), str(Path(__file__).parent)],
                          capture_output=True, text=True, env=env, check=True, timeout=60)
    dead_rid = done.stdout.strip()
    with SQLiteLedger(db_path) as ledger:
        live_rid = ledger.reserve(intent(1_000, n=1))  # this process is alive and may still sign
        dead_row = ledger.get(dead_rid)
        assert dead_row.state == "reserved" and owner_alive(dead_row.owner) is False
        assert ledger.get(live_rid).owner == current_owner() and owner_alive(current_owner()) is True
        report = reconcile(ledger, rpc_url=None)  # no chain needed: nothing was sent
        assert report.released == [dead_rid] and report.pending == [live_rid]
        assert ledger.committed().total == 1_000


def test_failed_release_is_retried_before_the_next_payment(
    local_gateway: Any, funded_wallet: Any, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Signing fails and the ledger is briefly unable to release: the row is freed before the next
    payment by the same (alive) process, not 300 s later."""
    real_sign = auth_module.sign_payment
    calls = {"n": 0}

    def failing_sign(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("hardware wallet unplugged")
        return real_sign(*args, **kwargs)

    monkeypatch.setattr(auth_module, "sign_payment", failing_sign)
    with GrokClient(wallet=funded_wallet, base_url=local_gateway.url, rpc_url=local_gateway.rpc_url,
                    ledger=str(db_path)) as client:
        real_release = client.guard.release
        monkeypatch.setattr(client.guard, "release", lambda *a, **k: (_ for _ in ()).throw(OSError("disk busy")))
        with pytest.raises(RuntimeError):
            client.chat(messages=MSG, max_tokens=16)
        (stuck,) = client.guard.rows()  # type: ignore[attr-defined]
        assert stuck.state == "reserved"
        monkeypatch.setattr(client.guard, "release", real_release)
        client.chat(messages=MSG, max_tokens=16)
        states = sorted(r.state for r in client.guard.rows())  # type: ignore[attr-defined]
    assert states == ["released", "settled"]
