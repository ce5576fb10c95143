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
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from grok_mpp.gateway.client import AsyncGrokClient, GrokClient
from grok_mpp.payment.hooks import PaymentObserver
from grok_mpp.wallet import Wallet

#: Settings an adapter may forward to the clients (everything else is the adapter's business).
CLIENT_SETTINGS: tuple[str, ...] = (
    "base_url",
    "chain_id",
    "rpc_url",
    "max_price_usd",
    "budget_usd",
    "ledger",
    "timeout",
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
    return value


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
        self._settings = {k: v for k, v in settings.items() if v is not None}
        self._observers: list[PaymentObserver] = list(observers)
        self._sync = client
        self._given_async = async_client
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncGrokClient] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        payer = self._wallet.address if self._wallet is not None else "from environment"
        return f"GrokClients(payer={payer}, settings={self._settings})"

    def __copy__(self) -> GrokClients:
        return self  # copies of a framework object keep paying from the same wallet and budget

    def __deepcopy__(self, memo: dict[int, Any]) -> GrokClients:
        return self

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
                self._sync = GrokClient(wallet=self._wallet, observers=self._observers, **self._settings)
                self._wallet = self._sync.wallet
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
