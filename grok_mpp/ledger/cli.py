"""``grok-mpp ledger ...``: spend reports, CSV export, reconciliation and shared budgets.

    grok-mpp ledger [summary] [--by day|model|endpoint] [--since YYYY-MM-DD] [--json]
    grok-mpp ledger list [--state STATE] [--json]
    grok-mpp ledger export --csv PATH
    grok-mpp ledger reconcile [--rpc-url URL] [--json]
    grok-mpp ledger budget set [--total-usd X] [--per-hour-usd Y] [--per-day-usd Z] [--per-call-usd W] [--clear]
    grok-mpp ledger budget show [--json]

Every command takes ``--ledger PATH_OR_DSN`` (default: GROK_MPP_LEDGER, else the user data dir).
Handlers take the parsed namespace and return an exit code, so tests call them directly.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from typing import IO, Any

from grok_mpp.errors import ConfigurationError
from grok_mpp.ledger.base import LedgerBase
from grok_mpp.ledger.factory import open_ledger
from grok_mpp.ledger.model import STATES, Budget
from grok_mpp.ledger.report import SUMMARY_KEYS, iso_utc
from grok_mpp.units import format_usd, usd_to_base_units

EXIT_OK = 0
EXIT_NETWORK = 5  # same meaning as in grok_mpp.cli: a network error, rows left as they were
UNSET_WORDS = frozenset({"none", "off", "unlimited", "-"})


def _out(args: argparse.Namespace) -> IO[str]:
    return getattr(args, "out", None) or sys.stdout


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, indent=2, sort_keys=True) if getattr(args, "json", False) else text, file=_out(args))


def _open(args: argparse.Namespace) -> LedgerBase:
    return open_ledger(getattr(args, "ledger", None), scope=getattr(args, "scope", None) or "default")


def _since(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(f"--since must be a date like 2025-01-31, got {value!r}") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def cmd_summary(args: argparse.Namespace) -> int:
    by = getattr(args, "by", None) or "day"
    with _open(args) as ledger:
        groups = ledger.summary(by=by, since=_since(getattr(args, "since", None)))
        totals = ledger.totals(since=_since(getattr(args, "since", None)))
        location = ledger.location
    lines = [f"{by:<24} {'payments':>8} {'paid USD':>12} {'pending USD':>12} {'released USD':>13}"]
    for g in groups:
        lines.append(
            f"{g[by]:<24} {g['payments']:>8} {format_usd(g['paid']):>12} {format_usd(g['pending']):>12} "
            f"{format_usd(g['released']):>13}"
        )
    lines.append(
        f"total: {format_usd(totals['paid'])} USD paid in {totals['count']} payments, "
        f"{format_usd(totals['pending'])} USD pending ({location})"
    )
    _emit(args, {"by": by, "groups": groups, "totals": totals, "ledger": location}, "\n".join(lines))
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    state = getattr(args, "state", None)
    with _open(args) as ledger:
        rows = ledger.rows(state=state, since=_since(getattr(args, "since", None)))
    data = [row.as_dict() for row in rows]
    lines = [
        f"{iso_utc(r.created_at)}  {r.state:<15} {format_usd(r.amount):>10}  {r.endpoint:<22} "
        f"{r.model or '-':<18} {r.tx_hash or ''}"
        for r in rows
    ]
    _emit(args, data, "\n".join(lines) if lines else "no payment attempts recorded")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    with _open(args) as ledger:
        try:
            count = ledger.to_csv(args.csv, since=_since(getattr(args, "since", None)))
        except OSError as exc:  # a missing directory, no permission, a read-only disk: say so, no traceback
            raise ConfigurationError(f"cannot write {args.csv}: {exc.strerror or exc}") from None
    _emit(args, {"rows": count, "path": str(args.csv)}, f"wrote {count} rows to {args.csv}")
    return EXIT_OK


def cmd_reconcile(args: argparse.Namespace) -> int:
    rpc_url = getattr(args, "rpc_url", None) or os.environ.get("TEMPO_RPC_URL") or None
    with _open(args) as ledger:
        result = ledger.reconcile(rpc_url)
    text = (
        f"checked {result.checked} open rows: {len(result.settled)} settled on chain, "
        f"{len(result.released)} released, {len(result.pending)} still open"
    )
    if result.errors:
        text += "\n" + "\n".join(f"error: {e}" for e in result.errors)
    _emit(args, result.as_dict(), text)
    return EXIT_NETWORK if result.errors else EXIT_OK


def _limit(value: str | None, name: str, current: int | None) -> int | None:
    if value is None:
        return current
    if value.strip().lower() in UNSET_WORDS:
        return None
    return usd_to_base_units(value, name=name)


def _budget_text(budget: Budget | None, scope: str) -> str:
    if budget is None or budget.unlimited:
        return f"budget '{scope}': unlimited"
    parts = [
        f"{label} {format_usd(value)} USD"
        for label, value in (
            ("per call", budget.per_call), ("total", budget.total),
            ("per hour", budget.per_hour), ("per day", budget.per_day),
        )
        if value is not None
    ]
    return f"budget '{scope}': " + ", ".join(parts)


def cmd_budget_set(args: argparse.Namespace) -> int:
    scope = getattr(args, "scope", None) or "default"
    with _open(args) as ledger:
        current = None if args.clear else ledger.get_budget(scope)
        base = current or Budget()
        budget = Budget(
            per_call=_limit(args.per_call_usd, "--per-call-usd", base.per_call),
            total=_limit(args.total_usd, "--total-usd", base.total),
            per_hour=_limit(args.per_hour_usd, "--per-hour-usd", base.per_hour),
            per_day=_limit(args.per_day_usd, "--per-day-usd", base.per_day),
        )
        ledger.set_budget(None if budget.unlimited else budget, scope)
        committed = ledger.committed()
    _emit(
        args,
        {"scope": scope, "budget": budget.as_dict(), "committed": committed.total},
        _budget_text(budget, scope) + f"; {format_usd(committed.total)} USD committed so far",
    )
    return EXIT_OK


def cmd_budget_show(args: argparse.Namespace) -> int:
    scope = getattr(args, "scope", None) or "default"
    with _open(args) as ledger:
        budget = ledger.get_budget(scope)
        committed = ledger.committed()
    data = {
        "scope": scope,
        "budget": budget.as_dict() if budget else None,
        "committed": {"total": committed.total, "last_hour": committed.last_hour, "last_day": committed.last_day},
    }
    text = _budget_text(budget, scope) + (
        f"\ncommitted: {format_usd(committed.total)} USD total, {format_usd(committed.last_hour)} USD in the "
        f"last hour, {format_usd(committed.last_day)} USD in the last day"
    )
    _emit(args, data, text)
    return EXIT_OK


def _common() -> argparse.ArgumentParser:
    # SUPPRESS defaults: an option given before the subcommand is not reset by the subparser.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--ledger", default=argparse.SUPPRESS, help="ledger path or postgresql:// DSN (GROK_MPP_LEDGER)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    common.add_argument("--since", default=argparse.SUPPRESS, help="only rows created on or after this UTC date")
    return common


def add_ledger_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``ledger`` and its subcommands to the main ``grok-mpp`` parser's subparsers."""
    common = _common()
    by = argparse.ArgumentParser(add_help=False)
    by.add_argument("--by", choices=SUMMARY_KEYS, default=argparse.SUPPRESS, help="group by (default: day)")
    scope = argparse.ArgumentParser(add_help=False)
    scope.add_argument("--scope", default=argparse.SUPPRESS, help="budget scope (default: 'default')")

    ledger = subparsers.add_parser("ledger", parents=[common, by], help="spend ledger: reports, export, budgets")
    ledger.set_defaults(func=cmd_summary)
    sub = ledger.add_subparsers(dest="ledger_command")

    sub.add_parser("summary", parents=[common, by], help="spend by day, model or endpoint").set_defaults(
        func=cmd_summary
    )
    listing = sub.add_parser("list", parents=[common], help="every payment attempt")
    listing.add_argument("--state", choices=STATES)
    listing.set_defaults(func=cmd_list)

    export = sub.add_parser("export", parents=[common], help="export rows as CSV")
    export.add_argument("--csv", required=True, metavar="PATH")
    export.set_defaults(func=cmd_export)

    rec = sub.add_parser("reconcile", parents=[common], help="resolve unknown outcomes from the chain")
    rec.add_argument("--rpc-url", help="Tempo JSON-RPC (TEMPO_RPC_URL; default: each chain's public RPC)")
    rec.set_defaults(func=cmd_reconcile)

    budget = sub.add_parser("budget", help="shared budgets stored in the ledger")
    budget_sub = budget.add_subparsers(dest="budget_command", required=True)
    set_ = budget_sub.add_parser("set", parents=[common, scope], help="set limits ('none' removes one)")
    for flag in ("--total-usd", "--per-hour-usd", "--per-day-usd", "--per-call-usd"):
        set_.add_argument(flag, metavar="USD")
    set_.add_argument("--clear", action="store_true", help="remove limits not given here")
    set_.set_defaults(func=cmd_budget_set)
    show = budget_sub.add_parser("show", parents=[common, scope], help="current limits and committed spend")
    show.set_defaults(func=cmd_budget_show)
    return ledger
