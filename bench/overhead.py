"""2. Paid-call overhead: a paid POST (402, sign, paid retry) vs an unpaid POST on the same route."""

from __future__ import annotations

import json
import statistics
import time

import httpx
from common import CHAT_BODY, MSG, GatewayProcess, Row, ms

from grok_mpp import GrokClient
from grok_mpp.payment.auth import MPPAuth
from grok_mpp.payment.policy import PaymentPolicy
from grok_mpp.wallet import Wallet


def _overhead_samples(base_url: str, wallet: Wallet, n: int) -> tuple[float, float, float]:
    """Medians of (plain POST, paid POST via MPPAuth, GrokClient.chat), interleaved."""
    url = base_url + "/grok/chat"
    body = json.dumps(CHAT_BODY).encode()
    headers = {"Content-Type": "application/json"}
    auth = MPPAuth(wallet, PaymentPolicy(), rpc_url=base_url + "/rpc")
    plain: list[float] = []
    paid: list[float] = []
    full: list[float] = []
    with httpx.Client(timeout=30) as http, GrokClient(wallet=wallet, base_url=base_url, ledger="off") as client:
        for _ in range(10):  # warm-up: connections, gas-price cache, imports
            http.post(url, content=body, headers=headers, auth=auth)
            http.post(url, content=body, headers=headers)
            client.chat(messages=MSG, max_tokens=16)
        for _ in range(n):  # interleaved so drift hits all three alike
            t0 = time.perf_counter()
            r = http.post(url, content=body, headers=headers)
            t1 = time.perf_counter()
            p = http.post(url, content=body, headers=headers, auth=auth)
            t2 = time.perf_counter()
            client.chat(messages=MSG, max_tokens=16)
            t3 = time.perf_counter()
            assert r.status_code == 402 and p.status_code == 200, (r.status_code, p.status_code)
            plain.append(t1 - t0)
            paid.append(t2 - t1)
            full.append(t3 - t2)
    return statistics.median(plain), statistics.median(paid), statistics.median(full)


def bench_overhead(gw: GatewayProcess, wallet: Wallet, n: int) -> Row:
    """Median paid round trip (402 + sign + paid retry) vs median plain POST on the same server."""
    rt, pd, full = _overhead_samples(gw.url, wallet, n)
    overhead = pd - rt
    target = 0.002 + rt
    detail = [
        f"plain POST (answered 402 by the same route): median {ms(rt)}; paid POST (402, sign, paid retry "
        f"verified + settled + answered): median {ms(pd)}; n = {n}",
        f"overhead {ms(overhead)} vs target 2 ms + one round trip = {ms(target)}",
        f"GrokClient.chat end to end (request model, pricing estimate, parsing): median {ms(full)}",
    ]
    return Row("2. paid-call overhead over an unpaid POST", ms(overhead), "<= 2 ms + 1 round trip "
               f"({ms(target)})", "met" if overhead <= target else "missed", detail)
