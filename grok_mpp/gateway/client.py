"""Typed clients for the seven Locus Grok endpoints: ``GrokClient`` (sync) and ``AsyncGrokClient``.

Everything except the actual ``send`` is shared: building the validated request (serialized once,
so the paid retry re-sends identical bytes), labelling it for the ledger, turning the response
(or the failure) into a result or a typed error. The only difference between the two classes is
``self._http.send(...)`` versus ``await self._http.send(...)``.

Why one module of ~650 lines: it is one idea (a validated request in, a typed result or a typed
error out) for seven routes in two flavours; most of its length is the per-route method signatures
users read, and the request models, parsing and pricing it uses live in their own packages.

Example::

    from grok_mpp import GrokClient
    with GrokClient() as grok:                       # key from GROK_MPP_PRIVATE_KEY
        result = grok.chat(messages=[{"role": "user", "content": "Hi"}], max_tokens=64)
        print(result.text, result.cost.paid_usd)
"""

from __future__ import annotations

import functools
import json
import ssl
import uuid
from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import httpx

from grok_mpp.config import Settings
from grok_mpp.errors import (
    ConfigurationError,
    GatewayConnectionError,
    GatewayError,
    GatewayTimeoutError,
    GrokMPPError,
    InvalidRequestError,
    PaymentError,
    PaymentOutcomeUnknownError,
    RateLimitedError,
    UpstreamError,
)
from grok_mpp.gateway.parsing import parse_chat, parse_image, parse_speech, unwrap_envelope
from grok_mpp.gateway.pricing import Estimate, estimate_request
from grok_mpp.gateway.requests import (
    ChatRequest,
    CodeExecutionRequest,
    GrokRequest,
    ImageEditRequest,
    ImageGenerateRequest,
    TTSRequest,
    WebSearchRequest,
    XSearchRequest,
)
from grok_mpp.gateway.results import ChatResult, Cost, ImageResult, SpeechResult
from grok_mpp.mpp.challenge import parse_www_authenticate
from grok_mpp.mpp.charge import ChargeRequest
from grok_mpp.payment.auth import CONTEXT_EXTENSION, PAYMENT_EXTENSION, MPPAuth, run_step, sent_payment
from grok_mpp.payment.hooks import InMemoryBudget, PaymentObserver, PaymentRecord, SpendGuard
from grok_mpp.payment.policy import PaymentPolicy, select_challenge
from grok_mpp.units import format_usd
from grok_mpp.wallet import Wallet

R = TypeVar("R", bound=GrokRequest)
T = TypeVar("T")
Result = ChatResult | ImageResult | SpeechResult

CHAT_ENDPOINTS = ("/grok/chat", "/grok/code-execution", "/grok/web-search", "/grok/x-search")
#: See :func:`_pool_limits`: keep-alive slots == connections (encode/httpcore#1110).
POOL_CONNECTIONS = 512


@dataclass(frozen=True, slots=True)
class Quote:
    """The gateway's asked price for a request, fetched without paying.

    The price is whatever the 402 challenge asks, which can differ from our own estimate (also
    given), so a caller can show it or check it against the policy before committing any money.

    Example::

        from grok_mpp import ChatRequest, GrokClient
        with GrokClient() as grok:              # no credential is sent: quoting is free
            quote = grok.quote(ChatRequest(messages=[{"role": "user", "content": "Hi"}], max_tokens=32))
        print(quote.amount_usd, quote.estimate_usd, quote.within_policy, quote.refusal)
    """

    endpoint: str
    amount: int
    currency: str
    recipient: str
    chain_id: int | None
    challenge_id: str
    expires: datetime | None
    estimate: Estimate
    within_policy: bool
    refusal: str | None

    @property
    def amount_usd(self) -> str:
        return format_usd(self.amount)

    @property
    def estimate_usd(self) -> str:
        return format_usd(self.estimate.amount)


#: Headers a caller may not set: the MPP flow, content negotiation and framing own them.
_RESERVED_HEADERS = frozenset(
    {
        "authorization",
        "payment-authorization",
        "accept-payment",
        "idempotency-key",  # one per logical request: the retry invariant keys re-sent credentials on it
        "content-type",
        "accept",
        "content-length",
        "host",
        "cookie",
    }
)


