"""Every Python block in README.md runs as written against the local gateway (paying test money)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_readme_has_examples() -> None:
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index: int, gateway_env: Any, funded_wallet: Any, capsys: pytest.CaptureFixture[str]) -> None:
    before = gateway_env.balance(funded_wallet.address)
    exec(compile(BLOCKS[index], f"README.md block {index}", "exec"), {"__name__": "readme"})  # noqa: S102
    assert capsys.readouterr().out.strip()
    assert gateway_env.balance(funded_wallet.address) < before  # it really paid
    try:
        from llama_index.core import Settings

        Settings._llm = None
        Settings._embed_model = None
    except ImportError:  # pragma: no cover
        pass
