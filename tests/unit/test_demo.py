"""The README's demo command runs end to end on a fresh environment and really pays twice."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_pays_through_both_frameworks(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GROK_MPP_") and k != "TEMPO_RPC_URL"}
    env.update({"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)})
    proc = subprocess.run(
        [sys.executable, "-m", "grok_mpp.demo"], env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "LangChain  : [synthetic] 12*7 = 84" in out
    assert "LlamaIndex : [synthetic]" in out and "402" in out.split("LlamaIndex :")[1]
    settled = re.findall(r"^/grok/chat\s+\S+\s+settled\s+(\d+\.\d{6})\s+0x", out, re.M)
    assert len(settled) == 2
    total = re.search(r"total paid: (\d+\.\d{6}) USD over 2 payments", out)
    assert total is not None
    assert sum(int(s.replace(".", "")) for s in settled) == int(total.group(1).replace(".", ""))
    assert not (tmp_path / "data" / "grok-mpp").exists()  # the demo used its own temp ledger