def checked_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Extra headers sent with every request (``default_headers`` of the adapters), validated."""
    out: dict[str, str] = {}
    for name, value in (headers or {}).items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise ConfigurationError("headers must map header names to string values")
        lowered = name.strip().lower()
        if lowered in _RESERVED_HEADERS or lowered.startswith("payment"):
            raise ConfigurationError(f"header {name!r} is set by the client itself and cannot be overridden")
        if not lowered or any(c in name + value for c in "\r\n"):
            raise ConfigurationError(f"header {name!r} is not a valid header")
        out[name.strip()] = value
    return out


def _coerce(kind: type[R], request: R | Mapping[str, Any] | None, fields: dict[str, Any]) -> R:
    if request is None:
        return kind(**fields)
    if isinstance(request, kind):
        return request.replace(**fields) if fields else request
    if isinstance(request, Mapping):
        return kind(**{**request, **fields})
    raise InvalidRequestError(f"expected a {kind.__name__} or a dict, got {type(request).__name__}")


def _cost(record: PaymentRecord | None, estimate: Estimate | int, *, failed: bool = False) -> Cost:
    """``tx_hash`` is OUR transaction (a server's receipt cannot rename it); only a sponsored payment,
    whose on-chain hash includes the fee payer's signature, takes the receipt's reference."""
    estimated = estimate if isinstance(estimate, int) else estimate.amount
    if record is None:
        return Cost.unpaid(estimated)
    return Cost(
        paid=record.total,
        currency=record.intent.currency,
        chain_id=record.intent.chain_id,
        tx_hash=(record.receipt_reference or record.tx_hash) if record.sponsored else record.tx_hash,
        challenge_id=record.intent.challenge_id,
        receipt=record.receipt,
        estimated=estimated,
        upstream_ticks=None,
        receipt_reference=record.receipt_reference,
        receipt_mismatch=not record.reference_matches,
        amount=record.amount,
        fee=record.fee_or_bound,
        fee_exact=record.fee is not None,
        failed=failed,
    )


def _pool_limits() -> httpx.Limits:
    """Connection-pool limits that keep paid requests clear of an httpcore race.

    httpcore's pool can close a connection it has already assigned to a queued request (surplus
    keep-alive cleanup, or "close an idle connection to make room" at ``max_connections``): the
    waiting request then dies with ``ReadError: [Errno 9] Bad file descriptor`` or hangs - about
    half of the time AFTER the gateway settled the payment (paid, no answer). Upstream:
    https://github.com/encode/httpcore/issues/1110 (fix proposed in encode/httpcore#1111/#1114; open
    for httpcore 1.0.9). With as many keep-alive slots as connections the surplus cleanup never
    runs, and a generous ``max_connections`` keeps the make-room path out of reach for any realistic
    thread count. (Issue #12 reported 4-10 failures in 7,680 calls from 64 threads with httpx's 100/20
    default; this box did not reproduce them, so tests/reliability/test_pool_race.py guards the
    setting rather than demonstrating the race.) Even if it strikes, the retry invariant
    (grok_mpp.payment.pending) keeps a retry from paying twice. The wide keep-alive pool also stops
    connection churn: 63 instead of 489 TCP connections for 256 calls at 64-way (bench row 9).
    """
    return httpx.Limits(max_connections=POOL_CONNECTIONS, max_keepalive_connections=POOL_CONNECTIONS)


@functools.cache
def _shared_ssl_context() -> ssl.SSLContext:
    """One TLS context (httpx's own defaults: certifi CA bundle, ``SSL_CERT_FILE``/``SSL_CERT_DIR``
    honoured) for every client this module builds. Loading the CA bundle costs ~21 ms of CPU per
    client; the adapters build one async client per event loop, and LlamaIndex's sync wrappers run a
    new loop per call, so sharing it saves that on every such call (bench row 9). SSLContext is safe
    to share between threads and clients."""
    return httpx.create_ssl_context()


def _advance(
    flow: Generator[httpx.Request, httpx.Response, T], response: httpx.Response | BaseException | None
) -> tuple[bool, Any]:
    """One step of a sans-I/O request generator: start it, send it a response, or throw the
    transport error its last request met into it (so the generator's own ``except httpx.HTTPError``
    decides, e.g. the fee lookup falls back to the bound instead of losing a paid answer)."""
    try:
        if response is None:
            return False, next(flow)
        if isinstance(response, BaseException):
            return False, flow.throw(response)
        return False, flow.send(response)
    except StopIteration as done:
        return True, done.value


def _drive_sync(http: httpx.Client, flow: Generator[httpx.Request, httpx.Response, T]) -> T:
    """Run a sans-I/O request generator (the auth flow's RPC helpers) on a sync client."""
    done, value = _advance(flow, None)
    while not done:
        outcome: httpx.Response | httpx.HTTPError
        try:
            outcome = http.send(value)
        except httpx.HTTPError as exc:
            outcome = exc
        done, value = _advance(flow, outcome)
    return value  # type: ignore[no-any-return]


async def _drive_async(http: httpx.AsyncClient, flow: Generator[httpx.Request, httpx.Response, T]) -> T:
    """The same on an async client; steps (which may write the ledger) run in a worker thread."""
    done, value = await run_step(_advance, flow, None)
    while not done:
        outcome: httpx.Response | httpx.HTTPError
        try:
            outcome = await http.send(value)
        except httpx.HTTPError as exc:
            outcome = exc
        done, value = await run_step(_advance, flow, outcome)
    return value  # type: ignore[no-any-return]


def _attach_cost(error: Exception, sent: Any, record: PaymentRecord | None, estimate: Estimate) -> None:
    """Put what a failed-after-payment call cost on its error (``error.cost``), for cost trackers.

    With chain evidence (``record``) the figure is exact; without it the payment may or may not
    have moved money, so ``cost.paid`` is None and ``error.payment`` still names the transaction.
    """
    if isinstance(error, GrokMPPError):
        error.cost = _cost(record, estimate, failed=True) if record is not None else Cost(
            paid=None, currency=sent.intent.currency, chain_id=sent.intent.chain_id, tx_hash=sent.tx_hash,
            challenge_id=sent.intent.challenge_id, receipt=None, estimated=estimate.amount, upstream_ticks=None,
            failed=True,
        )
        error.context.setdefault("tx_hash", sent.tx_hash)
        error.context.setdefault("endpoint", sent.intent.endpoint)
        error.context.setdefault("model", sent.intent.model)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _mark_paid(exc: GrokMPPError, record: PaymentRecord) -> None:
    """An error raised after a settled payment (garbage or empty 2xx body, HTTP error after a receipt)
    says so: ``paid`` True, never retryable, with the transaction hash to follow up."""
    exc.paid = True
    exc.retryable = False
    if getattr(exc, "tx_hash", None) is None:
        exc.tx_hash = record.tx_hash  # type: ignore[attr-defined]
    exc.context.setdefault("tx_hash", record.tx_hash)
    exc.context.setdefault("paid_amount", record.amount)
    if exc.hint is None:
        exc.hint = f"the payment settled (tx {record.tx_hash}); a retry pays again"

class _ClientCore:
    """Configuration, request preparation and response interpretation shared by both clients."""

    def __init__(
        self,
        *,
        private_key: Any = None,
        wallet: Wallet | None = None,
        base_url: str | None = None,
        chain_id: int | None = None,
        rpc_url: str | None = None,
        max_price_usd: Any = None,
        budget_usd: Any = None,
        budget_scope: str | None = None,
        ledger: Any = None,
        guard: SpendGuard | None = None,
        policy: PaymentPolicy | None = None,
        observers: Iterable[PaymentObserver] = (),
        timeout: float | None = None,
        environ: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._headers = checked_headers(headers)
        self.settings = Settings.resolve(
            base_url=base_url,
            chain_id=chain_id,
            rpc_url=rpc_url,
            max_price_usd=max_price_usd,
            ledger=ledger if isinstance(ledger, str) else None,
            timeout=timeout,
            environ=environ,
        )
        # budget_usd is THIS object's budget: it counts what this client (or every client sharing
        # the named budget_scope) spends, never the ledger's earlier history. GROK_MPP_BUDGET_USD
        # and `grok-mpp ledger budget` stay ledger-wide.
        self.budget = None if budget_usd is None else Settings.usd(budget_usd, "budget_usd")
        self.budget_scope = budget_scope or (f"object-{uuid.uuid4().hex[:16]}" if self.budget is not None else None)
        self.wallet = Wallet.resolve(private_key, wallet)
        self.policy = policy or self.settings.policy()
        self._owns_guard = guard is None and not isinstance(ledger, SpendGuard)
        self.guard = guard if guard is not None else self._default_guard(ledger)
        self.auth = MPPAuth(
            self.wallet, self.policy, rpc_url=self.settings.rpc_url, guard=self.guard, observers=observers
        )
        self._timeout = httpx.Timeout(self.settings.timeout, connect=15.0)

    def _default_guard(self, ledger: Any) -> SpendGuard:
        """The durable ledger when available (every payment recorded), else a process budget."""
        if ledger is not None and not isinstance(ledger, str) and isinstance(ledger, SpendGuard):
            scoped = getattr(ledger, "scoped", None)
            if self.budget_scope is not None and callable(scoped):
                from grok_mpp.ledger import Budget

                return scoped(self.budget_scope, None if self.budget is None else Budget(total=self.budget))
            if self.budget is not None and isinstance(ledger, InMemoryBudget):
                # a process budget given with budget_usd: the object's limit caps it (never loosens it)
                if ledger.total is None or ledger.total > self.budget:
                    ledger.total = self.budget
                return ledger
            if self.budget is not None:
                raise ConfigurationError(
                    "budget_usd needs a ledger (or ledger='off'); the given spend guard has no scopes",
                    hint="put the limit on your guard instead",
                )
            return ledger
        try:
            from grok_mpp.ledger import guard_from_settings
        except ImportError:
            limits = [b for b in (self.settings.budget, self.budget) if b is not None]
            return InMemoryBudget(total=min(limits) if limits else None)
        return guard_from_settings(self.settings, scope=self.budget_scope, budget=self.budget)

    def _close_guard(self) -> None:
        """Close a ledger this client opened itself (a caller-supplied one stays open)."""
        close = getattr(self.guard, "close", None)
        if self._owns_guard and callable(close):
            close()

    @property
    def address(self) -> str:
        return self.wallet.address

    def add_observer(self, observer: PaymentObserver) -> None:
        self.auth.observers.append(observer)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.settings.base_url!r}, payer={self.wallet.address})"

    # -- request side --------------------------------------------------------------------------
    def _build(self, http: httpx.Client | httpx.AsyncClient, request: GrokRequest) -> tuple[httpx.Request, Estimate]:
        estimate = estimate_request(request)
        url = self.settings.base_url + request.endpoint
        http_request = http.build_request(
            "POST",
            url,
            content=request.to_body(),
            headers={**self._headers, "Content-Type": "application/json", "Accept": "application/json"},
            extensions={
                CONTEXT_EXTENSION: {
                    "endpoint": request.endpoint,
                    "model": getattr(request, "model", None),
                    "estimate": estimate.amount,
                    "defer_settle": True,  # send() settles after reading the actual fee (MPPAuth.finish)
                }
            },
        )
        return http_request, estimate

    # -- response side -------------------------------------------------------------------------
    def _interpret(self, request: GrokRequest, estimate: Estimate, response: httpx.Response) -> Result:
        record = response.extensions.get(PAYMENT_EXTENSION)
        try:
            return self._interpret_body(request, estimate, response, record)
        except GrokMPPError as exc:
            if record is not None:
                _mark_paid(exc, record)
            raise

    def _interpret_body(
        self, request: GrokRequest, estimate: Estimate, response: httpx.Response, record: PaymentRecord | None
    ) -> Result:
        body = _json(response)
        status = response.status_code
        if status == 402:
            raise GatewayError(
                "the gateway answered 402 without a payable Payment challenge",
                status_code=status,
                body=body,
                hint="check GROK_MPP_BASE_URL points at an MPP gateway",
            )
        if 300 <= status < 400:  # paid calls never follow redirects; a 3xx is not an answer
            raise GatewayError(
                f"the gateway answered HTTP {status} (a redirect to {response.headers.get('Location', 'nowhere')})",
                status_code=status,
                body=body,
                hint="grok-mpp does not follow redirects for paid calls: set GROK_MPP_BASE_URL to the final URL",
            )
        if status >= 400 and not (isinstance(body, dict) and "success" in body):
            raise self._status_error(status, body, paid=record is not None)
        data = unwrap_envelope(status, body)
        cost = _cost(record, estimate)
        model = str(getattr(request, "model", "") or "")
        if request.endpoint in CHAT_ENDPOINTS:
            return parse_chat(data, requested_model=model, endpoint=request.endpoint, cost=cost)
        if isinstance(request, TTSRequest):
            return parse_speech(data, characters=len(request.text), codec=request.codec, cost=cost)
        return parse_image(data, requested_model=model, cost=cost)

    @staticmethod
    def _status_error(status: int, body: Any, *, paid: bool) -> GrokMPPError:
        detail = json.dumps(body)[:300] if body is not None else "no body"
        if status in (400, 404, 413, 422) and not paid:  # InvalidRequestError promises nothing was paid
            return InvalidRequestError(f"the gateway rejected the request (HTTP {status}): {detail}")
        if status == 429:
            return RateLimitedError(f"rate limited by the gateway (HTTP 429): {detail}", status_code=status)
        error = GatewayError(f"gateway error HTTP {status}: {detail}", status_code=status, body=body)
        error.retryable = status >= 500 and not paid
        return error


    @staticmethod
    def _translate(exc: Exception, http_request: httpx.Request) -> Exception:
        """Turn transport failures and post-payment 5xx into errors that say whether money moved."""
        if isinstance(exc, PaymentOutcomeUnknownError):
            response = getattr(exc, "response", None)
            body = _json(response) if response is not None else None
            if isinstance(body, dict) and body.get("success") is False:
                try:
                    unwrap_envelope(response.status_code, body)  # type: ignore[union-attr]
                except UpstreamError as upstream:
                    upstream.payment = sent_payment(http_request)
                    upstream.tx_hash = exc.tx_hash  # type: ignore[attr-defined]
                    upstream.context["tx_hash"] = exc.tx_hash
                    return upstream
            return exc
        if isinstance(exc, httpx.TransportError):
            sent = sent_payment(http_request)
            if sent is not None:
                return PaymentOutcomeUnknownError(
                    f"{type(exc).__name__} after the payment credential was sent; the payment may have settled",
                    tx_hash=sent.tx_hash,
                    challenge_id=sent.intent.challenge_id,
                    hint="not retried automatically; run `grok-mpp ledger reconcile` before paying again",
                )
            try:
                failed: httpx.Request | None = exc.request
            except RuntimeError:  # raised without a request
                failed = None
            target = "the gateway"
            if failed is not None:  # the auth flow's own RPC calls (gas price, balance) are other requests
                url = failed.url
                where = f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")  # no path: API keys
                target = f"{'the gateway' if failed is http_request else 'the Tempo RPC (TEMPO_RPC_URL)'} at {where}"
            if isinstance(exc, httpx.TimeoutException):
                return GatewayTimeoutError(f"timed out talking to {target} before any payment: {exc}")
            return GatewayConnectionError(f"could not reach {target} before any payment: {exc}")
        return exc

    def _quote_from(self, request: GrokRequest, estimate: Estimate, response: httpx.Response) -> Quote:
        if response.status_code != 402:
            raise GatewayError(
                f"expected a 402 challenge from {request.endpoint}, got HTTP {response.status_code}",
                status_code=response.status_code,
                body=_json(response),
            )
        challenges = [
            c
            for c in parse_www_authenticate(response.headers.get_list("www-authenticate"))
            if c.method == "tempo" and c.intent == "charge"
        ]
        if not challenges:
            raise GatewayError("the 402 carried no tempo/charge challenge", status_code=402)
        challenge = challenges[0]
        charge = ChargeRequest.from_dict(challenge.request_data)
        refusal = None
        try:
            select_challenge([challenge], self.policy, host=response.request.url.host, now=datetime.now().timestamp())
        except GrokMPPError as exc:  # a policy refusal or a malformed charge: report, never pay
            refusal = str(exc)
        return Quote(
            endpoint=request.endpoint,
            amount=charge.amount,
            currency=charge.currency,
            recipient=charge.recipient,
            chain_id=charge.chain_id,
            challenge_id=challenge.id,
            expires=challenge.expires_at,
            estimate=estimate,
            within_policy=refusal is None,
            refusal=refusal,
        )


