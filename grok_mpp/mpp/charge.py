"""The tempo ``charge`` request object carried (base64url JSON) in a challenge's ``request``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from grok_mpp.errors import ChallengeParseError

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_BYTES32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
_AMOUNT = re.compile(r"^(0|[1-9][0-9]{0,76})$")
MAX_SPLITS = 10


def _address(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _ADDRESS.match(value):
        raise ChallengeParseError(f"{what} must be a 0x-prefixed 20-byte hex address, got {str(value)[:50]!r}")
    return value.lower()


def _amount(value: Any, what: str) -> int:
    if not isinstance(value, str) or not _AMOUNT.match(value):
        raise ChallengeParseError(f"{what} must be a string of base-10 digits, got {str(value)[:40]!r}")
    amount = int(value)
    if amount >= 2**256:
        raise ChallengeParseError(f"{what} does not fit in uint256")
    return amount


@dataclass(frozen=True, slots=True)
class Split:
    amount: int
    recipient: str
    memo: bytes | None = None


@dataclass(frozen=True, slots=True)
class ChargeRequest:
    """Decoded, validated tempo/charge request. Addresses are lower-case, amounts integers."""

    amount: int
    currency: str
    recipient: str
    chain_id: int | None
    fee_payer: bool = False
    memo: bytes | None = None
    splits: tuple[Split, ...] = ()
    supported_modes: tuple[str, ...] | None = None
    description: str | None = None
    external_id: str | None = None

    @property
    def primary_amount(self) -> int:
        """What the primary recipient receives: the amount minus all split legs."""
        return self.amount - sum(s.amount for s in self.splits)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChargeRequest:
        amount = _amount(data.get("amount"), "request.amount")
        currency = _address(data.get("currency"), "request.currency")
        recipient = _address(data.get("recipient"), "request.recipient")
        details = data.get("methodDetails") or {}
        if not isinstance(details, dict):
            raise ChallengeParseError("request.methodDetails must be an object")
        chain_id = details.get("chainId")
        if chain_id is not None and (not isinstance(chain_id, int) or isinstance(chain_id, bool) or chain_id <= 0):
            raise ChallengeParseError(f"methodDetails.chainId must be a positive integer, got {chain_id!r}")
        fee_payer_raw = details.get("feePayer", False)
        fee_payer = bool(fee_payer_raw) if isinstance(fee_payer_raw, bool | dict) else None
        if fee_payer is None:
            raise ChallengeParseError("methodDetails.feePayer must be a boolean")
        memo = None
        if details.get("memo") is not None:
            if not isinstance(details["memo"], str) or not _BYTES32.match(details["memo"]):
                raise ChallengeParseError("methodDetails.memo must be 0x-prefixed 32-byte hex")
            memo = bytes.fromhex(details["memo"][2:])
        splits_raw = details.get("splits") or []
        if not isinstance(splits_raw, list) or len(splits_raw) > MAX_SPLITS:
            raise ChallengeParseError(f"methodDetails.splits must be a list of at most {MAX_SPLITS} legs")
        splits = []
        for i, leg in enumerate(splits_raw):
            if not isinstance(leg, dict):
                raise ChallengeParseError(f"split {i} must be an object")
            leg_memo = leg.get("memo")
            if leg_memo is not None and (not isinstance(leg_memo, str) or not _BYTES32.match(leg_memo)):
                raise ChallengeParseError(f"split {i} memo must be 0x-prefixed 32-byte hex")
            splits.append(
                Split(
                    amount=_amount(leg.get("amount"), f"split {i} amount"),
                    recipient=_address(leg.get("recipient"), f"split {i} recipient"),
                    memo=bytes.fromhex(leg_memo[2:]) if leg_memo else None,
                )
            )
        modes = details.get("supportedModes")
        if modes is not None and (not isinstance(modes, list) or not all(isinstance(m, str) for m in modes)):
            raise ChallengeParseError("methodDetails.supportedModes must be a list of strings")
        description = data.get("description")
        external_id = data.get("externalId")
        return cls(
            amount=amount,
            currency=currency,
            recipient=recipient,
            chain_id=chain_id,
            fee_payer=fee_payer,
            memo=memo,
            splits=tuple(splits),
            supported_modes=tuple(modes) if modes is not None else None,
            description=description if isinstance(description, str) else None,
            external_id=external_id if isinstance(external_id, str) else None,
        )
