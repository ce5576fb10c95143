"""The local gateway in its own process, so benchmarks measure the client alone (CPU, RSS, GIL).

Usage: ``python bench/_gateway_proc.py [--nodelay] ADDRESS=UNITS ...``. Funds each address with UNITS base units
on the in-process chain, prints ``READY <base url>`` and serves until stdin closes (the parent
closing the pipe is the stop signal, so no orphan survives a crashed benchmark).

``--nodelay`` sets TCP_NODELAY on the gateway's accepted sockets. Why: ``http.server`` writes the
response headers and the body in two ``send`` calls; with Nagle's algorithm on, the body waits for
the client's delayed ACK (~40 ms on Linux) whenever the client is not sending. That is a property of
the stdlib server, not of the payment protocol; a production gateway does not do it, so the main
numbers are taken with the flag and the unpatched gateway is reported next to them.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grok_mpp.local import LocalGateway


def _enable_nodelay() -> None:
    from grok_mpp.local import server

    original = server._Handler.setup

    def setup(self: server._Handler) -> None:
        original(self)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    server._Handler.setup = setup  # type: ignore[method-assign]


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--nodelay":
        _enable_nodelay()
        argv = argv[1:]
    gateway = LocalGateway(ttl_seconds=300).start()
    for spec in argv:
        address, _, units = spec.partition("=")
        gateway.fund(address, int(units))
    print(f"READY {gateway.url}", flush=True)
    try:
        sys.stdin.read()
    finally:
        gateway.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
