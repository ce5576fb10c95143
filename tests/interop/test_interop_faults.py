"""Faults between our client and the REAL reference servers, resolved by reconciliation on a real chain.

A small HTTP relay on loopback sits between the client and pympp / mppx. It forwards everything,
except that for the paid retry (the request carrying the credential) it either

* forwards it, lets the server settle on anvil, then drops our connection without an answer
  ("lost answer": the money moved, the client cannot know), or
* drops it before forwarding ("lost request": nothing can ever land).

Both must leave exactly one ``outcome_unknown`` ledger row and no second payment; reconciliation
against the chain then settles the first (receipt found) and releases the second (``valid_before``
passed, no receipt).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from grok_mpp.ledger import open_ledger, reconcile
from grok_mpp.payment.auth import MPPAuth, sent_payment
from grok_mpp.wallet import Wallet

from .support import AnvilChain, PeerServer, RequestLog, relay_reply, relay_request
from .test_interop_rejections import AMOUNT, AMOUNT_USD, _policy

pytestmark = pytest.mark.peers


class FaultRelay:
    """Loopback relay to one upstream server with a switchable fault for paid requests."""

    def __init__(self, upstream: str, mode: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.mode = mode
        self.paid_seen = 0
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body, headers = relay_request(self)
                paid = self.headers.get("Authorization", "").startswith("Payment ")
                if paid:
                    relay.paid_seen += 1
                    if relay.mode == "lost-request":
                        self._drop()
                        return
                with httpx.Client(timeout=60) as http:
                    upstream = http.post(relay.upstream + self.path, content=body, headers=headers)
                if paid and relay.mode == "lost-answer":
                    self._drop()
                    return
                relay_reply(self, upstream.status_code, list(upstream.headers.multi_items()), upstream.content)

            def _drop(self) -> None:
                self.close_connection = True
                self.connection.shutdown(2)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def relay_factory() -> Iterator[Any]:
    relays: list[FaultRelay] = []

    def make(server: PeerServer, mode: str) -> FaultRelay:
        relays.append(FaultRelay(server.base_url, mode))
        return relays[-1]

    yield make
    for relay in relays:
        relay.close()


@pytest.mark.parametrize("mode", ["lost-answer", "lost-request"])
def test_lost_paid_exchange_is_reconciled_on_chain(
    unsponsored_server: PeerServer, anvil: AnvilChain, relay_factory: Any, tmp_path: Path, mode: str
) -> None:
    server = unsponsored_server
    payer = anvil.new_account(200_000)
    recipient_before = anvil.balance(server.recipient)
    relay = relay_factory(server, mode)
    ledger = open_ledger(str(tmp_path / "ledger.sqlite3"))
    log = RequestLog()
    auth = MPPAuth(Wallet.from_key(payer.key), _policy(), rpc_url=anvil.url, guard=ledger)
    with httpx.Client(auth=auth, event_hooks={"request": [log.hook]}, timeout=60) as client:
        request = client.build_request("POST", f"{relay.base_url}/paid?amount={AMOUNT_USD}", json={"q": mode})
        with pytest.raises(httpx.TransportError):
            client.send(request)
    sent = sent_payment(request)
    assert sent is not None and relay.paid_seen == 1 and len(log.credentials) == 1  # one payment, never two
    (row,) = ledger.rows()
    assert row.state == "outcome_unknown" and row.tx_hash == sent.tx_hash and row.amount == AMOUNT

    if mode == "lost-answer":
        anvil.wait_blocks(2)
        assert anvil.receipt(sent.tx_hash) is not None  # the server did settle our transaction
        reconcile(ledger, anvil.url)
        assert ledger.get(row.id).state == "settled_onchain"
        assert anvil.balance(server.recipient) == recipient_before + AMOUNT
        # the ledger's paid is what left the wallet: amount + the fee from the chain receipt
        assert ledger.totals()["amount"] == AMOUNT
        assert ledger.totals()["paid"] == payer.funded - anvil.balance(payer.address)
    else:
        reconcile(ledger, anvil.url)  # valid_before not passed yet: the money must stay reserved
        assert ledger.get(row.id).state == "outcome_unknown"
        reconcile(ledger, anvil.url, now=sent.valid_before + 120)  # past valid_before: it can never land
        assert ledger.get(row.id).state == "released"
        assert anvil.receipt(sent.tx_hash) is None
        assert anvil.balance(server.recipient) == recipient_before
        assert anvil.balance(payer.address) == payer.funded
    ledger.close()
