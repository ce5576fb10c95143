"""Record against the local gateway (the only reachable stand-in for Locus), replay, compare bytes and price."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from grok_mpp import GrokClient
from grok_mpp.local import LocalGateway
from grok_mpp.local.cassettes import CassettePlayer, challenge_amount, load_cassettes, record_checklist


def test_record_checklist_then_replay_byte_for_byte(tmp_path: Path) -> None:
    out = tmp_path / "cassettes"
    with LocalGateway() as recorded_gateway:
        wallet = recorded_gateway.new_funded_wallet("5")
        written = record_checklist(
            {"wallet": wallet, "base_url": recorded_gateway.url, "rpc_url": recorded_gateway.rpc_url, "ledger": "off"},
            out,
        )
    names = sorted(p.name for p in written)
    assert "00-openapi.json" in names and not [n for n in names if n.startswith("failed")], names
    cassettes = load_cassettes([out])
    assert sorted(c["route"] for c in cassettes) == sorted(
        ["/grok/chat", "/grok/web-search", "/grok/x-search", "/grok/code-execution", "/grok/image-generate", "/grok/tts"]
    )
    text = "".join(p.read_text() for p in out.glob("*.json"))
    assert "Payment ey" not in text and wallet.export_private_key()[2:] not in text  # no credential, no key
    assert all("authorization" not in json.dumps(c["request"]).lower() for c in cassettes)

    player = CassettePlayer(cassettes)
    with LocalGateway(script=player.script, price=player.price) as replay:
        payer = replay.new_funded_wallet("5")
        with GrokClient(wallet=payer, base_url=replay.url, rpc_url=replay.rpc_url, ledger="off") as client:
            for cassette in cassettes:
                http = httpx.Client()
                body = cassette["request"]["body"].encode()
                challenge = http.post(replay.url + cassette["route"], content=body)
                assert challenge.status_code == 402
                header = challenge.headers["www-authenticate"]
                replay_amount = challenge_amount({"challenge": {"headers": {"www-authenticate": header}}})
                assert replay_amount == challenge_amount(cassette)
                paid = client._http.send(
                    client._http.build_request("POST", replay.url + cassette["route"], content=body,
                                               headers={"Content-Type": "application/json"}),
                    auth=client.auth,
                )  # fmt: skip
                assert paid.status_code == cassette["response"]["status"] == 200
                assert paid.content == cassette["response"]["body"].encode()  # byte for byte
                assert paid.headers["payment-receipt"]
                http.close()
    assert len(replay.payments) == len(cassettes)
    assert [p.amount for p in replay.payments] == [challenge_amount(c) for c in cassettes]
    player.script.assert_exhausted()


def test_live_record_checklist_against_locus(tmp_path: Path) -> None:
    """``pytest -m live``: records the real service (spends about $0.05). Never in CI."""
    import os

    import pytest

    if not os.environ.get("GROK_MPP_LIVE_KEY"):
        pytest.skip("set GROK_MPP_LIVE_KEY (a funded Tempo key) to record the real Locus routes")
    written = record_checklist(
        {"private_key": os.environ["GROK_MPP_LIVE_KEY"], "base_url": "https://grok.mpp.paywithlocus.com"},
        Path(os.environ.get("GROK_MPP_CASSETTE_DIR", tmp_path)),
    )
    assert any(p.name == "00-openapi.json" for p in written)


test_live_record_checklist_against_locus = __import__("pytest").mark.live(test_live_record_checklist_against_locus)
