"""Hostile or clumsy HTTP: the gateway answers 4xx at once, never 500, never a stuck thread or a traceback."""

from __future__ import annotations

import json
import logging
import socket
import time
from typing import Any

import httpx
import pytest

from grok_mpp.errors import ConfigurationError
from grok_mpp.local import LocalGateway


@pytest.fixture(scope="module")
def gateway() -> Any:
    with LocalGateway() as gw:
        yield gw


def _raw(gateway: LocalGateway, request: bytes, timeout: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)


@pytest.mark.parametrize("length", ["-5", "+5", "5x", "١٢"])
def test_bad_content_length_is_answered_400_at_once(gateway: LocalGateway, length: str) -> None:
    start = time.monotonic()
    head = f"POST /grok/chat HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode()
    answer = _raw(gateway, head + b"{}")
    assert time.monotonic() - start < 2.0
    assert answer.startswith(b"HTTP/1.1 400"), answer[:80]
    assert b"Content-Length" in answer


def test_hundred_thousand_deep_json_is_400_not_500(gateway: LocalGateway) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    for path in ("/grok/chat", "/rpc"):
        response = httpx.post(gateway.url + path, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code in (400, 200), response.text  # /rpc answers JSON-RPC errors with 200
        if path == "/rpc":
            assert response.json()["error"]["code"] == -32700
        else:
            assert response.status_code == 400 and "nested too deeply" in response.text


def test_five_thousand_digit_integer_is_400_not_500(gateway: LocalGateway) -> None:
    body = b'{"model": "grok-4.3", "max_tokens": ' + b"9" * 5000 + b', "messages": []}'
    response = httpx.post(gateway.url + "/grok/chat", content=body)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_ipv6_loopback_binds_or_refuses_clearly() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 in this Python")
    try:
        probe = socket.socket(socket.AF_INET6)
        probe.bind(("::1", 0))
        probe.close()
    except OSError:
        pytest.skip("::1 is not configured on this machine")
    with LocalGateway("::1") as gateway:
        assert gateway.url.startswith("http://[::1]:")
        assert httpx.get(gateway.url + "/health").json()["status"] == "ok"
    with pytest.raises(ConfigurationError):
        LocalGateway("::ffff:10.0.0.1")


def test_client_disconnects_print_no_traceback(
    gateway: LocalGateway, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="grok_mpp.local")
    for _ in range(5):
        sock = socket.create_connection(("127.0.0.1", gateway.port))
        sock.sendall(b"POST /grok/chat HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST on close
        sock.close()
    time.sleep(0.3)
    # The gateway still serves, and nothing was printed to stderr.
    assert httpx.get(gateway.url + "/health").status_code == 200
    err = capfd.readouterr().err
    assert "Traceback" not in err, err
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]


def test_rpc_with_huge_integer_is_a_parse_error(gateway: LocalGateway) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}).encode()[:-1] + b', "x": ' + b"1" * 5000 + b"}"
    response = httpx.post(gateway.url + "/rpc", content=body)
    assert response.status_code == 200
    assert response.json()["error"]["code"] == -32700
