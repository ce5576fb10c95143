"""The peers are real: the mppx CLI (an independent reference client) pays both reference servers.

If this fails, the interop tier's own setup is broken (chain, servers, funding), not grok-mpp.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .support import PATHUSD, AnvilChain, PeerServer, mppx_cli_env, require_mppx_cli

pytestmark = pytest.mark.peers

AMOUNT_USD = "0.012"
AMOUNT = 12_000


@pytest.mark.parametrize("server_name", ["pympp_server", "mppx_server"])
def test_mppx_cli_pays_reference_server(
    server_name: str, request: pytest.FixtureRequest, anvil: AnvilChain, tmp_path: Path
) -> None:
    server: PeerServer = request.getfixturevalue(server_name)
    cli = require_mppx_cli()
    payer = anvil.new_account(1_000_000)
    recipient_before = anvil.balance(server.recipient)

    done = subprocess.run(
        [str(cli), server.url("/paid", amount=AMOUNT_USD), "-X", "POST", "-d", "{}",
         "--rpc-url", anvil.url, "--network", "testnet", "-i"],
        env=mppx_cli_env(tmp_path, payer.key),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip

    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    statuses = [line.split()[1] for line in output.splitlines() if line.startswith("HTTP/")]
    assert statuses == ["402", "200"], output  # challenge, then the paid retry
    assert '{"ok":true}' in output.replace(" ", ""), output
    assert "payment-receipt:" in output.lower(), output
    assert anvil.balance(server.recipient) - recipient_before == AMOUNT
    spent = payer.funded - anvil.balance(payer.address)
    assert spent > AMOUNT  # the amount plus a (non-zero) network fee paid in pathUSD


def test_anvil_is_a_tempo_chain(anvil: AnvilChain, anvil_mainnet: AnvilChain) -> None:
    assert int(anvil.rpc("eth_chainId", []), 16) == 42431
    assert int(anvil_mainnet.rpc("eth_chainId", []), 16) == 4217
    info = anvil.rpc("anvil_nodeInfo", [])
    assert info["network"] == "tempo"
    assert str(info.get("hardFork", "")).upper() == "T4"
    # pathUSD is a 6-decimals TIP-20 precompile on both chains
    for chain in (anvil, anvil_mainnet):
        decimals = chain.rpc("eth_call", [{"to": PATHUSD, "data": "0x313ce567"}, "latest"])
        assert int(decimals, 16) == 6
