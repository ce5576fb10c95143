"""Helpers of the reliability tier: spy signer, credential capture, secret scanning.

Everything here observes the real code paths (a real wallet signs, a real gateway on loopback
verifies and settles, the real SQLite ledger records); the spies only count and remember.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from grok_mpp.wallet import Wallet


class SpyWallet:
    """A real :class:`Wallet` whose ``sign_hash`` calls are counted (thread-safe).

    Duck-typed where the client expects a Wallet: ``address``, ``sign_hash`` and
    ``export_private_key`` (so secret scans know the key without the spy ever printing it).
    """

    def __init__(self, wallet: Wallet) -> None:
        self._wallet = wallet
        self.address = wallet.address
        self.signatures: list[bytes] = []
        self._lock = threading.Lock()

    def sign_hash(self, digest: bytes) -> bytes:
        signature = self._wallet.sign_hash(digest)
        with self._lock:
            self.signatures.append(signature)
        return signature

    def export_private_key(self) -> str:
        return self._wallet.export_private_key()

    @property
    def sign_count(self) -> int:
        with self._lock:
            return len(self.signatures)

    def __repr__(self) -> str:
        return f"SpyWallet({self.address})"


@dataclass
class CredentialTap:
    """httpx request hook remembering every ``Authorization: Payment`` value that left the client."""

    credentials: list[str] = field(default_factory=list)
    requests: int = 0

    def __call__(self, request: httpx.Request) -> None:
        self.requests += 1
        value = request.headers.get("authorization")
        if value and value.lower().startswith("payment "):
            self.credentials.append(value)

    async def async_hook(self, request: httpx.Request) -> None:
        self(request)


def secret_needles(wallet: SpyWallet, credentials: Iterable[str] = ()) -> list[str]:
    """Substrings that must never appear anywhere: the key (with and without 0x, any case),
    each full credential, its base64url token, and each raw signature hex."""
    key = wallet.export_private_key()
    needles = {key, key[2:], key[2:].upper()}
    for credential in credentials:
        token = credential.split(" ", 1)[1]
        needles.update({credential, token, token[:48]})
    for signature in wallet.signatures:
        needles.add(signature.hex())
        needles.add(signature[:32].hex())  # r alone
    return sorted(needles, key=len)


def _walk_exception(exc: BaseException, seen: set[int]) -> Iterator[str]:
    """Every text an exception can show: str, repr, args, context dict, attributes, the chain."""
    if id(exc) in seen:
        return
    seen.add(id(exc))
    yield str(exc)
    yield repr(exc)
    yield repr(exc.args)
    for name, value in vars(exc).items():
        if name in ("response", "__traceback__"):
            continue
        yield f"{name}={value!r}"
    response = getattr(exc, "response", None)
    if isinstance(response, httpx.Response):
        yield repr(response)
        yield repr(dict(response.headers))
        yield repr(dict(response.request.headers))
        yield response.text
    request = getattr(exc, "_request", None) if isinstance(exc, httpx.HTTPError) else None
    if isinstance(request, httpx.Request):  # the request a transport error carries
        yield repr(dict(request.headers))
    for linked in (exc.__cause__, exc.__context__):
        if linked is not None:
            yield from _walk_exception(linked, seen)


def exception_texts(exc: BaseException) -> list[str]:
    return list(_walk_exception(exc, set()))


def assert_no_secret(texts: Iterable[str], needles: Iterable[str], where: str) -> None:
    haystack = "\n".join(texts)
    for needle in needles:
        assert needle not in haystack, f"secret material ({len(needle)} chars) found in {where}"


def jsonish(value: Any) -> str:
    """repr + best-effort JSON of anything a framework hands to a callback."""
    try:
        dumped = json.dumps(value, default=repr)
    except (TypeError, ValueError):
        dumped = ""
    return repr(value) + "\n" + dumped


class HostileServer:
    """A loopback HTTP server that answers every request with a scripted 402 (or redirect).

    ``answer`` is ``(status, [(header, value), ...])``; every ``Authorization`` it receives is
    counted, so a test can show that no credential ever reached a hostile server.
    """

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.answer: tuple[int, list[tuple[str, str]]] = (402, [])
        self.credentials_seen = 0
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                with server._lock:
                    server.requests += 1
                    if self.headers.get("Authorization"):
                        server.credentials_seen += 1
                status, headers = server.answer
                body = b'{"type":"https://paymentauth.org/problems/payment-required","status":402}'
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/problem+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET = _serve  # noqa: N815 - stdlib names

        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
