"""Payment settings shared by the chat models, retrievers and tools of this package.

A pydantic mixin rather than a nested config object so the standard LangChain constructor
keywords work directly (``ChatGrokMPP(model=..., api_key=..., max_price_usd="0.05")``) and so
``lc_secrets`` hides the key in ``dumpd``. The gateway clients are built lazily (see
:mod:`grok_mpp.bridge.clients`), cached in a private attribute and never serialized.

Three promises hold over an object's whole life:

* bad settings (``max_price_usd="abc"``, ``base_url="ftp://x"``) fail at construction;
* settings changed later (``llm.max_price_usd = ...``, ``model_copy(update=...)``, ``llm.timeout``)
  apply to the next call: the clients are rebuilt for them, same payer, committed spend kept;
* ``pickle`` never carries the key: the pickled object pins the payer's address, and the unpickled
  copy pays only if its process resolves the same wallet (``GROK_MPP_PRIVATE_KEY`` /
  ``GROK_MPP_KEYSTORE``), else it refuses with a clear error.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any

from langchain_core.utils import secret_from_env
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, field_validator

from grok_mpp.bridge.clients import GrokClients, check_client_settings, usd_setting
from grok_mpp.bridge.retry import acall_with_retries, call_with_retries
from grok_mpp.errors import GrokMPPError
from grok_mpp.gateway.requests import GrokRequest
from grok_mpp.payment.hooks import PaymentObserver
from langchain_grok_mpp.errors import to_langchain_error

PRIVATE_KEY_ENV = "GROK_MPP_PRIVATE_KEY"

# Guards the one-time creation of each object's GrokClients: two threads making the first call of a
# fresh model (``batch``) must share one client, one wallet and one spend guard. Module-level so the
# models stay copyable (a Lock in a private attribute would break ``model_copy(deep=True)``).
_CREATE_LOCK = threading.Lock()


class GrokMPPSettings(BaseModel):
    """Wallet, gateway and spending limits. Amounts are USD strings (``"0.05"``), never floats."""

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    private_key: SecretStr | None = Field(
        default_factory=secret_from_env(PRIVATE_KEY_ENV, default=None), alias="api_key"
    )
    """Payer key (hex). Alias ``api_key``; default ``GROK_MPP_PRIVATE_KEY``. Validated at the first call."""
    wallet: Any = Field(default=None, exclude=True, repr=False)
    """A ``grok_mpp.Wallet`` instead of a key (not serialized)."""
    base_url: str | None = None
    """Gateway URL; default ``GROK_MPP_BASE_URL`` or the Locus gateway."""
    chain_id: int | None = None
    rpc_url: str | None = None
    max_price_usd: str | None = None
    """Refuse any single payment above this (default ``GROK_MPP_MAX_PER_CALL_USD`` or 0.10)."""
    budget_usd: str | None = None
    """This object's total budget: counts what this object spends (or, with ``budget_scope``, every
    object sharing that scope), across threads and processes; ledger-wide limits are set with
    ``grok-mpp ledger budget``."""
    budget_scope: str | None = None
    """Name of the budget scope ``budget_usd`` counts (shared by every object and process using it)."""
    ledger: str | None = None
    """Ledger path / PostgreSQL DSN / ``"off"``; default ``GROK_MPP_LEDGER``."""
    spend_guard: Any = Field(default=None, exclude=True, repr=False)
    """A custom ``SpendGuard`` (e.g. an open ledger) instead of ``ledger``."""
    request_timeout: float | None = Field(default=None, alias="timeout")
    default_headers: dict[str, str] | None = None
    """Extra HTTP headers sent with every gateway request (the MPP and content headers are reserved)."""
    max_retries: int = 2
    """Retries for errors raised before any payment (never for a possibly paid call)."""

    _clients: GrokClients | None = PrivateAttr(default=None)
    _clients_identity: tuple[Any, ...] | None = PrivateAttr(default=None)

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        try:
            check_client_settings(**self._client_settings())
        except GrokMPPError as exc:
            raise to_langchain_error(exc) from exc

    @field_validator("max_price_usd", "budget_usd", mode="before")
    @classmethod
    def _usd_as_text(cls, value: Any) -> Any:
        return usd_setting(value)

    def _client_settings(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "chain_id": self.chain_id,
            "rpc_url": self.rpc_url,
            "max_price_usd": self.max_price_usd,
            "budget_usd": self.budget_usd,
            "budget_scope": self.budget_scope,
            "ledger": self.spend_guard if self.spend_guard is not None else self.ledger,
            "timeout": self.request_timeout,
            "headers": self.default_headers,
        }

    def _payer_identity(self) -> tuple[Any, ...]:
        """Which payer the fields name: a digest of the key (never the key), or the wallet object."""
        key = self.private_key if self.wallet is None else None
        digest = hashlib.sha256(key.get_secret_value().encode()).hexdigest() if key is not None else None
        return (digest, id(self.wallet) if self.wallet is not None else None)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the key: the clients pickle as (payer address, settings); see module docstring."""
        if self.spend_guard is not None:
            raise TypeError(
                "cannot pickle a model holding a spend_guard object: it cannot cross a process boundary;"
                " pass ledger='<path or DSN>' so every worker opens the same ledger"
            )
        clients = self._grok_clients()
        state = dict(super().__getstate__())
        state["__dict__"] = {**state["__dict__"], "private_key": None, "wallet": None}
        private = dict(state.get("__pydantic_private__") or {})
        private["_clients"] = clients
        private["_clients_identity"] = (None, None)
        state["__pydantic_private__"] = private
        return state

    @property
    def lc_secrets(self) -> dict[str, str]:
        return {"private_key": PRIVATE_KEY_ENV}

    def _grok_clients(self) -> GrokClients:
        """The clients for the CURRENT settings (rebuilt, same payer, when a setting was changed)."""
        settings = self._client_settings()
        identity = self._payer_identity()
        clients = self._clients
        if clients is not None and self._clients_identity == identity and clients.matches(**settings):
            return clients
        with _CREATE_LOCK:
            clients = self._clients
            if clients is not None and self._clients_identity == identity:
                if not clients.matches(**settings):
                    check_client_settings(**settings)
                    clients = clients.with_settings(**settings)
                    self._clients = clients
                return clients
            # First use, or the payer fields changed (an explicit new key or wallet).
            # An explicit wallet wins over a key (which may be the env default or a test placeholder).
            self._clients = GrokClients(
                private_key=self.private_key if self.wallet is None else None, wallet=self.wallet, **settings
            )
            self._clients_identity = identity
            return self._clients

    def _paid_call(self, build: Callable[[], GrokRequest]) -> Any:
        """Build the request (refusals happen here, before paying), pay and send it, with safe retries.

        Every grok-mpp error leaves as its LangChain-typed twin (:mod:`langchain_grok_mpp.errors`).
        """
        try:
            request = build()
            client = self._grok_clients().sync()
            return call_with_retries(lambda: client.send(request), max_retries=self.max_retries)
        except GrokMPPError as exc:
            raise to_langchain_error(exc) from exc

    async def _apaid_call(self, build: Callable[[], GrokRequest]) -> Any:
        """Async :meth:`_paid_call` (one async client per running event loop)."""
        try:
            request = build()
            client = self._grok_clients().for_running_loop()
            return await acall_with_retries(lambda: client.send(request), max_retries=self.max_retries)
        except GrokMPPError as exc:
            raise to_langchain_error(exc) from exc

    def add_payment_observer(self, observer: PaymentObserver) -> None:
        """Call ``observer(PaymentRecord)`` for every payment this object settles."""
        try:
            self._grok_clients().add_observer(observer)
        except GrokMPPError as exc:
            raise to_langchain_error(exc) from exc

    @property
    def payer_address(self) -> str:
        """The wallet address paying for calls (builds the client; raises if no key)."""
        try:
            return self._grok_clients().sync().address
        except GrokMPPError as exc:
            raise to_langchain_error(exc) from exc
