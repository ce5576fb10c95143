"""What every benchmark module shares: the result row, unit formatting, and the local gateway process.

Every HTTP measurement talks to the local gateway running in a SEPARATE process
(bench/_gateway_proc.py) over loopback, so client CPU and RSS are not mixed with the server's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

PEERS_PY = Path(os.environ.get("PEERS_VENV", REPO / ".venv-peers")) / "bin" / "python"
CACHE = Path(os.environ.get("GROK_MPP_BENCH_CACHE", Path.home() / ".cache" / "grok-mpp-bench"))
CHAT_BODY = {"model": "grok-3-mini", "messages": [{"role": "user", "content": "What is 2+3?"}], "max_tokens": 16}
MSG = CHAT_BODY["messages"]
GAS_PRICE = 20_000_000_000


@dataclass
class Row:
    """One line of the results table plus its details (what was compared, n, conditions)."""

    name: str
    result: str
    target: str
    verdict: str  # "met" / "missed" / "n/a" / "report" (no target: a measurement to read)
    detail: list[str] = field(default_factory=list)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} µs"


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (psutil ships with the test extras)."""
    import psutil

    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


class GatewayProcess:
    """bench/_gateway_proc.py: the local gateway in a child process, stopped by closing its stdin."""

    def __init__(self, fund: dict[str, int]) -> None:
        args = [sys.executable, str(REPO / "bench" / "_gateway_proc.py"), *(f"{a}={u}" for a, u in fund.items())]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("READY "):
            self.stop()
            raise RuntimeError(f"local gateway did not start: {line!r}")
        self.url = line.split(" ", 1)[1]

    def cpu(self) -> float:
        return process_cpu(self.proc.pid)

    def stop(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
