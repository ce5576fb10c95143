"""pympp 0.16 client CPU per credential, measured inside its own process (run in .venv-peers).

Reads one JSON object on stdin: ``{"header": <WWW-Authenticate>, "key": <hex>, "n": <calls>,
"chain_id": <int>, "gas_price": <int>}``. For each call it does what pympp's client does between
receiving a 402 and resending the request: parse the challenge, check it with the method's policy
(``can_handle_challenge``), create the credential (policy re-check, attribution memo, build and sign
the 0x76 transaction) and serialize the ``Authorization`` value.

pympp asks the chain for eth_chainId (cached), eth_gasPrice and eth_estimateGas on every credential.
Those are stubbed with constants here, so no network time and no JSON-RPC parsing is counted: the
number is pympp's pure challenge -> credential CPU, which flatters pympp slightly.

Prints one JSON line: ``{"cpu_per_call_s": ..., "n": ..., "credential": <last credential>,
"pympp": <version>}``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from importlib.metadata import version
from typing import Any


async def main() -> None:
    cfg = json.loads(sys.stdin.read())
    from mpp import Challenge
    from mpp.methods.tempo import TempoAccount
    from mpp.methods.tempo import client as tempo_client
    from mpp.runtime import CredentialParams

    chain_id, gas_price = int(cfg["chain_id"]), int(cfg["gas_price"])

    async def fake_rpc(rpc_url: str, method: str, params: list[Any], *args: Any, **kwargs: Any) -> Any:
        if method == "eth_chainId":
            return hex(chain_id)
        if method == "eth_gasPrice":
            return hex(gas_price)
        raise AssertionError(f"unexpected RPC {method}")

    async def fake_estimate(*args: Any, **kwargs: Any) -> int:
        return 300_000

    tempo_client._rpc_call = fake_rpc  # type: ignore[attr-defined]
    tempo_client.estimate_gas = fake_estimate  # type: ignore[attr-defined]

    account = TempoAccount.from_key(cfg["key"])
    method = tempo_client.charge(account=account, chain_id=chain_id, rpc_url="http://127.0.0.1:9")
    header: str = cfg["header"]

    async def one() -> str:
        challenge = Challenge.from_www_authenticate(header)
        if not method.can_handle_challenge(challenge):
            raise SystemExit("pympp refused the benchmark challenge")
        return await method.create_credential(CredentialParams(challenge=challenge))

    for _ in range(20):  # warm-up: imports, caches
        await one()
    n = int(cfg["n"])
    start = time.process_time()
    credential = ""
    for _ in range(n):
        credential = await one()
    elapsed = time.process_time() - start
    from eth_keys.backends import get_backend

    print(json.dumps({"cpu_per_call_s": elapsed / n, "n": n, "credential": credential, "pympp": version("pympp"),
                      "backend": type(get_backend()).__name__}))


if __name__ == "__main__":
    asyncio.run(main())
