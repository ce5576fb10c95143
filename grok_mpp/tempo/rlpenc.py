"""Minimal RLP encoder for the three item kinds a Tempo transaction has: bytes, ints, lists.

Why not ``rlp.encode``: pyrlp infers a "sedes" for every item on every call, which made RLP the
largest CPU cost of signing a payment (about 40 % of a challenge -> credential in bench/run.py's
profile). Transactions here only ever hold bytes, non-negative ints and nested lists, so the
encoding is a few lines. Byte-for-byte equal to ``rlp.encode`` for those inputs (checked against
pyrlp and the locked transaction vectors in the tests). Decoding stays with pyrlp (strict mode).
"""

from __future__ import annotations

from typing import Any


def _length_prefix(length: int, offset: int) -> bytes:
    if length < 56:
        return bytes((offset + length,))
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((offset + 55 + len(size),)) + size


def encode(item: Any) -> bytes:
    """RLP of ``bytes`` (string), non-negative ``int`` (minimal big-endian) or ``list``/``tuple``."""
    if isinstance(item, bytes | bytearray):
        data = bytes(item)
        if len(data) == 1 and data[0] < 0x80:
            return data
        return _length_prefix(len(data), 0x80) + data
    if isinstance(item, list | tuple):
        payload = b"".join([encode(x) for x in item])
        return _length_prefix(len(payload), 0xC0) + payload
    if isinstance(item, int) and not isinstance(item, bool):
        if item < 0:
            raise ValueError("RLP cannot encode negative integers")
        return encode(item.to_bytes((item.bit_length() + 7) // 8, "big"))
    raise TypeError(f"cannot RLP-encode {type(item).__name__}")
