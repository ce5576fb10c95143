"""Agent end-to-end tests: real framework loops against the scripted local gateway, exact payment counts.

They use the package's own pytest plugin (``grok_mpp.pytest_plugin``): ``grok_script`` says what the
"model" answers, ``grok_env`` points the adapters at the gateway, ``grok_spend`` counts what was paid
at the gateway and in the ledger. Loopback only (pytest-socket).
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.allow_hosts(["127.0.0.1"]))
