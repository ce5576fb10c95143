"""The local gateway in its own process, so benchmarks measure the client alone (CPU, RSS, GIL).

Usage: ``python bench/_gateway_proc.py ADDRESS=UNITS ...``. Funds each address with UNITS base units
on the in-process chain, prints ``READY <base url>`` and serves until stdin closes (the parent
closing the pipe is the stop signal, so no orphan survives a crashed benchmark).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grok_mpp.local import LocalGateway


def main(argv: list[str]) -> None:
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
