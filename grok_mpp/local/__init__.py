"""The local gateway: Locus's Grok routes on loopback with real MPP payments and test money.

``LocalGateway`` issues HMAC-bound challenges, verifies credentials as strictly as a real MPP server,
settles on an in-process Tempo ledger (or a real node), answers with a synthetic, schema-aware Grok
model and can inject faults (``X-Grok-MPP-Fault``). See :mod:`grok_mpp.local.server`.
"""

from grok_mpp.local.chain import ChainError, InsufficientBalanceError, LocalChain, RemoteChain
from grok_mpp.local.challenges import ChallengeIssuer
from grok_mpp.local.faults import FAULT_HEADER, Fault, FaultMode, parse_fault
from grok_mpp.local.server import LocalGateway, SettledPayment
from grok_mpp.local.verifier import ReplayGuard, VerificationError, VerifiedPayment, verify

__all__ = [
    "FAULT_HEADER",
    "ChainError",
    "ChallengeIssuer",
    "Fault",
    "FaultMode",
    "InsufficientBalanceError",
    "LocalChain",
    "LocalGateway",
    "RemoteChain",
    "ReplayGuard",
    "SettledPayment",
    "VerificationError",
    "VerifiedPayment",
    "parse_fault",
    "verify",
]
