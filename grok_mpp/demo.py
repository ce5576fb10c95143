"""The main job on the embedded default: ``python -m grok_mpp.demo`` (what ``./dev demo`` runs).

1. start the local gateway (a real MPP server on loopback, synthetic model, test money);
2. create a throwaway wallet and fund it with test dollars;
3. one LangChain call (``ChatGrokMPP`` in an LCEL chain) and one LlamaIndex query (``GrokMPP`` behind a
   ``VectorStoreIndex`` query engine), each really paying through MPP (402 -> signed Tempo transaction
   -> 200 + receipt);
4. print the answers and a spend table from the ledger.

Nothing leaves 127.0.0.1 and no real money is involved. Point ``GROK_MPP_BASE_URL`` and
``GROK_MPP_PRIVATE_KEY`` at the real service to spend real USDC.e instead (see the README).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from grok_mpp.units import format_usd

#: Settings that only make sense for the real gateway and would make the local demo refuse to pay.
_REAL_SERVICE_SETTINGS = (
    "GROK_MPP_CHAIN_ID",
    "GROK_MPP_ALLOWED_RECIPIENTS",
    "GROK_MPP_KEYSTORE",
    "GROK_MPP_KEYSTORE_PASSWORD",
)


def _spend_table(ledger_path: str) -> str:
    from grok_mpp.ledger import open_ledger

    ledger = open_ledger(ledger_path)
    try:
        rows = ledger.rows()
        lines = [f"{'endpoint':<22} {'model':<14} {'state':<10} {'paid USD':>10}  tx"]
        for row in rows:
            lines.append(
                f"{row.endpoint:<22} {row.model or '-'!s:<14} {row.state:<10} {format_usd(row.spent):>10}  "
                f"{(row.tx_hash or '')[:18]}..."
            )
        totals = ledger.totals()
        lines.append(
            f"total paid: {format_usd(totals['paid'])} USD over {totals['count']} payments "
            f"(amounts {format_usd(totals['amount'])} + network fees {format_usd(totals['fee'])})"
        )
        return "\n".join(lines)
    finally:
        ledger.close()


def main() -> int:
    from grok_mpp.local import LocalGateway

    workdir = Path(tempfile.mkdtemp(prefix="grok-mpp-demo-"))
    ledger_path = str(workdir / "ledger.sqlite3")
    with LocalGateway() as gateway:
        wallet = gateway.new_funded_wallet(usd="2")
        # A shell configured for the real service must not break the demo: the local gateway has its
        # own random recipient and the throwaway key below replaces any keystore.
        for name in _REAL_SERVICE_SETTINGS:
            os.environ.pop(name, None)
        os.environ.update(
            {
                "GROK_MPP_BASE_URL": gateway.url,
                "TEMPO_RPC_URL": gateway.rpc_url,
                "GROK_MPP_PRIVATE_KEY": wallet.export_private_key(),
                "GROK_MPP_LEDGER": ledger_path,
            }
        )
        print(f"local gateway: {gateway.url} (chain {gateway.chain_id}, synthetic model, test money)")
        print(f"throwaway wallet {wallet.address} funded with {format_usd(gateway.balance(wallet.address))} USD\n")

        from langchain_core.prompts import ChatPromptTemplate

        from langchain_grok_mpp import ChatGrokMPP

        chain = ChatPromptTemplate.from_messages(
            [("system", "You are a concise assistant."), ("user", "{question}")]
        ) | ChatGrokMPP(model="grok-3-mini", max_tokens=200)
        answer = chain.invoke({"question": "What is 12*7?"})
        mpp = answer.response_metadata["mpp"]
        print("LangChain  :", answer.content)
        print(f"             paid {mpp['paid_usd']} USD, tx {mpp['tx_hash']}\n")

        from llama_index.core import Document, Settings, VectorStoreIndex
        from llama_index.core.embeddings import MockEmbedding

        from llama_index_grok_mpp import GrokMPP

        Settings.llm = GrokMPP(model="grok-3-mini", max_tokens=200)
        Settings.embed_model = MockEmbedding(embed_dim=8)
        index = VectorStoreIndex.from_documents(
            [
                Document(text="Tempo is a payments-first blockchain whose fees are paid in stablecoins."),
                Document(text="MPP lets a client pay per HTTP request: 402 challenge, signed payment, retry."),
            ]
        )
        response = index.as_query_engine(similarity_top_k=2).query("How does MPP charge for a request?")
        print("LlamaIndex :", str(response).strip())
        print()
        print(_spend_table(ledger_path))
        print(
            f"\nwallet balance now {format_usd(gateway.balance(wallet.address))} USD "
            "(payments plus the network fee of each transfer, paid in the same token)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
