"""grok-mpp client CPU per credential in a fresh interpreter, optionally WITHOUT coincurve.

Reads ``{"header": <WWW-Authenticate>, "realm": ..., "n": <calls>, "pure": <bool>}`` on stdin.
With ``pure`` true, ``import coincurve`` is made to fail before grok_mpp is imported (what a
platform without coincurve wheels gets), so the Wallet signs with eth-keys' pure-Python backend.
Prints one JSON line: ``{"cpu_per_call_s": ..., "backend": <eth-keys backend>, "coincurve": <bool>}``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

cfg = json.loads(sys.stdin.read())
if cfg.get("pure"):
    sys.modules["coincurve"] = None  # type: ignore[assignment]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eth_keys.backends import get_backend  # noqa: E402

from grok_mpp import wallet as wallet_module  # noqa: E402
from grok_mpp.mpp.challenge import parse_www_authenticate  # noqa: E402
from grok_mpp.payment.policy import PaymentPolicy, select_challenge  # noqa: E402
from grok_mpp.payment.signer import sign_payment  # noqa: E402

wallet = wallet_module.Wallet.create()
policy = PaymentPolicy(chain_id=42431, allowed_realms=frozenset({cfg["realm"]}))


def one() -> str:
    approved = select_challenge(parse_www_authenticate([cfg["header"]]), policy, host="127.0.0.1", now=time.time())
    return sign_payment(approved, wallet, gas_price=20_000_000_000, gas_limit=policy.gas_limit).credential


for _ in range(5):
    one()
n = int(cfg["n"])
start = time.process_time()
for _ in range(n):
    one()
print(json.dumps({"cpu_per_call_s": (time.process_time() - start) / n, "backend": type(get_backend()).__name__,
                  "coincurve": wallet_module._coincurve is not None}))
