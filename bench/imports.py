"""4. Import time: each adapter vs the framework modules it imports itself, and vs langchain-xai.

Like with like: a user writes ``from llama_index_grok_mpp import GrokMPP``; what that costs ON TOP
of LlamaIndex is measured against a fresh interpreter that imports exactly the ``llama_index.*``
modules that statement leaves in ``sys.modules`` (found by a probe interpreter), not against some
other llama-index entry point. The same for LangChain (``langchain_core``/``langsmith`` modules).
Every figure is the median over fresh interpreters run round-robin, as CPU time of the import
(``time.process_time``, robust to other load on the box) and wall time (``time.perf_counter``).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from common import CACHE, REPO, Row, ms

XAI_VENV = Path(os.environ.get("GROK_MPP_BENCH_XAI_VENV", CACHE / "xai-venv"))
NAME = "4. import time (`from <adapter> import <model>`)"
ADAPTERS = {
    "langchain": ("from langchain_grok_mpp import ChatGrokMPP", ("langchain_core", "langsmith", "langchain_protocol")),
    "llama-index": ("from llama_index_grok_mpp import GrokMPP", ("llama_index",)),
}
XAI = "from langchain_xai import ChatXAI"

_TIMED = """
import time
c, t = time.process_time(), time.perf_counter()
{statement}
print(time.process_time() - c, time.perf_counter() - t)
"""
_PROBE = """
import json, sys
{statement}
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {prefixes!r})))
"""
_FLOOR = """
import importlib
for name in {modules!r}:
    try:
        importlib.import_module(name)
    except Exception:
        pass
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def _framework_floor(statement: str, prefixes: tuple[str, ...]) -> str:
    """Python code importing every framework module ``statement`` imports (and nothing of ours)."""
    out = subprocess.run([sys.executable, "-c", _PROBE.format(statement=statement, prefixes=set(prefixes))],
                         capture_output=True, text=True, check=True, cwd=REPO, env=_env())
    modules = json.loads(out.stdout.strip().splitlines()[-1])
    return _FLOOR.format(modules=modules)


def _time(python: Path, code: str) -> tuple[float, float] | None:
    out = subprocess.run([str(python), "-c", _TIMED.format(statement=code)], capture_output=True, text=True,
                         cwd=REPO, env=_env())
    if out.returncode != 0:
        return None
    cpu, wall = out.stdout.strip().splitlines()[-1].split()
    return float(cpu), float(wall)


def _ensure_xai_venv(allow_install: bool) -> Path | None:
    python = XAI_VENV / "bin" / "python"
    if python.exists():
        return python
    if not allow_install:
        return None
    subprocess.run([sys.executable, "-m", "venv", str(XAI_VENV)], check=True)
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "langchain-xai"],
                          capture_output=True)
    return python if done.returncode == 0 else None


def bench_imports(allow_install: bool, runs: int = 7) -> Row:
    ours = Path(sys.executable)
    jobs: dict[str, tuple[Path, str]] = {}
    for framework, (statement, prefixes) in ADAPTERS.items():
        jobs[framework] = (ours, statement)
        jobs[f"{framework} floor"] = (ours, _framework_floor(statement, prefixes))
    jobs["grok_mpp"] = (ours, "import grok_mpp.gateway.client")
    xai_python = _ensure_xai_venv(allow_install)
    if xai_python:
        jobs["langchain_xai"] = (xai_python, XAI)
    samples: dict[str, list[tuple[float, float]]] = {k: [] for k in jobs}
    for _ in range(runs):  # round-robin, so drift in machine load hits every candidate alike
        for key, (python, code) in jobs.items():
            timed = _time(python, code)
            if timed is not None:
                samples[key].append(timed)
    cpu = {k: statistics.median(s[0] for s in v) for k, v in samples.items() if v}
    wall = {k: statistics.median(s[1] for s in v) for k, v in samples.items() if v}
    detail = []
    for framework, (statement, prefixes) in ADAPTERS.items():
        floor = f"{framework} floor"
        if framework not in cpu or floor not in cpu:
            detail.append(f"`{statement}` failed to import")
            continue
        detail.append(
            f"`{statement}`: CPU {ms(cpu[framework])} (wall {ms(wall[framework])}); the same "
            f"{'/'.join(prefixes)} modules alone: CPU {ms(cpu[floor])} (wall {ms(wall[floor])}); grok-mpp adds "
            f"{ms(cpu[framework] - cpu[floor])} CPU = {cpu[framework] / cpu[floor]:.2f}x its framework's own import"
        )
    detail.append(f"`import grok_mpp.gateway.client` (the whole HTTP + payment stack, imported when a model is "
                  f"built or first called, not by the adapters' import): CPU {ms(cpu['grok_mpp'])}")
    if "langchain_xai" in cpu:
        detail.append(f"`{XAI}` (own venv, same langchain-core): CPU {ms(cpu['langchain_xai'])} "
                      f"(wall {ms(wall['langchain_xai'])})")
    else:
        detail.append(f"langchain_xai: no venv at {XAI_VENV} (run without --quick to create it)")
    detail.append(f"medians of {runs} fresh interpreters each, run round-robin")
    xai = cpu.get("langchain_xai")
    lc, li = cpu.get("langchain"), cpu.get("llama-index")
    if xai is None or lc is None or li is None:
        return Row(NAME, "incomplete", "<= langchain_xai", "n/a", detail)
    result = (f"CPU: langchain_grok_mpp {ms(lc)}, llama_index_grok_mpp {ms(li)}, langchain_xai {ms(xai)}; "
              f"over their own framework modules: +{ms(lc - cpu['langchain floor'])} / "
              f"+{ms(li - cpu['llama-index floor'])}")
    if lc <= xai and li <= xai:
        verdict = "met"
    elif lc <= xai:
        verdict = "met for LangChain; LlamaIndex over (llama-index-core's own import is most of it)"
    else:
        verdict = "missed"
    return Row(NAME, result, "<= langchain_xai", verdict, detail)
