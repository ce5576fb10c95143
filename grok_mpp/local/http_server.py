"""The local gateway's HTTP layer: a threading HTTP/1.1 server that reads bodies defensively and
writes the :class:`Reply` that :meth:`grok_mpp.local.server.LocalGateway.handle` decided.

Split from :mod:`grok_mpp.local.server` so the protocol logic there reads without socket code.
Hardening lives here: a Content-Length must be ASCII digits (a negative one used to hold a thread for
60 s), chunked bodies are bounded by ``MAX_BODY_BYTES``, an IPv6 loopback host binds an IPv6
socket, and a client hanging up is logged at debug level, not as a traceback.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from .challenges import problem
from .validation import MAX_BODY_BYTES

logger = logging.getLogger("grok_mpp.local")


@dataclass(frozen=True, slots=True)
class Reply:
    """What the HTTP layer writes. ``drop`` closes the connection without any response."""

    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    drop: bool = False


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


PROBLEM_JSON = "application/problem+json"


def problem_reply(status: int, code: str, detail: str) -> Reply:
    """An ``application/problem+json`` reply."""
    return Reply(status, _json(problem(code, detail, status=status)), (("Content-Type", PROBLEM_JSON),))


class Gateway(Protocol):
    """What the HTTP layer needs of :class:`~grok_mpp.local.server.LocalGateway` (no import back up)."""

    _lock: Any
    _connections: set[Any]

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes, client_host: str) -> Reply: ...


class _BodyError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        self.detail = detail
        super().__init__(detail)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up is normal traffic: one debug line, no traceback on stderr."""
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError | socket.timeout):
            logger.debug("client %s went away: %s", client_address, type(exc).__name__)
            return
        logger.exception("local gateway connection error from %s", client_address)


class _Server6(_Server):
    address_family = socket.AF_INET6


def _make_handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        pass

    Handler.gateway = gateway
    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "grok-mpp-local/1"
    timeout = 60  # idle keep-alive connections give their thread back after a minute
    gateway: Gateway

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in separate writes; without TCP_NODELAY every exchange waits
        # ~40 ms for the peer's delayed ACK (measured in bench/), which dwarfs the real work.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.gateway._lock:
            self.gateway._connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.gateway._lock:
                self.gateway._connections.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        # Request lines only (never headers): credentials travel in Authorization.
        logger.debug("%s " + format, self.address_string(), *args)

    def _read_body(self) -> bytes:
        """The request body; :class:`_BodyError` (400 / 413) when it cannot or must not be read."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline(64).split(b";")[0].strip() or b"0", 16)
                if size < 0:
                    raise _BodyError(400, "negative chunk size")
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY_BYTES:
                    raise _BodyError(413, "request body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(8)
        raw = (self.headers.get("Content-Length") or "0").strip()
        # Digits only: int() would accept "-5" (then read() waits for EOF, holding the thread) or "+5".
        if not raw.isdigit() or not raw.isascii():
            raise _BodyError(400, f"invalid Content-Length {raw[:40]!r}")
        length = int(raw)
        if length > MAX_BODY_BYTES:
            raise _BodyError(413, "request body too large")
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except ValueError:
            body = None
            error = _BodyError(400, "malformed chunked body")
        except _BodyError as exc:
            body = None
            error = exc
        if body is None:
            self.close_connection = True
            self._write(Reply(error.status, _json(problem("bad-request", error.detail, status=error.status))))
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        if len(self.headers.get_all("Authorization") or []) > 1:
            reply = problem_reply(400, "bad-request", "send exactly one Authorization credential")
        else:
            try:
                reply = self.gateway.handle(self.command, self.path, headers, body, self.client_address[0])
            except Exception:  # a bug must become a 500, not a silently dropped connection
                logger.exception("local gateway error on %s %s", self.command, self.path.split("?")[0])
                reply = problem_reply(500, "internal-error", "local gateway error")
        if reply.delay:
            time.sleep(reply.delay)
        if reply.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._write(reply)

    def _write(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _serve  # noqa: N815 - stdlib names
