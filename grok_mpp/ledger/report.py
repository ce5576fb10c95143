"""Spend reports computed from ledger rows (pure: rows in, integers out).

Aggregating in Python rather than in SQL keeps day bucketing identical on SQLite and PostgreSQL
(their date functions differ) and a ledger holds one row per paid call, so it stays small.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO, Any

from grok_mpp.ledger.model import COLUMNS, OPEN_STATES, PAID_STATES, RELEASED, LedgerRow

SUMMARY_KEYS = ("day", "model", "endpoint")


def utc_day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def iso_utc(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _key(row: LedgerRow, by: str) -> str:
    if by == "day":
        return utc_day(row.created_at)
    if by == "model":
        return row.model or "-"
    return row.endpoint


def summarize(rows: Iterable[LedgerRow], by: str = "day") -> list[dict[str, Any]]:
    """Group rows by day (UTC), model or endpoint.

    Each group: ``attempts``, ``payments`` (paid rows), ``paid`` (base units that left the wallet:
    ``amount`` + ``fee``), ``amount`` (transfers), ``fee`` (network fees, the bound where the actual
    is not known yet), ``pending`` (base units still held by open rows), ``released`` (base units
    of attempts that provably did not pay) and ``estimated`` (pre-call estimates of paid rows).
    """
    if by not in SUMMARY_KEYS:
        raise ValueError(f"summary 'by' must be one of {', '.join(SUMMARY_KEYS)}, got {by!r}")
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = _key(row, by)
        group = groups.setdefault(
            key,
            {by: key, "attempts": 0, "payments": 0, "paid": 0, "amount": 0, "fee": 0, "pending": 0, "released": 0,
             "estimated": 0},
        )
        group["attempts"] += 1
        group["paid"] += row.spent
        if row.state in PAID_STATES:
            group["payments"] += 1
            group["amount"] += row.amount
            group["fee"] += row.fee_or_bound
            group["estimated"] += row.estimate or 0
        elif row.state in OPEN_STATES:
            group["pending"] += row.committed
        elif row.state == RELEASED:
            group["fee"] += row.fee or 0
            group["released"] += row.amount
    return [groups[key] for key in sorted(groups)]


def totals(rows: Iterable[LedgerRow]) -> dict[str, int]:
    """What left the wallet and what may still leave it, in base units.

    ``paid`` = ``amount`` + ``fee`` (every unit that left the wallet: transfers of paid rows and
    network fees, including the fee of a mined-but-reverted transaction); ``fee_unconfirmed``
    counts paid rows whose fee is still the worst-case bound (no RPC answered yet);
    ``pending`` = what open rows may still cost; ``count`` paid rows; ``attempts`` all rows.
    """
    amount = fee = pending = count = attempts = unconfirmed = 0
    for row in rows:
        attempts += 1
        if row.state in PAID_STATES:
            amount += row.amount
            fee += row.fee_or_bound
            count += 1
            unconfirmed += row.fee is None
        elif row.state in OPEN_STATES:
            pending += row.committed
        elif row.state == RELEASED:
            fee += row.fee or 0
    return {"paid": amount + fee, "amount": amount, "fee": fee, "pending": pending, "count": count,
            "attempts": attempts, "fee_unconfirmed": unconfirmed}


def _csv_value(name: str, value: Any) -> Any:
    if value is None:
        return ""
    if name == "receipt":
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if name.endswith("_at"):
        return iso_utc(value)
    return value


def write_csv(rows: Iterable[LedgerRow], out: IO[str]) -> int:
    """Write every column (times as ISO 8601 UTC, receipt as JSON); return the number of rows."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    n = 0
    for row in rows:
        writer.writerow([_csv_value(name, getattr(row, name)) for name in COLUMNS])
        n += 1
    return n
