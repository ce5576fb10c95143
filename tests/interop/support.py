"""Helpers of the real-peer interop tier: peer processes, chain RPC, funded accounts.

Every peer is a real third-party implementation started as a subprocess on loopback: anvil 1.7.1
``--network tempo`` (npm), the mppx 0.11 server (npm, TypeScript reference) and the pympp 0.16
server (PyPI, Python reference, in its own venv). Nothing here re-implements a peer, so a test that
passes proves interoperability, not agreement with our own assumptions.

Install with ``tests/peers/setup.sh``. When a peer is missing the fixtures skip with the reason,
except under ``CI=true`` where they fail: CI installs everything, so a missing peer there is a bug.

Process hygiene: each peer runs in its own process group, its "ready" line is awaited for at most
``READY_TIMEOUT`` seconds, its output is drained continuously (so a chatty peer can never block on
a full pipe) and kept for error messages, and the group is stopped by pid at session end.
"""

from __future__ import annotations

import ctypes
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_utils import to_checksum_address

REPO = Path(__file__).resolve().parents[2]
PEERS = REPO / "tests" / "peers"
NODE_MODULES = PEERS / "node_modules"
PEERS_VENV = Path(os.environ.get("PEERS_VENV", REPO / ".venv-peers"))

READY_TIMEOUT = 30.0

PATHUSD = "0x20c0000000000000000000000000000000000000"
ALPHAUSD = "0x20c0000000000000000000000000000000000001"
MODERATO = 42431
MAINNET = 4217

# anvil's well-known dev accounts (mnemonic "test test ... junk"); each holds 2**64-1 units of every
# genesis TIP-20 on `--network tempo`. #0 funds test accounts, #2 sponsors fees for mppx.
DEV0_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
FEE_PAYER_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"

_LISTENING = re.compile(r"Listening on 127\.0\.0\.1:(\d+)")
_READY = re.compile(r"^READY (\d+)$")


# --- availability ------------------------------------------------------------------------------


def _unavailable(reason: str) -> None:
    """Fail under CI (the peers are always installed there), skip locally."""
    message = f"{reason} -- run tests/peers/setup.sh"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def anvil_binary() -> Path | None:
    """The platform anvil binary (skips npm's node wrapper: one process less to manage)."""
    for candidate in sorted((NODE_MODULES / "@foundry-rs").glob("anvil-*/bin/anvil")):
        if os.access(candidate, os.X_OK):
            return candidate
    wrapper = NODE_MODULES / ".bin" / "anvil"
    return wrapper if wrapper.exists() else None


def require_anvil() -> Path:
    binary = anvil_binary()
    if binary is None:
        _unavailable(f"anvil (@foundry-rs/anvil) is not installed under {NODE_MODULES}")
    assert binary is not None
    return binary


def require_node() -> str:
    node = shutil.which("node")
    if node is None:
        _unavailable("node is not on PATH")
    if not (NODE_MODULES / "mppx" / "package.json").exists():
        _unavailable(f"mppx is not installed under {NODE_MODULES}")
    assert node is not None
    return node


def require_mppx_cli() -> Path:
    require_node()
    cli = NODE_MODULES / ".bin" / "mppx"
    if not cli.exists():
        _unavailable(f"the mppx CLI is missing ({cli})")
    return cli


