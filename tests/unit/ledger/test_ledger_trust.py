"""A ledger or setting the client cannot trust stops the payment: typed error, nothing signed.

Each case drives a real client at the local gateway and counts signatures at the signer, so a
refusal that happens *after* signing (the old behaviour for a renamed column) fails the test.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

import grok_mpp.payment.auth as auth_module
from grok_mpp import GrokClient
from grok_mpp.cli import EXIT_USAGE, main
from grok_mpp.errors import ConfigurationError
from grok_mpp.ledger import SQLiteLedger
from grok_mpp.ledger.model import LedgerError, LedgerSchemaError, LedgerUnusableError

MSG = [{"role": "user", "content": "What is 2+3?"}]


@pytest.fixture
def signatures(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    seen: list[Any] = []
    real = auth_module.sign_payment

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(auth_module, "sign_payment", spy)
    return seen


def pay(gw: Any, wallet: Any, **kw: Any) -> Any:
    with GrokClient(wallet=wallet, base_url=gw.url, rpc_url=gw.rpc_url, **kw) as client:
        return client.chat(messages=MSG, max_tokens=16)


def test_the_spy_sees_a_normal_payment(local_gateway: Any, funded_wallet: Any, signatures: list[Any],
                                       tmp_path: Path) -> None:
    pay(local_gateway, funded_wallet, ledger=str(tmp_path / "ok.sqlite3"))
    assert len(signatures) == 1


def _future_version(path: Path) -> None:
    SQLiteLedger(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE grok_mpp_meta SET value = '99' WHERE name = 'schema_version'")


def _renamed_column(path: Path) -> None:
    SQLiteLedger(path).close()
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE grok_mpp_payments RENAME COLUMN tx_hash TO tx")


def _corrupt_pages(path: Path) -> None:
    with SQLiteLedger(path) as ledger:  # some rows so the file has table and index pages
        from tests.unit.ledger.support import intent

        for n in range(200):
            ledger.reserve(intent(n=n))
    data = bytearray(path.read_bytes())
    for offset in range(4096 + 100, len(data), 4096):  # damage every page after the first
        data[offset : offset + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("damage", "error"),
    [(_future_version, LedgerSchemaError), (_renamed_column, LedgerSchemaError), (_corrupt_pages, LedgerUnusableError)],
)
def test_untrusted_ledger_refuses_before_signing(
    damage: Any, error: type[Exception], local_gateway: Any, funded_wallet: Any, signatures: list[Any], tmp_path: Path
) -> None:
    path = tmp_path / "bad.sqlite3"
    damage(path)
    with pytest.raises(error):
        pay(local_gateway, funded_wallet, ledger=str(path))
    assert signatures == []
    # and the CLI reports it as a configuration problem, not a gateway error
    assert main(["ledger", "summary", "--ledger", str(path)]) == EXIT_USAGE


@pytest.mark.parametrize(
    "location",
    [
        "postgress://user:s3cretpw@db.example/grok",  # mistyped scheme
        "mysql://user:s3cretpw@db.example/grok",
        "postgresql://user:s3cretpw@db.example:port/grok",  # non-numeric port
        "host=db.example port=abc dbname=grok password=s3cretpw",
        "host=db.example dbname=grok password=s3cretpw garbage",
    ],
)
def test_bad_dsn_is_refused_without_a_file_or_the_password(
    location: str, local_gateway: Any, funded_wallet: Any, signatures: list[Any], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LedgerUnusableError) as err:
        pay(local_gateway, funded_wallet, ledger=location)
    assert "s3cretpw" not in str(err.value) and "s3cretpw" not in repr(err.value.context)
    assert signatures == [] and list(tmp_path.iterdir()) == []  # no SQLite file named after the DSN


def test_ledger_parent_is_a_file(local_gateway: Any, funded_wallet: Any, signatures: list[Any], tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    with pytest.raises(LedgerUnusableError, match="directory"):
        pay(local_gateway, funded_wallet, ledger=str(tmp_path / "afile" / "ledger.sqlite3"))
    assert signatures == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GROK_MPP_TIMEOUT", "nan"),
        ("GROK_MPP_TIMEOUT", "inf"),
        ("GROK_MPP_TIMEOUT", "-1"),
        ("GROK_MPP_MAX_PER_CALL_USD", "1e999999"),
        ("GROK_MPP_BUDGET_USD", "1e999999"),
        ("GROK_MPP_CHAIN_ID", "0"),
        ("GROK_MPP_CHAIN_ID", "-5"),
        ("GROK_MPP_LEDGER", "postgresql://u@h:notaport/db"),
        # an allow-list that names no valid address must not pass as "any recipient" or refuse later
        ("GROK_MPP_ALLOWED_RECIPIENTS", "garbage"),
        ("GROK_MPP_ALLOWED_RECIPIENTS", " , "),
        ("TEMPO_RPC_URL", "not a url"),
    ],
)
def test_bad_settings_are_typed_errors_before_signing(
    name: str, value: str, gateway_env: Any, signatures: list[Any], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as err:
        with GrokClient() as client:
            client.chat(messages=MSG, max_tokens=16)
    assert name.removeprefix("GROK_MPP_").lower() in str(err.value).lower() or isinstance(err.value, LedgerError)
    assert signatures == []
    assert main(["chat", "hi"]) == EXIT_USAGE
    assert "gateway error" not in capsys.readouterr().err
    assert signatures == []


def test_unreadable_row_value_is_a_typed_error(tmp_path: Path) -> None:
    path = tmp_path / "edited.sqlite3"
    with SQLiteLedger(path) as ledger:
        from tests.unit.ledger.support import intent

        rid = ledger.reserve(intent())
    with sqlite3.connect(path) as db:
        db.execute("UPDATE grok_mpp_payments SET receipt = '{not json' WHERE id = ?", (rid,))
    with SQLiteLedger(path) as ledger, pytest.raises(LedgerSchemaError, match="cannot read"):
        ledger.rows()
    assert main(["ledger", "summary", "--ledger", str(path)]) == EXIT_USAGE
