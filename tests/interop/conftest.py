"""Session fixtures of the real-peer interop tier (see support.py for how peers are run).

Peers: anvil 1.7.1 ``--network tempo`` (chain 42431, plus a second one as chain 4217), the pympp
0.16 server, the mppx 0.11 server unsponsored and with a fee payer, and pympp's offline verifier.
Each starts once per session on loopback and is stopped by pid at the end. Missing peers skip the
tier locally and fail it under ``CI=true``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .support import (
    FEE_PAYER_KEY,
    MAINNET,
    MODERATO,
    AnvilChain,
    PeerServer,
    PymppValidator,
    require_peers_python,
    start_anvil,
    start_mppx,
    start_pympp,
)


@pytest.fixture(scope="session")
def anvil() -> Iterator[AnvilChain]:
    """anvil tempo as Moderato (42431): the chain all reference servers settle on."""
    chain = start_anvil(MODERATO)
    yield chain
    chain.process.stop()


@pytest.fixture(scope="session")
def anvil_mainnet() -> Iterator[AnvilChain]:
    """A second anvil with chain id 4217, for Locus-shaped (mainnet) challenges."""
    chain = start_anvil(MAINNET)
    yield chain
    chain.process.stop()


@pytest.fixture(scope="session")
def pympp_server(anvil: AnvilChain) -> Iterator[PeerServer]:
    server = start_pympp(anvil, realm="pympp.test")
    yield server
    server.process.stop()


@pytest.fixture(scope="session")
def mppx_server(anvil: AnvilChain) -> Iterator[PeerServer]:
    server = start_mppx(anvil, realm="mppx.test")
    yield server
    server.process.stop()


@pytest.fixture(scope="session")
def mppx_sponsored_server(anvil: AnvilChain) -> Iterator[PeerServer]:
    server = start_mppx(anvil, realm="mppx-sponsored.test", fee_payer_key=FEE_PAYER_KEY)
    yield server
    server.process.stop()


@pytest.fixture(scope="session")
def locus_like_server(anvil_mainnet: AnvilChain) -> Iterator[PeerServer]:
    """mppx on chain 4217 shaped like Locus: realm = the host called, a description, no opaque."""
    server = start_mppx(anvil_mainnet, realm="127.0.0.1", DESCRIPTION="Locus MPP: grok/chat")
    yield server
    server.process.stop()


@pytest.fixture(params=["pympp", "mppx"])
def unsponsored_server(request: pytest.FixtureRequest) -> PeerServer:
    """Each unsponsored reference server in turn (pympp 0.16 and mppx 0.11)."""
    return request.getfixturevalue(f"{request.param}_server")


@pytest.fixture(scope="session")
def pympp_validator() -> Iterator[PymppValidator]:
    validator = PymppValidator(require_peers_python(), AnvilChain.new_address(), "validator.test")
    yield validator
    validator.stop()
