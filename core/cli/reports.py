"""report.json of the headless commands' result folders (written last, atomically, into the staging folder)."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

import torch

from core import __version__
from core.imageio import atomic_write_bytes
from core.json_text import strict_dumps

SCHEMA_VERSION = 1


def write_report(out: Path, report: dict[str, Any], files: list[Path]) -> None:
    """report.json listing ``files`` and the versions that made them (written last: a folder with a report is a
    complete run)."""
    report["outputs"] = [*sorted(p.name for p in files), "report.json"]
    report["versions"] = {"landscape_studio": __version__, "torch": torch.__version__,
                          "python": platform.python_version()}
    atomic_write_bytes(out / "report.json", (strict_dumps(report) + "\n").encode())
