"""``MPPAuth``: the Payment HTTP authentication flow as one ``httpx.Auth`` (sync and async).

The flow is a generator, so ``httpx.Client`` and ``httpx.AsyncClient`` drive the same code:

1. send the request (with ``Accept-Payment: tempo/charge`` and an ``Idempotency-Key``);
2. on 402, parse the challenges, check the origin and the policy (refusals sign nothing);
3. fetch the gas price from the chain's JSON-RPC through the same client (cached);
4. reserve the amount with the spend guard (budgets), sign, mark the row as sent;
5. resend the byte-identical request ONCE with the credential;
6. 2xx: settle and attach a :class:`PaymentRecord` to ``response.extensions["grok_mpp.payment"]``
   (a receipt whose status is not ``success`` is never settled: :class:`ReceiptMismatchError`);
   402/403: the server refused the credential -> :class:`PaymentRejectedError`;
   anything else, or a transport error: :class:`PaymentOutcomeUnknownError` territory — never paid again.

Only one payment is ever made per request: a second 402 after paying is an error, not a new offer.
And only one per *logical* request: a payment that ended without an answer is remembered by
request fingerprint (:mod:`grok_mpp.payment.pending`); when any retry wrapper repeats the identical
request, step 4 is replaced by re-sending that same credential (inside its validity window) or by
asking the chain whether it landed (after it) - see docs/ARCHITECTURE.md, "One payment per answer".

Why this module is longer than the others (~700 lines): it is one idea, the generator that walks a
single request through the payment state machine above. The order of its steps (reserve before
signing, mark sent before sending, conclude exactly once) IS the money-safety argument, so it stays
readable in one file; everything that can be pure already lives elsewhere (policy, signer, pending,
fees, hooks).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
import weakref
from collections.abc import AsyncGenerator, Callable, Generator, Iterable
from dataclasses import dataclass, replace
from typing import Any

import httpx

from grok_mpp.errors import (
    InsecureTransportError,
    InsufficientFundsError,
    PaymentError,
    PaymentNotRecordedError,
    PaymentOutcomeUnknownError,
    PaymentPendingError,
    PaymentRejectedError,
    PolicyViolationError,
    ProtocolError,
    ReceiptMismatchError,
)
from grok_mpp.mpp.challenge import parse_www_authenticate
from grok_mpp.mpp.problem import parse_problem
from grok_mpp.mpp.receipt import parse_receipt
from grok_mpp.payment.fees import estimate_gas_body, fee_bound, fee_from_receipt, gas_limit_from_estimate
from grok_mpp.payment.hooks import (
    InMemoryBudget,
    PaymentIntent,
    PaymentObserver,
    PaymentRecord,
    SpendGuard,
    notify_observers,
)
from grok_mpp.payment.pending import (
    PENDING,
    REUSE_MARGIN_SECONDS,
    SETTLE_GRACE_SECONDS,
    PendingPayment,
    PendingPayments,
    request_fingerprint,
)
from grok_mpp.payment.policy import PaymentPolicy, check_origin, select_challenge
from grok_mpp.payment.signer import build_calls, fee_cap_per_gas, sign_payment
from grok_mpp.tempo.rpc import (
    balance_of_body,
    gas_price_body,
    parse_receipt_status,
    quantity,
    receipt_body,
    rpc_result,
)
from grok_mpp.units import format_usd
from grok_mpp.wallet import Wallet

logger = logging.getLogger("grok_mpp.payment")

PAYMENT_EXTENSION = "grok_mpp.payment"
PENDING_EXTENSION = "grok_mpp.pending_settlement"
SENT_EXTENSION = "grok_mpp.sent"
CONTEXT_EXTENSION = "grok_mpp"


@dataclass(frozen=True, slots=True)
class SentPayment:
    """Marker left on the request once its credential went out (no secret in it)."""

    intent: PaymentIntent
    tx_hash: str
    valid_before: int
    payer: str
    #: The guard's reservation id, so a failed call can still be confirmed from the chain.
    reservation: str | None = None


def sent_payment(request: httpx.Request) -> SentPayment | None:
    """The payment already sent for this request, if any (to classify a transport error)."""
    value = request.extensions.get(SENT_EXTENSION)
    return value if isinstance(value, SentPayment) else None


_DONE = object()


def _step(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except StopIteration:  # cannot cross a thread/future boundary: turn it into a sentinel
        return _DONE


#: Worker threads the payment steps of one event loop may use at once. anyio's default (40) lets 64
#: concurrent paid calls spread over 40 threads that fight the event loop for the GIL: client CPU per
#: paid call doubled at 64-way (bench row 3). A few threads keep the loop free (row 8) without that.
STEP_THREADS = 4
_limiters: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_limiters_lock = threading.Lock()


def step_limiter() -> Any:
    """The running event loop's :class:`anyio.CapacityLimiter` for blocking payment steps."""
    import asyncio

    import anyio

    loop = asyncio.get_running_loop()
    with _limiters_lock:
        limiter = _limiters.get(loop)
        if limiter is None:
            limiter = _limiters[loop] = anyio.CapacityLimiter(STEP_THREADS)
    return limiter