class GrokClient(_ClientCore):
    """Synchronous client. Thread-safe: one connection pool, payments budgeted atomically.

    Settings not passed come from the environment (``GROK_MPP_BASE_URL``, ``GROK_MPP_PRIVATE_KEY``,
    ``TEMPO_RPC_URL``, ...), so the same code pays the local gateway in tests and Locus in production.

    Example::

        from grok_mpp import GrokClient
        with GrokClient(max_price_usd="0.05") as grok:   # refuse any single payment above 5 cents
            result = grok.chat(messages=[{"role": "user", "content": "Hi"}], max_tokens=32)
        print(result.text, result.cost.paid_usd, result.cost.tx_hash)
    """

    def __init__(self, *, http_client: httpx.Client | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._http = http_client or httpx.Client(
            timeout=self._timeout, follow_redirects=False, limits=_pool_limits(), verify=_shared_ssl_context()
        )
        self._owns_http = http_client is None

    def close(self) -> None:
        if self._owns_http:
            self._http.close()
        self._close_guard()

    def __enter__(self) -> GrokClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, request: GrokRequest) -> Result:
        """Pay for and run one validated request."""
        http_request, estimate = self._build(self._http, request)
        try:
            response = self._http.send(http_request, auth=self.auth)
        except (httpx.TransportError, PaymentError) as exc:
            translated = self._translate(exc, http_request)
            sent = sent_payment(http_request)
            if sent is not None:  # paid, then failed: did the transfer land? (error.cost)
                record = _drive_sync(self._http, self.auth.confirm_failed(sent))
                _attach_cost(translated, sent, record, estimate)
            if translated is exc:  # never `raise exc from exc`: a cause cycle hangs chain walkers
                raise
            raise translated from exc
        _drive_sync(self._http, self.auth.finish(response))
        return self._interpret(request, estimate, response)

    def quote(self, request: GrokRequest) -> Quote:
        """The exact price the gateway asks for this request, without paying (no credential sent)."""
        http_request, estimate = self._build(self._http, request)
        try:
            response = self._http.send(http_request, auth=None)
        except httpx.TransportError as exc:
            translated = self._translate(exc, http_request)
            if translated is exc:  # never `raise exc from exc`: a cause cycle hangs chain walkers
                raise
            raise translated from exc
        return self._quote_from(request, estimate, response)

    def chat(self, request: ChatRequest | Mapping[str, Any] | None = None, /, **fields: Any) -> ChatResult:
        return self.send(_coerce(ChatRequest, request, fields))  # type: ignore[return-value]

    def code_execution(
        self, request: CodeExecutionRequest | Mapping[str, Any] | None = None, /, **fields: Any
    ) -> ChatResult:
        return self.send(_coerce(CodeExecutionRequest, request, fields))  # type: ignore[return-value]

    def web_search(self, request: WebSearchRequest | Mapping[str, Any] | None = None, /, **fields: Any) -> ChatResult:
        return self.send(_coerce(WebSearchRequest, request, fields))  # type: ignore[return-value]

    def x_search(self, request: XSearchRequest | Mapping[str, Any] | None = None, /, **fields: Any) -> ChatResult:
        return self.send(_coerce(XSearchRequest, request, fields))  # type: ignore[return-value]

    def image_generate(
        self, request: ImageGenerateRequest | Mapping[str, Any] | None = None, /, **fields: Any
    ) -> ImageResult:
        return self.send(_coerce(ImageGenerateRequest, request, fields))  # type: ignore[return-value]

    def image_edit(self, request: ImageEditRequest | Mapping[str, Any] | None = None, /, **fields: Any) -> ImageResult:
        return self.send(_coerce(ImageEditRequest, request, fields))  # type: ignore[return-value]

    def tts(self, request: TTSRequest | Mapping[str, Any] | None = None, /, **fields: Any) -> SpeechResult:
        return self.send(_coerce(TTSRequest, request, fields))  # type: ignore[return-value]


