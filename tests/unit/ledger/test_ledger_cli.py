"""`grok-mpp ledger ...` handlers, called with arguments parsed by the real parser."""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path

import pytest

from grok_mpp.errors import BudgetExceededError
from grok_mpp.ledger import Budget, SQLiteLedger
from grok_mpp.ledger.cli import add_ledger_commands

from .support import PAYER, LoopbackRPC, intent, mined, record, tx


def run(argv: list[str]) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="grok-mpp")
    add_ledger_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    args.out = io.StringIO()
    code = args.func(args)
    return code, args.out.getvalue()


@pytest.fixture
def filled(db_path: Path) -> Path:
    with SQLiteLedger(db_path, clock=lambda: 1_750_000_000.0) as ledger:
        for n, (amount, model) in enumerate([(1_000, "grok-4"), (2_500, "grok-3-mini")]):
            rid = ledger.reserve(intent(amount, model=model, n=n))
            ledger.mark_sent(rid, tx_hash=tx(n), valid_before=1_750_000_025, payer=PAYER)
            ledger.settle(rid, record(intent(amount), tx(n)))
        rid = ledger.reserve(intent(400, n=9))
        ledger.mark_sent(rid, tx_hash=tx(9), valid_before=1_750_000_025, payer=PAYER)
        ledger.outcome_unknown(rid, detail="HTTP 502")
    return db_path


def test_summary_default_and_by_model(filled: Path) -> None:
    code, text = run(["ledger", "--ledger", str(filled)])
    assert code == 0 and "2025-06-15" in text and "0.003500" in text and "0.000400 USD pending" in text
    code, out = run(["ledger", "summary", "--by", "model", "--json", "--ledger", str(filled)])
    data = json.loads(out)
    assert code == 0 and data["by"] == "model"
    assert {g["model"]: g["paid"] for g in data["groups"]} == {"grok-4": 1_000, "grok-3-mini": 2_500}
    assert data["totals"] == {"paid": 3_500, "amount": 3_500, "fee": 0, "pending": 400, "count": 2, "attempts": 3,
                              "fee_unconfirmed": 2}
    # options before the subcommand survive the subparser
    _, out = run(["ledger", "--json", "--ledger", str(filled), "summary", "--by", "endpoint"])
    assert json.loads(out)["groups"][0]["endpoint"] == "/grok/chat"


def test_list_and_since(filled: Path) -> None:
    _, out = run(["ledger", "list", "--state", "outcome_unknown", "--json", "--ledger", str(filled)])
    (row,) = json.loads(out)
    assert row["tx_hash"] == tx(9) and row["amount"] == 400
    _, out = run(["ledger", "list", "--since", "2025-06-16", "--ledger", str(filled)])
    assert out.strip() == "no payment attempts recorded"


def test_export_csv(filled: Path, tmp_path: Path) -> None:
    target = tmp_path / "spend.csv"
    code, text = run(["ledger", "export", "--csv", str(target), "--ledger", str(filled)])
    assert code == 0 and "wrote 3 rows" in text
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [r["amount"] for r in rows] == ["1000", "2500", "400"]


def test_reconcile_command(filled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with LoopbackRPC() as rpc:
        rpc.state.receipts[tx(9)] = mined(tx(9))
        code, out = run(["ledger", "reconcile", "--rpc-url", rpc.url, "--json", "--ledger", str(filled)])
        assert code == 0 and len(json.loads(out)["settled"]) == 1
        rpc.state.fail = True
        monkeypatch.setenv("TEMPO_RPC_URL", rpc.url)
        with SQLiteLedger(filled) as ledger:
            rid = ledger.reserve(intent(1, n=20))
            ledger.mark_sent(rid, tx_hash=tx(20), valid_before=1, payer=PAYER)
        code, text = run(["ledger", "reconcile", "--ledger", str(filled)])
        assert code == 5 and "1 still open" in text and "error:" in text


def test_budget_set_and_show(db_path: Path) -> None:
    code, text = run(["ledger", "budget", "set", "--total-usd", "1.5", "--per-hour-usd", "0.25",
                      "--ledger", str(db_path)])
    assert code == 0 and "total 1.500000 USD" in text
    run(["ledger", "budget", "set", "--per-day-usd", "1", "--ledger", str(db_path)])  # merges
    _, out = run(["ledger", "budget", "show", "--json", "--ledger", str(db_path)])
    assert json.loads(out)["budget"] == {"per_call": None, "total": 1_500_000, "per_hour": 250_000,
                                         "per_day": 1_000_000}
    run(["ledger", "budget", "set", "--per-hour-usd", "none", "--ledger", str(db_path)])
    with SQLiteLedger(db_path) as ledger:
        assert ledger.get_budget() == Budget(total=1_500_000, per_day=1_000_000)
        ledger.reserve(intent(1_000_000))
        with pytest.raises(BudgetExceededError):
            ledger.reserve(intent(1))
    run(["ledger", "budget", "set", "--clear", "--per-call-usd", "0.1", "--ledger", str(db_path)])
    _, text = run(["ledger", "budget", "show", "--ledger", str(db_path)])
    assert "per call 0.100000 USD" in text and "total" not in text.splitlines()[0]
    run(["ledger", "budget", "set", "--clear", "--ledger", str(db_path)])
    _, text = run(["ledger", "budget", "show", "--ledger", str(db_path)])
    assert "unlimited" in text and "1.000000 USD total" in text


def test_main_cli_wires_the_ledger_commands(filled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from grok_mpp.cli import main

    assert main(["ledger", "--json", "--ledger", str(filled)]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["paid"] == 3_500


def test_export_to_an_unwritable_path_and_reconcile_with_a_dead_rpc_are_clean_errors(
    filled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No traceback for a CSV path in a missing directory; the RPC's path (where providers put API
    keys) is not printed when reconciliation cannot reach it."""
    from grok_mpp.cli import EXIT_USAGE, main

    code = main(["ledger", "export", "--csv", str(tmp_path / "missing" / "x.csv"), "--ledger", str(filled)])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE and "cannot write" in err and "Traceback" not in err
    code = main(["ledger", "reconcile", "--rpc-url", "http://127.0.0.1:9/s3cretapikey", "--ledger", str(filled)])
    out, err = capsys.readouterr()
    assert code != 0 and "127.0.0.1:9" in out + err and "s3cretapikey" not in out + err
