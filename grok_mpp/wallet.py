"""The payer's key, kept where nothing else can print it.

``Wallet`` holds the 32-byte secret and one signing-key object (libsecp256k1 via coincurve, or
eth-keys' pure-Python key without it) in private slots. Its ``repr``/``str`` show only the address,
it refuses to be pickled or copied into serialized state, and no error message it raises contains
key material. Sources, in the order :meth:`Wallet.resolve` tries them: an explicit
key, ``GROK_MPP_PRIVATE_KEY``, an encrypted keystore (``GROK_MPP_KEYSTORE`` + ``GROK_MPP_KEYSTORE_PASSWORD``).

eth-account is imported only for keystores: importing it pulls eth-keyfile and py_ecc (~0.8 s, most
of ``import langchain_grok_mpp``, see bench/README.md), while signing and addresses need only
secp256k1 (coincurve, or eth-keys without it) and keccak.

coincurve is a core dependency on every platform it ships wheels for (see pyproject.toml); elsewhere
the pure-Python eth-keys path signs the same bytes (RFC 6979, low-s), over 10x slower. Both paths are
locked to the reference vectors by tests/unit/payment/test_wallet_backends.py.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

from grok_mpp.errors import ConfigurationError
from grok_mpp.tempo.hashing import keccak256

try:  # libsecp256k1 bindings: a dependency where wheels exist, also what eth-keys uses when installed
    import coincurve as _coincurve
except ImportError:  # pragma: no cover - tested in a subprocess (test_wallet_backends.py)
    _coincurve = None  # type: ignore[assignment]

_KEY = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def checksum_address(raw: bytes) -> str:
    """EIP-55 mixed-case hex of a 20-byte address."""
    hexaddr = raw.hex()
    digest = keccak256(hexaddr.encode()).hex()
    return "0x" + "".join(c.upper() if int(d, 16) >= 8 else c for c, d in zip(hexaddr, digest[:40], strict=True))


def _valid_secret(secret: bytes) -> bool:
    return len(secret) == 32 and 0 < int.from_bytes(secret, "big") < _SECP256K1_N


class Wallet:
    """A secp256k1 signing key for Tempo payments. Only ``address`` is public.

    Example::

        from grok_mpp import Wallet
        wallet = Wallet.create()                  # throwaway key; Wallet.resolve() reads GROK_MPP_PRIVATE_KEY
        print(wallet)                             # Wallet(address='0x...'): the key never appears
        signature = wallet.sign_hash(bytes(32))   # 65 bytes: r || s || v
    """

    __slots__ = ("__fast", "__secret", "__signer", "address")

    def __init__(self, account: Any) -> None:
        """From an eth-account ``LocalAccount`` (anything with the 32-byte ``key``); see the
        ``from_*`` constructors for the usual ways in."""
        secret = bytes(account.key)
        if not _valid_secret(secret):
            raise ConfigurationError("private key is not a valid secp256k1 key (value not shown)")
        self.__secret = secret
        # One key object for the wallet's life: building one derives the public key, which is half of
        # a signature's CPU (eth-account rebuilds a key pair on every signature; so did this class).
        # Never bound to a local name: eth-keys' PrivateKey repr is the key in hex, and a traceback
        # that shows locals must not print it.
        self.__fast = _coincurve is not None
        if _coincurve is not None:
            self.__signer: Any = _coincurve.PrivateKey(secret)
            public = self.__signer.public_key.format(compressed=False)[1:]
        else:  # pragma: no cover - tested in a subprocess (test_wallet_backends.py)
            from eth_keys import keys

            self.__signer = keys.PrivateKey(secret)
            public = self.__signer.public_key.to_bytes()
        self.address: str = checksum_address(keccak256(public)[-20:])

    @classmethod
    def _from_secret(cls, secret: bytes) -> Wallet:
        class _Key:  # the one-attribute shape __init__ reads; never stored
            __slots__ = ("key",)
            key: bytes

        holder = _Key()
        holder.key = secret
        return cls(holder)

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_key(cls, private_key: Any) -> Wallet:
        """From a hex key string (or a pydantic ``SecretStr``/bytes). Never echoes the key on error."""
        if hasattr(private_key, "get_secret_value"):
            private_key = private_key.get_secret_value()
        if isinstance(private_key, bytes | bytearray):
            if len(private_key) != 32:
                raise ConfigurationError("private key bytes must be exactly 32 bytes long")
            return cls._from_secret(bytes(private_key))
        if not isinstance(private_key, str) or not _KEY.match(private_key.strip()):
            raise ConfigurationError(
                "private key must be 64 hex characters (optionally 0x-prefixed)",
                hint="set GROK_MPP_PRIVATE_KEY or pass private_key=; the value itself is not shown",
            )
        key = private_key.strip()
        try:
            return cls._from_secret(bytes.fromhex(key[2:] if key.startswith("0x") else key))
        except Exception:  # library errors may include the key: replace, never chain
            raise ConfigurationError("private key is not a valid secp256k1 key (value not shown)") from None

    @classmethod
    def from_keystore(cls, path: str | os.PathLike[str], password: str) -> Wallet:
        """From an encrypted JSON keystore (eth-account / geth format)."""
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigurationError(f"cannot read keystore {os.fspath(path)!r}: {exc}") from None
        from eth_account import Account  # keystores only: see the module docstring

        try:
            key = Account.decrypt(data, password)
        except Exception:
            raise ConfigurationError(f"cannot decrypt keystore {os.fspath(path)!r}: wrong password?") from None
        try:
            return cls._from_secret(bytes(key))
        except ConfigurationError:
            raise ConfigurationError(f"keystore {os.fspath(path)!r} holds an invalid key") from None

    @classmethod
    def create(cls) -> Wallet:
        """A fresh random key (throwaway wallets for the local gateway and tests)."""
        while True:
            secret = secrets.token_bytes(32)
            if _valid_secret(secret):
                return cls._from_secret(secret)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Wallet | None:
        env = os.environ if environ is None else environ
        if env.get("GROK_MPP_PRIVATE_KEY"):
            return cls.from_key(env["GROK_MPP_PRIVATE_KEY"])
        if env.get("GROK_MPP_KEYSTORE"):
            return cls.from_keystore(env["GROK_MPP_KEYSTORE"], env.get("GROK_MPP_KEYSTORE_PASSWORD", ""))
        return None

    @classmethod
    def resolve(cls, private_key: Any = None, wallet: Wallet | None = None) -> Wallet:
        """Explicit wallet, else explicit key, else the environment; a clear error if none."""
        if wallet is not None:
            return wallet
        if private_key is not None:
            return cls.from_key(private_key)
        found = cls.from_env()
        if found is None:
            raise ConfigurationError(
                "no wallet configured",
                hint="pass private_key=..., set GROK_MPP_PRIVATE_KEY, or GROK_MPP_KEYSTORE (+ _PASSWORD); "
                "for offline work start the local gateway: `grok-mpp local serve`",
            )
        return found

    # -- use ---------------------------------------------------------------------------------------
    def sign_hash(self, digest: bytes) -> bytes:
        """Raw secp256k1 signature r||s||v (v = 27/28) over a 32-byte hash, without any prefix."""
        if len(digest) != 32:
            raise ValueError("digest must be 32 bytes")
        if self.__fast:
            # RFC 6979 deterministic and low-s, exactly like eth-keys: the same 65 bytes, recid -> v.
            sig = self.__signer.sign_recoverable(bytes(digest), hasher=None)
        else:  # pragma: no cover - tested in a subprocess (test_wallet_backends.py)
            sig = self.__signer.sign_msg_hash(bytes(digest)).to_bytes()  # r || s || recid
        return sig[:64] + bytes((sig[64] + 27,))

    def export_private_key(self) -> str:
        """The hex key. Only for explicit user actions (``grok-mpp wallet new --show-key``)."""
        return "0x" + self.__secret.hex()

    def encrypt(self, password: str) -> dict[str, Any]:
        """Encrypted keystore JSON for this key."""
        from eth_account import Account

        return dict(Account.encrypt(self.__secret, password))

    def __repr__(self) -> str:
        return f"Wallet(address={self.address!r})"

    __str__ = __repr__

    def __getstate__(self) -> Any:
        raise TypeError("Wallet cannot be pickled: it holds a private key")

    def __reduce__(self) -> Any:
        raise TypeError("Wallet cannot be pickled: it holds a private key")

    def __copy__(self) -> Wallet:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Wallet:
        return self

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Wallet) and other.address == self.address

    def __hash__(self) -> int:
        return hash(self.address)
