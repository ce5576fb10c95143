"""keccak-256, the one hash Tempo and MPP use (pycryptodome, via eth-hash's backend)."""

from __future__ import annotations

from Crypto.Hash import keccak as _keccak


def keccak256(data: bytes) -> bytes:
    return _keccak.new(digest_bits=256, data=data).digest()
