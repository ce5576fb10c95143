"""A small, strict MPP server on loopback for the payment-core tests.

It issues tempo/charge challenges and verifies credentials with the project's own decoders (the
local gateway and the reference peers cover interop; this one exists so the core's flow is tested
against real HTTP without depending on them). ``behaviour`` selects what happens after a valid
payment: "ok", "5xx", "second-402", "drop", "reject", "wrong-receipt".
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from grok_mpp.mpp.challenge import format_challenge
from grok_mpp.mpp.credential import parse_credential
from grok_mpp.mpp.encoding import encode_b64_json
from grok_mpp.mpp.receipt import format_receipt
from grok_mpp.tempo.memo import memo_matches
from grok_mpp.tempo.tip20 import decode_transfer
from grok_mpp.tempo.transaction import decode_transaction

RECIPIENT = "0x060b0fb0be9d90557577b3aee480711067149ff0"


@dataclass
class ServerState:
    amount: int = 6000
    currency: str = "0x20c000000000000000000000b9537d11c60e8b50"
    chain_id: int = 4217
    realm: str = "127.0.0.1"
    expires_in: float = 300.0
    fee_payer: bool = False
    behaviour: str = "ok"
    extra_request: dict[str, Any] = field(default_factory=dict)
    issued: dict[str, dict[str, str]] = field(default_factory=dict)
    bodies: list[bytes] = field(default_factory=list)
    paid: list[str] = field(default_factory=list)
    credentials_seen: int = 0
    headers_seen: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def challenge(self) -> dict[str, str]:
        with self.lock:
            cid = f"ch-{len(self.issued) + 1}-{time.monotonic_ns()}"
            details: dict[str, Any] = {"chainId": self.chain_id}
            if self.fee_payer:
                details["feePayer"] = True
            request = {
                "amount": str(self.amount),
                "currency": self.currency,
                "recipient": RECIPIENT,
                "methodDetails": details,
                **self.extra_request,
            }
            expires = (datetime.now(UTC) + timedelta(seconds=self.expires_in)).isoformat(timespec="milliseconds")
            params = {
                "id": cid,
                "realm": self.realm,
                "method": "tempo",
                "intent": "charge",
                "request": encode_b64_json(request, canonical=True),
                "expires": expires.replace("+00:00", "Z"),
            }
            self.issued[cid] = params
            return params


def make_handler(state: ServerState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output clean
            return

        def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

        def _challenge(self, detail: str = "payment required") -> None:
            self._send(
                402,
                {"type": "https://paymentauth.org/problems/payment-required", "status": 402, "detail": detail},
                {"WWW-Authenticate": format_challenge(state.challenge()), "Cache-Control": "no-store"},
            )

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with state.lock:
                state.bodies.append(body)
                state.headers_seen.append({k.lower(): v for k, v in self.headers.items()})
            auth = self.headers.get("Authorization")
            if not auth:
                return self._challenge()
            with state.lock:
                state.credentials_seen += 1
            try:
                cred = parse_credential(auth)
                echo = cred.challenge
                issued = state.issued.get(echo.get("id", ""))
                assert issued is not None and echo == issued, "challenge echo differs"
                raw = bytes.fromhex(cred.payload["signature"][2:])
                decoded = decode_transaction(raw)
                (call,) = decoded.tx.calls
                transfer = decode_transfer(call.data)
                assert call.to == state.currency and transfer.to == RECIPIENT and transfer.amount == state.amount
                assert transfer.memo is not None and memo_matches(transfer.memo, echo["id"], echo["realm"])
                assert decoded.tx.chain_id == state.chain_id
                assert cred.source == f"did:pkh:eip155:{state.chain_id}:{decoded.signed.sender}" or (
                    cred.source and cred.source.lower().endswith(decoded.signed.sender)
                )
                tx_hash = decoded.signed.tx_hash()
                with state.lock:
                    if echo["id"] in state.paid:
                        raise AssertionError("challenge already used")
                    state.paid.append(echo["id"])
            except Exception as exc:  # any verification failure -> 402 verification-failed
                return self._send(
                    402,
                    {"type": "https://paymentauth.org/problems/verification-failed", "status": 402, "detail": str(exc)},
                    {"WWW-Authenticate": format_challenge(state.challenge())},
                )
            if state.behaviour == "5xx":
                return self._send(500, {"error": "boom"})
            if state.behaviour == "second-402":
                return self._challenge("pay again")
            if state.behaviour == "reject":
                return self._send(403, {"type": "https://paymentauth.org/problems/verification-failed", "status": 403})
            if state.behaviour == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
                return None
            reference = "0x" + "ab" * 32 if state.behaviour == "wrong-receipt" else tx_hash
            receipt = format_receipt(reference=reference, timestamp=datetime.now(UTC).isoformat())
            return self._send(200, {"ok": True, "body": body.decode()}, {"Payment-Receipt": receipt})

    return Handler


class MPPTestServer:
    def __init__(self, state: ServerState | None = None) -> None:
        self.state = state or ServerState()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self.state))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> MPPTestServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
