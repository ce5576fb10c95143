"""Locus's ``{"success", "data"}`` envelope and xAI error bodies (pure functions, never raise on odd input)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from grok_mpp.errors import GatewayError, UpstreamError

# --- xAI error bodies ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class XaiError:
    """The useful part of an xAI (or OpenAI-style) error body."""

    message: str
    code: str | None = None
    type: str | None = None
    param: str | None = None

    def describe(self) -> str:
        return f"{self.code}: {self.message}" if self.code and self.code != self.message else self.message


def extract_xai_error(body: Any) -> XaiError | None:
    """Pull the error message out of a non-2xx body; ``None`` if it carries none. Never raises.

    Accepts the classic xAI form ``{"code": "...", "error": "..."}``, the OpenAI form
    ``{"error": {"message", "type", "param", "code"}}``, a Locus ``{"success": false, "error": "..."}``
    and bodies given as bytes/str JSON. Independent of RFC 9457 ``parse_problem`` on purpose: payment
    problems and upstream model errors are different failures with different remedies.
    """
    if isinstance(body, bytes | bytearray):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            text = body.strip()
            return XaiError(message=text[:500]) if text else None
    if not isinstance(body, dict):
        return None
    err = body.get("error")
    if isinstance(err, dict):
        message = err.get("message")
        if isinstance(message, str) and message:
            return XaiError(
                message=message,
                code=_opt_str(err.get("code")),
                type=_opt_str(err.get("type")),
                param=_opt_str(err.get("param")),
            )
    if isinstance(err, str) and err:
        return XaiError(message=err, code=_opt_str(body.get("code")))
    for key in ("message", "detail"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return XaiError(message=value, code=_opt_str(body.get("code")))
    return None


def _opt_str(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    return str(value) if isinstance(value, str | int) else None


# --- envelope ------------------------------------------------------------------------------------


def unwrap_envelope(status_code: int, body_json: Any) -> dict[str, Any]:
    """Return the upstream xAI payload from a Locus body.

    * ``{"success": true, "data": {...}}`` -> the ``data`` object (a non-object ``data``, such as a
      bare base64 string, is returned as ``{"data": <value>}`` so callers always get a dict);
    * ``{"success": false, ...}`` -> :class:`UpstreamError` with the payment id: xAI failed after the
      payment settled and Locus says it refunds automatically;
    * a body without an envelope -> the body itself (some gateways do not wrap), unless the status is
      an error, in which case :class:`GatewayError` with the extracted xAI message.
    """
    if not isinstance(body_json, dict):
        raise GatewayError(
            f"gateway answered HTTP {status_code} with a {type(body_json).__name__}, not a JSON object",
            status_code=status_code,
            body=body_json,
        )
    if "success" in body_json:
        if body_json.get("success") is True:
            data = body_json.get("data")
            if data is None:
                return {k: v for k, v in body_json.items() if k != "success"}
            return data if isinstance(data, dict) else {"data": data}
        payment_id = body_json.get("paymentId") or body_json.get("payment_id")
        error = extract_xai_error(body_json)
        detail = error.describe() if error else "no error detail"
        raise UpstreamError(
            f"upstream xAI call failed after payment (HTTP {status_code}): {detail}",
            payment_id=str(payment_id) if payment_id is not None else None,
            status_code=status_code,
            body=body_json,
            hint=(
                "Locus reports it refunds the payment automatically"
                + (f"; keep payment id {payment_id} to follow up" if payment_id else "")
                + ". Check the request before retrying: an identical retry is held (PaymentPendingError) until "
                "the chain shows how this payment ended, then pays again"
            ),
        )
    if status_code >= 400:
        error = extract_xai_error(body_json)
        raise GatewayError(
            f"gateway answered HTTP {status_code}: {error.describe() if error else 'no error detail'}",
            status_code=status_code,
            body=body_json,
        )
    return body_json
