"""Every client the gateway module builds shares one TLS context.

Loading the CA bundle is ~21 ms of CPU per client (bench row 9) and the adapters build an async
client per event loop, so a fresh context per client is a cost paid on every LlamaIndex sync call.
"""

from __future__ import annotations

import ssl
from typing import Any

from grok_mpp import AsyncGrokClient, GrokClient
from grok_mpp.gateway import client as client_module


def _pool_context(http: Any) -> ssl.SSLContext:
    return http._transport._pool._ssl_context  # httpx -> httpcore pool: where the context ends up


async def test_sync_and_async_clients_share_one_tls_context(gateway_env: Any) -> None:
    shared = client_module._shared_ssl_context()
    assert isinstance(shared, ssl.SSLContext)
    assert shared.verify_mode == ssl.CERT_REQUIRED and shared.check_hostname  # httpx's secure defaults
    with GrokClient(ledger="off") as first, GrokClient(ledger="off") as second:
        assert _pool_context(first._http) is shared
        assert _pool_context(second._http) is shared
    async with AsyncGrokClient(ledger="off") as third:
        assert _pool_context(third._http) is shared


def test_a_users_own_http_client_keeps_its_own_tls_settings(gateway_env: Any) -> None:
    import httpx

    own_context = ssl.create_default_context()
    own = httpx.Client(verify=own_context)
    with GrokClient(ledger="off", http_client=own) as grok:
        assert grok._http is own
        assert _pool_context(own) is own_context
