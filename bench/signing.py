"""1. Client CPU per paid call: challenge -> credential, ours vs pympp's client, same challenge and key.

Also reports grok-mpp without coincurve (the pure-Python eth-keys fallback a platform without
coincurve wheels gets) so the cost of that path stays visible.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import CACHE, GAS_PRICE, PEERS_PY, REPO, Row, us

from grok_mpp.chains import PATHUSD
from grok_mpp.mpp.challenge import parse_www_authenticate
from grok_mpp.payment.policy import PaymentPolicy, select_challenge
from grok_mpp.payment.signer import sign_payment
from grok_mpp.wallet import Wallet

COINCURVE_OVERLAY = CACHE / "coincurve-overlay"
NAME = "1. client CPU per paid call (challenge -> credential)"


class PymppValidator:
    """tests/peers/pympp_server.py in ``validate`` mode: pympp issues and checks challenges offline."""

    REALM = "bench.test"

    def __init__(self) -> None:
        env = {**os.environ, "CHAIN_ID": "42431", "CURRENCY": PATHUSD, "RECIPIENT": "0x" + "5e" * 20,
               "AMOUNT": "0.006", "REALM": self.REALM, "SECRET": "grok-mpp-bench-secret-0123456789abcdef",
               "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [str(PEERS_PY), str(REPO / "tests" / "peers" / "pympp_server.py"), "validate"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=REPO,
        )

    def call(self, message: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())  # type: ignore[no-any-return]

    def stop(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)


def bench_cpu(n: int) -> Row:
    """challenge -> credential CPU (parse + policy + sign + serialize), ours vs pympp, same challenge."""
    if not PEERS_PY.exists():
        return Row(NAME, "pympp not installed", "<= 1/3 of pympp", "n/a",
                   ["run tests/peers/setup.sh to install pympp 0.16 into .venv-peers"])
    validator = PymppValidator()
    try:
        header = validator.call({"op": "challenge", "amount": "0.006", "url": "http://127.0.0.1/paid"})[
            "www_authenticate"][0]
        wallet = Wallet.create()
        policy = PaymentPolicy(chain_id=42431, allowed_realms=frozenset({PymppValidator.REALM}))

        def ours() -> str:
            approved = select_challenge(parse_www_authenticate([header]), policy, host="127.0.0.1", now=time.time())
            return sign_payment(approved, wallet, gas_price=GAS_PRICE, gas_limit=policy.gas_limit).credential

        for _ in range(20):
            ours()
        start = time.process_time()
        for _ in range(n):
            credential = ours()
        our_cpu = (time.process_time() - start) / n
        pure = _run_ours_pure(header, max(n // 20, 20))
        job = json.dumps({"header": header, "key": wallet.export_private_key(), "n": n, "chain_id": 42431,
                          "gas_price": GAS_PRICE})
        theirs = _run_pympp(job)
        overlay = _coincurve_overlay()
        theirs_cc = _run_pympp(job, overlay) if overlay else None
        ours_valid = validator.call({"op": "validate", "authorization": credential})
        theirs_valid = validator.call({"op": "validate", "authorization": theirs["credential"]})
    finally:
        validator.stop()
    # Judge against pympp at its best (with coincurve) when that could be measured: the fair comparison.
    best = theirs_cc or theirs
    ratio = our_cpu / best["cpu_per_call_s"]
    detail = [
        f"grok-mpp: {us(our_cpu)} CPU per credential; pympp {theirs['pympp']} as installed by its requirements "
        f"(eth-keys pure-Python backend, {theirs['backend']}): {us(theirs['cpu_per_call_s'])}"
        + (f"; pympp with coincurve importable ({theirs_cc['backend']}): {us(theirs_cc['cpu_per_call_s'])}"
           if theirs_cc else "; pympp + coincurve not measured (overlay install failed)"),
        f"n = {n} each, time.process_time, same pympp-issued challenge and key, RPC stubbed in pympp",
        f"pympp's own verifier accepts both credentials: grok-mpp {ours_valid.get('valid')}, "
        f"pympp {theirs_valid.get('valid')}"
        + ("" if ours_valid.get("valid") else f" ({ours_valid.get('error')}: {ours_valid.get('message')})"),
        f"grok-mpp without coincurve (pure-Python eth-keys fallback, {pure['backend']}; platforms without "
        f"coincurve wheels): {us(pure['cpu_per_call_s'])} per credential = "
        f"{pure['cpu_per_call_s'] / our_cpu:.0f}x the coincurve path, "
        f"{pure['cpu_per_call_s'] / theirs['cpu_per_call_s']:.2f}x pympp's pure-Python path",
    ]
    return Row(NAME, f"{us(our_cpu)} vs pympp{'+coincurve' if theirs_cc else ''} {us(best['cpu_per_call_s'])} "
               f"= {ratio:.2f}x", "<= 0.33x pympp", "met" if ratio <= 1 / 3 else "missed", detail)


def _run_ours_pure(header: str, n: int) -> dict[str, Any]:
    job = json.dumps({"header": header, "realm": PymppValidator.REALM, "n": n, "pure": True})
    out = subprocess.run([sys.executable, str(REPO / "bench" / "_our_cpu.py")], input=job, text=True,
                         capture_output=True, check=True, cwd=REPO)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["coincurve"] is False, "the fallback run still had coincurve"
    return result


def _run_pympp(job: str, overlay: Path | None = None) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(overlay)} if overlay else None
    out = subprocess.run([str(PEERS_PY), str(REPO / "bench" / "_pympp_cpu.py")], input=job, text=True,
                         capture_output=True, check=True, cwd=REPO, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _coincurve_overlay() -> Path | None:
    """coincurve installed with pip --target into a cache dir and put on pympp's PYTHONPATH, so pympp
    can be measured with the same native backend as ours without modifying the peers venv."""
    if not (COINCURVE_OVERLAY / "coincurve").exists():
        done = subprocess.run([str(PEERS_PY), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                               "--target", str(COINCURVE_OVERLAY), "coincurve>=20"], capture_output=True)
        if done.returncode != 0:
            return None
    return COINCURVE_OVERLAY
