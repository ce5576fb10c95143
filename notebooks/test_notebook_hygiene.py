"""Checks on the notebooks as files (nbmake executes them; these tests keep them safe to commit).

Why: outputs committed to git leak paths, addresses and stale numbers and make diffs unreadable; a
live-only cell without the ``skip-execution`` tag would make CI try to pay the real service; a
notebook that forgets to point ``GROK_MPP_LEDGER`` at a temporary file would read and grow the
developer's real ledger.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from conftest import REPO_ROOT, isolate_environment

NOTEBOOK_DIR = Path(__file__).resolve().parent
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = {
    "01_langchain_quickstart.ipynb",
    "02_llamaindex_quickstart.ipynb",
    "03_code_execution.ipynb",
    "04_cost_and_budget.ipynb",
}
LIVE_MARKER = "# live only"
SKIP_TAG = "skip-execution"


def _code_cells(path: Path) -> list[nbformat.NotebookNode]:
    return [c for c in nbformat.read(str(path), as_version=4).cells if c.cell_type == "code"]


def test_the_four_quickstart_notebooks_exist() -> None:
    assert {p.name for p in NOTEBOOKS} >= EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_valid_and_outputs_stripped(path: Path) -> None:
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: cell {cell.get('id')} has outputs"
            assert cell.execution_count is None, f"{path.name}: cell {cell.get('id')} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_live_cells_are_tagged_and_only_they_are_skipped(path: Path) -> None:
    cells = _code_cells(path)
    live = [c for c in cells if c.source.lstrip().startswith(LIVE_MARKER)]
    skipped = [c for c in cells if SKIP_TAG in c.metadata.get("tags", [])]
    assert live, f"{path.name} has no live-only cell"
    assert [c.id for c in live] == [c.id for c in skipped]
    for cell in live:  # also harmless when run by hand against the local gateway
        assert "if not LIVE:" in cell.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_isolates_ledger_and_defaults_to_local_gateway(path: Path) -> None:
    setup = _code_cells(path)[0].source
    assert 'os.environ["GROK_MPP_LEDGER"] = ' in setup
    assert 'if not os.environ.get("GROK_MPP_LEDGER")' in setup
    assert "LocalGateway()" in setup
    assert "new_funded_wallet(" in setup


def test_isolate_environment_removes_grok_settings_and_puts_checkout_first() -> None:
    environ = {
        "GROK_MPP_PRIVATE_KEY": "0x" + "11" * 32,
        "GROK_MPP_BASE_URL": "https://grok.mpp.paywithlocus.com",
        "GROK_MPP_LEDGER": "/home/someone/.local/share/grok-mpp/ledger.sqlite3",
        "TEMPO_RPC_URL": "https://rpc.tempo.xyz",
        "PYTHONPATH": os.pathsep.join(["/elsewhere", str(REPO_ROOT)]),
        "HOME": "/home/someone",
    }
    isolate_environment(environ)
    assert not [name for name in environ if name.startswith("GROK_MPP_") or name == "TEMPO_RPC_URL"]
    assert environ["PYTHONPATH"].split(os.pathsep) == [str(REPO_ROOT), "/elsewhere"]
    assert environ["HOME"] == "/home/someone"
    assert environ["MPLBACKEND"] == "Agg"
