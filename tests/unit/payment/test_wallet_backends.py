"""Both secp256k1 paths of ``Wallet`` sign the same bytes.

coincurve (libsecp256k1) is a core dependency only where it ships wheels; everywhere else ``Wallet``
signs with eth-keys' pure-Python backend. That fallback is never exercised by a normal test run (the
test venv has coincurve), so it is forced here in a fresh interpreter where ``import coincurve``
fails, and its signatures are compared byte for byte with the fast path's and with the signed
transaction vector of the reference notes (mpp.md 2.7).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from grok_mpp.wallet import Wallet

from .conftest import VECTOR_KEY
from .test_vectors import SIGNED, _tx

REPO = Path(__file__).resolve().parents[3]
DIGESTS = [bytes(31) + b"\x01", b"\xff" * 32, *(bytes([i]) * 32 for i in range(2, 40, 3))]

# Runs in the child: coincurve made unimportable before anything imports it (a None entry in
# sys.modules makes `import coincurve` raise ImportError, as on a platform without wheels).
_CHILD = """
import json, sys
sys.modules["coincurve"] = None
from eth_keys.backends import get_backend
from grok_mpp import wallet
from tests.unit.payment.test_vectors import _tx
cfg = json.loads(sys.stdin.read())
w = wallet.Wallet.from_key(cfg["key"])
print(json.dumps({
    "coincurve_loaded": wallet._coincurve is not None,
    "backend": type(get_backend()).__name__,
    "address": w.address,
    "signatures": [w.sign_hash(bytes.fromhex(d)).hex() for d in cfg["digests"]],
    "vector": _tx().sign(w).raw().hex(),
    "sponsored": _tx(sponsored=True).sign(w).fee_payer_envelope().hex(),
}))
"""


def _pure_python_run() -> dict[str, object]:
    job = json.dumps({"key": VECTOR_KEY, "digests": [d.hex() for d in DIGESTS]})
    out = subprocess.run([sys.executable, "-c", _CHILD], input=job, capture_output=True, text=True, cwd=REPO,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_pure_python_fallback_signs_the_same_bytes_as_coincurve() -> None:
    fast = Wallet.from_key(VECTOR_KEY)
    pure = _pure_python_run()
    assert pure["coincurve_loaded"] is False
    assert pure["backend"] == "NativeECCBackend"  # eth-keys' own pure-Python secp256k1
    assert pure["address"] == fast.address == "0xFCAd0B19bB29D4674531d6f115237E16AfCE377c"
    assert pure["signatures"] == [fast.sign_hash(d).hex() for d in DIGESTS]
    assert pure["vector"] == _tx().sign(fast).raw().hex() == SIGNED
    assert pure["sponsored"] == _tx(sponsored=True).sign(fast).fee_payer_envelope().hex()


def test_fast_path_is_active_in_this_environment() -> None:
    """The plain install brings coincurve where wheels exist (this test venv is such a platform)."""
    from grok_mpp import wallet

    assert wallet._coincurve is not None