async def run_step(fn: Callable[..., Any], *args: Any) -> Any:
    """Run one blocking step (ledger transaction, RPC bookkeeping, signing) in a worker thread.

    Not abandoned on cancellation: a step that records a payment in the ledger always finishes,
    so cancelling a task can never leave a sent credential without its row.
    """
    import anyio.to_thread

    return await anyio.to_thread.run_sync(fn, *args, limiter=step_limiter())


async def _to_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """One step of the auth flow generator in a worker thread (context variables kept)."""
    return await run_step(_step, fn, *args)


def _cross_origin_hop(paid: httpx.Request, response: httpx.Response) -> str | None:
    """The first origin other than ``paid``'s that a followed redirect of ``paid`` reached, if any.

    httpx sets ``response.history`` to every earlier response of the call (the auth flow's own 402
    and RPC exchanges too), so only the hops from the paid request on are looked at."""
    try:
        final = response.request
    except RuntimeError:  # a response built without a request
        return None
    if final is paid:
        return None  # no redirect was followed
    hops = [h.request for h in response.history if _has_request(h)] + [final]
    start = next((i for i, r in enumerate(hops) if r is paid), None)
    if start is None:
        return None
    for hop in hops[start + 1 :]:
        if _origin(hop.url) != _origin(paid.url):
            return f"{hop.url.scheme}://{hop.url.netloc.decode()}"
    return None


def _has_request(response: httpx.Response) -> bool:
    try:
        _ = response.request
    except RuntimeError:
        return False
    return True


def sent_request_context(response: httpx.Response) -> dict[str, Any] | None:
    """The ``grok_mpp`` context of the request this response answers."""
    try:
        ctx = response.request.extensions.get(CONTEXT_EXTENSION)
    except RuntimeError:  # a response built without a request
        return None
    return ctx if isinstance(ctx, dict) else None


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


