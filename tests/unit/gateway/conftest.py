"""Shared fixtures for the gateway unit tests: recorded/derived xAI and Locus bodies."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


@pytest.fixture
def locus_chat_sample() -> dict[str, Any]:
    """The real Locus body observed 2026-06-19 (grok-api.md §1.7): grok-3-mini served as grok-4.3."""
    return copy.deepcopy(load_fixture("locus_chat_grok3mini.json"))


@pytest.fixture
def responses_sample() -> dict[str, Any]:
    """A Responses-API body with web/x/code server tool items, shaped like the vercel/ai xAI fixtures."""
    return copy.deepcopy(load_fixture("responses_search_code.json"))
