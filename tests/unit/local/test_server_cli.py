"""``grok-mpp local serve``: prints what a user needs, funds addresses, serves until stopped."""

from __future__ import annotations

import argparse
import io
import re

import httpx
import pytest

from grok_mpp.local.cli import add_local_commands, cmd_local_serve
from grok_mpp.wallet import Wallet


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="grok-mpp")
    add_local_commands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_serve_prints_urls_funds_and_labels_the_throwaway_key() -> None:
    funded = Wallet.create().address
    args = _parse(["local", "serve", "--port", "0", "--fund", f"{funded}=2.5", "--new-wallet"])
    assert args.func is cmd_local_serve
    out = io.StringIO()
    seen: dict[str, object] = {}

    def wait() -> None:  # runs while the gateway is up, instead of blocking for Ctrl-C
        text = out.getvalue()
        base = re.search(r"base URL : (\S+)", text)
        assert base is not None
        seen["health"] = httpx.get(base.group(1) + "/health").json()
        rpc = re.search(r"RPC URL  : (\S+)", text)
        assert rpc is not None
        call = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "eth_call",
            "params": [
                {"to": "0x20c000000000000000000000b9537d11c60e8b50", "data": "0x70a08231" + "00" * 12 + funded[2:]},
                "latest",
            ],
        }
        seen["balance"] = int(httpx.post(rpc.group(1), json=call).json()["result"], 16)

    assert cmd_local_serve(args, out=out, wait=wait) == 0
    text = out.getvalue()
    assert "chain    : 4217" in text and "USDC.e" in text
    assert seen["health"] == {**seen["health"], "status": "ok"}  # type: ignore[dict-item]
    assert seen["balance"] == 2_500_000
    key_line = next(line for line in text.splitlines() if "key" in line and "0x" in line)
    assert "local test key, worthless" in key_line
    key = re.search(r"0x[0-9a-f]{64}", key_line)
    wallet_line = re.search(r"wallet   : (0x[0-9a-fA-F]{40})", text)
    assert key is not None and wallet_line is not None
    assert Wallet.from_key(key.group(0)).address == wallet_line.group(1)


def test_serve_rejects_bad_fund_specs_and_non_loopback_hosts(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parse(["local", "serve", "--fund", "nonsense"])
    args = _parse(["local", "serve", "--host", "0.0.0.0", "--port", "0"])
    assert cmd_local_serve(args, out=io.StringIO(), wait=lambda: None) == 2
    assert "loopback" in capsys.readouterr().err
