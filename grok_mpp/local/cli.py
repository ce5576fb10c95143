"""``grok-mpp local serve``: run the local gateway in the foreground for demos and manual testing.

Wired into the main ``grok-mpp`` command by :func:`add_local_commands`. Everything it prints is safe
to share except the ``--new-wallet`` key, which is a throwaway key for the in-process test chain and
is labelled as such.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable
from typing import TextIO

from grok_mpp.chains import TEMPO_MAINNET, USDCE, token_symbol
from grok_mpp.errors import GrokMPPError
from grok_mpp.units import format_usd, usd_to_base_units

from .faults import FAULT_ENV_VAR, parse_fault
from .script import Script
from .server import LocalGateway


def _fund_spec(value: str) -> tuple[str, int]:
    address, sep, usd = value.partition("=")
    if not sep or not address.startswith("0x") or len(address) != 42:
        raise argparse.ArgumentTypeError(f"expected ADDRESS=USD (e.g. 0xabc...=5), got {value!r}")
    try:
        return address, usd_to_base_units(usd.strip())
    except GrokMPPError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def add_local_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add ``local serve`` to a ``grok-mpp`` sub-command set; handlers are in ``func``."""
    local = subparsers.add_parser("local", help="local Locus-compatible gateway (test money, loopback only)")
    sub = local.add_subparsers(dest="local_command", required=True)
    serve = sub.add_parser("serve", help="serve the Grok routes with MPP payments on 127.0.0.1 until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8402, help="port (0 = any free port; default 8402)")
    serve.add_argument("--chain-id", type=int, default=TEMPO_MAINNET, help="chain id in challenges (default 4217)")
    serve.add_argument("--currency", default=USDCE, help="TIP-20 token charged (default USDC.e)")
    serve.add_argument("--recipient", default=None, help="address that receives payments (default: fresh)")
    serve.add_argument("--fee-payer", action="store_true", help="sponsor gas (feePayer: true challenges)")
    serve.add_argument(
        "--fault", default=None, help=f"inject a fault into every paid call, e.g. upstream-502 (env {FAULT_ENV_VAR})"
    )
    serve.add_argument("--settle", default="local", help="'local' (in-process chain, default) or a Tempo JSON-RPC URL")
    serve.add_argument(
        "--fund",
        action="append",
        type=_fund_spec,
        default=[],
        metavar="ADDRESS=USD",
        help="credit an address with test money (repeatable)",
    )
    serve.add_argument(
        "--script",
        default=None,
        metavar="FILE",
        help="answer from a script of canned answers (JSON, or YAML with PyYAML); see grok_mpp.local.script",
    )
    serve.add_argument(
        "--fallback",
        choices=("error", "synthetic"),
        default=None,
        help="with --script: unscripted calls get HTTP 409 before payment (error) or the synthetic model",
    )
    serve.add_argument("--new-wallet", action="store_true", help="create and fund a throwaway wallet, print its key")
    serve.add_argument("--new-wallet-usd", default="5", help="balance of the --new-wallet wallet in USD (default 5)")
    serve.add_argument(
        "--replay", action="append", default=[], metavar="PATH",
        help="replay recorded cassettes (files or directories): recorded prices and bodies, real payments",
    )  # fmt: skip
    serve.set_defaults(func=cmd_local_serve)
    record = sub.add_parser(
        "record-checklist",
        help="record GET /openapi.json and one paid call per route as cassettes (spends real money on a real gateway)",
    )
    record.add_argument("--out", required=True, help="directory for the cassettes")
    record.add_argument("--base-url", default=None, help="gateway to record (default GROK_MPP_BASE_URL / Locus)")
    record.set_defaults(func=cmd_record_checklist)
    return local


def cmd_record_checklist(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """Record the checklist with the key and settings from the environment (GROK_MPP_PRIVATE_KEY, ...)."""
    from .cassettes import record_checklist

    out = out or sys.stdout
    try:
        written = record_checklist({"base_url": args.base_url} if args.base_url else {}, args.out)
    except GrokMPPError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"  wrote {path}", file=out)
    failed = [p for p in written if p.name.startswith("failed-")]
    return 1 if failed else 0


def cmd_local_serve(
    args: argparse.Namespace, *, out: TextIO | None = None, wait: Callable[[], None] | None = None
) -> int:
    """Start the gateway, print how to use it, block until Ctrl-C (``wait`` replaces that in tests)."""
    import os

    out = out or sys.stdout
    fault = args.fault if args.fault is not None else os.environ.get(FAULT_ENV_VAR)
    try:
        script = Script.load(args.script) if getattr(args, "script", None) else None
        if script is not None and getattr(args, "fallback", None):
            script.fallback = args.fallback
        price = None
        if getattr(args, "replay", None):
            from .cassettes import CassettePlayer, load_cassettes

            if script is not None:
                raise GrokMPPError("use either --script or --replay, not both")
            player = CassettePlayer(load_cassettes(args.replay))
            script, price = player.script, player.price
        gateway = LocalGateway(
            args.host,
            args.port,
            chain_id=args.chain_id,
            currency=args.currency,
            recipient=args.recipient,
            settle=args.settle,
            fee_payer=args.fee_payer,
            default_fault=parse_fault(fault) if fault else None,
            script=script,
            price=price,
        )
        gateway.start()
    except (GrokMPPError, ValueError, OSError) as exc:
        print(f"error: cannot start the local gateway: {exc}", file=sys.stderr)
        return 2
    try:
        print("grok-mpp local gateway (emulates Locus; test money only, nothing here is real)", file=out)
        print(f"  base URL : {gateway.url}   (GROK_MPP_BASE_URL)", file=out)
        print(f"  RPC URL  : {gateway.rpc_url}   (TEMPO_RPC_URL)", file=out)
        print(f"  chain    : {gateway.chain_id}", file=out)
        print(f"  currency : {token_symbol(gateway.currency)} {gateway.currency}", file=out)
        print(f"  recipient: {gateway.recipient}", file=out)
        if gateway.script is not None:
            print(f"  script   : {args.script} ({gateway.script.remaining()} queued answers, "
                  f"fallback {gateway.script.fallback})", file=out)  # fmt: skip
        if gateway.default_fault is not None:
            print(f"  fault    : {gateway.default_fault.header_value()} (every paid call)", file=out)
        for address, units in args.fund:
            gateway.fund(address, units)
            print(f"  funded   : {address} with {format_usd(units)} USD", file=out)
        if args.new_wallet:
            wallet = gateway.new_funded_wallet(args.new_wallet_usd)
            print(f"  wallet   : {wallet.address} funded with {args.new_wallet_usd} USD", file=out)
            print(
                f"  key      : {wallet.export_private_key()}   <- local test key, worthless: never fund it on a real chain",
                file=out,
            )
        print("Ctrl-C to stop.", file=out, flush=True)
        if wait is not None:
            wait()
        else:
            threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        gateway.stop()
    return 0
