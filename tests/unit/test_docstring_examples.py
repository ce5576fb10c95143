"""Every public class's ``Example::`` block runs as written (issue 8).

A docstring example that no test runs rots silently. Each one here is extracted from the live
docstring and executed in a fresh namespace: the pure ones (no key, no gateway) with sockets
disabled, the paying ones with the environment pointing at the local gateway and a funded key, the
way a user's shell would. Paying examples must settle at least one real payment from that key;
examples that must not pay the shared gateway (a quote, a gateway of their own) must settle none.
"""

from __future__ import annotations

import importlib
import inspect
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_socket import disable_socket, enable_socket

PURE = "pure"  # no network, no key: runs with sockets disabled
PAYS = "pays"  # pays the gateway the environment points at
FREE = "free"  # talks to a gateway but must not pay the shared one

EXAMPLES: dict[str, tuple[str, str]] = {
    # core
    "GrokClient": ("grok_mpp.gateway.client", PAYS),
    "AsyncGrokClient": ("grok_mpp.gateway.client", PAYS),
    "Quote": ("grok_mpp.gateway.client", FREE),
    "LocalGateway": ("grok_mpp.local.server", FREE),
    "Wallet": ("grok_mpp.wallet", PURE),
    "PaymentPolicy": ("grok_mpp.payment.policy", PURE),
    "MPPAuth": ("grok_mpp.payment.auth", PAYS),
    "LedgerBase": ("grok_mpp.ledger.base", PAYS),
    "SQLiteLedger": ("grok_mpp.ledger.sqlite", PURE),
    "Budget": ("grok_mpp.ledger.model", PURE),
    # LangChain
    "ChatGrokMPP": ("langchain_grok_mpp", PAYS),
    "ChatGrokMPPCodeExecution": ("langchain_grok_mpp", PAYS),
    "GrokWebSearchRetriever": ("langchain_grok_mpp", PAYS),
    "GrokXSearchRetriever": ("langchain_grok_mpp", PAYS),
    "GrokWebSearchTool": ("langchain_grok_mpp", PAYS),
    "GrokXSearchTool": ("langchain_grok_mpp", PAYS),
    "GrokImageGenerationTool": ("langchain_grok_mpp", PAYS),
    "GrokImageEditTool": ("langchain_grok_mpp", PAYS),
    "GrokTextToSpeechTool": ("langchain_grok_mpp", PAYS),
    "GrokMPPCallbackHandler": ("langchain_grok_mpp", PAYS),
    "get_grok_mpp_callback": ("langchain_grok_mpp", PAYS),
    # LlamaIndex
    "GrokMPP": ("llama_index_grok_mpp", PAYS),
    "GrokMPPCodeExecution": ("llama_index_grok_mpp", PAYS),
    "llama_index.GrokWebSearchRetriever": ("llama_index_grok_mpp", PAYS),
    "llama_index.GrokXSearchRetriever": ("llama_index_grok_mpp", PAYS),
    "GrokMPPToolSpec": ("llama_index_grok_mpp", PAYS),
    "GrokMPPCostHandler": ("llama_index_grok_mpp", PAYS),
    "track_grok_mpp_costs": ("llama_index_grok_mpp", PAYS),
    "GrokMPPPaymentEvent": ("llama_index_grok_mpp", PAYS),
}


def example_code(obj: Any) -> str:
    """The indented literal block after the docstring line ending with ``Example::``."""
    doc = inspect.getdoc(obj)
    assert doc, f"{obj!r} has no docstring"
    lines = doc.splitlines()
    starts = [i for i, line in enumerate(lines) if line.rstrip().endswith("Example::")]
    assert len(starts) == 1, f"{obj!r}: expected exactly one 'Example::' block, found {len(starts)}"
    header_indent = len(lines[starts[0]]) - len(lines[starts[0]].lstrip())
    block: list[str] = []
    for line in lines[starts[0] + 1 :]:
        if line.strip() and len(line) - len(line.lstrip()) <= header_indent:
            break  # back at (or left of) the header's indentation: the literal block ended
        block.append(line)
    code = textwrap.dedent("\n".join(block)).strip("\n")
    assert code, f"{obj!r}: empty Example:: block"
    return code + "\n"


def resolve(name: str) -> Any:
    module, _ = EXAMPLES[name]
    return getattr(importlib.import_module(module), name.rsplit(".", 1)[-1])


def test_extraction_stops_at_the_end_of_the_literal_block() -> None:
    def sample() -> None:
        """Why it exists.

        Example::

            x = 1

            y = x + 1
        Text after the block is not code.
        """

    assert example_code(sample) == "x = 1\n\ny = x + 1\n"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_is_short_and_copy_pasteable(name: str) -> None:
    code = example_code(resolve(name))
    lines = [line for line in code.splitlines() if line.strip()]
    assert 2 <= len(lines) <= 8, f"{name}: {len(lines)} lines"
    assert ">>>" not in code
    assert not re.search(r"0x[0-9a-fA-F]{40}", code), f"{name}: hard-coded key or address"
    assert "://" not in code and "127.0.0.1" not in code, f"{name}: hard-coded URL (use the environment)"
    compile(code, f"<{name} example>", "exec")


@pytest.fixture
def clean_dispatcher() -> Iterator[None]:
    """LlamaIndex examples register handlers on the global root dispatcher; undo that afterwards."""
    from llama_index.core.instrumentation import get_dispatcher

    root = get_dispatcher()
    before = list(root.event_handlers)
    yield
    root.event_handlers = before


def run(name: str) -> None:
    code = example_code(resolve(name))
    namespace: dict[str, Any] = {"__name__": f"docstring_example_{name.replace('.', '_')}"}
    exec(compile(code, f"<{name} example>", "exec"), namespace)  # noqa: S102 - the point of the test


@pytest.mark.parametrize("name", sorted(n for n, (_, kind) in EXAMPLES.items() if kind == PURE))
def test_pure_example_runs_offline(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    resolve(name)  # import before sockets go away
    disable_socket()
    try:
        run(name)
    finally:
        enable_socket()


@pytest.mark.parametrize("name", sorted(n for n, (_, kind) in EXAMPLES.items() if kind != PURE))
def test_gateway_example_runs_against_the_local_gateway(
    name: str,
    gateway_env: Any,
    funded_wallet: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    clean_dispatcher: None,
) -> None:
    monkeypatch.chdir(tmp_path)  # image and speech examples write files to the working directory
    payer = funded_wallet.address.lower()
    before = gateway_env.balance(funded_wallet.address)
    run(name)
    settled = [p for p in gateway_env.payments if p.payer.lower() == payer]
    spent = before - gateway_env.balance(funded_wallet.address)
    if EXAMPLES[name][1] == PAYS:
        assert settled, f"{name}: the example settled no payment"
        assert spent >= sum(p.amount for p in settled) > 0
    else:
        assert settled == [] and spent == 0, f"{name}: the example paid the shared gateway"
