"""Settlement for the local gateway: an in-process Tempo ledger, or a real node over JSON-RPC.

:class:`LocalChain` is a deliberately small model of what matters to a payer: TIP-20 balances per
(token, address), fees charged in a fee token (``gas_used * gas_price / 10**12`` base units, gas price
in attodollars per gas as on Tempo), expiring-nonce rules, all-or-nothing execution and receipts by
hash. It executes the same signed 0x76 bytes a real node would, so the client's encoding is
exercised end to end; what it does not model (EVM execution, storage credits, exact gas) is
irrelevant to the payment flow.

:class:`RemoteChain` broadcasts to a real node (anvil ``--network tempo`` in the interop tier) with
``eth_sendRawTransactionSync``, co-signing as fee payer first when the gateway sponsors gas.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, Protocol

import httpx

from grok_mpp.errors import GrokMPPError, ProtocolError, TransactionDecodeError
from grok_mpp.tempo.hashing import keccak256
from grok_mpp.tempo.rpc import (
    balance_of_body,
    gas_price_body,
    parse_receipt_status,
    quantity,
    rpc_result,
    send_raw_body,
)
from grok_mpp.tempo.tip20 import TRANSFER_TOPIC, TRANSFER_WITH_MEMO_TOPIC, decode_transfer
from grok_mpp.tempo.transaction import (
    EXPIRING_NONCE_KEY,
    TEMPO_TX_TYPE,
    HashSigner,
    SignedTempoTransaction,
)

from .verifier import MAX_VALID_BEFORE_LEAD, MIN_VALID_BEFORE_LEAD, VerifiedPayment

GAS_USED = 300_000  # what a TIP-20 transferWithMemo costs here, fixed so fees are predictable in tests
DEFAULT_GAS_PRICE = 20_000_000_000  # 20 gwei in attodollars/gas -> 6000 base units (0.006 USD) per transfer
ATTO_PER_BASE_UNIT = 10**12


class ChainError(GrokMPPError):
    """The chain refused a transaction (JSON-RPC error code in ``code``). Nothing moved."""

    code = -32003

    def __init__(self, message: str) -> None:
        super().__init__(message)


class InsufficientBalanceError(ChainError):
    """An account cannot cover its transfers plus the fee. Nothing moved."""


def fee_for(gas_used: int, gas_price: int) -> int:
    """Fee in base units, rounded up so the emulation never undercharges."""
    return -(-gas_used * gas_price // ATTO_PER_BASE_UNIT)


def _word(address: str) -> str:
    return "0x" + "00" * 12 + address.lower().removeprefix("0x")


def _recover_fee_payer(signed: SignedTempoTransaction) -> str:
    from eth_keys.datatypes import Signature
    from eth_keys.exceptions import BadSignature

    assert signed.fee_payer_signature is not None
    v, r, s = signed.fee_payer_signature
    try:
        sig = Signature(vrs=(v, r, s))
        return sig.recover_public_key_from_msg_hash(signed.fee_payer_hash()).to_checksum_address().lower()
    except (BadSignature, ValueError) as exc:
        raise ChainError(f"fee payer signature does not recover: {exc}") from None


def cosign_as_fee_payer(
    signed: SignedTempoTransaction, fee_payer: HashSigner, fee_token: str
) -> SignedTempoTransaction:
    """The broadcastable sponsored transaction: the sponsor signs ``fee_payer_hash`` for ``fee_token``."""
    with_token = replace(signed, tx=replace(signed.tx, fee_token=fee_token.lower()))
    return signed.with_fee_payer(fee_token, fee_payer.sign_hash(with_token.fee_payer_hash()))


class Settlement(Protocol):
    """What the gateway needs from a chain."""

    chain_id: int

    @property
    def gas_price(self) -> int: ...

    def settle(self, verified: VerifiedPayment, *, fee_payer: HashSigner | None = None) -> dict[str, Any]: ...


class LocalChain:
    """In-process TIP-20 balances and receipts for one chain id (thread-safe)."""

    def __init__(
        self,
        chain_id: int,
        tokens: Iterable[str],
        *,
        gas_price: int = DEFAULT_GAS_PRICE,
        gas_used: int = GAS_USED,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.chain_id = chain_id
        self.tokens: tuple[str, ...] = tuple(t.lower() for t in tokens)
        if not self.tokens:
            raise ValueError("a local chain needs at least one token")
        self._gas_price = gas_price
        self.gas_used = gas_used
        self.clock = clock
        self._lock = threading.Lock()
        self._balances: dict[tuple[str, str], int] = {}
        self._receipts: dict[str, dict[str, Any]] = {}
        self._block = 1

    def __repr__(self) -> str:
        return f"LocalChain(chain_id={self.chain_id}, tokens={len(self.tokens)}, txs={len(self._receipts)})"

    @property
    def gas_price(self) -> int:
        return self._gas_price

    @property
    def block_number(self) -> int:
        with self._lock:
            return self._block

    def _token(self, token: str | None) -> str:
        token = (token or self.tokens[0]).lower()
        if token not in self.tokens:
            raise ChainError(f"unknown token {token}")
        return token

    def fund(self, address: str, amount: int, token: str | None = None) -> int:
        """Mint ``amount`` base units to ``address`` (test setup); returns the new balance."""
        if amount < 0:
            raise ValueError("amount must be >= 0 base units")
        key = (self._token(token), address.lower())
        with self._lock:
            self._balances[key] = self._balances.get(key, 0) + amount
            return self._balances[key]

    def balance(self, address: str, token: str | None = None) -> int:
        key = (self._token(token), address.lower())
        with self._lock:
            return self._balances.get(key, 0)

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        with self._lock:
            return self._receipts.get(tx_hash.lower())

    def settle(self, verified: VerifiedPayment, *, fee_payer: HashSigner | None = None) -> dict[str, Any]:
        """Execute a verified payment; sponsored ones are co-signed by ``fee_payer`` first."""
        signed = verified.signed
        if verified.sponsored:
            if fee_payer is None:
                raise ChainError("sponsored payment needs the gateway's fee-payer account")
            signed = cosign_as_fee_payer(signed, fee_payer, verified.currency)
        return self.submit(signed)

    def submit(self, signed: SignedTempoTransaction) -> dict[str, Any]:
        """Execute a signed 0x76 transaction atomically and return its receipt.

        Raises ChainError (InsufficientBalanceError for balances) and moves nothing on any failure.
        """
        tx = signed.tx
        now = self.clock()
        if tx.chain_id != self.chain_id:
            raise ChainError(f"invalid chain id for signer: {tx.chain_id} != {self.chain_id}")
        if tx.nonce_key != EXPIRING_NONCE_KEY or tx.nonce != 0:
            raise ChainError("only expiring-nonce transactions (nonce_key 2**256-1, nonce 0) are supported")
        if tx.valid_before is None or tx.valid_before <= now + MIN_VALID_BEFORE_LEAD:
            raise ChainError(f"Tempo tx valid_before ({tx.valid_before}) must be > current time + 3s")
        if tx.valid_before > now + MAX_VALID_BEFORE_LEAD:
            raise ChainError("expiring nonce valid_before must be within 30s of the block timestamp")
        if tx.valid_after is not None and tx.valid_after > now:
            raise ChainError("transaction is not valid yet (valid_after)")
        if tx.gas_limit < self.gas_used:
            raise ChainError(f"intrinsic gas too low: {tx.gas_limit} < {self.gas_used}")
        if tx.max_fee_per_gas < self._gas_price:
            raise ChainError(f"max fee per gas {tx.max_fee_per_gas} is less than the base fee {self._gas_price}")
        if tx.sponsored and signed.fee_payer_signature is None:
            raise ChainError("sponsored transaction lacks the fee payer's signature")
        payer = _recover_fee_payer(signed) if signed.fee_payer_signature is not None else signed.sender
        fee_token = self._token(tx.fee_token)
        fee = fee_for(self.gas_used, self._gas_price)

        moves: list[tuple[str, str, int, bytes | None]] = []  # (token, to, amount, memo)
        for i, call in enumerate(tx.calls):
            if call.to.lower() not in self.tokens or call.value != 0:
                raise ChainError(f"call {i} is not a TIP-20 call on a known token")
            try:
                transfer = decode_transfer(call.data)
            except TransactionDecodeError as exc:
                raise ChainError(f"call {i}: {exc.message}") from None
            moves.append((call.to.lower(), transfer.to.lower(), transfer.amount, transfer.memo))

        tx_hash = signed.tx_hash()
        sender = signed.sender
        with self._lock:
            if tx_hash in self._receipts:
                raise ChainError("already known: transaction has been executed")
            debits: dict[tuple[str, str], int] = {(fee_token, payer): fee}
            for token, _to, amount, _memo in moves:
                debits[(token, sender)] = debits.get((token, sender), 0) + amount
            for (token, who), need in debits.items():
                have = self._balances.get((token, who), 0)
                if have < need:
                    raise InsufficientBalanceError(
                        f"insufficient balance: {who} holds {have} of {token}, needs {need} (amount + fee)"
                    )
            for key, need in debits.items():
                self._balances[key] -= need
            for token, to, amount, _memo in moves:
                self._balances[(token, to)] = self._balances.get((token, to), 0) + amount
            self._block += 1
            block = self._block
            receipt = self._receipt(signed, tx_hash, block, moves, payer, fee_token)
            self._receipts[tx_hash] = receipt
            return receipt

    def _receipt(
        self,
        signed: SignedTempoTransaction,
        tx_hash: str,
        block: int,
        moves: list[tuple[str, str, int, bytes | None]],
        fee_payer: str,
        fee_token: str,
    ) -> dict[str, Any]:
        block_hash = "0x" + keccak256(block.to_bytes(8, "big") + bytes.fromhex(tx_hash[2:])).hex()
        logs: list[dict[str, Any]] = []
        for token, to, amount, memo in moves:
            data = "0x" + amount.to_bytes(32, "big").hex()
            topics = [TRANSFER_TOPIC, _word(signed.sender), _word(to)]
            logs.append({"address": token, "topics": topics, "data": data})
            if memo is not None:
                logs.append(
                    {
                        "address": token,
                        "topics": [TRANSFER_WITH_MEMO_TOPIC, *topics[1:], "0x" + memo.hex()],
                        "data": data,
                    }
                )
        for index, log in enumerate(logs):
            log.update(
                blockNumber=hex(block),
                blockHash=block_hash,
                transactionHash=tx_hash,
                transactionIndex="0x0",
                logIndex=hex(index),
                removed=False,
            )
        return {
            "transactionHash": tx_hash,
            "transactionIndex": "0x0",
            "blockHash": block_hash,
            "blockNumber": hex(block),
            "from": signed.sender,
            "to": signed.tx.calls[0].to.lower(),
            "cumulativeGasUsed": hex(self.gas_used),
            "gasUsed": hex(self.gas_used),
            "effectiveGasPrice": hex(self._gas_price),
            "contractAddress": None,
            "logs": logs,
            "logsBloom": "0x" + "00" * 256,
            "status": "0x1",
            "type": hex(TEMPO_TX_TYPE),
            "feeToken": fee_token,
            "feePayer": fee_payer,
        }


class RemoteChain:
    """Settles on a real Tempo node: ``eth_sendRawTransactionSync`` with the raw 0x76 (one param)."""

    def __init__(self, rpc_url: str, *, chain_id: int | None = None, timeout: float = 35.0) -> None:
        self.rpc_url = rpc_url
        self._client = httpx.Client(timeout=timeout)
        self._lock = threading.Lock()
        self._gas: tuple[int, float] | None = None
        self.chain_id = chain_id if chain_id is not None else quantity(self._call("eth_chainId", []))

    def __repr__(self) -> str:
        return f"RemoteChain(rpc_url={self.rpc_url!r}, chain_id={self.chain_id})"

    def close(self) -> None:
        self._client.close()

    def _post(self, body: dict[str, Any]) -> Any:
        try:
            response = self._client.post(self.rpc_url, json=body)
        except httpx.HTTPError as exc:
            raise ChainError(f"JSON-RPC node unreachable: {type(exc).__name__}") from None
        try:
            return rpc_result(response.json())
        except (ProtocolError, ValueError) as exc:
            raise ChainError(str(exc)) from None

    def _call(self, method: str, params: list[Any]) -> Any:
        return self._post({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})

    @property
    def gas_price(self) -> int:
        """The node's ``eth_gasPrice``, cached for 10 s."""
        now = time.monotonic()
        with self._lock:
            if self._gas is not None and now - self._gas[1] < 10:
                return self._gas[0]
        price = quantity(self._post(gas_price_body()))
        with self._lock:
            self._gas = (price, now)
        return price

    def balance(self, address: str, token: str) -> int:
        return int(self._post(balance_of_body(token, address)), 16)

    def settle(self, verified: VerifiedPayment, *, fee_payer: HashSigner | None = None) -> dict[str, Any]:
        signed = verified.signed
        if verified.sponsored:
            if fee_payer is None:
                raise ChainError("sponsored payment needs the gateway's fee-payer account")
            signed = cosign_as_fee_payer(signed, fee_payer, verified.currency)
        receipt = self._post(send_raw_body(signed.raw()))
        try:
            ok = parse_receipt_status(receipt)
        except ProtocolError as exc:
            raise ChainError(str(exc)) from None
        if ok is not True:
            raise ChainError("transaction was not executed successfully (reverted or not mined)")
        assert isinstance(receipt, dict)
        return receipt
