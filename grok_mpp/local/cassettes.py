"""Record paid exchanges with a gateway as cassettes, and replay them from the local gateway.

Why: six of the seven Locus routes have response shapes nobody here has seen (reference note
locus-2026-12.md sections 7-8). The first person with network access and a funded key runs
``grok-mpp local record-checklist`` once; every cassette it writes becomes a regression test that
replays offline: the local gateway asks the recorded amount and answers the recorded bytes, while the
payment itself is verified and settled as usual.

A cassette (JSON, one per paid exchange) holds the request (method, path, body; no headers), the 402
challenge (status, ``WWW-Authenticate``, body), the paid response (status, body text, headers minus
anything credential-like) and the decoded ``Payment-Receipt``. ``Authorization`` never reaches a
cassette; values that look like keys or signatures in any recorded header are replaced by
``"<scrubbed>"``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .script import ROUTES, Answer, Script, route_name

CASSETTE_VERSION = 1
#: Headers kept in a cassette (everything else is dropped: cookies, auth, tracing ids).
KEPT_HEADERS = frozenset({"content-type", "www-authenticate", "payment-receipt", "cache-control"})
_SECRET = re.compile(r"0x[0-9a-fA-F]{64,}")  # a private key or a signature; tx hashes are 64 and kept below


def scrub_header(name: str, value: str) -> str:
    """Keep public values; replace anything longer than a hash that looks hex-secret."""
    if name.lower() in ("authorization", "cookie", "set-cookie", "x-api-key"):
        return "<scrubbed>"
    return _SECRET.sub(lambda m: m.group(0) if len(m.group(0)) == 66 else "<scrubbed>", value)


def _headers(headers: httpx.Headers) -> dict[str, str]:
    return {k.lower(): scrub_header(k, v) for k, v in headers.items() if k.lower() in KEPT_HEADERS}


@dataclass
class _Pending:
    request: dict[str, Any]
    challenge: dict[str, Any]


class RecordingTransport(httpx.BaseTransport):
    """An httpx transport that writes one cassette per paid ``POST /grok/...`` exchange.

    Wrap the transport of the client that pays (``GrokClient(http_client=httpx.Client(transport=
    RecordingTransport(out_dir)))``); JSON-RPC and other traffic passes through unrecorded.
    """

    def __init__(self, out_dir: str | Path, inner: httpx.BaseTransport | None = None) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.inner = inner or httpx.HTTPTransport()
        self.written: list[Path] = []
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        path = request.url.path
        if request.method != "POST" or path not in ROUTES:
            return response
        response.read()
        body = request.content.decode("utf-8", "replace")
        if response.status_code == 402 and "authorization" not in request.headers:
            with self._lock:
                self._pending[path + "\n" + body] = _Pending(
                    {"method": "POST", "path": path, "body": body},
                    {"status": 402, "headers": _headers(response.headers), "body": response.text},
                )
        elif "authorization" in request.headers:
            with self._lock:
                pending = self._pending.pop(path + "\n" + body, None)
            if pending is not None:
                self._write(pending, response)
        return response

    def _write(self, pending: _Pending, response: httpx.Response) -> None:
        receipt = None
        raw_receipt = response.headers.get("payment-receipt")
        if raw_receipt:
            from grok_mpp.mpp.receipt import parse_receipt

            try:
                receipt = dict(parse_receipt(raw_receipt).raw)
            except Exception:  # a malformed receipt is itself worth recording, raw
                receipt = {"unparsed": raw_receipt}
        cassette = {
            "version": CASSETTE_VERSION,
            "recorded_at": int(time.time()),
            "route": pending.request["path"],
            "request": pending.request,
            "challenge": pending.challenge,
            "response": {"status": response.status_code, "headers": _headers(response.headers), "body": response.text},
            "receipt": json.loads(json.dumps(receipt, default=str)) if receipt is not None else None,
        }
        name = pending.request["path"].rsplit("/", 1)[-1]
        with self._lock:
            target = self.out_dir / f"{len(self.written) + 1:02d}-{name}.json"
            target.write_text(json.dumps(cassette, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            self.written.append(target)

    def close(self) -> None:
        self.inner.close()


def load_cassettes(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """Cassettes from files or directories (``*.json``, in name order)."""
    out: list[dict[str, Any]] = []
    for path in paths:
        p = Path(path)
        files = sorted(p.glob("*.json")) if p.is_dir() else [p]
        for file in files:
            data = json.loads(file.read_text(encoding="utf-8"))
            if isinstance(data, Mapping) and data.get("version") == CASSETTE_VERSION and "route" in data:
                out.append(dict(data))
    return out


def challenge_amount(cassette: Mapping[str, Any]) -> int:
    """The amount the recorded 402 asked for (base units), from its ``WWW-Authenticate`` header."""
    from grok_mpp.mpp.challenge import parse_www_authenticate

    header = cassette["challenge"]["headers"]["www-authenticate"]
    challenges = parse_www_authenticate([header])
    return int(challenges[0].request_data["amount"])


class CassettePlayer:
    """A script and a price function that replay cassettes: pass both to ``LocalGateway``.

    Each route replays its cassettes in order; the challenge asks exactly the recorded amount and the
    paid answer is the recorded body, byte for byte.
    """

    def __init__(self, cassettes: Iterable[Mapping[str, Any]]) -> None:
        self.script = Script()
        self._amounts: dict[str, list[int]] = {r: [] for r in ROUTES}
        for cassette in cassettes:
            route = route_name(str(cassette["route"]))
            body_text = str(cassette["response"]["body"])
            envelope = json.loads(body_text)
            data = envelope.get("data") if isinstance(envelope, Mapping) else None
            spec = {"raw": data if isinstance(data, Mapping) else {}, "body": body_text, "label": f"cassette:{route}"}
            self.script.queue(route, Answer.from_spec(spec))
            self._amounts[route].append(challenge_amount(cassette))

    def price(self, request: Any) -> int:
        route = str(request.endpoint)
        served = sum(1 for s in self.script.served if s.route == route)
        amounts = self._amounts.get(route) or [0]
        return amounts[min(served, len(amounts) - 1)]


#: One cheap call per route (what ``record-checklist`` sends); tiny outputs keep the cost to cents.
CHECKLIST: tuple[tuple[str, dict[str, Any]], ...] = (
    ("chat", {"messages": [{"role": "user", "content": "Say OK."}], "max_tokens": 16}),
    ("web_search", {"messages": [{"role": "user", "content": "Machine Payments Protocol"}], "max_tokens": 64}),
    ("x_search", {"messages": [{"role": "user", "content": "Grok API"}], "max_tokens": 64}),
    ("code_execution", {"messages": [{"role": "user", "content": "Compute 6*7 with Python."}], "max_tokens": 64}),
    ("image_generate", {"prompt": "a small red square"}),
    ("tts", {"text": "OK."}),
)


def record_checklist(client_kwargs: Mapping[str, Any], out_dir: str | Path, *, timeout: float = 60.0) -> list[Path]:
    """``GET /openapi.json`` plus one paid call per route in :data:`CHECKLIST`, recorded under ``out_dir``.

    Image edit is left out: it needs a source image whose field name is one of the unknowns; record
    it by hand once the OpenAPI document names the field. Failures are recorded and reported, never
    retried (a retry could pay twice).
    """
    from grok_mpp.gateway.client import GrokClient

    out = Path(out_dir)
    transport = RecordingTransport(out)
    http = httpx.Client(transport=transport, timeout=timeout, follow_redirects=False)
    written: list[Path] = []
    try:
        with GrokClient(http_client=http, **dict(client_kwargs)) as client:  # type: ignore[call-arg]
            base = str(client.settings.base_url).rstrip("/")
            spec = http.get(base + "/openapi.json")
            target = out / "00-openapi.json"
            target.write_text(spec.text, encoding="utf-8")
            written.append(target)
            for method, kwargs in CHECKLIST:
                try:
                    getattr(client, method)(**kwargs)
                except Exception as exc:  # record what happened and go on: one failure must not hide the rest
                    note = out / f"failed-{method}.txt"
                    note.write_text(f"{type(exc).__name__}: {exc}\n", encoding="utf-8")
                    written.append(note)
    finally:
        http.close()
    return written + transport.written


__all__ = [
    "CHECKLIST",
    "CassettePlayer",
    "RecordingTransport",
    "challenge_amount",
    "load_cassettes",
    "record_checklist",
    "scrub_header",
]
