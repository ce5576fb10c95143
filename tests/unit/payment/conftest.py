from __future__ import annotations

from collections.abc import Iterator

import pytest

from grok_mpp.wallet import Wallet

from .mpp_test_server import MPPTestServer, ServerState

VECTOR_KEY = "0x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"


class SpyWallet:
    """Wraps a real wallet and counts signatures, so refusals can be shown to sign nothing."""

    def __init__(self, wallet: Wallet) -> None:
        self._wallet = wallet
        self.address = wallet.address
        self.signed: list[bytes] = []

    def sign_hash(self, digest: bytes) -> bytes:
        self.signed.append(digest)
        return self._wallet.sign_hash(digest)


@pytest.fixture
def spy_wallet() -> SpyWallet:
    return SpyWallet(Wallet.create())


@pytest.fixture
def server() -> Iterator[MPPTestServer]:
    with MPPTestServer(ServerState()) as srv:
        yield srv
