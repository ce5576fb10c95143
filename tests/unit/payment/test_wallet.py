"""The key never leaks: repr, str, errors, pickling, logs."""

from __future__ import annotations

import copy
import logging
import pickle

import httpx
import pytest

from grok_mpp.errors import ConfigurationError
from grok_mpp.payment.auth import MPPAuth
from grok_mpp.payment.policy import PaymentPolicy
from grok_mpp.wallet import Wallet

from .conftest import VECTOR_KEY
from .mpp_test_server import MPPTestServer

KEY_HEX = VECTOR_KEY[2:]


def test_repr_and_str_show_only_the_address() -> None:
    wallet = Wallet.from_key(VECTOR_KEY)
    for text in (repr(wallet), str(wallet), f"{wallet}", repr(MPPAuth(wallet))):
        assert KEY_HEX not in text and wallet.address in text


def test_pickling_refused_and_copies_share_the_key_holder() -> None:
    wallet = Wallet.from_key(VECTOR_KEY)
    with pytest.raises(TypeError, match="private key"):
        pickle.dumps(wallet)
    assert copy.deepcopy(wallet) is wallet


@pytest.mark.parametrize("bad", ["0x1234", KEY_HEX[:-1] + "g", "0x" + "00" * 32, 12345, b"short"])
def test_bad_keys_give_errors_without_the_value(bad: object) -> None:
    with pytest.raises(ConfigurationError) as err:
        Wallet.from_key(bad)
    text = str(err.value) + repr(err.value.context)
    assert (str(bad) not in text) or len(str(bad)) < 6
    assert err.value.__cause__ is None


def test_env_and_keystore(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name in ("GROK_MPP_PRIVATE_KEY", "GROK_MPP_KEYSTORE"):
        monkeypatch.delenv(name, raising=False)
    assert Wallet.from_env({"GROK_MPP_PRIVATE_KEY": KEY_HEX}).address == "0xFCAd0B19bB29D4674531d6f115237E16AfCE377c"
    wallet = Wallet.create()
    path = tmp_path / "key.json"
    import json

    path.write_text(json.dumps(wallet.encrypt("pw")))
    assert Wallet.from_env({"GROK_MPP_KEYSTORE": str(path), "GROK_MPP_KEYSTORE_PASSWORD": "pw"}) == wallet
    with pytest.raises(ConfigurationError, match="wrong password"):
        Wallet.from_keystore(path, "nope")
    assert Wallet.from_env({}) is None
    with pytest.raises(ConfigurationError, match="no wallet configured"):
        Wallet.resolve()


def test_secret_str_accepted() -> None:
    from pydantic import SecretStr

    assert Wallet.from_key(SecretStr(VECTOR_KEY)).address.startswith("0xFCAd")


def test_paid_call_logs_no_key_and_no_credential(caplog: pytest.LogCaptureFixture, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("GROK_MPP_PRIVATE_KEY", raising=False)
    caplog.set_level(logging.DEBUG)
    wallet = Wallet.from_key(VECTOR_KEY)
    with MPPTestServer() as server, httpx.Client(auth=MPPAuth(wallet, PaymentPolicy())) as client:
        response = client.post(server.url + "/x", json={"a": 1})
    assert response.status_code == 200
    logs = "\n".join(r.getMessage() for r in caplog.records)
    assert "paying 0.006000 USD" in logs
    assert KEY_HEX not in logs and "Payment ey" not in logs
