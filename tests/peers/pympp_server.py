"""pympp (PyPI 0.16.0) tempo/charge peer for the grok-mpp interop tier.

Runs ONLY in the separate ``.venv-peers`` venv (pympp's ``[tempo]`` extra pins web3, eth-abi<6 and
friends that must never leak into the project venv), so this file imports nothing from grok_mpp.

Two modes:

``serve`` (default)
    A Starlette app under uvicorn on 127.0.0.1 that charges every request through pympp's ``Mpp``
    engine against a local anvil ``--network tempo`` chain and answers ``{"ok": true}`` once paid.
    ``?amount=<usd>`` and ``?expires_in=<seconds>`` override the charge per request (the challenge
    is HMAC-bound, so the paid retry must repeat the same query). Prints ``READY <port>`` on stdout
    once it accepts connections.

``validate``
    Offline verifier: reads JSON lines on stdin, answers one JSON line per request on stdout.
    ``{"op": "challenge", "amount": "0.006", "url": ..., "method": "POST", "expires_in": 300}``
    returns ``{"www_authenticate": [...]}``; ``{"op": "validate", "authorization": "Payment ..."}``
    returns ``{"valid": true, "payer": ..., "mode": ...}`` or ``{"valid": false, "error": <class>,
    "message": ...}``. Challenges are stateless (HMAC over realm/secret), so the two ops work across
    processes as long as REALM/SECRET/RECIPIENT/CHAIN_ID/CURRENCY match. No RPC is made: the RPC URL
    defaults to a dead loopback port.

Configuration (environment, same names as mppx_server.mjs): PORT (0 = any free port),
TEMPO_RPC_URL, CHAIN_ID (42431), CURRENCY (pathUSD), RECIPIENT, AMOUNT (USD decimal string,
"0.006"), REALM ("pympp.test"), SECRET.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from datetime import timedelta
from typing import Any

import httpx
import uvicorn
from mpp.errors import PaymentError
from mpp.methods.tempo import server as tempo
from mpp.server import Mpp, PaymentRequired
from mpp.server import Request as MppRequest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PATHUSD = "0x20c0000000000000000000000000000000000000"
DEAD_RPC = "http://127.0.0.1:9"


class AnvilCompat(httpx.AsyncBaseTransport):
    """Drops the timeout parameter pympp sends with ``eth_sendRawTransactionSync``.

    pympp calls ``eth_sendRawTransactionSync(raw, timeout_ms)``; anvil 1.7.1 only accepts the
    one-parameter form and rejects the call ("invalid type: integer ..., expected bytes"), which
    pympp would surface as a 500. Rewriting the body in the HTTP transport keeps pympp unpatched.
    """

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()

    @staticmethod
    def _fix(call: Any) -> Any:
        if isinstance(call, dict) and call.get("method") == "eth_sendRawTransactionSync":
            params = call.get("params") or []
            call = {**call, "params": params[:1]}
        return call

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            body = await request.aread()
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
            if payload is not None:
                fixed = [self._fix(c) for c in payload] if isinstance(payload, list) else self._fix(payload)
                if fixed != payload:
                    content = json.dumps(fixed).encode()
                    headers = [(k, v) for k, v in request.headers.raw if k.lower() != b"content-length"]
                    headers.append((b"content-length", str(len(content)).encode()))
                    request = httpx.Request(request.method, request.url, headers=headers, content=content)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _config(rpc_default: str | None) -> dict[str, Any]:
    rpc_url = os.environ.get("TEMPO_RPC_URL") or rpc_default
    recipient = os.environ.get("RECIPIENT")
    if not rpc_url or not recipient:
        sys.exit("pympp_server: TEMPO_RPC_URL and RECIPIENT are required")
    return {
        "rpc_url": rpc_url,
        "recipient": recipient,
        "chain_id": int(os.environ.get("CHAIN_ID", "42431")),
        "currency": os.environ.get("CURRENCY", PATHUSD),
        "amount": os.environ.get("AMOUNT", "0.006"),
        "realm": os.environ.get("REALM", "pympp.test"),
        "secret": os.environ.get("SECRET", "grok-mpp-interop-pympp-secret-key-0123456789"),
    }


def build_mpp(cfg: dict[str, Any]) -> Mpp:
    methods = tempo.charge(
        recipient=cfg["recipient"],
        chain_id=cfg["chain_id"],
        rpc_url=cfg["rpc_url"],
        currencies=[cfg["currency"]],
        http_client=httpx.AsyncClient(transport=AnvilCompat(), timeout=30.0),
    )
    return Mpp(methods=methods, realm=cfg["realm"], secret_key=cfg["secret"])


def _route_options(amount: str, expires_in: str | None) -> dict[str, Any]:
    options: dict[str, Any] = {"amount": amount}
    if expires_in is not None:
        options["expires_in"] = timedelta(seconds=float(expires_in))
    return options


def _to_starlette(resp: Any) -> Response:
    out = Response(content=resp.body or b"", status_code=resp.status)
    out.raw_headers = [(k.lower(), v) for k, v in resp.headers.raw if k.lower() not in (b"content-length",)] + [
        (b"content-length", str(len(resp.body or b"")).encode())
    ]
    return out


def make_app(mpp: Mpp, default_amount: str) -> Starlette:
    async def paid(request: Request) -> Response:
        body = await request.body()
        mpp_request = MppRequest(
            method=request.method,
            url=str(request.url),
            headers=dict(request.headers),
            body=body or None,
        )
        options = _route_options(
            request.query_params.get("amount", default_amount), request.query_params.get("expires_in")
        )
        try:
            result = await mpp.charge(**options)(mpp_request)
        except PaymentError as error:
            # pympp re-raises failures it must not answer with a retryable 402 (500 internal
            # payment error: the payment may have landed) for the web framework to render; do
            # what a framework integration does and send its problem details.
            return JSONResponse(
                error.to_problem_details(),
                status_code=error.status,
                media_type="application/problem+json",
                headers={"Cache-Control": "no-store"},
            )
        if isinstance(result, PaymentRequired):
            return _to_starlette(result.challenge)
        return result.with_receipt(JSONResponse({"ok": True}))

    methods = ["GET", "POST", "PUT", "DELETE", "PATCH"]
    return Starlette(routes=[Route("/{path:path}", paid, methods=methods)])


async def serve(cfg: dict[str, Any], port: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    app = make_app(build_mpp(cfg), cfg["amount"])
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.02)
    if server.started:
        print(f"READY {sock.getsockname()[1]}", flush=True)
    await task


async def validate_loop(cfg: dict[str, Any]) -> None:
    mpp = build_mpp(cfg)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            msg = json.loads(line)
            out = await _validate_one(mpp, cfg, msg)
        except Exception as error:  # report every failure as data; the caller asserts on it
            out = {"valid": False, "error": type(error).__name__, "message": str(error)}
        print(json.dumps(out), flush=True)


async def _validate_one(mpp: Mpp, cfg: dict[str, Any], msg: dict[str, Any]) -> dict[str, Any]:
    op = msg.get("op", "validate")
    if op == "challenge":
        expires_in = msg.get("expires_in")
        options = _route_options(str(msg.get("amount", cfg["amount"])), None if expires_in is None else str(expires_in))
        request = MppRequest(method=msg.get("method", "POST"), url=msg.get("url", "http://127.0.0.1/paid"))
        result = await mpp.charge(**options)(request)
        assert isinstance(result, PaymentRequired)
        return {
            "status": result.status,
            "www_authenticate": result.challenge.headers.get_list("www-authenticate"),
        }
    if op == "validate":
        validation = await mpp.validate_credential(msg["authorization"], intent="charge")
        details = validation.details if isinstance(validation.details, dict) else {}
        return {
            "valid": True,
            "payer": validation.payer,
            "mode": details.get("mode"),
            "request": validation.request,
        }
    raise ValueError(f"unknown op {op!r}")


def main(argv: list[str]) -> None:
    mode = argv[1] if len(argv) > 1 else "serve"
    if mode == "serve":
        asyncio.run(serve(_config(None), int(os.environ.get("PORT", "0"))))
    elif mode == "validate":
        asyncio.run(validate_loop(_config(DEAD_RPC)))
    else:
        sys.exit(f"usage: {argv[0]} [serve|validate]")


if __name__ == "__main__":
    main(sys.argv)
