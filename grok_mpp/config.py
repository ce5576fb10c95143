"""Settings from arguments and environment variables, resolved once per client.

| variable                     | meaning                                                   | default                               |
|------------------------------|-----------------------------------------------------------|---------------------------------------|
| GROK_MPP_BASE_URL            | gateway base URL                                          | https://grok.mpp.paywithlocus.com     |
| GROK_MPP_PRIVATE_KEY         | payer key (hex)                                           | none                                  |
| GROK_MPP_KEYSTORE(+_PASSWORD)| encrypted keystore instead of a raw key                   | none                                  |
| GROK_MPP_CHAIN_ID            | the one chain the client pays on                          | 4217 (Tempo mainnet)                  |
| TEMPO_RPC_URL                | JSON-RPC for gas price, balances and reconciliation       | chain's public RPC; <base>/rpc on loopback |
| GROK_MPP_MAX_PER_CALL_USD    | refuse any single payment above this                      | 0.10                                  |
| GROK_MPP_BUDGET_USD          | ledger-wide total budget (or this process, ledger off)    | unlimited                             |
| GROK_MPP_LEDGER              | ledger path / postgres DSN, or "off"                      | user data dir ledger.sqlite3          |
| GROK_MPP_TIMEOUT             | request timeout in seconds (search can take > 60 s)       | 180                                   |
| GROK_MPP_ALLOWED_RECIPIENTS  | comma-separated addresses; refuse others                  | any                                   |
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
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


#: Larger USD settings are typos (1e999999 would otherwise overflow or mean "no limit" silently).
MAX_USD_SETTING = Decimal(10) ** 9


def _env_int(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from None


def _usd(value: UsdLike, name: str) -> int:
    """A USD setting in base units: finite, non-negative, at most 1e9 USD, whole micro-dollars."""
    try:
        dec = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
        too_big = dec.is_finite() and abs(dec) > MAX_USD_SETTING
    except (ArithmeticError, ValueError):
        raise ConfigurationError(f"{name} must be a USD amount like '0.05', got {str(value)[:40]!r}") from None
    if too_big:
        raise ConfigurationError(
            f"{name} must be at most {MAX_USD_SETTING} USD, got {str(value)[:40]!r}", hint="unset it for no limit"
        )
    return usd_to_base_units(value, name=name)


def _env_usd(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name)
    return None if raw in (None, "") else _usd(raw, name)


def _recipients(explicit: list[str] | None, env: Mapping[str, str]) -> list[str] | None:
    """The recipient allow-list: None = any. A list or variable that is set but names no valid
    address is refused here, so a typo never silently means "any recipient" (or refuses every call)."""
    raw = env.get("GROK_MPP_ALLOWED_RECIPIENTS") if explicit is None else None
    if explicit is None and raw is None:
        return None
    items = list(explicit) if explicit is not None else [r.strip() for r in str(raw).split(",") if r.strip()]
    bad = [r for r in items if not (isinstance(r, str) and re.fullmatch(r"0x[0-9a-fA-F]{40}", r.strip()))]
    if bad or not items:
        raise ConfigurationError(
            "GROK_MPP_ALLOWED_RECIPIENTS (allowed_recipients) must list 0x-prefixed 40-hex-digit addresses, "
            + (f"got {str(bad[0])[:50]!r}" if bad else "got none"),
            hint="comma-separated, e.g. 0x060b0fb0be9d90557577b3aee480711067149ff0; unset it to allow any",
        )
    return [r.strip() for r in items]


def _timeout(raw: Any) -> float:
    """Seconds, finite and positive: nan / inf / 0 / negative would hang or fail every call."""
    if raw in (None, ""):
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ConfigurationError(
            f"GROK_MPP_TIMEOUT (timeout) must be a finite number of seconds > 0, got {str(raw)[:40]!r}",
            hint=f"e.g. 180 (the default is {DEFAULT_TIMEOUT:g})",
        )
    return value


def _chain_id(explicit: int | None, env: Mapping[str, str]) -> int:
    """The chain to pay on. 0 or a negative id is refused: it must never silently become 4217."""
    value = explicit if explicit is not None else _env_int(env, "GROK_MPP_CHAIN_ID")
    if value is None:
        return TEMPO_MAINNET
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigurationError(
            f"GROK_MPP_CHAIN_ID (chain_id) must be a positive chain id, got {value!r}",
            hint="4217 for Tempo mainnet, 42431 for Moderato testnet",
        )
    return value


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
        chain = _chain_id(chain_id, env)
        rpc = rpc_url or env.get("TEMPO_RPC_URL") or _default_rpc(base, chain)
        if rpc and not rpc.startswith(("http://", "https://")):
            raise ConfigurationError(
                "TEMPO_RPC_URL (rpc_url) must start with http:// or https://",  # the value may carry an API key
                hint="unset it to use the chain's public RPC",
            )
        cap = (
            _usd(max_price_usd, "max_price_usd")
            if max_price_usd is not None
            else _env_usd(env, "GROK_MPP_MAX_PER_CALL_USD")
        )
        budget = (
            _usd(budget_usd, "budget_usd") if budget_usd is not None else _env_usd(env, "GROK_MPP_BUDGET_USD")
        )
        ledger_value = ledger if ledger is not None else env.get("GROK_MPP_LEDGER")
        timeout_s = _timeout(timeout if timeout is not None else env.get("GROK_MPP_TIMEOUT"))
        recipients = _recipients(allowed_recipients, env)
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

    @staticmethod
    def usd(value: UsdLike, name: str) -> int:
        """Validate one USD setting (finite, >= 0, <= 1e9 USD, whole micro-dollars) -> base units."""
        return _usd(value, name)

    def policy(self, **overrides: Any) -> PaymentPolicy:
        kwargs: dict[str, Any] = {
            "chain_id": self.chain_id,
            "max_amount_per_call": self.max_per_call,
            "allowed_recipients": self.allowed_recipients,
        }
        kwargs.update(overrides)
        return PaymentPolicy(**kwargs)
