"""GrokClient / AsyncGrokClient against the local gateway over real loopback HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from grok_mpp import AsyncGrokClient, ChatRequest, GrokClient
from grok_mpp.errors import (
    AmountOverCapError,
    BudgetExceededError,
    ConfigurationError,
    GatewayConnectionError,
    InvalidRequestError,
    PaymentOutcomeUnknownError,
    PaymentRejectedError,
    UpstreamError,
)
from grok_mpp.local.faults import FAULT_HEADER
from grok_mpp.payment.hooks import InMemoryBudget

MSG = [{"role": "user", "content": "What is 2+3?"}]


def client_for(gw: Any, wallet: Any, **kw: Any) -> GrokClient:
    return GrokClient(wallet=wallet, base_url=gw.url, rpc_url=gw.rpc_url, ledger="off", **kw)


def settled_for(gw: Any, wallet: Any) -> list[Any]:
    return [p for p in gw.payments if p.payer.lower() == wallet.address.lower()]


def test_chat_pays_exactly_the_challenge_amount(local_gateway: Any, funded_wallet: Any) -> None:
    before = local_gateway.balance(funded_wallet.address)
    with client_for(local_gateway, funded_wallet) as client:
        quote = client.quote(ChatRequest(messages=MSG, max_tokens=50))
        result = client.chat(messages=MSG, max_tokens=50)
    (payment,) = settled_for(local_gateway, funded_wallet)
    assert result.cost.amount == payment.amount == quote.amount
    assert result.cost.tx_hash == payment.tx_hash
    assert "5" in result.text and result.served_model and result.usage.total_tokens > 0
    spent = before - local_gateway.balance(funded_wallet.address)
    # paid is what left the wallet: the amount plus the network fee read from the chain receipt
    assert result.cost.fee is not None and result.cost.fee > 0 and result.cost.fee_exact
    assert spent == result.cost.paid == payment.amount + result.cost.fee
    assert quote.within_policy and quote.estimate.amount > 0


async def test_async_client_every_endpoint(local_gateway: Any, funded_wallet: Any) -> None:
    async with AsyncGrokClient(wallet=funded_wallet, base_url=local_gateway.url, ledger="off", max_price_usd="0.5") as c:
        chat = await c.chat(messages=MSG)
        code = await c.code_execution(messages=[{"role": "user", "content": "compute 17*23"}])
        web = await c.web_search(messages=[{"role": "user", "content": "tempo blockchain"}])
        xs = await c.x_search(messages=[{"role": "user", "content": "grok"}])
        image = await c.image_generate(prompt="a lighthouse")
        speech = await c.tts(text="hello there")
    assert chat.text and code.server_tool_calls[0].outputs == ("391\n",)
    assert web.citations and all(ci.source == "web" for ci in web.citations)
    assert xs.citations and all(ci.source == "x" for ci in xs.citations)
    assert image.images[0].mime_type == "image/png" and image.images[0].data[:4] == b"\x89PNG"
    assert speech.audio[:4] == b"RIFF"
    assert len(settled_for(local_gateway, funded_wallet)) == 6


def test_invalid_request_is_refused_before_paying(local_gateway: Any, funded_wallet: Any) -> None:
    with client_for(local_gateway, funded_wallet) as client:
        with pytest.raises(InvalidRequestError, match="temperature"):
            client.chat(messages=MSG, temperature=5)
        with pytest.raises(InvalidRequestError, match="Grok-4"):
            client.web_search(messages=MSG, model="grok-3-mini")
    assert settled_for(local_gateway, funded_wallet) == []


def test_cap_and_budget_refusals_pay_nothing(local_gateway: Any, funded_wallet: Any) -> None:
    with client_for(local_gateway, funded_wallet, max_price_usd="0.001") as client, pytest.raises(AmountOverCapError):
        client.chat(messages=MSG)
    guard = InMemoryBudget(total=1)
    with client_for(local_gateway, funded_wallet, guard=guard) as client, pytest.raises(BudgetExceededError):
        client.chat(messages=MSG)
    assert settled_for(local_gateway, funded_wallet) == []


def faulty(gw: Any, wallet: Any, fault: str, **kw: Any) -> GrokClient:
    http = httpx.Client(headers={FAULT_HEADER: fault}, timeout=kw.pop("timeout", 30))
    return client_for(gw, wallet, http_client=http, **kw)


def test_upstream_502_is_typed_paid_and_not_retried(local_gateway: Any, funded_wallet: Any) -> None:
    with faulty(local_gateway, funded_wallet, "upstream-502") as client, pytest.raises(UpstreamError) as err:
        client.chat(messages=MSG)
    assert err.value.paid and not err.value.retryable and err.value.payment_id
    assert "refund" in str(err.value)
    assert len(settled_for(local_gateway, funded_wallet)) == 1


@pytest.mark.parametrize("fault", ["error-5xx-after-payment", "drop-connection-after-payment"])
def test_post_payment_failures_are_outcome_unknown(local_gateway: Any, funded_wallet: Any, fault: str) -> None:
    with faulty(local_gateway, funded_wallet, fault) as client, pytest.raises(PaymentOutcomeUnknownError) as err:
        client.chat(messages=MSG)
    (payment,) = settled_for(local_gateway, funded_wallet)
    assert err.value.tx_hash == payment.tx_hash and not err.value.retryable


def test_timeout_after_payment_is_outcome_unknown(local_gateway: Any, funded_wallet: Any) -> None:
    with faulty(local_gateway, funded_wallet, "slow;delay=3", timeout=1.0) as client:
        with pytest.raises(PaymentOutcomeUnknownError):
            client.chat(messages=MSG)
    assert len(settled_for(local_gateway, funded_wallet)) == 1


@pytest.mark.parametrize("fault", ["second-402", "reject-payment"])
def test_refused_credentials_are_not_paid_twice(local_gateway: Any, funded_wallet: Any, fault: str) -> None:
    with faulty(local_gateway, funded_wallet, fault) as client, pytest.raises(PaymentRejectedError) as err:
        client.chat(messages=MSG)
    assert err.value.tx_hash
    assert len(settled_for(local_gateway, funded_wallet)) == (1 if fault == "second-402" else 0)


def test_unreachable_gateway_is_retryable_and_unpaid(funded_wallet: Any) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with GrokClient(wallet=funded_wallet, base_url=f"http://127.0.0.1:{port}", ledger="off") as client:
        with pytest.raises(GatewayConnectionError) as err:
            client.chat(messages=MSG)
    assert err.value.retryable and not err.value.paid


def test_missing_wallet_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="GROK_MPP_PRIVATE_KEY"):
        GrokClient()


def test_client_from_environment(gateway_env: Any) -> None:
    with GrokClient() as client:
        assert client.settings.base_url == gateway_env.url
        assert client.chat(messages=MSG).cost.paid
    assert "0x" in repr(client) and "private" not in repr(client).lower()


def test_insufficient_funds_refused_before_signing(local_gateway: Any) -> None:
    from grok_mpp.errors import InsufficientFundsError
    from grok_mpp.wallet import Wallet

    poor = Wallet.create()
    local_gateway.fund(poor.address, 1000)  # 0.001 USD: less than a chat call plus its fee
    with client_for(local_gateway, poor) as client, pytest.raises(InsufficientFundsError) as err:
        client.chat(messages=MSG)
    assert "nothing was signed" in str(err.value) and not err.value.retryable
    assert settled_for(local_gateway, poor) == [] and local_gateway.balance(poor.address) == 1000
