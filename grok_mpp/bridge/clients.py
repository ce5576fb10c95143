"""``GrokClients``: the sync and async gateway clients a framework object needs, built once, lazily.

Why this lives in the bridge: every adapter object (a chat model, an LLM, a retriever, a tool) is
configured with the same handful of settings and a key, and may be called both synchronously and
from an event loop. Three rules are easy to get wrong when each adapter does this itself:

* The key is consumed at construction (turned into a :class:`~grok_mpp.wallet.Wallet`) so no
  framework field, ``repr`` or serialized form ever holds it; without a key, the environment is
  read when the first call is made (so ``from_dict``/``Settings.llm`` style construction works).
* The sync and async clients share ONE spend guard and policy, otherwise a ``budget_usd`` would be
  enforced twice, each half blind to what the other spent.
* ``httpx.AsyncClient`` pools connections per event loop; a framework that calls ``asyncio.run``
  repeatedly (LlamaIndex does) must not reuse a pool whose loop is closed, so one async client is
  kept per running loop.

Two more rules keep settings and payer honest over an object's life:

* **Settings changed after construction take effect.** Adapters compare their current settings
  with the ones the clients were built from (:meth:`GrokClients.matches`) and, when they differ,
  switch to :meth:`GrokClients.with_settings`: same payer, new cap/budget/timeout/gateway, and an
  in-process budget that keeps counting what was already committed.
* **Pickling never carries the key and never switches payer.** A pickled ``GrokClients`` holds
  only the payer's address and the settings; the unpickled copy resolves its wallet from the
  environment of the process it lands in (``GROK_MPP_PRIVATE_KEY`` or ``GROK_MPP_KEYSTORE``) and
  refuses to pay if that wallet's address is not the original payer's.

The HTTP and payment stack (``grok_mpp.config``/``gateway.client``: httpx, the payment flow, the
ledger) is imported inside the functions that need it, not at module level: the adapters import
this module at their own import, and ``from llama_index_grok_mpp import GrokMPP`` should not pay
for httpx before a model is built (see bench/README.md, import time).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
import weakref
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from grok_mpp.errors import ConfigurationError
from grok_mpp.wallet import Wallet

if TYPE_CHECKING:
    from grok_mpp.gateway.client import AsyncGrokClient, GrokClient
    from grok_mpp.payment.hooks import PaymentObserver

#: Settings an adapter may forward to the clients (everything else is the adapter's business).
CLIENT_SETTINGS: tuple[str, ...] = (
    "base_url",
    "chain_id",
    "rpc_url",
    "max_price_usd",
    "budget_usd",
    "budget_scope",
    "ledger",
    "timeout",
    "headers",
)


def usd_setting(value: Any) -> Any:
    """A USD limit given as int, Decimal or float -> exact decimal text (``"0.05"``); text passes.

    Framework fields keep limits as text so serialized configs round-trip exactly; floats go
    through ``repr`` (shortest round-trip form), never through arithmetic.
    """
    if isinstance(value, bool):
        raise ValueError("expected a USD amount such as '0.05'")
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except ArithmeticError:
            raise ValueError(f"expected a USD amount such as '0.05', got {value!r}") from None
        if not amount.is_finite() or amount < 0:
            raise ValueError(f"expected a non-negative USD amount such as '0.05', got {value!r}")
    return value


def check_client_settings(**settings: Any) -> None:
    """Validate gateway/payment settings now (at construction), exactly as the client will later.

    Raises :class:`ConfigurationError` for a bad base URL, amount or timeout; reads no environment
    and opens nothing, so it is cheap and side-effect free.
    """
    values = {k: v for k, v in settings.items() if v is not None and k in CLIENT_SETTINGS}
    timeout = values.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0):
        raise ConfigurationError(f"timeout must be a positive number of seconds, got {timeout!r}")
    from grok_mpp.config import Settings
    from grok_mpp.gateway.client import checked_headers

    checked_headers(values.pop("headers", None))
    scope = values.pop("budget_scope", None)
    if scope is not None and (not isinstance(scope, str) or not scope.strip() or len(scope) > 200):
        raise ConfigurationError(f"budget_scope must be a non-empty name of at most 200 characters, got {scope!r}")
    ledger = values.pop("ledger", None)
    Settings.resolve(**values, ledger=ledger if isinstance(ledger, str) else None, environ={})


def _unpickle_clients(payer: str | None, settings: dict[str, Any]) -> GrokClients:
    return GrokClients(expected_payer=payer, **settings)


class GrokClients:
    """Lazily built :class:`GrokClient` and per-loop :class:`AsyncGrokClient` sharing wallet and guard.

    ``private_key`` may be a hex string, bytes or a pydantic ``SecretStr``; ``ledger`` a path, DSN,
    ``"off"`` or a ready :class:`~grok_mpp.payment.hooks.SpendGuard`. ``client`` / ``async_client``
    inject ready-made clients (tests, shared pools); then the settings are ignored for that side.
    ``None`` settings fall back to the environment.
    """

    def __init__(
        self,
        *,
        private_key: Any = None,
        wallet: Wallet | None = None,
        client: GrokClient | None = None,
        async_client: AsyncGrokClient | None = None,
        observers: Iterable[PaymentObserver] = (),
        expected_payer: str | None = None,
        **settings: Any,
    ) -> None:
        unknown = sorted(set(settings) - set(CLIENT_SETTINGS))
        if unknown:
            raise TypeError(f"unknown client settings {unknown}; expected some of {list(CLIENT_SETTINGS)}")
        # An explicit wallet wins (as in Wallet.resolve); a key becomes a Wallet right here and the
        # string is not kept anywhere.
        if wallet is None and private_key is not None:
            wallet = Wallet.from_key(private_key)
        self._wallet = wallet
        self._expected_payer = expected_payer
        self._given_settings = dict(settings)
        self._settings = {k: v for k, v in settings.items() if v is not None}
        # budget_usd without a named scope is this object's own budget: one private scope for the
        # object's whole life (kept by with_settings), so rebuilding clients never resets it.
        self._auto_scope = f"object-{uuid.uuid4().hex[:16]}"
        if self._settings.get("budget_usd") is not None and not self._settings.get("budget_scope"):
            self._settings["budget_scope"] = self._auto_scope
        self._observers: list[PaymentObserver] = list(observers)
        self._sync = client
        self._given_async = async_client
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncGrokClient] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        self._built_sync = False

    def __repr__(self) -> str:
        payer = self._wallet.address if self._wallet is not None else "from environment"
        return f"GrokClients(payer={payer}, settings={self._settings})"

    def __copy__(self) -> GrokClients:
        return self  # copies of a framework object keep paying from the same wallet and budget

    def __deepcopy__(self, memo: dict[int, Any]) -> GrokClients:
        return self

    def __reduce__(self) -> Any:
        """Pickle as (payer address, settings): never the key (see module docstring)."""
        if self._given_async is not None or (self._sync is not None and not self._built_sync):
            raise TypeError("cannot pickle a model built with an injected client; pass settings instead")
        given = {k: v for k, v in self._given_settings.items() if v is not None}
        ledger = given.get("ledger")
        if ledger is not None and not isinstance(ledger, str):
            raise TypeError(
                "cannot pickle a model holding a spend guard / ledger object: it cannot cross a process"
                " boundary; pass ledger='<path or DSN>' so every worker opens the same ledger"
            )
        if self._observers:
            raise TypeError("cannot pickle a model with payment observers; add them again in the worker process")
        return (_unpickle_clients, (self.payer_hint, given))

    @property
    def payer_hint(self) -> str | None:
        """The payer address if already known (wallet resolved or pinned by unpickling), else ``None``."""
        if self._sync is not None:
            return self._sync.wallet.address
        if self._wallet is not None:
            return self._wallet.address
        return self._expected_payer

    def matches(self, **settings: Any) -> bool:
        """True when ``settings`` are the ones these clients were built from."""
        given = {k: v for k, v in self._given_settings.items() if v is not None}
        return {k: v for k, v in settings.items() if v is not None} == given

    def with_settings(self, **settings: Any) -> GrokClients:
        """Clients for changed settings that keep this payer, observers and committed in-process spend.

        Injected clients cannot be reconfigured, so that case is refused loudly rather than ignored.
        """
        if self._given_async is not None or (self._sync is not None and not self._built_sync):
            raise ConfigurationError(
                "settings changed after construction cannot apply to an injected client",
                hint="build a new object with the new settings instead",
            )
        with self._lock:
            sync = self._sync
        wallet = sync.wallet if sync is not None else self._wallet
        new = GrokClients(wallet=wallet, observers=self._observers, expected_payer=self._expected_payer, **settings)
        new._auto_scope = self._auto_scope
        if new._settings.get("budget_scope", "").startswith("object-") and not settings.get("budget_scope"):
            new._settings["budget_scope"] = self._auto_scope  # the same object keeps its spend
        old_guard = sync.guard if sync is not None else None
        from grok_mpp.config import Settings  # deferred: see the module docstring
        from grok_mpp.payment.hooks import InMemoryBudget

        if isinstance(old_guard, InMemoryBudget) and settings.get("ledger") == self._given_settings.get("ledger"):
            # ledger off: the new budget still counts what this object already committed
            total = Settings.resolve(budget_usd=new._settings.get("budget_usd")).budget
            new._settings["ledger"] = InMemoryBudget(total=total, _spent=old_guard.committed)
        return new

    @property
    def address(self) -> str:
        """The payer address (resolving the wallet from the environment if needed)."""
        return self.sync().address

    def add_observer(self, observer: PaymentObserver) -> None:
        """Watch every settled payment of both clients (built now or later)."""
        with self._lock:
            self._observers.append(observer)
            clients: list[Any] = [c for c in (self._sync, self._given_async, *self._by_loop.values()) if c]
        for client in clients:
            client.add_observer(observer)

    def sync(self) -> GrokClient:
        with self._lock:
            if self._sync is None:
                from grok_mpp.gateway.client import GrokClient  # deferred: see the module docstring

                try:
                    client = GrokClient(wallet=self._wallet, observers=self._observers, **self._settings)
                except ConfigurationError as exc:
                    from grok_mpp.ledger.model import LedgerError  # here: adapters import lazily

                    # a ledger problem is not a missing wallet: report it as what it is
                    if self._expected_payer is None or self._wallet is not None or isinstance(exc, LedgerError):
                        raise
                    raise ConfigurationError(
                        f"this model was unpickled and pays from {self._expected_payer}, but no wallet is"
                        f" configured in this process ({exc})",
                        hint="set GROK_MPP_PRIVATE_KEY (or GROK_MPP_KEYSTORE + _PASSWORD) in the worker to"
                        " that wallet's key; nothing was paid",
                    ) from None
                if self._expected_payer is not None and client.wallet.address.lower() != self._expected_payer.lower():
                    client.close()
                    raise ConfigurationError(
                        f"this model was pickled paying from {self._expected_payer}, but this process resolves"
                        f" the wallet {client.wallet.address}; refusing to switch payer silently",
                        hint="give the worker the original payer's key (GROK_MPP_PRIVATE_KEY or"
                        " GROK_MPP_KEYSTORE), or build a new model with the wallet you mean; nothing was paid",
                    )
                self._sync = client
                self._built_sync = True
                self._wallet = client.wallet
            return self._sync

    def for_running_loop(self) -> AsyncGrokClient:
        """The async client for the running event loop (one per loop; see module docstring)."""
        if self._given_async is not None:
            return self._given_async
        loop = asyncio.get_running_loop()
        existing = self._by_loop.get(loop)
        if existing is not None:
            return existing
        sync = self.sync()  # builds the shared wallet, policy and guard exactly once
        with self._lock:
            existing = self._by_loop.get(loop)
            if existing is None:
                from grok_mpp.gateway.client import AsyncGrokClient  # deferred: see the module docstring

                existing = AsyncGrokClient(
                    wallet=sync.wallet,
                    policy=sync.policy,
                    guard=sync.guard,
                    observers=self._observers,
                    **self._settings,
                )
                self._by_loop[loop] = existing
            return existing

    def close(self) -> None:
        """Close the sync client (async clients close with :meth:`aclose` on their own loop)."""
        with self._lock:
            sync, self._sync = self._sync, None
        if sync is not None:
            sync.close()

    async def aclose(self) -> None:
        with self._lock:
            mine = self._by_loop.pop(asyncio.get_running_loop(), None)
        if mine is not None:
            await mine.aclose()
