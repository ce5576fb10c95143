"""TIP-20 calldata: ``transferWithMemo(address,uint256,bytes32)`` and ``balanceOf(address)``."""

from __future__ import annotations

from dataclasses import dataclass

from grok_mpp.errors import TransactionDecodeError

TRANSFER_WITH_MEMO = bytes.fromhex("95777d59")
TRANSFER = bytes.fromhex("a9059cbb")
BALANCE_OF = bytes.fromhex("70a08231")
TRANSFER_WITH_MEMO_TOPIC = "0x57bc7354aa85aed339e000bccffabbc529466af35f0772c8f8ee1145927de7f0"
TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"


def _addr_word(address: str) -> bytes:
    raw = bytes.fromhex(address[2:] if address.startswith("0x") else address)
    if len(raw) != 20:
        raise ValueError("address must be 20 bytes")
    return bytes(12) + raw


def encode_transfer_with_memo(to: str, amount: int, memo: bytes) -> bytes:
    if len(memo) != 32:
        raise ValueError("memo must be 32 bytes")
    if not 0 <= amount < 2**256:
        raise ValueError("amount out of uint256 range")
    return TRANSFER_WITH_MEMO + _addr_word(to) + amount.to_bytes(32, "big") + memo


def encode_transfer(to: str, amount: int) -> bytes:
    return TRANSFER + _addr_word(to) + amount.to_bytes(32, "big")


def encode_balance_of(owner: str) -> bytes:
    return BALANCE_OF + _addr_word(owner)


@dataclass(frozen=True, slots=True)
class Transfer:
    to: str
    amount: int
    memo: bytes | None


def decode_transfer(data: bytes) -> Transfer:
    """Decode transfer / transferWithMemo calldata, refusing trailing bytes (as servers do)."""
    selector, body = data[:4], data[4:]
    if selector == TRANSFER_WITH_MEMO and len(body) == 96:
        memo: bytes | None = body[64:96]
    elif selector == TRANSFER and len(body) == 64:
        memo = None
    else:
        raise TransactionDecodeError("call is not a TIP-20 transfer or transferWithMemo of exact length")
    if body[:12] != bytes(12):
        raise TransactionDecodeError("transfer recipient word has non-zero padding")
    return Transfer(to="0x" + body[12:32].hex(), amount=int.from_bytes(body[32:64], "big"), memo=memo)
