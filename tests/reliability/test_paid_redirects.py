"""A user's own ``httpx`` client with ``follow_redirects=True`` and a server that redirects the PAID
request to another origin.

httpx strips only ``Authorization`` on a cross-origin hop, so a credential the challenge asked for in
``Payment-Authorization`` (the one other header the policy allows) is forwarded; the auth flow
cannot stop a redirect the client follows. What it must do: never report the other origin's answer
as a settled payment. The call ends in ``PaymentOutcomeUnknownError`` (paid, tx hash, the hop
named), the guard records it as outcome unknown, and a retry does not sign again.

The second origins cannot exist on loopback under these names, so both sides are mock transports
(the flow under test is the real ``MPPAuth`` with a real wallet).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from grok_mpp.errors import PaymentOutcomeUnknownError
from grok_mpp.mpp.challenge import format_challenge
from grok_mpp.payment.auth import PAYMENT_EXTENSION, MPPAuth
from grok_mpp.payment.hooks import InMemoryBudget
from grok_mpp.payment.pending import PendingPayments
from grok_mpp.payment.policy import PaymentPolicy
from grok_mpp.wallet import Wallet

from .support import SpyWallet
from .test_hostile_challenges import request_b64

FRONT = "https://front.example"


class Origins:
    """``FRONT`` asks for payment and redirects every paid request to ``target``; every other
    origin answers 200 and records the credential headers it received."""

    def __init__(self, target: str, header: str | None) -> None:
        self.target = target
        self.header = header
        self.paid_at_front = 0
        self.seen_elsewhere: list[dict[str, str]] = []

    def front(self, request: httpx.Request) -> httpx.Response:
        if "authorization" in request.headers or "payment-authorization" in request.headers:
            self.paid_at_front += 1
            return httpx.Response(307, headers={"Location": self.target})
        expires = (datetime.now(UTC) + timedelta(minutes=5)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        params = {"id": "redir-1", "realm": "front.example", "method": "tempo", "intent": "charge",
                  "request": request_b64(), "expires": expires}
        if self.header:
            params["header"] = self.header
        return httpx.Response(402, headers={"WWW-Authenticate": format_challenge(params)})

    def elsewhere(self, request: httpx.Request) -> httpx.Response:
        self.seen_elsewhere.append({k: v for k, v in request.headers.items() if "authorization" in k})
        return httpx.Response(200, json={"answer": "from another origin"})

    def mounts(self) -> dict[str, httpx.MockTransport]:
        other = httpx.MockTransport(self.elsewhere)
        return {FRONT: httpx.MockTransport(self.front), "https://evil.example": other,
                "http://front.example": other, "https://front.example:8443": other}


TARGETS = ["https://evil.example/x", "http://front.example/x", "https://front.example:8443/x"]


@pytest.mark.parametrize("header", [None, "Payment-Authorization"])
@pytest.mark.parametrize("target", TARGETS)
def test_paid_request_redirected_to_another_origin_is_outcome_unknown(target: str, header: str | None) -> None:
    origins = Origins(target, header)
    spy = SpyWallet(Wallet.create())
    guard = InMemoryBudget()
    auth = MPPAuth(spy, PaymentPolicy(), guard=guard, pending=PendingPayments())  # type: ignore[arg-type]
    with httpx.Client(auth=auth, mounts=origins.mounts(), follow_redirects=True) as client:
        with pytest.raises(PaymentOutcomeUnknownError, match="redirected to another origin") as err:
            client.post(FRONT + "/grok/chat", json={"q": 1})
        assert err.value.paid and err.value.tx_hash
        assert PAYMENT_EXTENSION not in err.value.response.extensions  # type: ignore[attr-defined]
        # never settled as an answered payment: the budget holds it as unresolved
        assert guard.committed > 0
        # the same request retried (a user's own loop): the same credential again, never a second signature
        with pytest.raises(PaymentOutcomeUnknownError) as again:
            client.post(FRONT + "/grok/chat", json={"q": 1})
        assert again.value.tx_hash == err.value.tx_hash
    assert spy.sign_count == 1
    if header is None:  # httpx strips Authorization on cross-origin hops: nothing leaked
        assert all(not seen for seen in origins.seen_elsewhere)
    else:  # documented limit: forwarded by httpx, and the error says so
        assert "forwarded" in str(err.value)


def test_same_origin_redirect_of_the_paid_request_still_settles() -> None:
    """A redirect inside the paid origin (e.g. a trailing slash) carries the credential to the same
    server and is not a cross-origin hop."""
    origins = Origins(FRONT + "/grok/chat/", None)

    def front(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/"):
            return httpx.Response(200, json={"ok": True})
        return origins.front(request)

    spy = SpyWallet(Wallet.create())
    auth = MPPAuth(spy, PaymentPolicy(), guard=InMemoryBudget(), pending=PendingPayments())  # type: ignore[arg-type]
    with httpx.Client(auth=auth, mounts={FRONT: httpx.MockTransport(front)}, follow_redirects=True) as client:
        response = client.post(FRONT + "/grok/chat", json={"q": 1})
    assert response.status_code == 200 and PAYMENT_EXTENSION in response.extensions
    assert spy.sign_count == 1


async def test_async_client_paid_redirect_is_outcome_unknown() -> None:
    origins = Origins("https://evil.example/x", "Payment-Authorization")
    spy = SpyWallet(Wallet.create())
    auth = MPPAuth(spy, PaymentPolicy(), guard=InMemoryBudget(), pending=PendingPayments())  # type: ignore[arg-type]
    async with httpx.AsyncClient(auth=auth, mounts=origins.mounts(), follow_redirects=True) as client:
        with pytest.raises(PaymentOutcomeUnknownError, match=r"evil\.example"):
            await client.post(FRONT + "/grok/chat", json={"q": 1})
    assert spy.sign_count == 1