class MPPAuth(httpx.Auth):
    """Pays ``402 Payment`` challenges with a Tempo wallet under a :class:`PaymentPolicy`.

    Use it directly to pay any MPP-protected route with plain httpx; :class:`GrokClient` wraps it.

    Example::

        import httpx
        from grok_mpp import ChatRequest, MPPAuth, Settings, Wallet
        settings = Settings.resolve()             # GROK_MPP_BASE_URL, GROK_MPP_CHAIN_ID, TEMPO_RPC_URL, ...
        auth = MPPAuth(Wallet.resolve(), settings.policy(max_amount_per_call=50_000), rpc_url=settings.rpc_url)
        body = ChatRequest(messages=[{"role": "user", "content": "Hi"}], max_tokens=32).to_body()
        with httpx.Client(auth=auth, headers={"Content-Type": "application/json"}, timeout=60) as client:
            response = client.post(settings.base_url + "/grok/chat", content=body)
        print(response.status_code, response.extensions["grok_mpp.payment"].amount_usd)
    """

    requires_request_body = True
    requires_response_body = True

    def __init__(
        self,
        wallet: Wallet,
        policy: PaymentPolicy | None = None,
        *,
        rpc_url: str | None = None,
        guard: SpendGuard | None = None,
        observers: Iterable[PaymentObserver] = (),
        gas_price: int | None = None,
        gas_price_ttl: float = 30.0,
        check_balance: bool = True,
        clock: Callable[[], float] = time.time,
        pending: PendingPayments | None = None,
    ) -> None:
        self.wallet = wallet
        self.policy = policy or PaymentPolicy()
        self.rpc_url = rpc_url
        self.guard: SpendGuard = guard if guard is not None else InMemoryBudget()
        self.observers: list[PaymentObserver] = list(observers)
        self._fixed_gas_price = gas_price
        self._gas_ttl = gas_price_ttl
        self._gas_cache: tuple[int, float] | None = None
        self._gas_lock = threading.Lock()
        self._check_balance = check_balance
        self._balances: dict[str, tuple[int, float]] = {}
        self._gas_limits: dict[str, tuple[int, float]] = {}
        self._unreleased: list[tuple[str, str]] = []
        self._clock = clock
        self.pending = PENDING if pending is None else pending

    def __repr__(self) -> str:
        return f"MPPAuth(payer={self.wallet.address}, chain_id={self.policy.chain_id})"

    # httpx's default sync/async drivers leave the inner generator to the garbage collector when
    # the client aborts (transport error, cancellation). Close it explicitly so the flow's
    # "sent but no answer" bookkeeping runs deterministically, in both drivers.
    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.read()
        flow = self.auth_flow(request)
        try:
            request = next(flow)
            while True:
                response = yield request
                response.read()
                try:
                    request = flow.send(response)
                except StopIteration:
                    break
        finally:
            flow.close()

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        # Same generator as the sync driver; every step after the first may touch the ledger (a
        # SQLite/PostgreSQL transaction that can wait on another process's lock, reconciliation's
        # RPC calls) or sign, so it runs in a worker thread and the event loop never waits on it.
        await request.aread()
        flow = self.auth_flow(request)
        try:
            request = next(flow)  # only sets headers: nothing blocking before the first response
            while True:
                response = yield request
                await response.aread()
                step = await _to_thread(flow.send, response)
                if step is _DONE:
                    break
                request = step
        finally:
            await _to_thread(flow.close)

    def _gas_price(self) -> Generator[httpx.Request, httpx.Response, int]:
        if self._fixed_gas_price is not None:
            return self._fixed_gas_price
        now = self._clock()
        with self._gas_lock:
            if self._gas_cache is not None and now - self._gas_cache[1] < self._gas_ttl:
                return self._gas_cache[0]
        if not self.rpc_url:
            return self.policy.default_gas_price
        response = yield httpx.Request("POST", self.rpc_url, json=gas_price_body())
        try:
            price = quantity(rpc_result(response.json()))
        except (ProtocolError, ValueError) as exc:
            logger.warning("eth_gasPrice failed (%s); using the default gas price", exc)
            return self.policy.default_gas_price
        with self._gas_lock:
            self._gas_cache = (price, now)
        return price

    def _balance(self, token: str, needed: int) -> Generator[httpx.Request, httpx.Response, int | None]:
        """The payer's token balance (None when unknown), cached and debited locally between reads.

        A payer short of amount + fee would see its transaction mined and reverted on Tempo, losing
        the fee, and the servers answer with errors that do not say why. Checking first turns that
        into a clear refusal with nothing signed. The cache keeps the check off the hot path: the
        chain is asked again only when the cached figure is stale or looks insufficient.
        """
        if not (self._check_balance and self.rpc_url):
            return None
        now = self._clock()
        with self._gas_lock:
            cached = self._balances.get(token)
        if cached is not None and now - cached[1] < self._gas_ttl and cached[0] >= needed:
            return cached[0]
        response = yield httpx.Request("POST", self.rpc_url, json=balance_of_body(token, self.wallet.address))
        try:
            balance = quantity(rpc_result(response.json()))
        except (ProtocolError, ValueError) as exc:
            logger.warning("balanceOf failed (%s); paying without a balance pre-check", exc)
            return None
        with self._gas_lock:
            self._balances[token] = (balance, now)
        return balance

    def _gas_limit(self, approved: Any) -> Generator[httpx.Request, httpx.Response, int]:
        """Gas limit for this payment: ``eth_estimateGas`` + headroom (cached per token), else the policy's.

        The limit only bounds the fee (what is charged is ``gasUsed``), but budgets and the balance
        check reserve ``limit * max_fee_per_gas``, so a realistic limit keeps them honest.
        """
        cap = self.policy.gas_limit
        if not self.rpc_url or approved.sponsored:
            return cap
        token = approved.charge.currency.lower()
        now = self._clock()
        with self._gas_lock:
            cached = self._gas_limits.get(token)
        if cached is not None and now - cached[1] < self._gas_ttl:
            return cached[0]
        calls = [(call.to, call.data) for call in build_calls(approved)]
        body = estimate_gas_body(self.wallet.address, token, calls, approved.valid_before)
        response = yield httpx.Request("POST", self.rpc_url, json=body)
        try:
            limit = gas_limit_from_estimate(quantity(rpc_result(response.json())), cap)
        except (ProtocolError, ValueError) as exc:
            logger.info("eth_estimateGas failed (%s); using the policy gas limit %d", exc, cap)
            limit = cap
        with self._gas_lock:
            self._gas_limits[token] = (limit, now)
        return limit

    def chain_receipt(self, tx_hash: str) -> Generator[httpx.Request, httpx.Response, dict[str, Any] | None]:
        """The mined receipt of ``tx_hash`` (None if not mined, or no RPC / an RPC failure)."""
        if not self.rpc_url:
            return None
        try:
            response = yield httpx.Request("POST", self.rpc_url, json=receipt_body(tx_hash))
            result = rpc_result(response.json())
        except (ProtocolError, ValueError, httpx.HTTPError) as exc:
            logger.warning("eth_getTransactionReceipt %s failed: %s", tx_hash, exc)
            return None
        return result if isinstance(result, dict) else None

    def confirm_failed(self, sent: SentPayment) -> Generator[httpx.Request, httpx.Response, PaymentRecord | None]:
        """After a failed answer (502, 5xx, dropped connection): did our transfer land anyway?

        If the chain has a successful receipt the money moved: the guard is told (the ledger row
        becomes ``settled_onchain`` with its actual fee) and a record is returned so cost trackers
        count it. A reverted receipt returns a record with amount 0 and the fee (the fee is paid
        even then). No receipt: None, the row stays open for reconciliation.
        """
        receipt = yield from self.chain_receipt(sent.tx_hash)
        if receipt is None:
            return None
        from grok_mpp.tempo.rpc import parse_receipt_status

        try:
            landed = bool(parse_receipt_status(receipt))
        except ProtocolError:
            return None
        fee = 0 if sent.intent.max_fee == 0 else fee_from_receipt(receipt, sent.payer)
        confirm = getattr(self.guard, "confirm_onchain", None)
        if callable(confirm) and sent.reservation is not None:
            try:
                confirm(sent.reservation, fee=fee, receipt=receipt, settled=landed)
            except Exception as exc:
                logger.warning("could not record on-chain outcome of %s: %s", sent.tx_hash, exc)
        intent = sent.intent if landed else replace(sent.intent, amount=0)
        return PaymentRecord(
            intent=intent, tx_hash=sent.tx_hash, receipt_reference=None, receipt=None, payer=sent.payer,
            sponsored=sent.intent.max_fee == 0, valid_before=sent.valid_before, settled_at=self._clock(), fee=fee,
        )

    def _release(self, reservation: str, reason: str) -> None:
        """Free a reservation that was never sent. If the ledger refuses right now (busy, I/O
        error) keep it and retry before the next payment: the process is alive, so the budget must
        not wait for the 300 s abandonment rule."""
        try:
            self.guard.release(reservation, reason=reason)
        except Exception as exc:  # the original error is what the caller must see
            logger.warning("could not release reservation %s now (%s); retrying before the next payment", reservation, exc)
            with self._gas_lock:
                self._unreleased.append((reservation, reason))

    def _retry_releases(self) -> None:
        with self._gas_lock:
            pending, self._unreleased = self._unreleased, []
        for reservation, reason in pending:
            self._release(reservation, reason)

    def _settle(self, attempt: PendingPayment, record: PaymentRecord, outcome: str, response: httpx.Response) -> None:
        _record(attempt, outcome, record=record, response=response)
        response.extensions[PAYMENT_EXTENSION] = record
        notify_observers(self.observers, record)

    def finish(self, response: httpx.Response) -> Generator[httpx.Request, httpx.Response, PaymentRecord | None]:
        """Complete a 2xx paid with ``defer_settle``: read the actual fee, then settle once.

        The fee is ``gasUsed * effectiveGasPrice`` from ``eth_getTransactionReceipt`` (one cheap
        RPC call through the caller's client). If the chain cannot be asked the row settles with
        the fee unknown (budgets and reports keep the worst-case bound; reconciliation fills it).
        A crash before this leaves the row 'sent', which reconciliation resolves from the chain.
        """
        pending = response.extensions.pop(PENDING_EXTENSION, None)
        if pending is None:
            record: PaymentRecord | None = response.extensions.get(PAYMENT_EXTENSION)
            return record
        attempt, record, outcome = pending
        receipt = yield from self.chain_receipt(record.tx_hash)
        record = replace(record, fee=fee_from_receipt(receipt, record.payer))
        self._settle(attempt, record, outcome, response)
        return record

    def _debit(self, token: str, spent: int) -> None:
        with self._gas_lock:
            cached = self._balances.get(token)
            if cached is not None:
                self._balances[token] = (max(0, cached[0] - spent), cached[1])

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.setdefault("Accept-Payment", "tempo/charge")
        if request.method not in ("GET", "HEAD", "OPTIONS") and "idempotency-key" not in request.headers:
            request.headers["Idempotency-Key"] = uuid.uuid4().hex
        response = yield request
        if response.status_code != 402:
            return
        challenges = parse_www_authenticate(response.headers.get_list("www-authenticate"))
        if not challenges:
            return  # a 402 without a Payment challenge: nothing to pay, the caller sees the 402
        url = request.url
        if _origin(response.url) != _origin(url):
            raise InsecureTransportError(
                f"the 402 came from {response.url.host}, not from {url.host} (redirect); refusing to pay"
            )
        check_origin(url.scheme, url.host, self.policy)
        origin = f"{url.scheme}://{url.netloc.decode()}"
        fingerprint = request_fingerprint(
            method=request.method, origin=origin, target=url.raw_path.decode("ascii", "replace"),
            content=request.content, payer=self.wallet.address, chain_id=self.policy.chain_id,
        )
        # The retry invariant: an earlier identical request whose payment is unresolved is finished
        # with ITS credential (or resolved from the chain) before anything new is signed.
        earlier = self.pending.checkout(fingerprint)
        if earlier is not None:
            concluded = yield from self._resume(request, earlier)
            if concluded:
                return
        yield from self._check_ledger(request, origin)
        policy = self.policy
        approved = select_challenge(challenges, policy, host=url.host, now=self._clock())
        gas_price = yield from self._gas_price()
        if gas_price > policy.max_fee_per_gas:
            raise PolicyViolationError(
                f"network gas price {gas_price} exceeds the policy cap {policy.max_fee_per_gas}", rule="gas"
            )
        ctx: dict[str, Any] = request.extensions.get(CONTEXT_EXTENSION) or {}
        charge = approved.charge
        gas_limit = yield from self._gas_limit(approved)
        # the worst case: the signed limit at the signed fee cap (1.2x the gas price, see signer)
        max_fee = 0 if charge.fee_payer else fee_bound(gas_limit, fee_cap_per_gas(gas_price))
        needed = charge.amount + max_fee
        balance = yield from self._balance(charge.currency, needed)
        if balance is not None and balance < needed:
            raise InsufficientFundsError(
                f"wallet {self.wallet.address} holds {format_usd(balance)} USD of the payment token but this call "
                f"needs {format_usd(needed)} USD (amount {format_usd(charge.amount)} + network fee up to "
                f"{format_usd(max_fee)}); nothing was signed",
                challenge_id=approved.challenge.id,
                hint="fund the wallet (grok-mpp wallet balance shows it)",
            )
        intent = PaymentIntent(
            challenge_id=approved.challenge.id,
            realm=approved.challenge.realm,
            origin=origin,
            endpoint=str(ctx.get("endpoint") or url.path),
            amount=charge.amount,
            currency=charge.currency,
            recipient=charge.recipient,
            chain_id=approved.chain_id,
            request_digest=hashlib.sha256(request.content).hexdigest(),
            model=ctx.get("model"),
            estimate=ctx.get("estimate"),
            max_fee=max_fee,
        )
        guard = self.guard
        self._retry_releases()
        reservation = guard.reserve(intent)
        try:
            signed = sign_payment(approved, self.wallet, gas_price=gas_price, gas_limit=gas_limit)
            sent = SentPayment(intent, signed.tx_hash, signed.valid_before, self.wallet.address, reservation)
            guard.mark_sent(
                reservation, tx_hash=signed.tx_hash, valid_before=signed.valid_before, payer=self.wallet.address
            )
        except BaseException as exc:
            self._release(reservation, f"not sent: {type(exc).__name__}")
            raise
        attempt = PendingPayment(
            fingerprint=fingerprint,
            header_name=signed.header_name,
            credential=signed.credential,
            tx_hash=signed.tx_hash,
            valid_before=signed.valid_before,
            sponsored=approved.sponsored,
            sent=sent,
            reservation=reservation,
            guard=guard,
            idempotency_key=request.headers.get("idempotency-key"),
        )
        self._debit(charge.currency, needed)
        logger.info(
            "paying %s USD to %s for %s (challenge %s, tx %s)",
            format_usd(charge.amount), charge.recipient, intent.endpoint, intent.challenge_id, signed.tx_hash,
        )
        paid = yield from self._send_paid(request, attempt, reused=False)
        yield from self._conclude(paid, attempt, reused=False)

    def _send_paid(
        self, request: httpx.Request, attempt: PendingPayment, *, reused: bool
    ) -> Generator[httpx.Request, httpx.Response, httpx.Response]:
        """Send the request carrying ``attempt``'s credential; no answer -> remembered as pending."""
        request.headers[attempt.header_name] = attempt.credential
        request.extensions[SENT_EXTENSION] = attempt.sent
        try:
            response = yield request
        except GeneratorExit:  # transport error, timeout or cancellation after the credential left
            if reused:
                self.pending.give_back(attempt)
            else:
                self.pending.add(attempt)
                _record(attempt, "outcome_unknown", detail="no response after the credential was sent")
            raise
        finally:
            request.headers.pop(attempt.header_name, None)  # keep the bearer credential out of later logging
        hop = _cross_origin_hop(request, response)
        if hop is not None:
            # A user's client with follow_redirects=True followed a redirect of the PAID request to
            # another origin. httpx strips only `Authorization` on such hops, so a credential sent as
            # `Payment-Authorization` went along; either way the answer is not the paid origin's.
            self._unresolved(attempt, reused, "outcome_unknown", detail=f"paid request redirected to {hop}")
            error = PaymentOutcomeUnknownError(
                f"the paid request was redirected to another origin ({hop}); the answer does not come from the "
                f"server that was paid and transaction {attempt.tx_hash} may have settled"
                + ("" if attempt.header_name.lower() == "authorization" else
                   f"; the {attempt.header_name} credential was forwarded to {hop}"),
                tx_hash=attempt.tx_hash,
                challenge_id=attempt.sent.intent.challenge_id,
                status_code=response.status_code,
                hint="use an httpx client with follow_redirects=False for paid calls; run `grok-mpp ledger "
                "reconcile` before paying again",
            )
            error.response = response
            raise error
        return response

    def _resume(
        self, request: httpx.Request, earlier: PendingPayment
    ) -> Generator[httpx.Request, httpx.Response, bool]:
        """Finish an identical earlier request's unresolved payment. True = the request is concluded
        (answered or an error raised); False = the earlier payment is resolved, a new one may follow."""
        now = self._clock()
        if now < earlier.valid_before - REUSE_MARGIN_SECONDS:
            logger.info("re-sending the unresolved payment %s of an identical earlier request", earlier.tx_hash)
            if earlier.idempotency_key:
                request.headers["Idempotency-Key"] = earlier.idempotency_key
            response = yield from self._send_paid(request, earlier, reused=True)
            yield from self._conclude(response, earlier, reused=True)
            return True
        if now < earlier.valid_before + SETTLE_GRACE_SECONDS:
            self.pending.give_back(earlier)
            raise PaymentPendingError(
                f"an identical earlier request sent payment {earlier.tx_hash}, which may still land until "
                f"{earlier.valid_before}; not paying again before its outcome is known",
                tx_hash=earlier.tx_hash,
                challenge_id=earlier.sent.intent.challenge_id,
                retry_after=earlier.valid_before + SETTLE_GRACE_SECONDS,
                hint=f"retry after {earlier.valid_before + SETTLE_GRACE_SECONDS} (unix time): the chain is "
                "then asked whether it landed",
            )
        landed = yield from self._chain_status(earlier.tx_hash)
        if landed is None and earlier.sponsored:
            # A sponsored transaction lands under a hash that includes the fee payer's signature, so
            # "no receipt for our hash" proves nothing: never treat it as "did not land".
            landed = _UNKNOWN
        if landed is _UNKNOWN:
            self.pending.give_back(earlier)
            raise PaymentPendingError(
                f"an identical earlier request sent payment {earlier.tx_hash} and the chain could not be asked "
                "whether it landed; not paying again",
                tx_hash=earlier.tx_hash,
                challenge_id=earlier.sent.intent.challenge_id,
                hint="check TEMPO_RPC_URL, or run `grok-mpp ledger reconcile`, then retry",
            )
        self.pending.resolve(earlier)
        logger.warning(
            "earlier payment %s of an identical request %s; its answer was lost, paying for this request anew",
            earlier.tx_hash, "landed on chain" if landed else "never landed" if landed is None else "reverted",
        )
        return False

    def _check_ledger(self, request: httpx.Request, origin: str) -> Generator[httpx.Request, httpx.Response, None]:
        """The retry invariant across processes: a durable guard (the ledger) that knows an unanswered
        payment for this same request body, payer and origin blocks a new signature until the chain
        says how it ended. The credential itself is never stored, so it cannot be re-sent from here:
        inside its window the call is refused; after it, the chain is asked and the row concluded."""
        lookup = getattr(self.guard, "unanswered", None)
        if lookup is None:
            return
        rows = lookup(
            request_digest=hashlib.sha256(request.content).hexdigest(), payer=self.wallet.address, origin=origin
        )
        for row in rows:
            if row.tx_hash is None or row.valid_before is None:
                continue
            resolvable_at = row.valid_before + SETTLE_GRACE_SECONDS
            if self._clock() < resolvable_at:
                raise PaymentPendingError(
                    f"the ledger holds an unanswered payment {row.tx_hash} for this same request (row {row.id}, "
                    f"{row.state}); it may still land until {row.valid_before}, so nothing new is paid",
                    tx_hash=row.tx_hash,
                    challenge_id=row.challenge_id,
                    retry_after=resolvable_at,
                    hint=f"retry after {resolvable_at} (unix time), or run `grok-mpp ledger reconcile` then",
                )
            landed = yield from self._chain_status(row.tx_hash)
            if landed is None and not row.max_fee:  # sponsored (no fee of ours): our hash proves nothing
                landed = _UNKNOWN
            if landed is _UNKNOWN:
                raise PaymentPendingError(
                    f"the ledger holds an unanswered payment {row.tx_hash} for this same request and the chain "
                    "could not be asked whether it landed; not paying again",
                    tx_hash=row.tx_hash,
                    challenge_id=row.challenge_id,
                    hint="check TEMPO_RPC_URL, or run `grok-mpp ledger reconcile`, then retry",
                )
            conclude = getattr(self.guard, "mark_reconciled", None)
            if conclude is not None:
                try:
                    conclude(row.id, settled=bool(landed), detail="reconciled before re-paying an identical request")
                except Exception as exc:  # concluded meanwhile by reconciliation or another process
                    logger.info("row %s was concluded meanwhile: %s", row.id, exc)

    def _chain_status(self, tx_hash: str) -> Generator[httpx.Request, httpx.Response, object]:
        """True = mined with status 1, False = reverted, None = no receipt, ``_UNKNOWN`` = no usable answer.

        Only called after ``valid_before`` (+ grace), when "no receipt" means it can never land."""
        if not self.rpc_url:
            return _UNKNOWN
        response = yield httpx.Request("POST", self.rpc_url, json=receipt_body(tx_hash))
        try:
            receipt = rpc_result(response.json())
            status = parse_receipt_status(receipt)
        except (ProtocolError, ValueError) as exc:
            logger.warning("eth_getTransactionReceipt(%s) failed: %s", tx_hash, exc)
            return _UNKNOWN
        if status is None:
            return None
        if str(receipt.get("transactionHash", tx_hash)).lower() != tx_hash.lower():
            return _UNKNOWN  # an RPC answering for another transaction proves nothing
        return status

    def _conclude(
        self, response: httpx.Response, attempt: PendingPayment, *, reused: bool
    ) -> Generator[httpx.Request, httpx.Response, None]:
        status = response.status_code
        sent = attempt.sent
        intent = sent.intent
        tx_hash = attempt.tx_hash
        if 200 <= status < 300:
            receipt = None
            raw_receipt = response.headers.get("payment-receipt")
            if raw_receipt:
                try:
                    receipt = parse_receipt(raw_receipt)
                except ProtocolError as exc:
                    logger.warning("ignoring malformed Payment-Receipt: %s", exc)
            if receipt is not None and not receipt.ok:
                # The server says the payment failed yet answered 2xx: never recorded as settled.
                self._unresolved(attempt, reused, "outcome_unknown", detail=f"receipt status {receipt.status!r}")
                error: PaymentError = ReceiptMismatchError(
                    f"the server answered {status} but its receipt says the payment {receipt.status!r}; "
                    f"our transaction {tx_hash} may or may not have landed",
                    tx_hash=tx_hash,
                    challenge_id=intent.challenge_id,
                    receipt_reference=receipt.reference,
                    receipt_status=receipt.status,
                    hint="run `grok-mpp ledger reconcile` to learn from the chain whether it landed",
                )
                error.response = response
                raise error
            reference = receipt.reference if receipt else None
            if reference and not attempt.sponsored and reference.lower() != tx_hash.lower():
                logger.warning(
                    "receipt reference %s differs from our transaction %s; the ledger keeps both", reference, tx_hash
                )
            record = PaymentRecord(
                intent=intent,
                tx_hash=tx_hash,
                receipt_reference=reference,
                receipt=receipt.raw if receipt else None,
                payer=sent.payer,
                sponsored=attempt.sponsored,
                valid_before=sent.valid_before,
                settled_at=self._clock(),
                fee=0 if attempt.sponsored or not intent.max_fee else None,
            )
            if reused:
                self.pending.resolve(attempt)
            outcome = "settle_resent" if reused else "settle"
            if (sent_request_context(response) or {}).get("defer_settle") and record.fee is None:
                # The caller (GrokClient) reads the actual fee from the chain receipt first and
                # then records the outcome through finish(): one ledger write with the true figure.
                response.extensions[PENDING_EXTENSION] = (attempt, record, outcome)
                return
            self._settle(attempt, record, outcome, response)
            return
        problem = parse_problem(response.content, response.headers.get("content-type"))
        detail = problem.describe() if problem else f"HTTP {status}"
        if reused and status in (402, 403):
            self.pending.give_back(attempt)
            error = PaymentPendingError(
                f"an identical earlier request sent payment {tx_hash} and got no answer; re-sending that same "
                f"credential was refused ({status}: {detail}), so it most likely settled already. Not paying again",
                tx_hash=tx_hash,
                challenge_id=intent.challenge_id,
                status_code=status,
                retry_after=attempt.valid_before + SETTLE_GRACE_SECONDS,
                hint="the payment can land only once; after its validity window the next call asks the chain "
                "(or run `grok-mpp ledger reconcile`)",
            )
        elif status in (402, 403):
            self._unresolved(attempt, reused, "reject", status_code=status, detail=detail)
            error = PaymentRejectedError(
                f"the server refused our payment credential ({status}: {detail})",
                tx_hash=tx_hash,
                challenge_id=intent.challenge_id,
                status_code=status,
                problem=problem,
                hint="not paid again automatically; the ledger holds the amount until reconciliation "
                "shows the transaction cannot land",
            )
        else:
            self._unresolved(attempt, reused, "outcome_unknown", detail=f"HTTP {status}: {detail}")
            error = PaymentOutcomeUnknownError(
                f"HTTP {status} after the payment credential was sent; the payment may have settled",
                tx_hash=tx_hash,
                challenge_id=intent.challenge_id,
                status_code=status,
                hint="not retried automatically; run `grok-mpp ledger reconcile` before paying again",
            )
        error.response = response
        raise error
        yield  # pragma: no cover - makes this a generator for `yield from`

    def _unresolved(self, attempt: PendingPayment, reused: bool, outcome: str, **kw: Any) -> None:
        """A sent payment ended without an answer: remember it for retries and record it (first time)."""
        if reused:
            self.pending.give_back(attempt)
            return
        self.pending.add(attempt)
        _record(attempt, outcome, **kw)


