"""Minimal RLP encoder for the three item kinds a Tempo transaction has: bytes, ints, lists.

Why not ``rlp.encode``: pyrlp infers a "sedes" for every item on every call, which made RLP the
largest CPU cost of signing a payment (about 40 % of a challenge -> credential in bench/run.py's
profile). Transactions here only ever hold bytes, non-negative ints and nested lists, so the
encoding is a few lines. Byte-for-byte equal to ``rlp.encode`` for those inputs (checked against
pyrlp and the locked transaction vectors in the tests). Decoding stays with pyrlp (strict mode).

:func:`encode_items` and :func:`wrap_list` split a list's encoding in two (the items' bytes, then the
header that only depends on their length), so a caller that finishes several lists from one shared
prefix of items (a transaction's sender hash and its wire form) encodes that prefix once.
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
    kind = type(item)  # exact-type dispatch: measurably faster than isinstance chains on this hot path
    if kind is bytes:
        size = len(item)
        if size == 1 and item[0] < 0x80:
            return item  # type: ignore[no-any-return]
        if size < 56:
            return bytes((0x80 + size,)) + item
        return _length_prefix(size, 0x80) + item
    if kind is list or kind is tuple:
        return wrap_list(b"".join([encode(x) for x in item]))
    if kind is int:
        if item < 0:
            raise ValueError("RLP cannot encode negative integers")
        return encode(item.to_bytes((item.bit_length() + 7) // 8, "big"))
    if isinstance(item, bytes | bytearray):  # bytes subclasses, bytearray
        return encode(bytes(item))
    if isinstance(item, int) and not isinstance(item, bool):  # int subclasses (IntEnum)
        return encode(int(item))
    raise TypeError(f"cannot RLP-encode {kind.__name__}")


def encode_items(items: list[Any] | tuple[Any, ...]) -> bytes:
    """The payload of ``encode(list(items))``: the items' encodings concatenated, without the list header."""
    return b"".join([encode(x) for x in items])


def wrap_list(payload: bytes) -> bytes:
    """Prefix concatenated item encodings (see :func:`encode_items`) with their RLP list header."""
    size = len(payload)
    return (bytes((0xC0 + size,)) if size < 56 else _length_prefix(size, 0xC0)) + payload
