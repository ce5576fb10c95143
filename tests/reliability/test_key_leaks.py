"""The private key and the bearer credentials never show up where a person or a tool can read them.

Checked after real paid calls against the local gateway: the repr of every object a user can hold
(client, auth, wallet, results, ledger rows, payment records), every DEBUG log line of grok_mpp,
httpx and httpcore, the SQLite ledger file on disk, and the request objects left behind. The
fault matrix (test_fault_matrix.py) checks every error it raises the same way.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from grok_mpp import AsyncGrokClient, GrokClient
from grok_mpp.ledger import SQLiteLedger
from grok_mpp.local import LocalGateway
from grok_mpp.payment.auth import PAYMENT_EXTENSION, SENT_EXTENSION

from .support import CredentialTap, SpyWallet, assert_no_secret, secret_needles

MSG = [{"role": "user", "content": "What is 2+3?"}]


def _debug_everything(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "grok_mpp", "grok_mpp.local", "grok_mpp.payment"):
        caplog.set_level(logging.DEBUG, logger=name)


def test_paid_calls_leak_nothing_sync(
    local_gateway: LocalGateway, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _debug_everything(caplog)
    wallet = SpyWallet(local_gateway.new_funded_wallet(usd="5"))
    tap = CredentialTap()
    ledger_path = tmp_path / "ledger.sqlite3"
    ledger = SQLiteLedger(ledger_path)
    responses: list[httpx.Response] = []
    http = httpx.Client(timeout=30, event_hooks={"request": [tap], "response": [responses.append]})
    with GrokClient(wallet=wallet, base_url=local_gateway.url, guard=ledger, http_client=http) as client, http:
        chat = client.chat(messages=MSG, max_tokens=20)
        image = client.image_generate(prompt="a lighthouse")
        speech = client.tts(text="hello")
        texts = [repr(client), str(client), repr(vars(client)), repr(client.auth), repr(client.wallet)]
    assert len(tap.credentials) == wallet.sign_count == 3
    texts += [repr(chat), repr(chat.cost), repr(chat.raw), repr(image), repr(speech.cost)]
    texts += [repr(row) for row in ledger.rows()] + [repr(ledger)]
    for response in responses:  # what a debugging user inspects after the call
        texts += [repr(response), repr(dict(response.headers)), repr(response.extensions.get(PAYMENT_EXTENSION))]
        texts += [repr(dict(response.request.headers)), repr(response.request.extensions.get(SENT_EXTENSION))]
    ledger.close()
    needles = secret_needles(wallet, tap.credentials)
    assert_no_secret(texts, needles, "reprs after paid calls")
    assert_no_secret([r.getMessage() for r in caplog.records], needles, "DEBUG logs")
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("ledger.sqlite3"))
    assert_no_secret([stored.decode("latin-1")], needles, "the ledger file")
    assert any("paying" in r.getMessage() for r in caplog.records)  # the logs were really captured
    assert any(r.name.startswith("httpcore") for r in caplog.records)


def test_key_from_environment_leaks_nothing_async(
    gateway_env: LocalGateway, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The usual setup: key in GROK_MPP_PRIVATE_KEY, default ledger, async client."""
    import os

    _debug_everything(caplog)
    key = os.environ["GROK_MPP_PRIVATE_KEY"]
    tap = CredentialTap()

    async def main() -> tuple[list[str], Any]:
        http = httpx.AsyncClient(timeout=30, event_hooks={"request": [tap.async_hook]})
        async with AsyncGrokClient(http_client=http) as client, http:
            results = await asyncio.gather(*(client.chat(messages=MSG, max_tokens=10) for _ in range(3)))
            return [repr(client), repr(vars(client)), *map(repr, results)], client.guard

    texts, guard = asyncio.run(main())
    assert len(tap.credentials) == 3
    needles = sorted({key, key[2:], *tap.credentials, *(c.split(" ", 1)[1] for c in tap.credentials)})
    assert_no_secret([*texts, repr(guard)], needles, "reprs")
    assert_no_secret([r.getMessage() for r in caplog.records] + [caplog.text], needles, "DEBUG logs")
