"""``bench/device_training.sh``, the prepared command for a lent GPU, run here on the CPU with tiny settings: its
GPU tests pass against the CPU itself, θ trains, and what the device tool would bring back is in OUT."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[2] / "bench" / "device_training.sh"
TINY = ("--start-candidates 2 --start-faces 4 --start-refine 1 --gate-faces 4 --gate-budgets 2 --validation-faces 4 "
        "--precondition-draws 2 --inner-steps 3")


def test_the_prepared_gpu_command_runs_on_a_cpu_and_leaves_what_the_tool_returns(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "OUT": str(out), "DEVICE": "cpu", "ITERATIONS": "1", "BATCH": "4", "MINUTES": "5",
           "PYTHON": sys.executable, "EXTRA": TINY, "LANDSCAPE_STUDIO_DATA": str(tmp_path / "data")}
    run = subprocess.run(["bash", str(SCRIPT)], cwd=SCRIPT.parents[1], env=env, capture_output=True, text=True,
                         timeout=900, check=False)
    assert run.returncode == 0, (run.stdout, (out / "tests.log").read_text()[-2000:] if out.exists() else "")
    assert "tests: exit 0; training: exit 0" in (out / "device.txt").read_text()
    assert "3 passed" in (out / "tests.log").read_text()
    meta = json.loads((out / "theta" / "theta.json").read_text())
    assert meta["iterations"] == 1 and meta["train"]["batch"] == 4 and meta["gate"]["n_faces"] == {"2": 4}
    returned = [p for p in out.rglob("*") if p.is_file() and len(p.relative_to(out).parts) <= 3]
    assert len(returned) <= 8  # the device tool brings back at most 8 files, 2 folders down
