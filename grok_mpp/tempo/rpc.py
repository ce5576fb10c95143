"""Tempo JSON-RPC bodies and results, without I/O.

Callers send the body with whatever HTTP client they run on (the auth flow yields it through the
caller's own httpx client, so sync and async share this code).
"""

from __future__ import annotations

import itertools
from typing import Any

from grok_mpp.errors import ProtocolError
from grok_mpp.tempo.tip20 import encode_balance_of

_ids = itertools.count(1)


class RPCError(ProtocolError):
    """The JSON-RPC node answered with an error object or an unusable result."""

    def __init__(self, message: str, *, code: int | None = None, **kw: Any) -> None:
        self.code = code
        super().__init__(message, code=code, **kw)


def rpc_body(method: str, params: list[Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": next(_ids), "method": method, "params": params}


def rpc_result(payload: Any) -> Any:
    if not isinstance(payload, dict):
        raise RPCError("JSON-RPC answer is not an object")
    if payload.get("error") is not None:
        err = payload["error"]
        message = err.get("message", "unknown error") if isinstance(err, dict) else str(err)
        code = err.get("code") if isinstance(err, dict) else None
        raise RPCError(f"JSON-RPC error: {message}", code=code)
    if "result" not in payload:
        raise RPCError("JSON-RPC answer has neither result nor error")
    return payload["result"]


def quantity(value: Any) -> int:
    """Parse a hex QUANTITY ('0x4a817c800')."""
    if not isinstance(value, str) or not value.startswith("0x") or len(value) > 66:
        raise RPCError(f"expected a hex quantity, got {str(value)[:40]!r}")
    try:
        return int(value, 16)
    except ValueError as exc:
        raise RPCError(f"expected a hex quantity, got {value[:40]!r}") from exc


def gas_price_body() -> dict[str, Any]:
    return rpc_body("eth_gasPrice", [])


def chain_id_body() -> dict[str, Any]:
    return rpc_body("eth_chainId", [])


def receipt_body(tx_hash: str) -> dict[str, Any]:
    return rpc_body("eth_getTransactionReceipt", [tx_hash])


def balance_of_body(token: str, owner: str) -> dict[str, Any]:
    return rpc_body("eth_call", [{"to": token, "data": "0x" + encode_balance_of(owner).hex()}, "latest"])


def send_raw_body(raw: bytes) -> dict[str, Any]:
    return rpc_body("eth_sendRawTransactionSync", ["0x" + raw.hex()])


def parse_receipt_status(result: Any) -> bool | None:
    """True = executed successfully, False = reverted, None = not (yet) mined."""
    if result is None:
        return None
    if not isinstance(result, dict):
        raise RPCError("transaction receipt is not an object")
    return quantity(result.get("status", "0x0")) == 1
