"""Resolve payment attempts whose outcome the client never learned, from chain evidence.

Tempo payments use expiring nonces: a transaction whose ``valid_before`` has passed can never be
included. So for a row that was sent (or rejected, or ended in a transport error) the truth is:

* a receipt with status 0x1 exists -> the transfer happened (``settled_onchain``);
* a receipt with status 0x0 exists -> it was included but reverted, the transfer did not happen;
* no receipt and ``valid_before`` (plus a clock-skew grace) has passed -> it can never land
  (``released``, the budget is free again);
* otherwise -> still undecided; the row stays open and keeps its budget.

Rows still ``reserved`` were never sent (the credential leaves only after ``mark_sent``), so once
they are older than any signing can take they are released without asking the chain.

The decision is a pure function (:func:`decide`); the I/O is one JSON-RPC POST per row, using the
bodies and parsers of :mod:`grok_mpp.tempo.rpc`. Before trusting a missing receipt the RPC's
``eth_chainId`` must equal the row's chain: a "not found" from another chain proves nothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from grok_mpp.chains import CHAINS
from grok_mpp.ledger.base import LedgerBase, register_hook
from grok_mpp.ledger.model import (
    OPEN_STATES,
    PAID_STATES,
    RESERVED,
    IllegalTransitionError,
    LedgerRow,
    ReconcileReport,
    receipt_summary,
)
from grok_mpp.ledger.owner import owner_alive
from grok_mpp.payment.fees import fee_from_receipt
from grok_mpp.tempo.rpc import RPCError, chain_id_body, parse_receipt_status, quantity, receipt_body, rpc_result

logger = logging.getLogger("grok_mpp.ledger")

#: Seconds after ``valid_before`` before a missing receipt counts as proof (clock skew, block time).
DEFAULT_GRACE = 30
#: Seconds after which a row that never got past 'reserved' is considered abandoned.
DEFAULT_STALE_RESERVATION = 300


@dataclass(frozen=True, slots=True)
class Decision:
    action: Literal["settle", "release", "wait"]
    detail: str


def decide(row: LedgerRow, receipt: Any, now: float, *, grace: int = DEFAULT_GRACE) -> Decision:
    """What the chain's answer for ``row.tx_hash`` (a receipt object or None) means at ``now``."""
    status = parse_receipt_status(receipt)
    if status is not None:
        block = receipt.get("blockNumber") if isinstance(receipt, dict) else None
        if status:
            return Decision("settle", f"reconciled: transaction mined in block {block} with status 0x1")
        return Decision("release", f"reconciled: transaction reverted in block {block}; nothing was transferred")
    if row.valid_before is None:
        return Decision("wait", "no receipt and no valid_before recorded")
    if now >= row.valid_before + grace:
        return Decision(
            "release", f"reconciled: no receipt and valid_before {row.valid_before} has passed; it can never land"
        )
    return Decision("wait", f"no receipt yet; the transaction may land until {row.valid_before}")


def _own_transfer(ledger: LedgerBase, row: LedgerRow, receipt: Any) -> Decision:
    """Settle ``row`` only with a receipt for ITS transaction that no other row already owns.

    Two rows claiming one hash (identical transactions signed for one shared challenge by an older
    client) stand for one transfer at most: the oldest row takes it, the others are released, so the
    ledger never reports more than left the wallet. A receipt for another hash proves nothing.
    """
    got = str(receipt.get("transactionHash") or row.tx_hash).lower() if isinstance(receipt, dict) else ""
    if got != str(row.tx_hash).lower():
        return Decision("wait", f"the RPC answered with a receipt for {got}, not for {row.tx_hash}")
    for other in ledger.rows_for_tx(str(row.tx_hash)):
        if other.id == row.id:
            continue
        if other.state in PAID_STATES or (
            other.state in OPEN_STATES and (other.created_at, other.id) < (row.created_at, row.id)
        ):
            return Decision(
                "release", f"reconciled: transaction {row.tx_hash} is the transfer of payment {other.id}, not this one"
            )
    return Decision("settle", f"reconciled: transaction mined in block {receipt.get('blockNumber')} with status 0x1")


def decide_unsent(
    row: LedgerRow, now: float, *, stale_after: int = DEFAULT_STALE_RESERVATION, owner_alive: bool | None = None
) -> Decision:
    """A row still 'reserved': nothing left the process; release it once it is clearly abandoned.

    ``owner_alive`` False (the reserving process on this host is gone) releases at once: it can
    never sign or send now. Otherwise the row waits ``stale_after`` seconds.
    """
    if owner_alive is False:
        return Decision("release", "reconciled: the process that reserved this row is gone; nothing was sent")
    if now - row.created_at >= stale_after:
        return Decision("release", "reconciled: reservation abandoned before anything was signed or sent")
    return Decision("wait", "reservation in progress")


def _post(http: httpx.Client, url: str, body: dict[str, Any]) -> Any:
    response = http.post(url, json=body)
    response.raise_for_status()
    return rpc_result(response.json())


