"""What this client is willing to pay, checked before anything is signed (pure functions).

``evaluate`` turns a server's challenge into an :class:`ApprovedCharge` or raises a typed refusal
(:class:`~grok_mpp.errors.PolicyViolationError` and friends). It never touches the key, so a
refused challenge provably produced no signature. The defaults pin Tempo mainnet (4217) and its
stablecoins, cap a single call at 0.10 USD and demand the challenge realm equal the host called.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from grok_mpp.chains import CHAINS, TEMPO_MAINNET, token_symbol
from grok_mpp.errors import (
    AmountOverCapError,
    ChallengeParseError,
    ConfigurationError,
    InsecureTransportError,
    NoSupportedChallengeError,
    PolicyViolationError,
)
from grok_mpp.mpp.challenge import Challenge
from grok_mpp.mpp.charge import ChargeRequest
from grok_mpp.tempo.memo import attribution_memo
from grok_mpp.units import format_usd

DEFAULT_MAX_PER_CALL = 100_000  # 0.10 USD
VALID_BEFORE_WINDOW = 25  # seconds; Tempo refuses expiring nonces more than 30 s ahead
MIN_VALID_BEFORE_LEAD = 5  # the pool rejects valid_before <= now + 3 s


#: The only ``header=`` a Payment challenge may name (draft-httpauth-payment-01/-02, section 3 of
#: the Locus notes): "clients MUST NOT send a Payment credential for any other value". Honouring
#: any name would let a server have the bearer credential sent as ``Host``, ``Content-Length``
#: (signed, then never sent) or a custom header that survives a cross-origin redirect.
ALLOWED_CREDENTIAL_HEADER = "payment-authorization"
#: Tempo system contracts (FeeManager, TIP-403 registry, stablecoin DEX, TIP-20 factory, ...) sit at
#: a two-byte prefix followed by 18 zero bytes; TIP-20 tokens share the 12-byte prefix below.
_TIP20_PREFIX = "0x20c000000000000000000000"


def unpayable_recipient(address: str) -> str | None:
    """Why ``address`` can never be a legitimate payee, or None.

    The zero address and the precompiles (0x01..0x0a, P256 at 0x100: any value below 2**16) burn
    or revert the transfer, and the payer loses at least the fee; a system contract or a token
    contract is no merchant either. Checked before signing, even when no allow-list is set.
    """
    text = address.lower()
    value = int(text, 16)
    if value == 0:
        return "the zero address"
    if value < 2**16:
        return "a precompile address"
    if text.startswith(_TIP20_PREFIX):
        return "a TIP-20 token contract"
    if text[6:] == "0" * 36:
        return "a Tempo system contract address"
    return None


def _lower_set(values: Iterable[str] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(v.lower() for v in values)


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class PaymentPolicy:
    """Limits and pins applied to every challenge.

    ``max_amount_per_call`` and budgets are integers in base units (use
    :func:`grok_mpp.units.usd_to_base_units` to convert). ``allowed_currencies`` defaults to the
    pinned chain's known stablecoins; ``allowed_recipients`` (None = any) also applies to splits.

    Example::

        from grok_mpp import PaymentPolicy, usd_to_base_units
        policy = PaymentPolicy(max_amount_per_call=usd_to_base_units("0.05"), expiry_margin_seconds=30)
        print(policy.chain_id, sorted(policy.currencies))   # Tempo mainnet 4217: pathUSD and USDC.e
        # GrokClient(policy=policy) or MPPAuth(wallet, policy): a breach is refused before signing
    """

    chain_id: int = TEMPO_MAINNET
    allowed_currencies: frozenset[str] | None = None
    allowed_recipients: frozenset[str] | None = None
    max_amount_per_call: int | None = DEFAULT_MAX_PER_CALL
    expiry_margin_seconds: float = 10.0
    allow_fee_payer: bool = True
    realm_must_match_host: bool = True
    allowed_realms: frozenset[str] | None = None
    allow_insecure_loopback: bool = True
    max_fee_per_gas: int = 100_000_000_000
    gas_limit: int = 1_000_000
    default_gas_price: int = 20_000_000_000
    client_id: str | None = None
    max_splits: int = 10
    extra_methods: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "allowed_currencies", _lower_set(self.allowed_currencies))
        object.__setattr__(self, "allowed_recipients", _lower_set(self.allowed_recipients))
        object.__setattr__(self, "allowed_realms", _lower_set(self.allowed_realms))
        if self.max_amount_per_call is not None and self.max_amount_per_call < 0:
            raise ConfigurationError("max_amount_per_call must be >= 0 base units")
        if self.allowed_currencies is None and self.chain_id not in CHAINS:
            raise ConfigurationError(
                f"chain {self.chain_id} has no default currencies",
                hint="pass allowed_currencies= with the token addresses you accept",
            )

    @property
    def currencies(self) -> frozenset[str]:
        if self.allowed_currencies is not None:
            return self.allowed_currencies
        return CHAINS[self.chain_id].default_currencies


@dataclass(frozen=True, slots=True)
class ApprovedCharge:
    """A challenge that passed every rule, with what the signer needs."""

    challenge: Challenge
    charge: ChargeRequest
    memo: bytes
    valid_before: int
    chain_id: int

    @property
    def sponsored(self) -> bool:
        return self.charge.fee_payer


def check_origin(scheme: str, host: str, policy: PaymentPolicy) -> None:
    """Credentials travel over HTTPS only; plain HTTP is allowed to loopback (local gateway, tests)."""
    if scheme == "https":
        return
    if scheme == "http" and policy.allow_insecure_loopback and is_loopback_host(host):
        return
    raise InsecureTransportError(
        f"refusing to send a payment credential over {scheme}:// to {host}",
        hint="use https (plain http is only allowed to loopback addresses)",
    )


def evaluate(challenge: Challenge, policy: PaymentPolicy, *, host: str, now: float) -> ApprovedCharge:
    """Apply every rule to one challenge; raise the first violation, sign nothing."""
    if challenge.method != "tempo" or challenge.intent != "charge":
        raise NoSupportedChallengeError(
            f"challenge {challenge.method}/{challenge.intent} is not supported (only tempo/charge)"
        )
    try:
        charge = ChargeRequest.from_dict(challenge.request_data)
    except ChallengeParseError:
        raise
    if charge.chain_id != policy.chain_id:
        raise PolicyViolationError(
            f"server asked for payment on chain {charge.chain_id}, this client is pinned to {policy.chain_id}",
            rule="chain",
            hint="set chain_id= (or GROK_MPP_CHAIN_ID) if you really mean to pay on that chain",
        )
    if charge.currency not in policy.currencies:
        raise PolicyViolationError(
            f"server asked for token {token_symbol(charge.currency)}, which is not in the allowed currencies",
            rule="currency",
            hint="add the token to allowed_currencies only if you trust this server",
        )
    recipients = [charge.recipient, *(s.recipient for s in charge.splits)]
    if policy.allowed_recipients is not None:
        for r in recipients:
            if r not in policy.allowed_recipients:
                raise PolicyViolationError(
                    f"recipient {r} is not in the allowed recipients", rule="recipient"
                )
    for r in recipients:
        why = unpayable_recipient(r)
        if why is not None:
            raise PolicyViolationError(
                f"recipient {r} is {why}: a transfer there cannot pay a merchant", rule="recipient",
                hint="the server's challenge is broken or hostile; nothing was signed",
            )
    if challenge.header is not None and challenge.header.strip().lower() != ALLOWED_CREDENTIAL_HEADER:
        raise PolicyViolationError(
            f"challenge asks for the credential in header {challenge.header[:60]!r}; only "
            "Payment-Authorization is allowed (draft-httpauth-payment-01)",
            rule="header",
            hint="an unrecognised challenge: no credential is sent for it",
        )
    if len(charge.splits) > policy.max_splits:
        raise PolicyViolationError(f"challenge has {len(charge.splits)} split legs", rule="splits")
    if charge.splits and (charge.primary_amount <= 0 or any(s.amount <= 0 for s in charge.splits)):
        raise PolicyViolationError(
            "split legs must be positive and sum to less than the amount", rule="splits"
        )
    if charge.amount == 0:
        raise PolicyViolationError("zero-amount (proof) challenges are not supported", rule="amount")
    cap = policy.max_amount_per_call
    if cap is not None and charge.amount > cap:
        raise AmountOverCapError(
            f"server asked {format_usd(charge.amount)} USD, above the per-call cap of {format_usd(cap)} USD",
            rule="cap",
            hint="raise max_price_usd / GROK_MPP_MAX_PER_CALL_USD if this price is expected",
            amount=charge.amount,
            cap=cap,
        )
    if charge.supported_modes is not None and "pull" not in charge.supported_modes:
        raise PolicyViolationError("server does not accept pull-mode (signed transaction) payments", rule="mode")
    if charge.fee_payer and not policy.allow_fee_payer:
        raise PolicyViolationError("sponsored (fee payer) charges are disabled by policy", rule="fee_payer")
    valid_before = int(now) + VALID_BEFORE_WINDOW
    if challenge.expires_at is not None:
        left = challenge.expires_at.timestamp() - now
        if left < policy.expiry_margin_seconds:
            raise PolicyViolationError(
                f"challenge expires in {left:.1f} s, less than the {policy.expiry_margin_seconds:.0f} s margin",
                rule="expiry",
                hint="the request can simply be sent again for a fresh challenge",
            )
        valid_before = min(valid_before, int(challenge.expires_at.timestamp()))
    if valid_before < now + MIN_VALID_BEFORE_LEAD:
        raise PolicyViolationError("not enough validity left to land a transaction", rule="expiry")
    realm = challenge.realm.lower()
    if policy.allowed_realms is not None:
        if realm not in policy.allowed_realms:
            raise PolicyViolationError(f"realm {challenge.realm!r} is not allowed", rule="realm")
    elif policy.realm_must_match_host and realm.split(":")[0] != host.lower().strip("[]"):
        raise PolicyViolationError(
            f"challenge realm {challenge.realm!r} does not match the host called ({host})",
            rule="realm",
            hint="pass allowed_realms= if the server legitimately uses another realm",
        )
    memo = charge.memo or attribution_memo(challenge.id, challenge.realm, policy.client_id)
    return ApprovedCharge(challenge, charge, memo, valid_before, policy.chain_id)


def select_challenge(
    challenges: Sequence[Challenge], policy: PaymentPolicy, *, host: str, now: float
) -> ApprovedCharge:
    """The first challenge the policy accepts; the most relevant refusal if none is acceptable."""
    candidates = [c for c in challenges if c.method == "tempo" and c.intent == "charge"]
    if not candidates:
        offered = ", ".join(sorted({f"{c.method}/{c.intent}" for c in challenges})) or "none"
        raise NoSupportedChallengeError(
            f"the server offered no tempo/charge payment (offered: {offered})",
            hint="this client pays with the Tempo charge intent only",
        )
    first_error: Exception | None = None
    for challenge in candidates:
        try:
            return evaluate(challenge, policy, host=host, now=now)
        except (PolicyViolationError, ChallengeParseError) as exc:
            first_error = first_error or exc
    assert first_error is not None
    raise first_error
