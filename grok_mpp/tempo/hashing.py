"""keccak-256, the one hash Tempo and MPP use (pycryptodome, via eth-hash's backend)."""

from __future__ import annotations

from Crypto.Hash import keccak as _keccak


def keccak256(data: bytes) -> bytes:
    # Keccak_Hash directly: keccak.new() re-validates its keyword arguments on every call (~15 % of a hash).
    return _keccak.Keccak_Hash(data, 32, False).digest()
