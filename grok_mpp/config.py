"""Settings from arguments and environment variables, resolved once per client.

| variable                     | meaning                                                   | default                               |
|------------------------------|-----------------------------------------------------------|---------------------------------------|
| GROK_MPP_BASE_URL            | gateway base URL                                          | https://grok.mpp.paywithlocus.com     |
| GROK_MPP_PRIVATE_KEY         | payer key (hex)                                           | none                                  |
| GROK_MPP_KEYSTORE(+_PASSWORD)| encrypted keystore instead of a raw key                   | none                                  |
| GROK_MPP_CHAIN_ID            | the one chain the client pays on                          | 4217 (Tempo mainnet)                  |
| TEMPO_RPC_URL                | JSON-RPC for gas price, balances and reconciliation       | chain's public RPC; <base>/rpc on loopback |
| GROK_MPP_MAX_PER_CALL_USD    | refuse any single payment above this                      | 0.10                                  |
| GROK_MPP_BUDGET_USD          | total budget over the ledger (or this process)            | unlimited                             |
| GROK_MPP_LEDGER              | ledger path / postgres DSN, or "off"                      | user data dir ledger.sqlite3          |
| GROK_MPP_TIMEOUT             | request timeout in seconds (search can take > 60 s)       | 180                                   |
| GROK_MPP_ALLOWED_RECIPIENTS  | comma-separated addresses; refuse others                  | any                                   |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from grok_mpp.chains import CHAINS, TEMPO_MAINNET
from grok_mpp.errors import ConfigurationError
from grok_mpp.payment.policy import DEFAULT_MAX_PER_CALL, PaymentPolicy, is_loopback_host
from grok_mpp.units import UsdLike, usd_to_base_units

DEFAULT_BASE_URL = "https://grok.mpp.paywithlocus.com"
DEFAULT_TIMEOUT = 180.0


def _default_rpc(base_url: str, chain_id: int) -> str | None:
    """The chain's public RPC; for a gateway on loopback, the local gateway's own ``/rpc``.

    A gateway on 127.0.0.1 is the local emulator (or a test double), whose chain lives in-process:
    asking the public Tempo RPC for its gas price or receipts would be wrong and, offline, fail.
    """
    if is_loopback_host(httpx.URL(base_url).host):
        return base_url + "/rpc"
    return CHAINS[chain_id].rpc_url if chain_id in CHAINS else None


def _env_int(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from None


def _env_usd(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name)
    return None if raw in (None, "") else usd_to_base_units(raw, name=name)


@dataclass(frozen=True, slots=True)
class Settings:
    """Resolved client settings. Money in base units; the key is NOT here (see Wallet)."""

    base_url: str = DEFAULT_BASE_URL
    chain_id: int = TEMPO_MAINNET
    rpc_url: str | None = None
    max_per_call: int | None = DEFAULT_MAX_PER_CALL
    budget: int | None = None
    ledger: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    allowed_recipients: frozenset[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def resolve(
        cls,
        *,
        base_url: str | None = None,
        chain_id: int | None = None,
        rpc_url: str | None = None,
        max_price_usd: UsdLike | None = None,
        budget_usd: UsdLike | None = None,
        ledger: str | None = None,
        timeout: float | None = None,
        allowed_recipients: list[str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        """Explicit arguments win over environment variables, which win over defaults."""
        env = os.environ if environ is None else environ
        base = (base_url or env.get("GROK_MPP_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise ConfigurationError(f"base URL must start with http:// or https://, got {base!r}")
        chain = chain_id or _env_int(env, "GROK_MPP_CHAIN_ID") or TEMPO_MAINNET
        rpc = rpc_url or env.get("TEMPO_RPC_URL") or _default_rpc(base, chain)
        cap = (
            usd_to_base_units(max_price_usd, name="max_price_usd")
            if max_price_usd is not None
            else _env_usd(env, "GROK_MPP_MAX_PER_CALL_USD")
        )
        budget = (
            usd_to_base_units(budget_usd, name="budget_usd") if budget_usd is not None else _env_usd(env, "GROK_MPP_BUDGET_USD")
        )
        ledger_value = ledger if ledger is not None else env.get("GROK_MPP_LEDGER")
        raw_timeout = timeout if timeout is not None else env.get("GROK_MPP_TIMEOUT")
        try:
            timeout_s = float(raw_timeout) if raw_timeout not in (None, "") else DEFAULT_TIMEOUT
        except ValueError:
            raise ConfigurationError(f"GROK_MPP_TIMEOUT must be a number of seconds, got {raw_timeout!r}") from None
        recipients = allowed_recipients
        if recipients is None and env.get("GROK_MPP_ALLOWED_RECIPIENTS"):
            recipients = [r.strip() for r in env["GROK_MPP_ALLOWED_RECIPIENTS"].split(",") if r.strip()]
        return cls(
            base_url=base,
            chain_id=chain,
            rpc_url=rpc,
            max_per_call=DEFAULT_MAX_PER_CALL if cap is None else cap,
            budget=budget,
            ledger=ledger_value,
            timeout=timeout_s,
            allowed_recipients=frozenset(r.lower() for r in recipients) if recipients else None,
        )

    def policy(self, **overrides: Any) -> PaymentPolicy:
        kwargs: dict[str, Any] = {
            "chain_id": self.chain_id,
            "max_amount_per_call": self.max_per_call,
            "allowed_recipients": self.allowed_recipients,
        }
        kwargs.update(overrides)
        return PaymentPolicy(**kwargs)
