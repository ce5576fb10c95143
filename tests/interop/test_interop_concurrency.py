"""Identical requests in parallel against the REAL servers on anvil: every payment lands once (issue 12).

Simultaneous identical requests can receive the very same challenge (mppx 0.11 issues identical
ids, HMACs and millisecond expiries to them). A client that then signed byte-identical
transactions saw 1-4 of 32 calls refused as replays while its ledger counted them as paid. Here:

* 32 concurrent async calls (one ``AsyncClient``) and 64 threads (one shared ``Client``), identical
  URL and body, 3 repeats, against pympp 0.16 and mppx 0.11 - once straight to the server and once
  through a relay that hands ONE cached 402 challenge to every request of a burst, so the shared-
  challenge case is guaranteed, not left to timing;
* 0 failures; the recipient's balance grows by exactly the ledger's settled total after
  reconciliation, and every ledger row has its own transaction hash found on chain.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from grok_mpp.ledger import SQLiteLedger, reconcile
from grok_mpp.ledger.model import PAID_STATES
from grok_mpp.payment.auth import MPPAuth
from grok_mpp.wallet import Wallet

from .support import AnvilChain, PeerServer, relay_reply, relay_request
from .test_interop_rejections import AMOUNT, AMOUNT_USD, _policy

pytestmark = pytest.mark.peers

REPEATS = 3
BODY = {"prompt": "the same question, asked by everyone at once"}


class SharedChallengeRelay:
    """Forwards to ``upstream``; every UNPAID request gets the same cached 402 (one challenge)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self._cached: tuple[int, list[tuple[str, str]], bytes] | None = None
        self._lock = threading.Lock()
        self.challenges_fetched = 0
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body, headers = relay_request(self)
                paid = "Authorization" in self.headers
                if paid:
                    with httpx.Client(timeout=60) as http:
                        upstream = http.post(relay.upstream + self.path, content=body, headers=headers)
                    status, out, content = upstream.status_code, list(upstream.headers.multi_items()), upstream.content
                else:
                    status, out, content = relay._challenge(self.path, body, headers)
                relay_reply(self, status, out, content)

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # listen() backlog: a burst of 64 connects at once
            daemon_threads = True

        self.httpd = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def _challenge(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        with self._lock:
            if self._cached is None:
                with httpx.Client(timeout=60) as http:
                    r = http.post(self.upstream + path, content=body, headers=headers)
                assert r.status_code == 402, r.text
                self._cached = (r.status_code, list(r.headers.multi_items()), r.content)
                self.challenges_fetched += 1
            return self._cached

    def new_burst(self) -> None:
        with self._lock:
            self._cached = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(params=["direct", "shared-challenge"])
def route(request: pytest.FixtureRequest, unsponsored_server: PeerServer) -> Iterator[tuple[str, Any]]:
    path = f"/paid?amount={AMOUNT_USD}"
    if request.param == "direct":
        yield unsponsored_server.base_url + path, None
        return
    relay = SharedChallengeRelay(unsponsored_server.base_url)
    try:
        yield relay.url(path), relay
    finally:
        relay.close()


def _burst_async(auth: MPPAuth, url: str, n: int) -> list[httpx.Response | BaseException]:
    async def main() -> list[httpx.Response | BaseException]:
        limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
        async with httpx.AsyncClient(auth=auth, timeout=120, limits=limits) as client:
            return await asyncio.gather(*(client.post(url, json=BODY) for _ in range(n)), return_exceptions=True)

    return asyncio.run(main())


def _burst_threads(auth: MPPAuth, url: str, n: int) -> list[httpx.Response | BaseException]:
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    barrier = threading.Barrier(n)
    with httpx.Client(auth=auth, timeout=120, limits=limits) as client:

        def one(_: int) -> httpx.Response | BaseException:
            barrier.wait()
            try:
                return client.post(url, json=BODY)
            except Exception as exc:
                return exc

        with ThreadPoolExecutor(n) as pool:
            return list(pool.map(one, range(n)))


@pytest.mark.parametrize(("mode", "n"), [("async", 32), ("threads", 64)])
def test_identical_concurrent_requests_each_pay_once(
    mode: str, n: int, route: tuple[str, Any], unsponsored_server: PeerServer, anvil: AnvilChain, tmp_path: Path
) -> None:
    url, relay = route
    server = unsponsored_server
    payer = anvil.new_account(REPEATS * n * 20_000)  # 0.01 USD + fee (< 0.01 USD) per call
    wallet = Wallet.from_key(payer.key)
    ledger = SQLiteLedger(tmp_path / "ledger.sqlite3")
    recipient_before = anvil.balance(server.recipient)
    failures: list[str] = []
    try:
        for _ in range(REPEATS):
            if relay is not None:
                relay.new_burst()
            auth = MPPAuth(wallet, _policy(), rpc_url=anvil.url, guard=ledger)
            burst = _burst_async if mode == "async" else _burst_threads
            for outcome in burst(auth, url, n):
                if isinstance(outcome, BaseException) or outcome.status_code != 200:
                    failures.append(repr(outcome) if isinstance(outcome, BaseException) else outcome.text[:200])
        anvil.wait_blocks(2)
        reconcile(ledger, anvil.url)
        rows = ledger.rows()
        paid_rows = [r for r in rows if r.state in PAID_STATES]
        delta = anvil.balance(server.recipient) - recipient_before
        hashes = [r.tx_hash for r in rows]
    finally:
        ledger.close()

    assert failures == [], f"{len(failures)} of {REPEATS * n} calls failed: {failures[:3]}"
    assert len(rows) == len(paid_rows) == REPEATS * n
    assert len(set(hashes)) == len(hashes), "two ledger rows claim one transaction"
    assert delta == sum(r.amount for r in paid_rows) == REPEATS * n * AMOUNT  # ledger total == chain delta
    for tx_hash in hashes[:: max(1, len(hashes) // 8)]:  # spot-check: each row's own transfer is on chain
        receipt = anvil.receipt(str(tx_hash))
        assert receipt is not None and receipt["status"] == "0x1"
    if relay is not None:
        assert relay.challenges_fetched == REPEATS  # every burst really shared one challenge
