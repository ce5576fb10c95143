"""The JSON-RPC face of :class:`~grok_mpp.local.chain.LocalChain` (sans-I/O dispatch).

Just the methods a payer and a reconciler use against Tempo: ``eth_chainId``, ``eth_gasPrice``,
``eth_blockNumber``, ``eth_estimateGas``, ``eth_call`` (TIP-20 ``balanceOf``/``decimals``),
``eth_getTransactionReceipt``, ``eth_sendRawTransaction`` and ``eth_sendRawTransactionSync`` (a raw
0x76 TIP-20 transfer from a funded account, applied at once), plus the dev method ``local_fund``.

``local_fund [address, amount_base_units, token?]`` mints test money. It exists only on the local
gateway, only when the caller is on loopback, and never on a real node.
"""

from __future__ import annotations

from typing import Any

from grok_mpp.errors import TransactionDecodeError
from grok_mpp.tempo.tip20 import BALANCE_OF
from grok_mpp.tempo.transaction import TEMPO_TX_TYPE, decode_transaction

from .chain import ChainError, LocalChain

DECIMALS_SELECTOR = bytes.fromhex("313ce567")
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INVALID_REQUEST = -32600
EXECUTION_ERROR = -32000
MAX_BATCH = 100


class _RPCError(Exception):
    def __init__(self, code: int, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


def _hex_bytes(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise _RPCError(INVALID_PARAMS, f"{what} must be 0x-prefixed hex")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise _RPCError(INVALID_PARAMS, f"{what} must be 0x-prefixed hex") from None


def _address(value: Any) -> str:
    raw = _hex_bytes(value, "address")
    if len(raw) != 20:
        raise _RPCError(INVALID_PARAMS, "address must be 20 bytes")
    return "0x" + raw.hex()


def _amount(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        amount = value
    elif isinstance(value, str) and value.startswith("0x"):
        amount = int.from_bytes(_hex_bytes(value, "amount"), "big")
    elif isinstance(value, str) and value.isdigit():
        amount = int(value)
    else:
        raise _RPCError(INVALID_PARAMS, "amount must be an integer number of base units (int, digits or hex)")
    if amount < 0:
        raise _RPCError(INVALID_PARAMS, "amount must be >= 0")
    return amount


def _params(req: dict[str, Any], count: int) -> list[Any]:
    params = req.get("params", [])
    if not isinstance(params, list) or len(params) < count:
        raise _RPCError(INVALID_PARAMS, f"{req.get('method')} needs {count} parameter(s)")
    return params


def _execute_raw(chain: LocalChain, value: Any) -> dict[str, Any]:
    raw = _hex_bytes(value, "raw transaction")
    if not raw or raw[0] != TEMPO_TX_TYPE:
        raise _RPCError(EXECUTION_ERROR, "only Tempo transactions (type 0x76) can be broadcast here")
    try:
        decoded = decode_transaction(raw)
    except TransactionDecodeError as exc:
        raise _RPCError(EXECUTION_ERROR, f"invalid transaction: {exc.message}") from None
    try:
        return chain.submit(decoded.signed)
    except ChainError as exc:
        raise _RPCError(exc.code, exc.message) from None


def _eth_call(chain: LocalChain, params: list[Any]) -> str:
    call = params[0]
    if not isinstance(call, dict):
        raise _RPCError(INVALID_PARAMS, "eth_call needs a call object")
    to = _address(call.get("to"))
    data = _hex_bytes(call.get("data") or call.get("input") or "0x", "data")
    if to not in chain.tokens:
        raise _RPCError(EXECUTION_ERROR, "execution reverted: not a known TIP-20 token")
    if data[:4] == BALANCE_OF and len(data) == 36 and data[4:16] == bytes(12):
        return "0x" + chain.balance("0x" + data[16:36].hex(), to).to_bytes(32, "big").hex()
    if data == DECIMALS_SELECTOR:
        return "0x" + (6).to_bytes(32, "big").hex()
    raise _RPCError(EXECUTION_ERROR, "execution reverted: only balanceOf and decimals are emulated")


def _dispatch(chain: LocalChain, req: dict[str, Any], allow_dev: bool) -> Any:
    method = req.get("method")
    if method == "eth_chainId":
        return hex(chain.chain_id)
    if method == "net_version":
        return str(chain.chain_id)
    if method == "eth_gasPrice":
        return hex(chain.gas_price)
    if method == "eth_blockNumber":
        return hex(chain.block_number)
    if method == "eth_estimateGas":
        return hex(chain.gas_used)
    if method == "eth_call":
        return _eth_call(chain, _params(req, 1))
    if method == "eth_getTransactionReceipt":
        tx_hash = _hex_bytes(_params(req, 1)[0], "transaction hash")
        return chain.receipt("0x" + tx_hash.hex())
    if method == "eth_sendRawTransactionSync":
        return _execute_raw(chain, _params(req, 1)[0])
    if method == "eth_sendRawTransaction":
        return _execute_raw(chain, _params(req, 1)[0])["transactionHash"]
    if method == "local_fund" and allow_dev:
        params = _params(req, 2)
        token = _address(params[2]) if len(params) > 2 and params[2] is not None else None
        try:
            return hex(chain.fund(_address(params[0]), _amount(params[1]), token))
        except ChainError as exc:
            raise _RPCError(INVALID_PARAMS, exc.message) from None
    raise _RPCError(METHOD_NOT_FOUND, f"the method {str(method)[:60]} does not exist/is not available")


def _one(chain: LocalChain, req: Any, allow_dev: bool) -> dict[str, Any]:
    if not isinstance(req, dict) or not isinstance(req.get("method"), str):
        return {"jsonrpc": "2.0", "id": None, "error": {"code": INVALID_REQUEST, "message": "invalid request"}}
    rid = req.get("id")
    try:
        return {"jsonrpc": "2.0", "id": rid, "result": _dispatch(chain, req, allow_dev)}
    except _RPCError as exc:
        return {"jsonrpc": "2.0", "id": rid, "error": {"code": exc.code, "message": exc.message}}


def handle_rpc(chain: LocalChain, payload: Any, *, allow_dev: bool) -> Any:
    """Answer one JSON-RPC request object or a batch (list) of them."""
    if isinstance(payload, list):
        if not payload or len(payload) > MAX_BATCH:
            return {"jsonrpc": "2.0", "id": None, "error": {"code": INVALID_REQUEST, "message": "bad batch size"}}
        return [_one(chain, r, allow_dev) for r in payload]
    return _one(chain, payload, allow_dev)