_UNKNOWN = object()


def _record(attempt: PendingPayment, outcome: str, *, response: httpx.Response | None = None, **kw: Any) -> None:
    """Tell the attempt's spend guard how it ended. A guard failure here happens AFTER the credential
    left: it must surface as a paid error with the transaction hash, never as "nothing paid"."""
    guard = attempt.guard
    try:
        if outcome == "settle":
            guard.settle(attempt.reservation, kw["record"])
        elif outcome == "settle_resent":  # optional guard method; plain settle otherwise
            getattr(guard, "settle_resent", guard.settle)(attempt.reservation, kw["record"])
        elif outcome == "reject":
            guard.reject(attempt.reservation, status_code=kw.get("status_code"), detail=kw.get("detail", ""))
        else:
            guard.outcome_unknown(attempt.reservation, detail=kw.get("detail", ""))
    except Exception as exc:
        logger.error("could not record payment %s as %s: %s", attempt.tx_hash, outcome, exc)
        error = PaymentNotRecordedError(
            f"the payment credential was sent (transaction {attempt.tx_hash}) but recording it as {outcome} "
            f"failed: {type(exc).__name__}: {exc}",
            tx_hash=attempt.tx_hash,
            challenge_id=attempt.sent.intent.challenge_id,
            hint="money may have moved: record this transaction, then run `grok-mpp ledger reconcile`",
        )
        error.response = response
        raise error from exc
