"""``LocalGateway``: Locus's Grok routes emulated on loopback, with real MPP payments.

Why it exists: every layer above the payment core (gateway client, LangChain and LlamaIndex
adapters, ledger, CLI, notebooks) needs a peer that behaves like Locus — validate the body, price it,
answer 402 with an HMAC-bound challenge, verify the paid retry as strictly as a real MPP server,
settle, answer ``{"success": true, "data": ...}`` with a ``Payment-Receipt`` — without spending money
or touching the network. Faults that are rare in production (upstream 502 after payment, dropped
connection, a second 402) can be injected per request with the ``X-Grok-MPP-Fault`` header.

The HTTP layer (:mod:`grok_mpp.local.http_server`) is ``http.server.ThreadingHTTPServer`` (HTTP/1.1 keep-alive, one daemon thread per
connection). The decision logic lives in :meth:`LocalGateway.handle`, which maps a request to a
:class:`Reply` without doing socket I/O, so it reads top to bottom like the protocol.

Money is integer base units; the challenge secret and fee-payer key never appear in ``repr`` or logs,
and credentials are never logged.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from grok_mpp.chains import CHAINS, TEMPO_MAINNET, USDCE, token_symbol
from grok_mpp.errors import ConfigurationError, CredentialParseError
from grok_mpp.gateway.pricing import locus_price
from grok_mpp.gateway.requests import REQUEST_TYPES, GrokRequest
from grok_mpp.mpp.challenge import format_challenge
from grok_mpp.mpp.credential import parse_credential
from grok_mpp.mpp.receipt import format_receipt
from grok_mpp.payment.policy import is_loopback_host
from grok_mpp.units import usd_to_base_units
from grok_mpp.wallet import Wallet

from .chain import DEFAULT_GAS_PRICE, GAS_USED, ChainError, LocalChain, RemoteChain, fee_for
from .challenges import ChallengeIssuer, payment_required, rfc3339_ms
from .faults import FAULT_HEADER, Fault, FaultMode, FaultParseError, parse_fault, select_fault, upstream_failure_body
from .http_server import PROBLEM_JSON, Reply, _json, _make_handler, _Server, _Server6, problem_reply
from .jsonrpc import handle_rpc
from .responder import ResponderError, respond
from .responder.scripted import render_scripted
from .script import Answer, Script, ScriptRequestError
from .validation import BadRequestError, json_too_deep, parse_request
from .verifier import ReplayGuard, VerificationError, verify

logger = logging.getLogger("grok_mpp.local")

ROUTES: tuple[str, ...] = tuple(REQUEST_TYPES)
FEE_PAYER_FLOAT = 1_000 * 10**6  # what the sponsor account starts with on the local chain (1000 USD)
JSON = "application/json"

PriceFn = Callable[[GrokRequest], int]


@dataclass(frozen=True, slots=True)
class SettledPayment:
    """One payment the gateway settled (for tests and the CLI). No credential, no key."""

    tx_hash: str
    reference: str
    payer: str
    amount: int
    fee: int
    currency: str
    endpoint: str
    challenge_id: str
    sponsored: bool
    fault: str | None
    receipt: dict[str, Any] = field(repr=False)
    scripted: str | None = None  # label of the scripted answer served (None: synthetic model)


@dataclass
class GatewayStats:
    requests: int = 0
    challenges: int = 0
    settled: int = 0
    rejected: int = 0
    bad_requests: int = 0
    faults: int = 0
    rpc_calls: int = 0


class LocalGateway:
    """Locus-compatible Grok gateway on loopback. Use as a context manager or start()/stop().

    ``settle="local"`` keeps balances in-process (:class:`LocalChain`, also served as JSON-RPC at
    ``/rpc``); an ``http(s)://`` URL settles on that node instead (:class:`RemoteChain`). ``price``
    overrides the amount asked for a validated request (default: ``gateway.pricing.locus_price``).

    Example::

        from grok_mpp import GrokClient
        from grok_mpp.local import LocalGateway
        with LocalGateway() as gateway:                  # loopback only: test money, synthetic model
            wallet = gateway.new_funded_wallet(usd="1")
            with GrokClient(wallet=wallet, base_url=gateway.url, rpc_url=gateway.rpc_url, ledger="off") as grok:
                result = grok.chat(messages=[{"role": "user", "content": "Hi"}], max_tokens=32)
            print(result.text, result.cost.paid, gateway.balance(wallet.address))
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        chain_id: int = TEMPO_MAINNET,
        currency: str = USDCE,
        recipient: str | None = None,
        secret: bytes | None = None,
        settle: str = "local",
        fee_payer: bool = False,
        default_fault: Fault | str | None = None,
        price: PriceFn | None = None,
        ttl_seconds: int = 300,
        gas_price: int = DEFAULT_GAS_PRICE,
        fee_payer_wallet: Wallet | None = None,
        clock: Callable[[], float] = time.time,
        script: Script | Mapping[str, Any] | str | Path | None = None,
    ) -> None:
        if not is_loopback_host(host):
            raise ConfigurationError(f"the local gateway binds loopback addresses only, not {host!r}")
        self.host = host
        self._port = port
        self.chain_id = chain_id
        self.currency = currency.lower()
        self.recipient = (recipient or Wallet.create().address).lower()
        self.fee_payer = fee_payer
        self.default_fault = parse_fault(default_fault) if isinstance(default_fault, str) else default_fault
        self._price = price or locus_price
        self.clock = clock
        self.issuer = ChallengeIssuer(
            secret if secret is not None else secrets.token_bytes(32),
            realm=host,
            recipient=self.recipient,
            currency=self.currency,
            chain_id=chain_id,
            ttl_seconds=ttl_seconds,
            fee_payer=fee_payer,
            clock=clock,
        )
        self._fee_payer_wallet = fee_payer_wallet or Wallet.create()
        self.local_chain: LocalChain | None = None
        self.remote_chain: RemoteChain | None = None
        self._remote_url: str | None = None
        if settle == "local":
            known = CHAINS[chain_id].default_currencies if chain_id in CHAINS else frozenset()
            tokens = [self.currency, *sorted(known - {self.currency})]
            self.local_chain = LocalChain(chain_id, tokens, gas_price=gas_price, clock=clock)
            self.local_chain.fund(self._fee_payer_wallet.address, FEE_PAYER_FLOAT, self.currency)
        elif settle.startswith(("http://", "https://")):
            self._remote_url = settle
        else:
            raise ConfigurationError(f"settle must be 'local' or a JSON-RPC URL, got {settle!r}")
        self.script: Script | None = Script.coerce(script) if script is not None else None
        self.replay = ReplayGuard()
        self.payments: list[SettledPayment] = []
        self._stats = GatewayStats()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()

    def __repr__(self) -> str:
        state = self.url if self._server else "stopped"
        return (
            f"LocalGateway({state}, chain_id={self.chain_id}, currency={token_symbol(self.currency)}, "
            f"recipient={self.recipient}, fee_payer={self.fee_payer}, settle={'local' if self.local_chain else 'rpc'})"
        )

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> LocalGateway:
        if self._server is not None:
            return self
        if self._remote_url is not None and self.remote_chain is None:
            remote = RemoteChain(self._remote_url)
            if remote.chain_id != self.chain_id:
                remote.close()
                raise ConfigurationError(
                    f"settlement node is chain {remote.chain_id}, gateway is chain {self.chain_id}"
                )
            self.remote_chain = remote
        server_cls = _Server6 if ":" in self.host else _Server
        server = server_cls((self.host.strip("[]"), self._port), _make_handler(self))
        self._server = server
        self._port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.name = f"grok-mpp-local:{self._port}"
        self._thread.start()
        logger.info("local gateway listening on %s (chain %s)", self.url, self.chain_id)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            conns = list(self._connections)
        for conn in conns:  # idle keep-alive connections would otherwise keep their threads waiting
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.remote_chain is not None:
            self.remote_chain.close()
            self.remote_chain = None

    def __enter__(self) -> LocalGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses --------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        host = self.host.strip("[]")
        return f"http://[{host}]:{self._port}" if ":" in host else f"http://{host}:{self._port}"

    @property
    def rpc_url(self) -> str:
        return self._remote_url if self._remote_url is not None else f"{self.url}/rpc"

    @property
    def realm(self) -> str:
        return self.issuer.realm

    @property
    def fee_payer_address(self) -> str:
        return self._fee_payer_wallet.address.lower()

    # -- money ----------------------------------------------------------------------------------
    def _chain(self) -> LocalChain:
        if self.local_chain is None:
            raise ConfigurationError("fund()/balance() need settle='local'; fund the remote node directly")
        return self.local_chain

    @staticmethod
    def _units(usd_or_units: int | str | Decimal | float) -> int:
        """int = base units; str / Decimal / float = USD ("5" is five dollars)."""
        if isinstance(usd_or_units, bool):
            raise ConfigurationError("amount must be a number")
        if isinstance(usd_or_units, int):
            return usd_or_units
        return usd_to_base_units(usd_or_units)

    def fund(self, address: str, usd_or_units: int | str | Decimal | float, token: str | None = None) -> int:
        """Mint test money: an ``int`` is base units, a ``str``/``Decimal`` is USD. Returns the balance."""
        return self._chain().fund(address, self._units(usd_or_units), token or self.currency)

    def balance(self, address: str, token: str | None = None) -> int:
        """Balance in base units of ``token`` (default: the charge currency)."""
        if self.local_chain is None and self.remote_chain is not None:
            return self.remote_chain.balance(address, token or self.currency)
        return self._chain().balance(address, token or self.currency)

    def new_funded_wallet(self, usd: int | str | Decimal | float = "5") -> Wallet:
        """A throwaway wallet holding ``usd`` of the charge currency on the local chain."""
        wallet = Wallet.create()
        self.fund(wallet.address, usd)
        return wallet

    @property
    def stats(self) -> dict[str, int]:
        with self._lock:
            return dict(vars(self._stats))

    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self._stats, name, getattr(self._stats, name) + 1)

    # -- protocol ---------------------------------------------------------------------------------
    def _challenge_reply(
        self, amount: int, path: str, *, code: str = "payment-required", detail: str | None = None
    ) -> Reply:
        params = self.issuer.issue(amount, http_method="POST", path=path)
        self._count("challenges")
        body = payment_required(params, code=code, detail=detail)
        headers = (
            ("WWW-Authenticate", format_challenge(params)),
            ("Cache-Control", "no-store"),
            ("Content-Type", PROBLEM_JSON),
        )
        return Reply(402, _json(body), headers)

    @staticmethod
    def _problem_reply(status: int, code: str, detail: str) -> Reply:
        return problem_reply(status, code, detail)

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes, client_host: str) -> Reply:
        """Answer one HTTP request (no socket I/O here). ``headers`` keys are lower-case."""
        self._count("requests")
        path = path.split("?", 1)[0]
        if path == "/health" and method in ("GET", "HEAD"):
            return Reply(200, _json(self._health()), (("Content-Type", JSON),))
        if path == "/openapi.json" and method in ("GET", "HEAD"):
            return Reply(200, _json(self.openapi()), (("Content-Type", JSON),))
        if path == "/rpc" and self.local_chain is not None:
            if method != "POST":
                return self._problem_reply(405, "method-not-allowed", "JSON-RPC needs POST")
            return self._rpc(body, client_host)
        if path not in ROUTES:
            return self._problem_reply(404, "not-found", f"no route {path}")
        if method != "POST":
            return self._problem_reply(405, "method-not-allowed", f"{path} accepts POST only")
        return self._paid_route(path, headers, body)

    def _rpc(self, body: bytes, client_host: str) -> Reply:
        self._count("rpc_calls")
        try:
            if json_too_deep(body):
                raise ValueError("nested too deeply")
            payload = json.loads(body)
        except (ValueError, RecursionError):  # bad JSON, bad UTF-8, >4300-digit ints, absurd nesting
            answer: Any = {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}}
        else:
            assert self.local_chain is not None
            answer = handle_rpc(self.local_chain, payload, allow_dev=is_loopback_host(client_host))
        return Reply(200, _json(answer), (("Content-Type", JSON),))

    def _paid_route(self, path: str, headers: Mapping[str, str], body: bytes) -> Reply:
        # Locus validates before it asks for money: an invalid body is a free 400.
        try:
            wire, request = parse_request(path, body)
            fault = select_fault(headers.get(FAULT_HEADER.lower()), self.default_fault)
        except (BadRequestError, FaultParseError) as exc:
            self._count("bad_requests")
            return self._problem_reply(400, "bad-request", str(exc))
        # A script that cannot answer this request says so before the challenge: nothing is paid.
        # A scripted fault is applied from the answer TAKEN after settlement, not from this peek:
        # identical calls in flight together all peek the same queue head.
        try:
            if self.script is not None:
                self.script.peek(path, wire)
        except ScriptRequestError as exc:
            self._count("bad_requests")
            logger.info("script cannot answer %s: %s", path, exc.detail)
            return self._problem_reply(409, exc.code, exc.detail)
        amount = self._price(request)
        authorization = headers.get("authorization", "")
        if not authorization.lower().startswith("payment "):
            return self._challenge_reply(amount, path)
        try:
            credential = parse_credential(authorization)
        except CredentialParseError as exc:
            self._count("rejected")
            return self._challenge_reply(amount, path, code="malformed-credential", detail=exc.message)
        delay = fault.delay_seconds if fault else 0.0
        if fault is not None and fault.mode is FaultMode.REJECT_PAYMENT:
            self._count("faults")
            self._count("rejected")
            reply = self._challenge_reply(
                amount, path, code="verification-failed", detail="payment verification failed (injected fault)"
            )
            return Reply(reply.status, reply.body, reply.headers, delay=delay)
        now = self.clock()
        chain = self.local_chain or self.remote_chain
        assert chain is not None
        try:
            verified = verify(
                credential,
                self.issuer,
                expected_amount=amount,
                now=now,
                replay=self.replay,
                # Like the reference servers (mppx, pympp), leave the fee cap to the node that settles:
                # a gas price cached here for 10 s must not refuse a transaction the chain accepts.
                # The in-process chain checks the cap against its own base fee, as a node does.
                gas_price=chain.gas_price if self.local_chain is not None else 0,
                min_gas_limit=GAS_USED if self.local_chain is not None else 0,
            )
            self.replay.claim(
                verified.challenge_id, verified.tx_hash, keep_until=now + self.issuer.ttl_seconds + 60, now=now
            )
            receipt = chain.settle(verified, fee_payer=self._fee_payer_wallet)
        except VerificationError as exc:
            self._count("rejected")
            logger.info("refused credential for %s: %s", path, exc.detail)
            return self._challenge_reply(amount, path, code=exc.code, detail=exc.detail)
        except ChainError as exc:
            self._count("rejected")
            logger.info("settlement failed for %s: %s", path, exc.message)
            return self._challenge_reply(amount, path, code="verification-failed", detail=exc.message)
        reference = str(receipt.get("transactionHash", verified.tx_hash))
        answer: Answer | None = None
        if self.script is not None:
            try:
                answer = self.script.take(path, wire)
            except ScriptRequestError as exc:  # another call consumed it between peek and settlement
                logger.warning("script ran out after payment on %s: %s", path, exc.detail)
        if answer is not None and answer.fault is not None and fault is None:
            fault = answer.fault
            delay = fault.delay_seconds
        payment = SettledPayment(
            tx_hash=verified.tx_hash,
            reference=reference,
            payer=verified.payer,
            amount=verified.amount,
            fee=fee_for(int(receipt.get("gasUsed", "0x0"), 16), int(receipt.get("effectiveGasPrice", "0x0"), 16)),
            currency=verified.currency,
            endpoint=path,
            challenge_id=verified.challenge_id,
            sponsored=verified.sponsored,
            fault=fault.mode.value if fault else None,
            receipt=receipt,
            scripted=answer.label if answer is not None else None,
        )
        with self._lock:
            self.payments.append(payment)
            self._stats.settled += 1
        logger.info("settled %s base units from %s for %s (tx %s)", payment.amount, payment.payer, path, reference)
        if fault is not None:
            self._count("faults")
            if not fault.returns_result:
                return self._fault_reply(fault, amount, path, delay)
        if self.script is not None and answer is None and self.script.fallback != "synthetic":
            return Reply(502, _json(upstream_failure_body(str(uuid.uuid4()))), (("Content-Type", JSON),), delay=delay)
        return self._success(path, wire, reference, delay, answer)

    def _fault_reply(self, fault: Fault, amount: int, path: str, delay: float) -> Reply:
        mode = fault.mode
        if mode is FaultMode.UPSTREAM_502:
            body = _json(upstream_failure_body(str(uuid.uuid4())))
            return Reply(502, body, (("Content-Type", JSON),), delay=delay)
        if mode is FaultMode.ERROR_5XX_AFTER_PAYMENT:
            status = fault.http_status or 500
            return Reply(status, _json({"error": "Internal Server Error"}), (("Content-Type", JSON),), delay=delay)
        if mode is FaultMode.DROP_CONNECTION_AFTER_PAYMENT:
            return Reply(0, delay=delay, drop=True)
        # SECOND_402: the payment settled, yet the answer is a fresh challenge.
        reply = self._challenge_reply(amount, path)
        return Reply(reply.status, reply.body, reply.headers, delay=delay)

    def _success(
        self, path: str, wire: dict[str, Any], reference: str, delay: float, answer: Answer | None = None
    ) -> Reply:
        if answer is not None and answer.kind == "raw" and "body" in answer.spec:
            # Cassette replay: the recorded bytes exactly, with a fresh receipt for this payment.
            receipt = format_receipt(reference=reference, timestamp=rfc3339_ms(self.clock()))
            headers = (("Content-Type", JSON), ("Payment-Receipt", receipt), ("Cache-Control", "private"))
            return Reply(200, str(answer.spec["body"]).encode(), headers, delay=delay)
        try:
            if answer is not None and answer.kind != "fault":
                data = render_scripted(path, wire, answer, created=int(self.clock()))
            else:
                data = respond(path, wire, created=int(self.clock()))
        except Exception as exc:
            # Locus has already settled when the upstream call fails (xAI 400 or outage): it answers
            # 502 with its failure envelope and refunds. The synthetic model's refusals map the same way.
            if isinstance(exc, ResponderError):
                logger.info("synthetic model refused the body on %s: %s", path, exc)
            else:
                logger.exception("synthetic responder failed on %s", path)
            return Reply(502, _json(upstream_failure_body(str(uuid.uuid4()))), (("Content-Type", JSON),), delay=delay)
        receipt = format_receipt(reference=reference, timestamp=rfc3339_ms(self.clock()))
        headers = (("Content-Type", JSON), ("Payment-Receipt", receipt), ("Cache-Control", "private"))
        return Reply(200, _json({"success": True, "data": data}), headers, delay=delay)

    def _health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "realm": self.realm,
            "chainId": self.chain_id,
            "currency": self.currency,
            "recipient": self.recipient,
            "feePayer": self.fee_payer,
            "settlement": "local" if self.local_chain is not None else "rpc",
        }

    def openapi(self) -> dict[str, Any]:
        """A small discovery document (draft-payment-discovery-00); the 402 stays authoritative."""
        paths: dict[str, Any] = {}
        for route, cls in REQUEST_TYPES.items():
            paths[route] = {
                "post": {
                    "summary": (cls.__doc__ or route).strip().splitlines()[0],
                    "x-payment-info": {
                        "intent": "charge",
                        "method": "tempo",
                        "amount": None,
                        "currency": self.currency,
                        "description": "dynamic: priced per request body",
                    },
                    "requestBody": {"required": True, "content": {JSON: {"schema": {"type": "object"}}}},
                    "responses": {
                        "200": {"description": '{"success": true, "data": ...} with Payment-Receipt'},
                        "400": {"description": "invalid request body (nothing charged)"},
                        "402": {"description": "Payment required (WWW-Authenticate: Payment ...)"},
                        "502": {"description": '{"success": false, "error": ..., "paymentId": ...}'},
                    },
                }
            }
        return {
            "openapi": "3.1.0",
            "info": {"title": "grok-mpp local gateway (Locus emulation, test money only)", "version": "1"},
            "servers": [{"url": self.url}],
            "paths": paths,
        }
