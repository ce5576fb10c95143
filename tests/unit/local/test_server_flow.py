"""The local gateway against the real client flow (httpx + MPPAuth) on loopback.

Happy paths (sync, async, every route), the Locus-like answers around payment (400 before any
challenge, 402 shape, receipt), each injectable fault as the client experiences it, and 64
concurrent paid calls.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from grok_mpp.errors import PaymentOutcomeUnknownError, PaymentRejectedError
from grok_mpp.gateway.pricing import locus_price
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
from grok_mpp.local import FAULT_HEADER, LocalGateway
from grok_mpp.local.chain import GAS_USED, fee_for
from grok_mpp.mpp.challenge import parse_www_authenticate
from grok_mpp.mpp.charge import ChargeRequest
from grok_mpp.mpp.encoding import decode_b64_json
from grok_mpp.payment.auth import PAYMENT_EXTENSION, MPPAuth, sent_payment
from grok_mpp.payment.hooks import InMemoryBudget
from grok_mpp.payment.policy import PaymentPolicy, evaluate
from grok_mpp.wallet import Wallet

from .gw_support import GAS_PRICE, chat_body

FEE = fee_for(GAS_USED, GAS_PRICE)
START = 5_000_000  # "5" USD


@pytest.fixture(scope="module")
def gw() -> Iterator[LocalGateway]:
    with LocalGateway() as gateway:
        yield gateway


def _client(gw: LocalGateway, wallet: Wallet, guard: InMemoryBudget | None = None) -> httpx.Client:
    auth = MPPAuth(wallet, PaymentPolicy(chain_id=4217), rpc_url=gw.rpc_url, guard=guard)
    return httpx.Client(auth=auth, timeout=10)


def _price(body: dict[str, Any]) -> int:
    return locus_price(ChatRequest(**body))


def test_client_default_policy_accepts_the_gateway_challenge(gw: LocalGateway) -> None:
    response = httpx.post(gw.url + "/grok/chat", json=chat_body())
    assert response.status_code == 402
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "application/problem+json"
    challenge = parse_www_authenticate(response.headers.get_list("www-authenticate"))[0]
    assert challenge.realm == "127.0.0.1" and challenge.description == "grok-mpp local gateway: /grok/chat"
    assert challenge.expires is not None and challenge.expires.endswith("Z") and len(challenge.expires) == 24
    assert challenge.request_data == {
        "amount": str(_price(chat_body())),
        "currency": gw.currency,
        "recipient": gw.recipient,
        "methodDetails": {"chainId": 4217},
    }
    problem = response.json()
    assert problem["type"] == "https://paymentauth.org/problems/payment-required"
    assert problem["status"] == 402 and problem["challengeId"] == challenge.id and problem["title"]
    approved = evaluate(challenge, PaymentPolicy(), host="127.0.0.1", now=challenge.expires_at.timestamp() - 60)
    assert approved.charge.amount == _price(chat_body())


def test_paid_chat_sync_moves_amount_plus_fee(gw: LocalGateway) -> None:
    wallet = gw.new_funded_wallet("5")
    recipient_before = gw.balance(gw.recipient)
    with _client(gw, wallet) as client:
        response = client.post(gw.url + "/grok/chat", json=chat_body())
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private"
    envelope = response.json()
    assert envelope["success"] is True
    assert envelope["data"]["object"] == "chat.completion"
    assert "5" in envelope["data"]["choices"][0]["message"]["content"]
    record = response.extensions[PAYMENT_EXTENSION]
    amount = _price(chat_body())
    assert record.amount == amount
    assert record.receipt_reference == record.tx_hash  # receipt reference == our tx hash
    settled = next(p for p in gw.payments if p.tx_hash == record.tx_hash)
    assert settled.payer == wallet.address.lower() and settled.fee == FEE
    assert gw.balance(wallet.address) == START - amount - FEE
    assert gw.balance(gw.recipient) == recipient_before + amount
    receipt = httpx.post(
        gw.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_getTransactionReceipt", "params": [record.tx_hash]}
    ).json()
    assert receipt["result"]["status"] == "0x1"


async def test_paid_chat_async(gw: LocalGateway) -> None:
    wallet = gw.new_funded_wallet("5")
    auth = MPPAuth(wallet, PaymentPolicy(chain_id=4217))
    async with httpx.AsyncClient(auth=auth, timeout=10) as client:
        response = await client.post(gw.url + "/grok/chat", json=chat_body(content="say hi"))
    assert response.status_code == 200 and response.json()["success"] is True
    record = response.extensions[PAYMENT_EXTENSION]
    assert record.receipt_reference == record.tx_hash
    assert gw.balance(wallet.address) == START - record.amount - FEE


PNG = (
    "data:image/png;base64,"
    + base64.b64encode(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6300010000050001"
            "0d0a2db40000000049454e44ae426082"
        )
    ).decode()
)
MSG = [{"role": "user", "content": "latest news about tempo"}]


@pytest.mark.parametrize(
    "request_obj",
    [
        CodeExecutionRequest(messages=[{"role": "user", "content": "compute 6*7"}]),
        WebSearchRequest(messages=MSG, allowed_domains=["example.com"]),
        XSearchRequest(messages=MSG, allowed_x_handles=["xai"], from_date="2026-01-01"),
        ImageGenerateRequest(prompt="a red square", n=1),
        ImageEditRequest(prompt="make it blue", image=PNG),
        TTSRequest(text="hello from the local gateway"),
    ],
    ids=lambda r: r.endpoint,
)
def test_every_route_is_paid_at_its_price(gw: LocalGateway, request_obj: GrokRequest) -> None:
    wallet = gw.new_funded_wallet("5")
    with _client(gw, wallet) as client:
        response = client.post(
            gw.url + request_obj.endpoint, content=request_obj.to_body(), headers={"content-type": "application/json"}
        )
    assert response.status_code == 200, response.text
    assert response.json()["success"] is True and response.json()["data"]
    assert response.extensions[PAYMENT_EXTENSION].amount == locus_price(request_obj)
    assert gw.balance(wallet.address) == START - locus_price(request_obj) - FEE


@pytest.mark.parametrize(
    ("path", "content", "fragment"),
    [
        ("/grok/chat", b"{not json", "not valid JSON"),
        ("/grok/chat", b"[1, 2]", "JSON object"),
        ("/grok/chat", b'{"model": "grok-3-mini", "messages": []}', "messages"),
        ("/grok/web-search", b'{"model": "grok-3-mini", "messages": [{"role": "user", "content": "x"}]}', "Grok-4"),
        ("/grok/tts", b'{"text": "hi", "voice_id": "nobody"}', "voice"),
    ],
)
def test_invalid_body_is_a_free_400_before_any_challenge(
    gw: LocalGateway, path: str, content: bytes, fragment: str
) -> None:
    wallet = gw.new_funded_wallet("1")
    before = gw.stats["challenges"]
    with _client(gw, wallet) as client:
        response = client.post(gw.url + path, content=content, headers={"content-type": "application/json"})
    assert response.status_code == 400
    problem = response.json()
    assert problem["type"].endswith("/bad-request") and fragment in problem["detail"]
    assert "www-authenticate" not in response.headers
    assert gw.stats["challenges"] == before
    assert gw.balance(wallet.address) == 1_000_000


def test_health_openapi_routing_and_repr(gw: LocalGateway) -> None:
    health = httpx.get(gw.url + "/health").json()
    assert health["status"] == "ok" and health["chainId"] == 4217 and health["realm"] == "127.0.0.1"
    spec = httpx.get(gw.url + "/openapi.json").json()
    assert set(spec["paths"]) == {
        "/grok/chat",
        "/grok/code-execution",
        "/grok/web-search",
        "/grok/x-search",
        "/grok/image-generate",
        "/grok/image-edit",
        "/grok/tts",
    }
    info = spec["paths"]["/grok/chat"]["post"]["x-payment-info"]
    assert info == {
        "intent": "charge",
        "method": "tempo",
        "amount": None,
        "currency": gw.currency,
        "description": "dynamic: priced per request body",
    }
    assert httpx.get(gw.url + "/grok/chat").status_code == 405
    assert httpx.post(gw.url + "/grok/nope", json={}).status_code == 404
    text = repr(gw)
    assert gw.url in text and gw.recipient in text
    assert "secret" not in text.lower() and "key" not in text.lower()
    assert "ChallengeIssuer(" in repr(gw.issuer) and "secret" not in repr(gw.issuer)


def test_keep_alive_serves_several_requests_on_one_connection(gw: LocalGateway) -> None:
    wallet = gw.new_funded_wallet("5")
    with _client(gw, wallet) as client:
        first = client.post(gw.url + "/grok/chat", json=chat_body(content="say one"))
        second = client.post(gw.url + "/grok/chat", json=chat_body(content="say two"))
    assert first.status_code == second.status_code == 200
    assert first.http_version == "HTTP/1.1" and "close" not in first.headers.get("connection", "")
    assert gw.balance(wallet.address) == START - 2 * (_price(chat_body(content="say one")) + FEE)


# --- faults -------------------------------------------------------------------------------------


def _paid_with_fault(gw: LocalGateway, fault: str) -> tuple[Wallet, InMemoryBudget, Any]:
    wallet = gw.new_funded_wallet("5")
    guard = InMemoryBudget()
    with _client(gw, wallet, guard) as client:
        try:
            outcome: Any = client.post(gw.url + "/grok/chat", json=chat_body(), headers={FAULT_HEADER: fault})
        except Exception as exc:  # the test inspects the exact type
            outcome = exc
    return wallet, guard, outcome


def _payments_of(gw: LocalGateway, wallet: Wallet) -> list[Any]:
    return [p for p in gw.payments if p.payer == wallet.address.lower()]


def test_fault_upstream_502_is_paid_and_reported(gw: LocalGateway) -> None:
    wallet, guard, outcome = _paid_with_fault(gw, "upstream-502")
    assert isinstance(outcome, PaymentOutcomeUnknownError)
    body = outcome.response.json()  # type: ignore[attr-defined]
    assert outcome.response.status_code == 502  # type: ignore[attr-defined]
    assert body["success"] is False and body["error"] == "Upstream API call failed" and body["paymentId"]
    assert len(_payments_of(gw, wallet)) == 1 and _payments_of(gw, wallet)[0].fault == "upstream-502"
    assert gw.balance(wallet.address) == START - _price(chat_body()) - FEE
    # outcome unknown to plain MPPAuth: the budget holds the price and the worst-case fee, which covers the actual
    assert guard.committed - _price(chat_body()) >= FEE


def test_fault_5xx_after_payment(gw: LocalGateway) -> None:
    wallet, _guard, outcome = _paid_with_fault(gw, "error-5xx-after-payment;status=503")
    assert isinstance(outcome, PaymentOutcomeUnknownError)
    assert outcome.response.status_code == 503  # type: ignore[attr-defined]
    assert outcome.tx_hash == _payments_of(gw, wallet)[0].tx_hash
    assert len(_payments_of(gw, wallet)) == 1


def test_fault_drop_connection_after_payment(gw: LocalGateway) -> None:
    wallet, guard, outcome = _paid_with_fault(gw, "drop-connection-after-payment")
    assert isinstance(outcome, httpx.TransportError)
    sent = sent_payment(outcome.request)
    assert sent is not None and sent.tx_hash == _payments_of(gw, wallet)[0].tx_hash
    assert len(_payments_of(gw, wallet)) == 1
    # outcome unknown: still counted as spent, with the worst-case fee (which covers the actual one)
    assert guard.committed - _price(chat_body()) >= FEE


def test_fault_second_402_is_not_paid_twice(gw: LocalGateway) -> None:
    wallet, _guard, outcome = _paid_with_fault(gw, "second-402")
    assert isinstance(outcome, PaymentRejectedError) and outcome.status_code == 402
    assert len(_payments_of(gw, wallet)) == 1  # the first payment settled, the second 402 was not paid
    assert gw.balance(wallet.address) == START - _price(chat_body()) - FEE


def test_fault_reject_payment_moves_nothing(gw: LocalGateway) -> None:
    wallet, _guard, outcome = _paid_with_fault(gw, "reject-payment")
    assert isinstance(outcome, PaymentRejectedError)
    assert outcome.problem is not None and outcome.problem.code == "verification-failed"
    assert _payments_of(gw, wallet) == [] and gw.balance(wallet.address) == START


def test_fault_slow_still_answers(gw: LocalGateway) -> None:
    wallet, _guard, outcome = _paid_with_fault(gw, "slow;delay=0.2")
    assert isinstance(outcome, httpx.Response) and outcome.status_code == 200
    assert len(_payments_of(gw, wallet)) == 1


def test_bad_fault_header_is_a_400(gw: LocalGateway) -> None:
    response = httpx.post(gw.url + "/grok/chat", json=chat_body(), headers={FAULT_HEADER: "explode"})
    assert response.status_code == 400 and "unknown fault mode" in response.json()["detail"]


def test_server_default_fault_and_header_override() -> None:
    with LocalGateway(default_fault="reject-payment") as gw:
        wallet = gw.new_funded_wallet("5")
        with _client(gw, wallet) as client:
            with pytest.raises(PaymentRejectedError):
                client.post(gw.url + "/grok/chat", json=chat_body())
            ok = client.post(gw.url + "/grok/chat", json=chat_body(), headers={FAULT_HEADER: "none"})
        assert ok.status_code == 200 and len(gw.payments) == 1


# --- price override and concurrency --------------------------------------------------------------


def test_price_override_sets_the_challenge_amount() -> None:
    with LocalGateway(price=lambda request: 1234) as gw:
        response = httpx.post(gw.url + "/grok/chat", json=chat_body())
        challenge = parse_www_authenticate(response.headers.get_list("www-authenticate"))[0]
        assert ChargeRequest.from_dict(challenge.request_data).amount == 1234


def test_64_concurrent_paid_calls_settle_with_distinct_hashes() -> None:
    with LocalGateway() as gw:
        wallet = gw.new_funded_wallet("10")
        auth = MPPAuth(wallet, PaymentPolicy(chain_id=4217))
        body = chat_body(content="say concurrently")  # identical bodies: same price, same millisecond

        async def run() -> list[httpx.Response]:
            limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
            async with httpx.AsyncClient(auth=auth, timeout=30, limits=limits) as client:
                return await asyncio.gather(*(client.post(gw.url + "/grok/chat", json=body) for _ in range(64)))

        responses = asyncio.run(run())
        assert [r.status_code for r in responses] == [200] * 64
        hashes = {r.extensions[PAYMENT_EXTENSION].tx_hash for r in responses}
        assert len(hashes) == 64 and {p.tx_hash for p in gw.payments} == hashes
        references = {decode_b64_json(r.headers["payment-receipt"])["reference"] for r in responses}
        assert references == hashes
        amount = _price(body)
        assert gw.balance(wallet.address) == 10_000_000 - 64 * (amount + FEE)
        assert gw.balance(gw.recipient) == 64 * amount
