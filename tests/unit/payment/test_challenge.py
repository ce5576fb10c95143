"""WWW-Authenticate parsing: real headers, RFC 9110 corner cases, hostile inputs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grok_mpp.errors import ChallengeParseError, GrokMPPError
from grok_mpp.mpp.challenge import format_challenge, parse_rfc3339, parse_www_authenticate
from grok_mpp.mpp.charge import ChargeRequest
from grok_mpp.mpp.encoding import b64url_decode, b64url_encode, canonical_json, encode_b64_json

LOCUS = (
    'Payment id="Nj-GLXw3oMT93iz6wt7pDR7-SRWicOc-ggLTARwNRJk", realm="openweather.mpp.paywithlocus.com", '
    'method="tempo", intent="charge", request="eyJhbW91bnQiOiI2MDAwIiwiY3VycmVuY3kiOiIweDIwYzAwMDAwMDAwMDAwMDAwMDAwMDAwMG'
    "I5NTM3ZDExYzYwZThiNTAiLCJtZXRob2REZXRhaWxzIjp7ImNoYWluSWQiOjQyMTd9LCJyZWNpcGllbnQiOiIweDA2MGIwZkIwQmU5ZDkwNTU3NTc3"
    'QjNBRUU0ODA3MTEwNjcxNDlGZjAifQ", description="Locus MPP: openweather/current-weather", '
    'expires="2026-09-28T07:06:32.217Z"'
)
REQ = encode_b64_json({"amount": "1", "currency": "0x" + "11" * 20, "recipient": "0x" + "22" * 20}, canonical=True)


def ch(**params: str) -> str:
    base = {"id": "abc", "realm": "r.example", "method": "tempo", "intent": "charge", "request": REQ}
    base.update(params)
    return format_challenge(base)


def test_real_locus_challenge() -> None:
    (c,) = parse_www_authenticate([LOCUS])
    assert c.id == "Nj-GLXw3oMT93iz6wt7pDR7-SRWicOc-ggLTARwNRJk"
    assert c.description == "Locus MPP: openweather/current-weather"
    assert c.expires_at is not None and c.expires_at.year == 2026 and c.expires_at.microsecond == 217000
    charge = ChargeRequest.from_dict(c.request_data)
    assert charge.amount == 6000 and charge.chain_id == 4217
    assert charge.currency == "0x20c000000000000000000000b9537d11c60e8b50"
    assert charge.recipient == "0x060b0fb0be9d90557577b3aee480711067149ff0"
    # the echo keeps the original strings exactly (the HMAC id covers them)
    assert c.echo()["request"] == c.request and "description" in c.echo()


def test_comma_joined_challenges_with_quoted_commas_and_escapes() -> None:
    header = ch(id="one", description='a, "quoted", b') + ", " + ch(id="two", realm='x"y')
    first, second = parse_www_authenticate([header])
    assert first.description == 'a, "quoted", b'
    assert second.id == "two" and second.realm == 'x"y'


def test_multiple_header_lines_and_other_schemes() -> None:
    values = ['Bearer realm="api", error="invalid_token"', ch(id="p1"), 'Basic realm="x", ' + ch(id="p2")]
    assert [c.id for c in parse_www_authenticate(values)] == ["p1", "p2"]


def test_scheme_and_param_names_are_case_insensitive() -> None:
    header = ch().replace("Payment", "pAyMeNt").replace("realm=", "REALM=")
    (c,) = parse_www_authenticate([header])
    assert c.realm == "r.example"


def test_unknown_params_ignored_and_token_values_accepted() -> None:
    (c,) = parse_www_authenticate([f"Payment id=abc, realm=r.example, method=tempo, intent=charge, request={REQ}, x-new=1"])
    assert c.method == "tempo" and "x-new" not in c.echo()


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (ch() + ', id="again"', "duplicate"),
        (format_challenge({"realm": "r", "method": "tempo", "intent": "charge", "request": REQ}), "id"),
        (ch(id=""), "id"),
        (ch(request="!!notbase64"), "base64url"),
        (ch(request=b64url_encode(b"not json")), "JSON"),
        (ch(request=b64url_encode(b"[1,2]")), "object"),
        (ch(expires="tomorrow"), "RFC 3339"),
        (ch(method="Tempo"), "method"),
        ('Payment id="abc, realm="r"', "quoted"),
        ('Payment id="abc" junk, realm=r', "after quoted"),
        ("Payment id=a b", "token"),
        ('realm="orphan"', "before any scheme"),
    ],
)
def test_malformed_challenges_rejected(header: str, message: str) -> None:
    with pytest.raises(ChallengeParseError, match=message):
        parse_www_authenticate([header])


def test_oversized_header_rejected() -> None:
    with pytest.raises(ChallengeParseError, match="larger"):
        parse_www_authenticate([ch(description="x" * 70_000)])


def test_rfc3339_precisions() -> None:
    ms = parse_rfc3339("2026-09-28T07:06:32.217Z")
    us = parse_rfc3339("2026-11-22T18:34:29.764381Z")
    ns = parse_rfc3339("2026-11-22T18:34:29.764381999+02:00")
    assert ms.microsecond == 217000 and us.microsecond == 764381 and ns.hour == 16


def test_base64url_and_canonical_json() -> None:
    assert b64url_decode(b64url_encode(b"\xff\xfe")) == b"\xff\xfe"
    assert b64url_decode("_-8") == b"\xff\xef"
    with pytest.raises(ValueError):
        b64url_decode("a+b/")
    assert canonical_json({"b": 1, "a": [True, None, "é"]}) == '{"a":[true,null,"é"],"b":1}'.encode()
    with pytest.raises(TypeError):
        canonical_json({"amount": 0.1})


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_parser_raises_only_typed_errors(text: str) -> None:
    try:
        parse_www_authenticate([text])
    except GrokMPPError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(['Payment ', 'id="', '"', ",", "=", "\\", "realm=r", REQ, " ", "request="]), max_size=30))
def test_parser_on_grammar_fragments(parts: list[str]) -> None:
    try:
        parse_www_authenticate(["".join(parts)])
    except GrokMPPError:
        pass


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["Payment ", "Bearer ", 'id="', '"', ",", ", ", "=", "\\", "\\\"", "realm=r", "a", "x y", REQ, " ", "request=", "\t"]
        ),
        max_size=25,
    )
)
def test_fast_tokenizer_agrees_with_the_careful_one(parts: list[str]) -> None:
    """The single-pass regex tokenizer must read every header exactly as the piecewise parser does."""
    from grok_mpp.mpp.challenge import _fast_groups, _slow_groups

    header = ["".join(parts)]
    fast = _fast_groups(header)
    if fast is None:
        return
    payment = [(s.lower(), p) for s, p in fast if s.lower() == "payment"]
    try:
        slow = [(s.lower(), p) for s, p in _slow_groups(header) if s.lower() == "payment"]
    except ChallengeParseError:
        raise AssertionError(f"fast path accepted what the careful parser rejects: {header!r}") from None
    assert payment == slow
