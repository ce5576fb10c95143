"""pytest set-up for the notebooks (``pytest --nbmake notebooks``).

nbmake runs each notebook in a fresh Jupyter kernel that inherits this process's environment, and
``tests/conftest.py`` (with its autouse isolation fixture) is not loaded here. So before any kernel
starts, this module:

* removes every ``GROK_MPP_*`` variable and ``TEMPO_RPC_URL``, so the notebooks always take their
  local-gateway branch under pytest: a developer's real key, gateway or ledger can never be used and
  CI never spends real money (run the notebooks in Jupyter to pay for real);
* puts the repository root first on ``PYTHONPATH``, so the kernels import this checkout's packages
  whether or not it is pip-installed (the kernel's working directory is ``notebooks/``);
* selects matplotlib's headless ``Agg`` backend for any plot a notebook does not configure itself.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def isolate_environment(environ: dict[str, str] | os._Environ[str]) -> None:
    """Strip grok-mpp configuration and make the checkout importable (mutates ``environ``)."""
    for name in list(environ):
        if name.startswith("GROK_MPP_") or name == "TEMPO_RPC_URL":
            del environ[name]
    paths = [p for p in environ.get("PYTHONPATH", "").split(os.pathsep) if p and Path(p).resolve() != REPO_ROOT]
    environ["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), *paths])
    environ.setdefault("MPLBACKEND", "Agg")


def pytest_sessionstart(session: pytest.Session) -> None:
    isolate_environment(os.environ)
