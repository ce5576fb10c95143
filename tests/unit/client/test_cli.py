"""`grok-mpp` chat / quote / wallet against the local gateway: output, --json and exit codes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from grok_mpp.cli import EXIT_GATEWAY, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, main
from grok_mpp.ledger import open_ledger


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_chat_prints_answer_and_cost(gateway_env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "chat", "What is 6*7?")
    assert code == EXIT_OK
    assert "42" in out and "paid 0.0" in out and "+ network fee 0.006" in out and "tx 0x" in out
    code, out, _ = run(capsys, "chat", "tempo news", "--endpoint", "web-search", "--json")
    data = json.loads(out)
    assert code == EXIT_OK and data["citations"] and int(data["cost"]["paid"]) > 0
    import os

    rows = open_ledger(os.environ["GROK_MPP_LEDGER"]).rows()
    assert sorted(r.endpoint for r in rows) == ["/grok/chat", "/grok/web-search"]
    assert {r.state for r in rows} == {"settled"}


def test_quote_pays_nothing(gateway_env: Any, funded_wallet: Any, capsys: pytest.CaptureFixture[str]) -> None:
    before = gateway_env.balance(funded_wallet.address)
    code, out, _ = run(capsys, "quote", "hello", "--json")
    data = json.loads(out)
    assert code == EXIT_OK and data["amount"] > 0 and data["within_policy"] is True
    assert gateway_env.balance(funded_wallet.address) == before


def test_cap_refusal_exit_code(gateway_env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "chat", "hello", "--max-price-usd", "0.000001")
    assert code == EXIT_REFUSED and "nothing paid" in err and "cap" in err


def test_bad_input_exit_code(gateway_env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "chat", "hello", "--temperature", "7")
    assert code == EXIT_USAGE and "temperature" in err


def test_wallet_commands(gateway_env: Any, funded_wallet: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "wallet", "address")
    assert code == EXIT_OK and out.strip() == funded_wallet.address
    code, out, _ = run(capsys, "wallet", "balance", "--json")
    balances = json.loads(out)["balances"]
    assert code == EXIT_OK and balances["USDC.e"] == gateway_env.balance(funded_wallet.address)
    code, out, _ = run(capsys, "wallet", "new", "--json")
    assert code == EXIT_OK and "private_key" not in json.loads(out)
    code, out, _ = run(capsys, "wallet", "new", "--show-key", "--json")
    assert len(json.loads(out)["private_key"]) == 66


def test_missing_key_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "wallet", "address")
    assert code == EXIT_USAGE and "GROK_MPP_PRIVATE_KEY" in err


def test_budget_flag_is_ledger_wide_across_invocations(gateway_env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """--budget-usd is GROK_MPP_BUDGET_USD: the second one-shot command sees the first one's spend."""
    code, out, _ = run(capsys, "chat", "What is 6*7?", "--budget-usd", "0.02", "--max-tokens", "16")
    assert code == EXIT_OK and "paid 0.0" in out
    code, _, err = run(capsys, "chat", "What is 6*7?", "--budget-usd", "0.02", "--max-tokens", "16")
    assert code == EXIT_REFUSED and "ledger-wide" in err


@pytest.mark.parametrize("rpc", ["http://127.0.0.1:9/rpc/s3cretapikey", "not a url"])
def test_wallet_balance_with_unreachable_rpc_is_a_clear_error(
    rpc: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unreachable or malformed TEMPO_RPC_URL: a one-line error and a documented exit code, not a
    traceback; a path segment of the RPC URL (where providers put API keys) is not printed."""
    from grok_mpp.wallet import Wallet

    monkeypatch.setenv("GROK_MPP_PRIVATE_KEY", Wallet.create().export_private_key())
    monkeypatch.setenv("TEMPO_RPC_URL", rpc)
    code, _, err = run(capsys, "wallet", "balance")
    assert code in (EXIT_USAGE, EXIT_GATEWAY) and "RPC" in err and "Traceback" not in err
    assert "s3cretapikey" not in err


def test_wallet_new_never_overwrites_a_keystore_and_writes_it_private(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Running `wallet new --keystore` twice must not destroy the first (maybe funded) key."""
    import getpass

    from grok_mpp.wallet import Wallet

    monkeypatch.setattr(getpass, "getpass", lambda prompt="": "pw-1")
    path = tmp_path / "key.json"
    code, out, _ = run(capsys, "wallet", "new", "--keystore", str(path), "--json")
    assert code == EXIT_OK and (path.stat().st_mode & 0o777) == 0o600
    first = path.read_bytes()
    address = json.loads(out)["address"]
    code, _, err = run(capsys, "wallet", "new", "--keystore", str(path))
    assert code == EXIT_USAGE and "already exists" in err and path.read_bytes() == first
    assert Wallet.from_keystore(path, "pw-1").address == address
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": "")
    code, _, err = run(capsys, "wallet", "new", "--keystore", str(tmp_path / "other.json"))
    assert code == EXIT_USAGE and "empty" in err and not (tmp_path / "other.json").exists()


def test_chat_with_unreachable_rpc_names_the_rpc_not_the_gateway(
    gateway_env: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On loopback the gateway and the RPC share a host: the message must say which one failed."""
    monkeypatch.setenv("TEMPO_RPC_URL", "http://127.0.0.1:9/rpc/s3cretapikey")
    before = len(gateway_env.payments)
    code, _, err = run(capsys, "chat", "hello")
    assert code == EXIT_GATEWAY and "Tempo RPC" in err and "127.0.0.1:9" in err and "s3cretapikey" not in err
    assert len(gateway_env.payments) == before


@pytest.mark.parametrize("fault", ["upstream-502", "drop-connection-after-payment"])
def test_paid_failure_exits_4_and_names_the_transaction(
    gateway_env: Any, capsys: pytest.CaptureFixture[str], fault: str
) -> None:
    """Money may have moved: exit 4, and the user is told which transaction to look for."""
    from grok_mpp.cli import EXIT_PAYMENT
    from grok_mpp.local.faults import parse_fault

    gateway_env.default_fault = parse_fault(fault)
    try:
        code, _, err = run(capsys, "chat", f"paid then lost ({fault})")
    finally:
        gateway_env.default_fault = None
    settled = [p for p in gateway_env.payments if p.fault == fault]
    assert code == EXIT_PAYMENT and "money may have moved" in err
    assert settled and settled[-1].tx_hash in err