class AsyncGrokClient(_ClientCore):
    """Asynchronous client with the same methods as :class:`GrokClient`, as coroutines.

    Example::

        import asyncio
        from grok_mpp import AsyncGrokClient

        async def main() -> None:
            async with AsyncGrokClient() as grok:
                result = await grok.chat(messages=[{"role": "user", "content": "Hi"}], max_tokens=32)
            print(result.text, result.cost.paid_usd)

        asyncio.run(main())
    """

    def __init__(self, *, http_client: httpx.AsyncClient | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._http = http_client or httpx.AsyncClient(
            timeout=self._timeout, follow_redirects=False, limits=_pool_limits(), verify=_shared_ssl_context()
        )
        self._owns_http = http_client is None

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()
        self._close_guard()

    async def __aenter__(self) -> AsyncGrokClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def send(self, request: GrokRequest) -> Result:
        http_request, estimate = self._build(self._http, request)
        try:
            response = await self._http.send(http_request, auth=self.auth)
        except (httpx.TransportError, PaymentError) as exc:
            translated = self._translate(exc, http_request)
            sent = sent_payment(http_request)
            if sent is not None:  # paid, then failed: did the transfer land? (error.cost)
                record = await _drive_async(self._http, self.auth.confirm_failed(sent))
                _attach_cost(translated, sent, record, estimate)
            if translated is exc:  # never `raise exc from exc`: a cause cycle hangs chain walkers
                raise
            raise translated from exc
        await _drive_async(self._http, self.auth.finish(response))
        return self._interpret(request, estimate, response)

    async def quote(self, request: GrokRequest) -> Quote:
        http_request, estimate = self._build(self._http, request)
        try:
            response = await self._http.send(http_request, auth=None)
        except httpx.TransportError as exc:
            translated = self._translate(exc, http_request)
            if translated is exc:  # never `raise exc from exc`: a cause cycle hangs chain walkers
                raise
            raise translated from exc
        return self._quote_from(request, estimate, response)

    async def chat(self, request: ChatRequest | Mapping[str, Any] | None = None, /, **fields: Any) -> ChatResult:
        return await self.send(_coerce(ChatRequest, request, fields))  # type: ignore[return-value]

    async def code_execution(
        self, request: CodeExecutionRequest | Mapping[str, Any] | None = None, /, **fields: Any
    ) -> ChatResult:
        return await self.send(_coerce(CodeExecutionRequest, request, fields))  # type: ignore[return-value]

    async def web_search(
        self, request: WebSearchRequest | Mapping[str, Any] | None = None, /, **fields: Any
    ) -> ChatResult:
        return await self.send(_coerce(WebSearchRequest, request, fields))  # type: ignore[return-value]

    async def x_search(self, request: XSearchRequest | Mapping[str, Any] | None = None, /, **fields: Any) -> ChatResult:
        return await self.send(_coerce(XSearchRequest, request, fields))  # type: ignore[return-value]

    async def image_generate(
        self, request: ImageGenerateRequest | Mapping[str, Any] | None = None, /, **fields: Any
    ) -> ImageResult:
        return await self.send(_coerce(ImageGenerateRequest, request, fields))  # type: ignore[return-value]

    async def image_edit(
        self, request: ImageEditRequest | Mapping[str, Any] | None = None, /, **fields: Any
    ) -> ImageResult:
        return await self.send(_coerce(ImageEditRequest, request, fields))  # type: ignore[return-value]

    async def tts(self, request: TTSRequest | Mapping[str, Any] | None = None, /, **fields: Any) -> SpeechResult:
        return await self.send(_coerce(TTSRequest, request, fields))  # type: ignore[return-value]
