"""Payments whose outcome is unknown, keyed by the request they paid for (the retry invariant).

Why this exists: retry wrappers the client does not control (LangChain ``with_retry`` and
``with_fallbacks``, tenacity, LlamaIndex ``max_retries``, agent loops, a user's own loop) repeat a
request after ANY exception, including "the credential went out and no answer came back". Without
memory of that earlier payment every retry would sign and send a new transfer. So the core
remembers, per *request fingerprint* (method, origin, path, canonical body, payer, chain), each
credential whose outcome is unresolved, and the auth flow consults this store before signing:

* inside the transaction's validity window the SAME credential is re-sent: a transaction can land
  only once, so this can never pay twice; if the server had not received it the retry simply
  completes (one payment, one answer), if it had, the server refuses it as already used and the
  caller gets :class:`~grok_mpp.errors.PaymentPendingError`;
* after the window, the chain is asked for the transaction's receipt before anything new is
  signed: found (landed or reverted) or provably absent, the entry is resolved and a new payment
  may follow; if the chain cannot be asked, the call is refused.

A successful identical request never leaves an entry, so asking the same question twice after the
first answer arrived pays twice, as it should. Concurrent identical requests are separate logical
requests and each pays: only a request that ended without an answer leaves an entry. When several
such entries share a fingerprint each retry *leases* a different one, so N failed requests retried
N times still produce at most N transfers.

The store is process-wide (:data:`PENDING`), so a fallback to a second model object (which builds
a second client) sees the first one's payments. It holds bearer credentials in memory only, like
the wallet holds its key; nothing here is ever logged, repr'd or persisted.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

#: Re-send a remembered credential only while at least this much validity is left: the server
#: needs time to broadcast it and the pool rejects ``valid_before <= now + 3 s``.
REUSE_MARGIN_SECONDS = 4
#: After ``valid_before`` wait this long (block time + clock skew) before trusting a missing receipt.
SETTLE_GRACE_SECONDS = 5
#: Bound on remembered entries (oldest dropped first); each is a few hundred bytes.
MAX_ENTRIES = 10_000


def canonical_body(content: bytes) -> bytes:
    """JSON bodies re-serialized with sorted keys and no whitespace; anything else unchanged."""
    if not content or content[:1] not in (b"{", b"["):
        return content
    try:
        return json.dumps(json.loads(content), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, UnicodeDecodeError):
        return content


def request_fingerprint(
    *, method: str, origin: str, target: str, content: bytes, payer: str, chain_id: int
) -> str:
    """What makes two requests "the same logical request" for payment purposes (hex sha256).

    ``target`` is the path with its query. The model, prompt and every parameter live in the
    body; the payer and the chain pin the wallet, so another wallet's identical request is unrelated.
    """
    h = hashlib.sha256()
    for part in (method.upper(), origin.lower(), target, payer.lower(), str(chain_id)):
        h.update(part.encode())
        h.update(b"\x00")
    h.update(canonical_body(content))
    return h.hexdigest()


@dataclass(eq=False)
class PendingPayment:
    """One sent credential whose outcome is unknown. ``credential`` is a bearer secret."""

    fingerprint: str
    header_name: str
    credential: str = field(repr=False)
    tx_hash: str
    valid_before: int
    sponsored: bool
    #: The auth flow's own bookkeeping (SentPayment, reservation id, the guard that holds it).
    sent: Any = field(repr=False)
    reservation: str = field(repr=False)
    guard: Any = field(repr=False)
    #: The first attempt's ``Idempotency-Key``: a retry re-sends it with the credential, so a server
    #: that keeps idempotent answers can return the lost one instead of refusing the replay.
    idempotency_key: str | None = None
    leased: bool = False

    def __repr__(self) -> str:
        return f"PendingPayment(tx_hash={self.tx_hash}, valid_before={self.valid_before}, leased={self.leased})"


class PendingPayments:
    """Thread-safe store of :class:`PendingPayment` by fingerprint, with exclusive leases."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[int, PendingPayment] = OrderedDict()
        self._max = max_entries

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def add(self, entry: PendingPayment) -> None:
        """Remember an unresolved payment (unleased: the next identical request may take it)."""
        with self._lock:
            entry.leased = False
            self._entries[id(entry)] = entry
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def checkout(self, fingerprint: str) -> PendingPayment | None:
        """Lease the oldest free entry for this fingerprint, or None when there is none."""
        with self._lock:
            for entry in self._entries.values():
                if entry.fingerprint == fingerprint and not entry.leased:
                    entry.leased = True
                    return entry
        return None

    def give_back(self, entry: PendingPayment) -> None:
        """Still unresolved: free the lease so a later retry can try again."""
        with self._lock:
            entry.leased = False

    def resolve(self, entry: PendingPayment) -> None:
        """The outcome is known now (answered, or settled/absent on chain): forget it."""
        with self._lock:
            self._entries.pop(id(entry), None)

    def unresolved(self, fingerprint: str | None = None) -> list[PendingPayment]:
        with self._lock:
            return [e for e in self._entries.values() if fingerprint is None or e.fingerprint == fingerprint]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


#: The process-wide store every :class:`~grok_mpp.payment.auth.MPPAuth` uses unless given another.
PENDING = PendingPayments()
