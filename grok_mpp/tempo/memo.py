"""The MPP attribution memo that binds a TIP-20 transfer to one challenge.

32 bytes: tag keccak("mpp")[:4] | version 0x01 | keccak(realm)[:10] | keccak(client id)[:10] or
zeros | keccak(challenge id)[:7]. Reference servers reject a transfer without it ("memo is not bound
to this challenge"), so a missing memo is not a style issue: it is lost money.
"""

from __future__ import annotations

from functools import lru_cache

from grok_mpp.tempo.hashing import keccak256

MEMO_TAG = keccak256(b"mpp")[:4]
MEMO_VERSION = 1


@lru_cache(maxsize=64)
def _tag10(text: str) -> bytes:
    """keccak(text)[:10], cached: a client pays the same realm (and client id) over and over."""
    return keccak256(text.encode())[:10]


def attribution_memo(challenge_id: str, realm: str, client_id: str | None = None) -> bytes:
    client = _tag10(client_id) if client_id else bytes(10)
    return MEMO_TAG + bytes([MEMO_VERSION]) + _tag10(realm) + client + keccak256(challenge_id.encode())[:7]


def memo_matches(memo: bytes, challenge_id: str, realm: str) -> bool:
    """Server-side check: is ``memo`` an MPP memo for this realm and challenge (any client id)?"""
    return (
        len(memo) == 32
        and memo[:4] == MEMO_TAG
        and memo[4] == MEMO_VERSION
        and memo[5:15] == keccak256(realm.encode())[:10]
        and memo[25:32] == keccak256(challenge_id.encode())[:7]
    )
