"""Money as integers in base units.

TIP-20 stablecoins (pathUSD, USDC.e) have 6 decimals, so 1 USD is 1_000_000 base units. USD values
given by users ("0.05", 0.05, Decimal("0.05")) are converted exactly with ``Decimal``; floats are
accepted for convenience but go through their shortest ``repr`` so 0.1 means 0.1, not its binary
approximation. Nothing in the payment path ever holds money in a float.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation

from grok_mpp.errors import ConfigurationError

DECIMALS = 6
BASE_UNITS_PER_USD = 10**DECIMALS

UsdLike = str | int | float | Decimal


def usd_to_base_units(value: UsdLike, *, name: str = "amount") -> int:
    """Convert a USD amount to base units, refusing sub-base-unit precision and negatives."""
    try:
        dec = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ConfigurationError(f"{name} must be a USD amount like '0.05', got {value!r}") from exc
    if not dec.is_finite() or dec < 0:
        raise ConfigurationError(f"{name} must be a finite, non-negative USD amount, got {value!r}")
    scaled = dec * BASE_UNITS_PER_USD
    if scaled != scaled.to_integral_value():
        raise ConfigurationError(
            f"{name} {value!r} has more than {DECIMALS} decimal places",
            hint="stablecoin amounts are whole micro-dollars",
        )
    return int(scaled)


def format_usd(base_units: int, *, places: int = DECIMALS) -> str:
    """Render base units as a plain USD decimal string ('0.006000' for 6000)."""
    dec = Decimal(base_units) / BASE_UNITS_PER_USD
    return str(dec.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN))


def base_units_to_decimal(base_units: int) -> Decimal:
    """Exact USD value of an amount in base units."""
    return Decimal(base_units) / BASE_UNITS_PER_USD
