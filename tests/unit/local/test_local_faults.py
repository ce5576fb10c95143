"""Fault descriptions: header/setting parsing, per-mode semantics, precedence."""

from __future__ import annotations

import pytest

from grok_mpp.local.faults import (
    DEFAULT_SLOW_SECONDS,
    FAULT_HEADER,
    Fault,
    FaultMode,
    FaultParseError,
    parse_fault,
    select_fault,
    upstream_failure_body,
    verification_failed_problem,
)
from grok_mpp.mpp.problem import parse_problem


@pytest.mark.parametrize(
    ("raw", "mode"),
    [
        ("upstream-502", FaultMode.UPSTREAM_502),
        ("UPSTREAM_502", FaultMode.UPSTREAM_502),
        (" error-5xx-after-payment ", FaultMode.ERROR_5XX_AFTER_PAYMENT),
        ("drop_connection_after_payment", FaultMode.DROP_CONNECTION_AFTER_PAYMENT),
        ("Second-402", FaultMode.SECOND_402),
        ("reject-payment", FaultMode.REJECT_PAYMENT),
        ("slow", FaultMode.SLOW),
    ],
)
def test_modes_parse_case_and_separator_insensitively(raw: str, mode: FaultMode) -> None:
    fault = parse_fault(raw)
    assert fault is not None and fault.mode is mode


def test_parameters() -> None:
    assert parse_fault("slow") == Fault(FaultMode.SLOW, delay_seconds=DEFAULT_SLOW_SECONDS)
    assert parse_fault("slow;delay=0.5") == Fault(FaultMode.SLOW, delay_seconds=0.5)
    assert parse_fault("upstream-502; delay=2") == Fault(FaultMode.UPSTREAM_502, delay_seconds=2.0)
    fault = parse_fault("error-5xx-after-payment;status=503")
    assert fault is not None and fault.http_status == 503


@pytest.mark.parametrize(
    "raw",
    [
        "explode",
        "slow;delay=abc",
        "slow;delay=-1",
        "slow;delay=nan",
        "slow;delay=1e9",
        "slow;speed=2",
        "slow;delay=1;delay=2",
        "slow;delay",
        "upstream-502;status=503",
        "error-5xx-after-payment;status=404",
        "error-5xx-after-payment;status=5x0",
        "none;delay=1",
    ],
)
def test_malformed_values_raise(raw: str) -> None:
    with pytest.raises(FaultParseError):
        parse_fault(raw)


def test_empty_and_none_mean_no_fault() -> None:
    assert parse_fault(None) is None
    assert parse_fault("  ") is None
    assert parse_fault("none") is None


def test_semantics_per_mode() -> None:
    status = {m: Fault(m).http_status for m in FaultMode}
    assert status == {
        FaultMode.UPSTREAM_502: 502,
        FaultMode.ERROR_5XX_AFTER_PAYMENT: 500,
        FaultMode.DROP_CONNECTION_AFTER_PAYMENT: None,
        FaultMode.SLOW: 200,
        FaultMode.SECOND_402: 402,
        FaultMode.REJECT_PAYMENT: 402,
    }
    assert [m for m in FaultMode if not Fault(m).settles_payment] == [FaultMode.REJECT_PAYMENT]
    assert [m for m in FaultMode if Fault(m).returns_result] == [FaultMode.SLOW]


@pytest.mark.parametrize("raw", ["slow;delay=0.25", "error-5xx-after-payment;status=504", "second-402", "slow"])
def test_header_value_round_trips(raw: str) -> None:
    fault = parse_fault(raw)
    assert fault is not None
    assert parse_fault(fault.header_value()) == fault


def test_header_overrides_server_default_and_none_disables_it() -> None:
    default = Fault(FaultMode.UPSTREAM_502)
    assert select_fault(None, default) is default
    assert select_fault("", default) is default
    assert select_fault("second-402", default) == Fault(FaultMode.SECOND_402)
    assert select_fault("none", default) is None
    assert FAULT_HEADER == "X-Grok-MPP-Fault"


def test_bodies() -> None:
    assert upstream_failure_body("pid-1") == {
        "success": False,
        "error": "Upstream API call failed",
        "paymentId": "pid-1",
    }
    problem = parse_problem(str(verification_failed_problem()).replace("'", '"'))
    assert problem is not None and problem.code == "verification-failed" and problem.status == 402
