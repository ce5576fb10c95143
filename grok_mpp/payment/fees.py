"""Network fees of a payment, without I/O: the worst case to reserve and the actual from a receipt.

Why this exists: an unsponsored Tempo payment pays its own fee in the charge token, so what leaves
the wallet is ``amount + fee``. Budgets must reserve a realistic worst case *before* signing and
reports must show the actual once known.

* Worst case = ``gas_limit * max_fee_per_gas / 10**12`` base units (fee token has 6 decimals, gas is
  priced in attodollars). The gas limit comes from ``eth_estimateGas`` plus headroom, as the
  reference clients do (mppx: estimate + 5000; pympp: ``max(1M, estimate + 5000)``), capped by the
  policy's ``gas_limit``. Without an RPC the policy's ``gas_limit`` is the bound.
* Actual = ``gasUsed * effectiveGasPrice / 10**12`` from ``eth_getTransactionReceipt``, rounded
  up (the local chain charges exactly this; a fee we cannot read stays at its bound, never lower).
  A receipt whose ``feePayer`` is someone else (sponsored) costs the payer nothing.

Measured: anvil ``--network tempo`` T4 estimates 784,000 gas for the 0x76 ``transferWithMemo``
with an expiring nonce (mppx signs 789,000); the local gateway charges a fixed 300,000; Locus
accepted an 80,000 gas limit on mainnet. A flat 1 M limit therefore reserves up to 12x the real fee
on mainnet.
"""

from __future__ import annotations

from typing import Any

from grok_mpp.errors import ProtocolError
from grok_mpp.tempo.rpc import quantity, rpc_body

ATTO_PER_BASE_UNIT = 10**12
#: Relative headroom over ``eth_estimateGas`` (gas use varies a little with storage state).
GAS_HEADROOM_PERCENT = 20
#: Absolute headroom, as mppx/viem add to every estimate.
GAS_HEADROOM_FIXED = 5_000


def fee_bound(gas_limit: int, max_fee_per_gas: int) -> int:
    """The most a transaction can cost its fee payer, in base units (rounded up)."""
    return -(-gas_limit * max_fee_per_gas // ATTO_PER_BASE_UNIT)


def gas_limit_from_estimate(estimate: int, cap: int) -> int:
    """``estimate`` plus headroom, never above the policy ``cap`` (a larger need is refused by it)."""
    return min(cap, estimate + estimate * GAS_HEADROOM_PERCENT // 100 + GAS_HEADROOM_FIXED)


def estimate_gas_body(payer: str, token: str, calls: list[tuple[str, bytes]], valid_before: int) -> dict[str, Any]:
    """``eth_estimateGas`` for the transaction we will sign: a Tempo (0x76) request with the same
    calls, fee token and expiring nonce (``nonceKey`` 2**256-1, ``validBefore``), as viem/mppx send it.

    The AA fields matter: on anvil T4 a bare ``{to, data}`` estimate is 550,023 gas while the real
    0x76 transaction with an expiring nonce needs 784,000 (mppx signs 789,000), and a limit below
    the intrinsic gas is refused by the node.
    """
    return rpc_body("eth_estimateGas", [{
        "from": payer,
        "calls": [{"to": to, "data": "0x" + data.hex(), "value": "0x0"} for to, data in calls],
        "feeToken": token,
        "nonceKey": hex(2**256 - 1),
        "nonce": "0x0",
        "validBefore": hex(valid_before),
    }])


def fee_from_receipt(receipt: Any, payer: str) -> int | None:
    """The fee ``payer`` paid for the mined transaction ``receipt``; None if it cannot be read."""
    if not isinstance(receipt, dict):
        return None
    fee_payer = receipt.get("feePayer")
    if isinstance(fee_payer, str) and fee_payer.lower() != payer.lower():
        return 0  # sponsored: the gateway's fee payer paid
    try:
        gas_used = quantity(receipt.get("gasUsed"))
        price = quantity(receipt.get("effectiveGasPrice"))
    except ProtocolError:  # a malformed receipt only means "unknown": the bound stays
        return None
    return -(-gas_used * price // ATTO_PER_BASE_UNIT)
