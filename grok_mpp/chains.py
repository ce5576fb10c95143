"""Tempo chains and TIP-20 stablecoins the client knows by default.

Addresses are kept lower-case; comparisons are always case-insensitive because servers mix cases.
"""

from __future__ import annotations

from dataclasses import dataclass

PATHUSD = "0x20c0000000000000000000000000000000000000"
USDCE = "0x20c000000000000000000000b9537d11c60e8b50"

TEMPO_MAINNET = 4217
TEMPO_MODERATO = 42431


@dataclass(frozen=True, slots=True)
class Token:
    symbol: str
    address: str
    decimals: int = 6


@dataclass(frozen=True, slots=True)
class Chain:
    chain_id: int
    name: str
    rpc_url: str
    tokens: tuple[Token, ...]

    def token(self, address: str) -> Token | None:
        address = address.lower()
        return next((t for t in self.tokens if t.address == address), None)

    @property
    def default_currencies(self) -> frozenset[str]:
        return frozenset(t.address for t in self.tokens)


CHAINS: dict[int, Chain] = {
    TEMPO_MAINNET: Chain(
        TEMPO_MAINNET, "tempo", "https://rpc.tempo.xyz", (Token("USDC.e", USDCE), Token("pathUSD", PATHUSD))
    ),
    TEMPO_MODERATO: Chain(
        TEMPO_MODERATO, "tempo-moderato", "https://rpc.moderato.tempo.xyz", (Token("pathUSD", PATHUSD),)
    ),
}


def token_symbol(address: str) -> str:
    """Human name of a known token address, else the address itself."""
    address = address.lower()
    for chain in CHAINS.values():
        token = chain.token(address)
        if token is not None:
            return token.symbol
    return address
