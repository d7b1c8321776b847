"""The allocator settings that keep a large model's freed activations in the process while a job runs, and give
them back when it ends (glibc only). Each check runs in a fresh interpreter: the settings are process-wide."""

from __future__ import annotations

import json
import platform
import subprocess
import sys

import pytest

glibc_only = pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                                reason="mallopt and malloc_trim are glibc's")

CHILD = """
import json, torch
from core.allocator import HEAP_OVERHEAD, heap_overhead, keep_freed_memory, release_freed_memory

def resident_mb():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1]) // 1024

report = {"before": release_freed_memory(), "overhead_before": heap_overhead(),
          "applied": [keep_freed_memory(), keep_freed_memory()], "overhead": heap_overhead() == HEAP_OVERHEAD > 1}
block = torch.ones(600 << 20, dtype=torch.uint8)  # 600 MB: a block glibc would otherwise map and unmap
before_free = resident_mb()
del block
report.update(kept_mb=before_free - resident_mb())
report.update(released=release_freed_memory(), after_mb=before_free - resident_mb())
print(json.dumps(report))
"""


@glibc_only
def test_a_freed_large_block_stays_in_the_process_until_the_job_ends_and_is_then_given_back():
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["before"] is False  # nothing is released where the settings were never applied
    assert report["applied"] == [True, True]
    assert report["overhead_before"] == 1.0 and report["overhead"] is True  # memory plans allow for the heap
    assert report["kept_mb"] < 50  # freed, but the pages stay the process's: the next step need not fault them in
    assert report["released"] is True and report["after_mb"] >= 550  # handed back to the system when the job ends
