"""``grok-mpp`` command line: chat, quote, wallet, local gateway and ledger.

Exit codes say what happened to the money: 0 success; 2 bad usage or configuration (nothing paid);
3 payment refused by policy or budget (nothing paid); 4 payment failed or outcome unknown (money
may have moved: see the ledger); 5 gateway or network error before any payment.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, is_dataclass
from decimal import Decimal
from typing import Any

from grok_mpp.errors import (
    ConfigurationError,
    GatewayConnectionError,
    GrokMPPError,
    InsufficientFundsError,
    InvalidRequestError,
    PaymentError,
    PaymentRefusedError,
    UpstreamError,
)
from grok_mpp.ledger.model import LedgerError

EXIT_OK, EXIT_USAGE, EXIT_REFUSED, EXIT_PAYMENT, EXIT_GATEWAY = 0, 2, 3, 4, 5

ENDPOINTS = {
    "chat": "chat",
    "code-execution": "code_execution",
    "web-search": "web_search",
    "x-search": "x_search",
}


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _jsonable(asdict(value))
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _print(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    print(json.dumps(_jsonable(data), indent=2) if getattr(args, "json", False) else text)


def _client_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for name in ("base_url", "chain_id", "rpc_url", "max_price_usd", "ledger"):
        value = getattr(args, name, None)
        if value is not None:
            kwargs[name] = value
    if getattr(args, "budget_usd", None) is not None:
        # A one-shot command has no object life to scope a budget to: --budget-usd is the
        # ledger-wide total, exactly like GROK_MPP_BUDGET_USD (which it overrides).
        import os

        kwargs["environ"] = {**os.environ, "GROK_MPP_BUDGET_USD": args.budget_usd}
    return kwargs


def _request_fields(args: argparse.Namespace) -> dict[str, Any]:
    fields: dict[str, Any] = {"messages": [{"role": "user", "content": args.prompt}]}
    if args.system:
        fields["messages"].insert(0, {"role": "system", "content": args.system})
    if args.model:
        fields["model"] = args.model
    if args.max_tokens is not None:
        fields["max_tokens"] = args.max_tokens
    if args.temperature is not None:
        fields["temperature"] = args.temperature
    return fields


def cmd_chat(args: argparse.Namespace) -> int:
    from grok_mpp.gateway.client import GrokClient

    with GrokClient(**_client_kwargs(args)) as client:
        result = getattr(client, ENDPOINTS[args.endpoint])(**_request_fields(args))
    cost = result.cost
    lines = [result.text]
    if result.citations:
        lines.append("")
        lines.extend(f"[{i}] {c.url}" for i, c in enumerate(result.citations, 1))
    lines.append("")
    lines.append(
        f"-- {result.served_model} | {result.usage.input_tokens} in / {result.usage.output_tokens} out"
        f" | paid {cost.paid_usd} USD (amount {cost.amount_usd} + network fee {cost.fee_usd}; "
        f"estimated {cost.estimated_usd}) | tx {cost.tx_hash}"
    )
    data = {
        "text": result.text,
        "reasoning": result.reasoning,
        "model": result.served_model,
        "requested_model": result.requested_model,
        "citations": result.citations,
        "usage": result.usage,
        "cost": {**asdict(cost), "paid_usd": cost.paid_usd, "estimated_usd": cost.estimated_usd},
    }
    _print(args, data, "\n".join(lines))
    return EXIT_OK


def cmd_quote(args: argparse.Namespace) -> int:
    from grok_mpp.gateway import requests as req
    from grok_mpp.gateway.client import GrokClient

    kinds = {
        "chat": req.ChatRequest,
        "code-execution": req.CodeExecutionRequest,
        "web-search": req.WebSearchRequest,
        "x-search": req.XSearchRequest,
    }
    request = kinds[args.endpoint](**_request_fields(args))
    with GrokClient(**_client_kwargs(args)) as client:
        quote = client.quote(request)
    text = (
        f"{quote.endpoint}: the gateway asks {quote.amount_usd} USD (estimate {quote.estimate_usd} USD at list prices)"
        + ("" if quote.within_policy else f"\nwould be REFUSED: {quote.refusal}")
    )
    _print(args, {**asdict(quote), "amount_usd": quote.amount_usd, "estimate_usd": quote.estimate_usd}, text)
    return EXIT_OK


def cmd_wallet(args: argparse.Namespace) -> int:
    from grok_mpp.wallet import Wallet

    if args.wallet_command == "new":
        wallet = Wallet.create()
        data: dict[str, Any] = {"address": wallet.address}
        text = f"address: {wallet.address}"
        if args.keystore:
            import getpass
            import os

            if os.path.lexists(args.keystore):  # the file may hold a funded key: never overwrite it
                raise ConfigurationError(
                    f"{args.keystore} already exists; not overwriting a keystore",
                    hint="choose another path, or move the old file away first",
                )
            password = getpass.getpass("keystore password: ")
            if not password:
                raise ConfigurationError("an empty keystore password protects nothing", hint="enter a password")
            blob = json.dumps(wallet.encrypt(password)).encode()
            try:  # created exclusively, readable by the owner only (as geth and foundry do)
                fd = os.open(args.keystore, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except OSError as exc:
                raise ConfigurationError(f"cannot create keystore {args.keystore}: {exc.strerror}") from None
            with os.fdopen(fd, "wb") as handle:
                handle.write(blob)
            data["keystore"] = args.keystore
            text += f"\nkeystore written to {args.keystore} (set GROK_MPP_KEYSTORE and GROK_MPP_KEYSTORE_PASSWORD)"
        elif args.show_key:
            data["private_key"] = wallet.export_private_key()
            text += f"\nprivate key: {data['private_key']}\n(store it safely; anyone holding it can spend the funds)"
        else:
            text += "\n(key not shown: pass --show-key or --keystore PATH to keep it)"
        _print(args, data, text)
        return EXIT_OK
    wallet = Wallet.resolve()
    if args.wallet_command == "address":
        _print(args, {"address": wallet.address}, wallet.address)
        return EXIT_OK
    return _balance(args, wallet)


def _balance(args: argparse.Namespace, wallet: Any) -> int:
    import httpx

    from grok_mpp.chains import CHAINS
    from grok_mpp.config import Settings
    from grok_mpp.tempo.rpc import balance_of_body, quantity, rpc_result
    from grok_mpp.units import format_usd

    settings = Settings.resolve(**{k: v for k, v in _client_kwargs(args).items() if k in ("chain_id", "rpc_url")})
    if not settings.rpc_url:
        raise ConfigurationError("no RPC URL for this chain", hint="set TEMPO_RPC_URL or --rpc-url")
    chain = CHAINS.get(settings.chain_id)
    tokens = chain.tokens if chain else ()
    balances = {}
    try:
        rpc = httpx.URL(settings.rpc_url)
        where = f"{rpc.scheme}://{rpc.host}" if rpc.host else "?"  # no path/query: providers put API keys there
    except httpx.InvalidURL:
        where = "?"
    try:
        with httpx.Client(timeout=20) as http:
            for token in tokens:
                response = http.post(settings.rpc_url, json=balance_of_body(token.address, wallet.address))
                balances[token.symbol] = quantity(rpc_result(response.json()))
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:  # ProtocolError is a ValueError
        raise GatewayConnectionError(
            f"could not read balances from the Tempo RPC at {where}: {type(exc).__name__}",
            hint="check TEMPO_RPC_URL (or --rpc-url); nothing was paid",
        ) from None
    text = "\n".join([f"{wallet.address} on chain {settings.chain_id}"] + [f"  {s}: {format_usd(v)}" for s, v in balances.items()])
    _print(args, {"address": wallet.address, "chain_id": settings.chain_id, "balances": balances}, text)
    return EXIT_OK


def _add_client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", help="gateway base URL (GROK_MPP_BASE_URL)")
    parser.add_argument("--chain-id", type=int, help="chain to pay on (GROK_MPP_CHAIN_ID)")
    parser.add_argument("--rpc-url", help="Tempo JSON-RPC (TEMPO_RPC_URL)")
    parser.add_argument("--max-price-usd", help="refuse any payment above this (GROK_MPP_MAX_PER_CALL_USD)")
    parser.add_argument("--budget-usd", help="ledger-wide total budget (overrides GROK_MPP_BUDGET_USD)")
    parser.add_argument("--ledger", help="ledger path or DSN, or 'off' (GROK_MPP_LEDGER)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _add_prompt_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("prompt")
    parser.add_argument("--endpoint", choices=sorted(ENDPOINTS), default="chat")
    parser.add_argument("--model")
    parser.add_argument("--system")
    parser.add_argument("--max-tokens", type=int)
    parser.add_argument("--temperature", type=float)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grok-mpp", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="ask Grok (pays one call)")
    _add_prompt_options(chat)
    _add_client_options(chat)
    chat.set_defaults(func=cmd_chat)

    quote = sub.add_parser("quote", help="ask the gateway's price for a request without paying")
    _add_prompt_options(quote)
    _add_client_options(quote)
    quote.set_defaults(func=cmd_quote)

    wallet = sub.add_parser("wallet", help="wallet address, new key, balance")
    wallet_sub = wallet.add_subparsers(dest="wallet_command", required=True)
    new = wallet_sub.add_parser("new", help="create a key")
    new.add_argument("--show-key", action="store_true", help="print the private key")
    new.add_argument("--keystore", help="write an encrypted keystore to this path")
    new.add_argument("--json", action="store_true")
    for name in ("address", "balance"):
        p = wallet_sub.add_parser(name)
        _add_client_options(p)
    wallet.set_defaults(func=cmd_wallet)

    try:
        from grok_mpp.local.cli import add_local_commands
    except ImportError:  # pragma: no cover - partial installs
        pass
    else:
        add_local_commands(sub)
    try:
        from grok_mpp.ledger.cli import add_ledger_commands
    except ImportError:  # pragma: no cover
        pass
    else:
        add_ledger_commands(sub)
    return parser


def exit_code(exc: GrokMPPError) -> int:
    """The documented exit code for an error, decided by what happened to the money first.

    Whatever its class, an error after which money may have moved (``paid``: a garbage 2xx body
    after a settled payment, a ledger failure after sending, ...) exits 4, never 2/3/5, which
    promise that nothing was paid. Refusals before signing (policy, budget, insufficient funds) exit 3.
    """
    if exc.paid:
        return EXIT_PAYMENT
    if isinstance(exc, (ConfigurationError, InvalidRequestError, LedgerError)):  # a ledger that cannot be trusted
        return EXIT_USAGE
    if isinstance(exc, (PaymentRefusedError, InsufficientFundsError)):
        return EXIT_REFUSED
    if isinstance(exc, (PaymentError, UpstreamError)):
        return EXIT_PAYMENT
    return EXIT_GATEWAY


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except GrokMPPError as exc:
        code = exit_code(exc)
        label = {
            EXIT_USAGE: "error",
            EXIT_REFUSED: "refused (nothing paid)",
            EXIT_PAYMENT: "payment problem (money may have moved)",
        }.get(code, "gateway error")
        print(f"{label}: {exc}", file=sys.stderr)
        tx_hash = getattr(exc, "tx_hash", None)
        if code == EXIT_PAYMENT and tx_hash and tx_hash not in str(exc):
            print(f"transaction: {tx_hash} (see `grok-mpp ledger list`; `grok-mpp ledger reconcile`)", file=sys.stderr)
        return code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
