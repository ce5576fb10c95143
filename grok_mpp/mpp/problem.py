"""RFC 9457 problem details as MPP servers send them with 402/403 answers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

PROBLEM_BASE = "https://paymentauth.org/problems/"


@dataclass(frozen=True, slots=True)
class Problem:
    type: str
    title: str | None = None
    status: int | None = None
    detail: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str:
        """Short problem code: 'verification-failed' for '.../problems/verification-failed'."""
        return self.type.rsplit("/", 1)[-1] if self.type else ""

    def describe(self) -> str:
        parts = [p for p in (self.title, self.detail) if p]
        return ": ".join(parts) if parts else self.code or "no detail"


def parse_problem(body: bytes | str | None, content_type: str | None = None) -> Problem | None:
    """Parse a problem+json (or plain JSON with a ``type``) body; None if it is not one.

    Never raises: a server's error body is advisory and a malformed one must not mask the status.
    """
    if not body:
        return None
    try:
        data = json.loads(body if isinstance(body, str) else body.decode("utf-8", "replace"))
    except (json.JSONDecodeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    if "type" not in data and "problem" not in (content_type or ""):
        return None
    known = {"type", "title", "status", "detail"}
    status = data.get("status")
    return Problem(
        type=str(data.get("type") or "about:blank"),
        title=data.get("title") if isinstance(data.get("title"), str) else None,
        status=status if isinstance(status, int) and not isinstance(status, bool) else None,
        detail=data.get("detail") if isinstance(data.get("detail"), str) else None,
        extra={k: v for k, v in data.items() if k not in known},
    )
