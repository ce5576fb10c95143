"""``Payment-Receipt``: base64url JSON the server returns with a 2xx after settling."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grok_mpp.errors import ReceiptParseError
from grok_mpp.mpp.encoding import decode_b64_json, encode_b64_json

MAX_RECEIPT_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True)
class Receipt:
    status: str
    method: str
    reference: str
    timestamp: str | None
    raw: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.status == "success"


def parse_receipt(value: str) -> Receipt:
    if len(value) > MAX_RECEIPT_BYTES:
        raise ReceiptParseError("Payment-Receipt header is too large")
    try:
        data = decode_b64_json(value.strip())
    except ValueError as exc:
        raise ReceiptParseError(f"Payment-Receipt is not base64url JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ReceiptParseError("Payment-Receipt must be a JSON object")
    status, method, reference = data.get("status"), data.get("method"), data.get("reference")
    if not all(isinstance(x, str) and x for x in (status, method, reference)):
        raise ReceiptParseError("Payment-Receipt needs string status, method and reference")
    timestamp = data.get("timestamp")
    return Receipt(
        status=str(status),
        method=str(method),
        reference=str(reference),
        timestamp=timestamp if isinstance(timestamp, str) else None,
        raw=data,
    )


def format_receipt(*, reference: str, timestamp: str, method: str = "tempo", **extra: Any) -> str:
    return encode_b64_json({"status": "success", "method": method, "timestamp": timestamp, "reference": reference, **extra})
