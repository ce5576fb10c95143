"""At most one payment per logical request, whatever retry wrapper repeats it (issue 12).

Matrix: wrappers users put around paid calls x faults that lose the answer after the payment, sync
and async, against the local gateway on loopback (one gateway per fault, applied server-wide to
every paid request). Wrappers retry on ANY exception, as their defaults do:

* LangChain ``with_retry`` (3 attempts) and ``with_fallbacks`` to a SECOND ``ChatGrokMPP`` object
  (a second client: only the process-wide pending-payment store connects the two);
* tenacity ``Retrying`` (3 attempts, reraise) and a user's own ``for`` loop;
* LlamaIndex ``GrokMPP(max_retries=3)``;
* a LlamaIndex ``FunctionAgent`` whose scripted LLM calls the paid web-search tool twice.

Counted at the gateway: settled payments by this test's wallet == 1, one ledger row, and the
caller gets a typed error that says money may have moved, with the transaction hash.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tenacity
from langchain_core.exceptions import ModelError
from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.llms.mock import MockFunctionCallingLLM

from grok_mpp.errors import (
    GrokMPPError,
    PaymentOutcomeUnknownError,
    PaymentPendingError,
    PaymentRejectedError,
    UpstreamError,
)
from grok_mpp.ledger import SQLiteLedger
from grok_mpp.local import LocalGateway
from langchain_grok_mpp import ChatGrokMPP
from llama_index_grok_mpp import GrokMPP, GrokMPPToolSpec, track_grok_mpp_costs

FAULTS: dict[str, tuple[str, type[GrokMPPError]]] = {
    "drop-after-payment": ("drop-connection-after-payment", PaymentOutcomeUnknownError),
    "5xx-after-payment": ("error-5xx-after-payment", PaymentOutcomeUnknownError),
    "upstream-502": ("upstream-502", UpstreamError),
    "timeout-after-payment": ("slow;delay=2.5", PaymentOutcomeUnknownError),
    "second-402": ("second-402", PaymentRejectedError),
}
WRAPPERS = ["lc-with-retry", "lc-with-fallbacks", "tenacity", "user-loop", "li-max-retries", "li-function-agent"]
QUESTION = "What is 2+3?"


@pytest.fixture(scope="module")
def fault_gateways() -> Iterator[dict[str, LocalGateway]]:
    gateways = {name: LocalGateway(default_fault=fault) for name, (fault, _) in FAULTS.items()}
    for gw in gateways.values():
        gw.start()
    try:
        yield gateways
    finally:
        for gw in gateways.values():
            gw.stop()


def _settings(gw: LocalGateway, wallet: Any, fault: str) -> dict[str, Any]:
    kw: dict[str, Any] = {"wallet": wallet, "base_url": gw.url, "rpc_url": gw.rpc_url}
    if fault.startswith("timeout"):
        kw["timeout"] = 1.0
    return kw


def _first_error(exc: BaseException) -> BaseException:
    """The grok-mpp error a wrapper re-raised (tenacity wraps, LangChain twins derive)."""
    if isinstance(exc, tenacity.RetryError):
        return exc.last_attempt.exception() or exc
    return exc


class ScriptedAgentLLM(MockFunctionCallingLLM):
    """Calls ``web_search`` once per turn until it has seen ``calls`` tool results, then answers."""

    calls: int = 2

    def __init__(self, **kw: Any) -> None:
        super().__init__(response_generator=self._respond, **kw)

    def _respond(self, messages: Any, **kwargs: Any) -> ChatMessage:
        seen = sum(1 for m in messages if m.role == MessageRole.TOOL)
        if seen >= self.calls:
            return ChatMessage(role=MessageRole.ASSISTANT, content="I could not find it.")
        block = ToolCallBlock(tool_call_id=f"call-{seen}", tool_name="web_search", tool_kwargs={"query": QUESTION})
        return ChatMessage(role=MessageRole.ASSISTANT, blocks=[block])


async def _run_agent(kw: dict[str, Any], mode: str) -> tuple[list[ToolCallResult], Any]:
    spec = GrokMPPToolSpec(**kw)
    functions: list[Any] = ["web_search"] if mode == "sync" else [("web_search", "aweb_search")]
    agent = FunctionAgent(tools=spec.to_tool_list(spec_functions=functions), llm=ScriptedAgentLLM(), streaming=False)
    with track_grok_mpp_costs() as costs:
        handler = agent.run(user_msg=QUESTION)
        results = [ev async for ev in handler.stream_events() if isinstance(ev, ToolCallResult)]
        await handler
    return results, costs


def _call(wrapper: str, kw: dict[str, Any], mode: str) -> Any:
    """Run one logical request through ``wrapper``; returns the result or raises what it raised."""
    messages = [("user", QUESTION)]
    if wrapper.startswith("lc-"):
        model = ChatGrokMPP(max_tokens=20, **kw)
        if wrapper == "lc-with-retry":
            runnable: Any = model.with_retry(stop_after_attempt=3, wait_exponential_jitter=False)
        else:
            runnable = model.with_fallbacks([ChatGrokMPP(max_tokens=20, **kw)])
        return runnable.invoke(messages) if mode == "sync" else asyncio.run(runnable.ainvoke(messages))
    if wrapper == "tenacity":
        model = ChatGrokMPP(max_tokens=20, **kw)
        if mode == "sync":
            return tenacity.Retrying(stop=tenacity.stop_after_attempt(3), reraise=True)(model.invoke, messages)

        async def run() -> Any:
            retrying = tenacity.AsyncRetrying(stop=tenacity.stop_after_attempt(3), reraise=True)
            return await retrying(model.ainvoke, messages)

        return asyncio.run(run())
    if wrapper == "user-loop":
        model = ChatGrokMPP(max_tokens=20, **kw)
        last: BaseException | None = None
        for _ in range(3):
            try:
                return model.invoke(messages) if mode == "sync" else asyncio.run(model.ainvoke(messages))
            except Exception as exc:  # a naive loop retries everything
                last = exc
        assert last is not None
        raise last
    if wrapper == "li-max-retries":
        llm = GrokMPP(max_tokens=20, max_retries=3, **kw)
        return llm.complete(QUESTION) if mode == "sync" else asyncio.run(llm.acomplete(QUESTION))
    raise AssertionError(wrapper)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_one_payment_per_logical_request(
    wrapper: str, fault: str, mode: str, fault_gateways: dict[str, LocalGateway], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gw = fault_gateways[fault]
    wallet = gw.new_funded_wallet(usd="5")
    ledger_path = tmp_path / "ledger.sqlite3"
    monkeypatch.setenv("GROK_MPP_LEDGER", str(ledger_path))
    kw = _settings(gw, wallet, fault)
    expected = FAULTS[fault][1]

    def settled() -> list[Any]:
        return [p for p in gw.payments if p.payer.lower() == wallet.address.lower()]

    if wrapper == "li-function-agent":
        results, costs = asyncio.run(_run_agent(kw, mode))
        # the scripted model called the paid tool twice; only the first call paid
        assert len(results) == 2 and all(r.tool_output.is_error for r in results)
        errors = [r.tool_output.exception for r in results]
        assert all(isinstance(e, GrokMPPError) and e.paid for e in errors), errors
        (payment,) = settled()
        # visible to the caller: the cost handler lists the failed paid calls with our transaction
        assert costs.payment_errors and set(costs.unresolved_tx_hashes) == {payment.tx_hash}
        # paid then failed: the money that left the wallet is counted (amount + fee) and flagged failed
        assert costs.failed_calls == 1 and costs.paid == payment.amount + payment.fee
        error: BaseException = errors[0]
    else:
        with pytest.raises(Exception) as info:
            _call(wrapper, kw, mode)
        error = _first_error(info.value)
        (payment,) = settled()

    assert isinstance(error, GrokMPPError), repr(error)
    # the first attempt's error, or (what a retry sees) the earlier payment still being unresolved
    assert isinstance(error, (expected, PaymentPendingError)), f"expected {expected.__name__}, got {error!r}"
    assert error.paid and not (error.retryable and error.paid)
    tx_hash = getattr(error, "tx_hash", None) or error.context.get("tx_hash")
    assert tx_hash == payment.tx_hash
    if wrapper.startswith(("lc-", "tenacity", "user-loop")):
        assert isinstance(error, ModelError)
    ledger = SQLiteLedger(ledger_path)
    try:
        (row,) = ledger.rows()  # one attempt recorded, never a second reservation
        # the client asked the chain right after the failed answer: the settled transfer is on the books
        assert row.tx_hash == payment.tx_hash and row.state in ("outcome_unknown", "rejected", "settled_onchain")
        if row.state == "settled_onchain":
            assert row.fee == payment.fee
    finally:
        ledger.close()


def test_identical_request_after_success_pays_again(local_gateway: LocalGateway, funded_wallet: Any) -> None:
    """Only unresolved payments block: asking the same question twice, both answered, pays twice."""
    model = ChatGrokMPP(max_tokens=20, wallet=funded_wallet, base_url=local_gateway.url, rpc_url=local_gateway.rpc_url)
    first, second = model.invoke(QUESTION), model.invoke(QUESTION)
    paid = [p for p in local_gateway.payments if p.payer.lower() == funded_wallet.address.lower()]
    assert len(paid) == 2 and paid[0].tx_hash != paid[1].tx_hash
    assert {first.response_metadata["mpp"]["tx_hash"], second.response_metadata["mpp"]["tx_hash"]} == {
        p.tx_hash for p in paid
    }