def require_peers_python() -> Path:
    python = PEERS_VENV / "bin" / "python"
    if not python.exists():
        _unavailable(f"the peers venv {PEERS_VENV} does not exist")
    probe = subprocess.run(
        [str(python), "-c", "import mpp.methods.tempo.server, starlette, uvicorn"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        _unavailable(f"pympp/starlette/uvicorn are not importable in {PEERS_VENV}: {probe.stderr.strip()[-300:]}")
    return python


# --- processes ---------------------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM it when pytest dies without its teardown (killed,
    crashed), so an aborted run never leaves orphan chains and servers behind (Linux only)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


class PeerProcess:
    """A subprocess in its own process group whose output is drained by a background thread."""

    def __init__(self, name: str, args: list[str], *, env: dict[str, str] | None = None, cwd: Path = REPO):
        self.name = name
        self.args = args
        self.lines: deque[str] = deque(maxlen=400)
        self._cond = threading.Condition()
        self.proc = subprocess.Popen(
            args,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        self._reader = threading.Thread(target=self._drain, name=f"drain-{name}", daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, pattern: re.Pattern[str], timeout: float = READY_TIMEOUT) -> re.Match[str]:
        """First output line matching ``pattern``; fails with the peer's output on timeout or exit."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                lines = list(self.lines)
                for line in lines[seen:]:
                    match = pattern.search(line)
                    if match:
                        return match
                seen = len(lines)
                if self.proc.poll() is not None and not self._reader.is_alive():
                    self.stop()
                    pytest.fail(f"{self.name} exited ({self.proc.returncode}) before ready:\n{self.tail()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    self.stop()
                    pytest.fail(f"{self.name} not ready after {timeout:.0f} s:\n{self.tail()}")
                self._cond.wait(min(left, 0.5))

    def tail(self, n: int = 40) -> str:
        return "\n".join(list(self.lines)[-n:])

    def stop(self) -> None:
        """Terminate the process group by the child's pid (it leads its own group)."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=5)
        self._reader.join(timeout=2)


# --- chain helpers -----------------------------------------------------------------------------


@dataclass
class FundedAccount:
    """A fresh key funded with ``funded`` base units of pathUSD. Test-only throwaway key."""

    key: str
    address: str
    funded: int


@dataclass
class AnvilChain:
    """One anvil ``--network tempo`` node plus the JSON-RPC helpers the tests need."""

    url: str
    chain_id: int
    process: PeerProcess
    _http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30.0))
    _nonce_lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def rpc(self, method: str, params: list[Any]) -> Any:
        rid = next(self._ids)
        answer = self._http.post(self.url, json={"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        answer.raise_for_status()
        payload = answer.json()
        if payload.get("error") is not None:
            raise RuntimeError(f"{method} failed: {payload['error']}")
        return payload["result"]

    def balance(self, owner: str, token: str = PATHUSD) -> int:
        """TIP-20 ``balanceOf(owner)`` via ``eth_call`` (base units)."""
        data = "0x70a08231" + "00" * 12 + owner.lower().removeprefix("0x")
        return int(self.rpc("eth_call", [{"to": token, "data": data}, "latest"]), 16)

    def block_number(self) -> int:
        return int(self.rpc("eth_blockNumber", []), 16)

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        result = self.rpc("eth_getTransactionReceipt", [tx_hash])
        return result if isinstance(result, dict) else None

    def wait_blocks(self, count: int = 2, timeout: float = 15.0) -> None:
        """Let ``count`` blocks be mined, so anything already in the pool has had its chance to land."""
        target = self.block_number() + count
        deadline = time.monotonic() + timeout
        while self.block_number() < target:
            if time.monotonic() > deadline:
                raise AssertionError(f"anvil stopped mining (waited {timeout} s for {count} blocks)")
            time.sleep(0.1)

    def transfer(self, from_key: str, to: str, amount: int, token: str = PATHUSD) -> dict[str, Any]:
        """A plain TIP-20 ``transfer`` as an EIP-1559 tx signed by eth-account.

        Deliberately independent of grok_mpp's own 0x76 encoder, so funding (the test oracle's
        setup) cannot share a bug with the code under test. Tempo accepts type-2 transactions and
        charges their fee in a USD TIP-20.
        """
        sender = Account.from_key(from_key)
        data = "0xa9059cbb" + "00" * 12 + to.lower().removeprefix("0x") + amount.to_bytes(32, "big").hex()
        with self._nonce_lock:  # one sequential nonce stream per sender
            nonce = int(self.rpc("eth_getTransactionCount", [sender.address, "pending"]), 16)
            gas_price = int(self.rpc("eth_gasPrice", []), 16)
            tx = {
                "type": 2,
                "chainId": self.chain_id,
                "nonce": nonce,
                "to": to_checksum_address(token),
                "value": 0,
                "data": data,
                "gas": 1_000_000,
                "maxFeePerGas": 2 * gas_price,
                "maxPriorityFeePerGas": gas_price,
            }
            raw = sender.sign_transaction(tx).raw_transaction
        receipt = self.rpc("eth_sendRawTransactionSync", ["0x" + bytes(raw).hex()])
        if receipt.get("status") != "0x1":
            raise RuntimeError(f"funding transfer failed: {receipt}")
        return receipt

    def new_account(self, amount: int = 1_000_000) -> FundedAccount:
        """A fresh key holding exactly ``amount`` pathUSD base units (0 = unfunded)."""
        account = Account.create()
        if amount:
            self.transfer(DEV0_KEY, account.address, amount)
        assert self.balance(account.address) == amount
        return FundedAccount(key="0x" + bytes(account.key).hex(), address=account.address, funded=amount)

    @staticmethod
    def new_address() -> str:
        return Account.create().address


def start_anvil(chain_id: int) -> AnvilChain:
    binary = require_anvil()
    args = [
        str(binary), "--network", "tempo", "--hardfork", "T4", "--chain-id", str(chain_id),
        "--block-time", "0.5", "--host", "127.0.0.1", "--port", "0",
    ]  # fmt: skip
    process = PeerProcess(f"anvil(chain {chain_id})", args)
    port = int(process.wait_for(_LISTENING).group(1))
    return AnvilChain(url=f"http://127.0.0.1:{port}", chain_id=chain_id, process=process)


@dataclass
class PeerServer:
    """A running MPP server: ``url(path, **query)`` builds request URLs on it."""

    name: str
    base_url: str
    chain: AnvilChain
    recipient: str
    realm: str
    process: PeerProcess
    sponsored: bool = False

    def url(self, path: str = "/paid", **query: Any) -> str:
        q = "&".join(f"{k}={v}" for k, v in query.items())
        return f"{self.base_url}{path}" + (f"?{q}" if q else "")


def start_mppx(chain: AnvilChain, *, realm: str, fee_payer_key: str | None = None, **env: str) -> PeerServer:
    node = require_node()
    recipient = AnvilChain.new_address()
    full_env = {
        "PORT": "0",
        "TEMPO_RPC_URL": chain.url,
        "CHAIN_ID": str(chain.chain_id),
        "CURRENCY": PATHUSD,
        "RECIPIENT": recipient,
        "AMOUNT": "0.006",
        "REALM": realm,
        "SECRET": "grok-mpp-interop-mppx-secret-0123456789abcdef",
        **env,
    }
    if fee_payer_key:
        full_env["FEE_PAYER_KEY"] = fee_payer_key
    name = "mppx(sponsored)" if fee_payer_key else "mppx"
    process = PeerProcess(name, [node, str(PEERS / "mppx_server.mjs")], env=full_env)
    port = int(process.wait_for(_READY).group(1))
    return PeerServer(name, f"http://127.0.0.1:{port}", chain, recipient, realm, process, bool(fee_payer_key))


def _pympp_env(chain_id: int, recipient: str, rpc_url: str | None, realm: str) -> dict[str, str]:
    env = {
        "CHAIN_ID": str(chain_id),
        "CURRENCY": PATHUSD,
        "RECIPIENT": recipient,
        "AMOUNT": "0.006",
        "REALM": realm,
        "SECRET": "grok-mpp-interop-pympp-secret-0123456789abcdef",
        "PYTHONUNBUFFERED": "1",
    }
    if rpc_url:
        env["TEMPO_RPC_URL"] = rpc_url
    return env


def start_pympp(chain: AnvilChain, *, realm: str) -> PeerServer:
    python = require_peers_python()
    recipient = AnvilChain.new_address()
    env = {"PORT": "0", **_pympp_env(chain.chain_id, recipient, chain.url, realm)}
    process = PeerProcess("pympp", [str(python), str(PEERS / "pympp_server.py"), "serve"], env=env)
    port = int(process.wait_for(_READY).group(1))
    return PeerServer("pympp", f"http://127.0.0.1:{port}", chain, recipient, realm, process)


class PymppValidator:
    """A long-running ``pympp_server.py validate`` process: JSON lines in, JSON lines out.

    Its RPC URL is a dead loopback port, so every answer is computed offline.
    """

    def __init__(self, python: Path, recipient: str, realm: str) -> None:
        self.recipient = recipient
        self.realm = realm
        env = {**os.environ, **_pympp_env(MODERATO, recipient, None, realm)}
        # stderr goes to a file: a pipe nobody reads could fill up and block the validator
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen(
            [str(python), str(PEERS / "pympp_server.py"), "validate"],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        self._lock = threading.Lock()

    def call(self, message: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        with self._lock:
            self.proc.stdin.write(json.dumps(message) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        if not line:
            self._stderr.seek(0)
            pytest.fail(f"pympp validator died: {self._stderr.read()[-2000:]}")
        return json.loads(line)

    def stop(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self._stderr.close()


def mppx_cli_env(home: Path, key: str) -> dict[str, str]:
    """Environment for the mppx CLI control client: its account store goes to a temp HOME."""
    return {**os.environ, "HOME": str(home), "MPPX_PRIVATE_KEY": key, "NO_COLOR": "1"}


# --- client-side instruments -------------------------------------------------------------------


class CountingSigner:
    """Wraps a grok_mpp ``Wallet`` and counts signatures, so "refused before signing" is asserted
    directly rather than inferred from balances."""

    def __init__(self, wallet: Any) -> None:
        self._wallet = wallet
        self.address: str = wallet.address
        self.signatures = 0

    def sign_hash(self, digest: bytes) -> bytes:
        self.signatures += 1
        return bytes(self._wallet.sign_hash(digest))

    def __repr__(self) -> str:
        return f"CountingSigner(address={self.address!r}, signatures={self.signatures})"


class RequestLog:
    """httpx ``request`` event hook: every request the client put on the wire, with its credential.

    Event hooks run for each request of an auth flow, so the paid retry is visible here. The
    credential is kept only in test memory (it is a throwaway key on a local chain).
    """

    def __init__(self) -> None:
        self.sent: list[tuple[str, str | None]] = []
        self.swap_credential: str | None = None

    def _record(self, request: httpx.Request) -> None:
        credential = request.headers.get("authorization")
        if credential is not None and self.swap_credential is not None:
            request.headers["authorization"] = self.swap_credential  # simulate a replay
            credential = self.swap_credential
        self.sent.append((str(request.url), credential))

    def hook(self, request: httpx.Request) -> None:
        self._record(request)

    async def async_hook(self, request: httpx.Request) -> None:
        self._record(request)

    @property
    def credentials(self) -> list[str]:
        return [c for _, c in self.sent if c is not None]

    def to(self, base_url: str) -> list[tuple[str, str | None]]:
        """Requests sent to one server (the auth flow also sends JSON-RPC calls to the chain)."""
        return [(u, c) for u, c in self.sent if u.startswith(base_url)]


_HOP_BY_HOP = ("content-length", "transfer-encoding", "connection", "content-encoding")


def relay_request(handler: Any) -> tuple[bytes, dict[str, str]]:
    """The body and the forwardable headers of the request a test relay's handler is serving."""
    body = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
    headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "content-length")}
    return body, headers


def relay_reply(handler: Any, status: int, headers: list[tuple[str, str]], content: bytes) -> None:
    """Write an upstream answer back through a test relay (hop-by-hop headers recomputed)."""
    handler.send_response(status)
    for k, v in headers:
        if k.lower() not in _HOP_BY_HOP:
            handler.send_header(k, v)
    handler.send_header("Content-Length", str(len(content)))
    handler.end_headers()
    handler.wfile.write(content)