def _apply(ledger: LedgerBase, row: LedgerRow, decision: Decision, report: ReconcileReport,
           receipt: dict[str, Any] | None = None) -> None:
    if decision.action == "wait":
        report.pending.append(row.id)
        return
    settled = decision.action == "settle"
    try:
        ledger.mark_reconciled(
            row.id, settled=settled, detail=decision.detail,
            chain_receipt=receipt_summary(receipt) if receipt else None,
        )
    except IllegalTransitionError:
        # Its own process concluded the row between our read and our write: nothing to do.
        report.pending.append(row.id)
        return
    (report.settled if settled else report.released).append(row.id)
    logger.info("payment %s (tx %s): %s", row.id, row.tx_hash, decision.detail)


def _fill_fee(ledger: LedgerBase, http: httpx.Client, url: str, row: LedgerRow, report: ReconcileReport) -> None:
    assert row.tx_hash is not None
    try:
        fee = fee_from_receipt(_post(http, url, receipt_body(row.tx_hash)), row.payer or "")
    except (httpx.HTTPError, RPCError, ValueError) as exc:
        report.errors.append(f"tx {row.tx_hash} (fee): {exc}")
        return
    if fee is not None and ledger.record_fee(row.id, fee):
        report.fees.append(row.id)


def reconcile(
    ledger: LedgerBase,
    rpc_url: str | None = None,
    *,
    now: float | None = None,
    grace: int = DEFAULT_GRACE,
    stale_after: int = DEFAULT_STALE_RESERVATION,
    http: httpx.Client | None = None,
    timeout: float = 10.0,
) -> ReconcileReport:
    """Resolve every open row (reserved / sent / rejected / outcome_unknown) of every scope.

    ``rpc_url`` is used for the chain it serves; without it each chain's public RPC is used.
    Never raises for RPC trouble: affected rows stay open and the report lists the error.
    Paid rows whose network fee is still unknown (paid without a reachable RPC) get their actual
    fee from the receipt (``report.fees``), so reports stop using the worst-case bound.
    """
    when = ledger.clock() if now is None else now
    report = ReconcileReport()
    unknown_fee = [r for r in ledger.rows(state=PAID_STATES) if r.fee is None and r.max_fee and r.tx_hash]
    by_chain: dict[int, list[LedgerRow]] = defaultdict(list)
    for row in ledger.rows(state=OPEN_STATES):
        report.checked += 1
        if row.state == RESERVED and row.tx_hash is None:
            alive = owner_alive(row.owner)
            _apply(ledger, row, decide_unsent(row, when, stale_after=stale_after, owner_alive=alive), report)
        else:
            by_chain[row.chain_id].append(row)
    for row in unknown_fee:
        by_chain[row.chain_id].append(row)
    if not by_chain:
        return report
    client = http or httpx.Client(timeout=timeout)
    try:
        for chain_id, rows in sorted(by_chain.items()):
            _reconcile_chain(ledger, client, rpc_url, chain_id, rows, when, grace, report)
    finally:
        if http is None:
            client.close()
    return report


def _reconcile_chain(
    ledger: LedgerBase,
    http: httpx.Client,
    rpc_url: str | None,
    chain_id: int,
    rows: list[LedgerRow],
    now: float,
    grace: int,
    report: ReconcileReport,
) -> None:
    url = rpc_url or (CHAINS[chain_id].rpc_url if chain_id in CHAINS else None)
    if url is None:
        report.pending.extend(r.id for r in rows)
        report.errors.append(f"no JSON-RPC URL for chain {chain_id}; pass --rpc-url")
        return
    try:
        served = quantity(_post(http, url, chain_id_body()))
    except (httpx.HTTPError, RPCError, ValueError) as exc:
        report.pending.extend(r.id for r in rows)
        where = httpx.URL(url)  # scheme, host and port only: RPC providers put API keys in the path
        shown = f"{where.scheme}://{where.host}" + (f":{where.port}" if where.port else "")
        report.errors.append(f"chain {chain_id}: RPC {shown} unusable: {exc}")
        return
    if served != chain_id:
        report.pending.extend(r.id for r in rows)
        report.errors.append(f"RPC {url} serves chain {served}, not chain {chain_id}; {len(rows)} rows left open")
        return
    for row in rows:
        if row.tx_hash is None:  # only reserved rows lack one, and those were handled already
            continue
        if row.state in PAID_STATES:  # already concluded; only its fee is missing
            _fill_fee(ledger, http, url, row, report)
            continue
        try:
            receipt = _post(http, url, receipt_body(row.tx_hash))
            decision = decide(row, receipt, now, grace=grace)
            if decision.action == "settle":
                decision = _own_transfer(ledger, row, receipt)
        except (httpx.HTTPError, RPCError, ValueError) as exc:
            report.pending.append(row.id)
            report.errors.append(f"tx {row.tx_hash}: {exc}")
            continue
        _apply(ledger, row, decision, report, receipt if isinstance(receipt, dict) else None)


register_hook("reconcile", reconcile)
