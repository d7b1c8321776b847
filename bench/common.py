"""What the benchmarks share: the machine description, the JSON report file, sample-photo targets and the
PSNR-after-N-steps measurement of direct inversion."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

import torch

from core import __version__
from core.device import from_uint8_hwc
from core.generators import Generator
from core.imageio import load_photo
from core.inversion import InversionConfig, invert
from core.inversion.config import start_batches
from core.jobs import run_job
from core.metrics import psnr
from core.placement import Placement
from core.resources import sample_photos

RESULTS = Path(__file__).resolve().parent / "results"
BASE = InversionConfig(preview_every=10_000, warmup_steps=0).with_changes(loss_lpips=0.0)  # pixel loss, plain Adam


def machine_info(device: torch.device) -> dict[str, Any]:
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
            "device": str(device), "python": platform.python_version(), "landscape_studio": __version__}


def write_report(report: dict[str, Any], name: str, out: Path | None = None) -> Path:
    """``report`` as indented JSON into ``out`` (default: ``bench/results/NAME.json``)."""
    out = out or RESULTS / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}", file=sys.stderr)
    return out


def budgets_from(args: argparse.Namespace, default: tuple[int, ...]) -> tuple[int, ...]:
    """``--budgets`` as integers, else the benchmark's own ``default``."""
    return tuple(int(b) for b in args.budgets.split(",")) if args.budgets else default


def sample_targets(G: Generator) -> tuple[list[str], torch.Tensor]:
    """The bundled photos cropped to their recorded face boxes: names and [P, 3, R, R]."""
    names, targets = [], []
    for path in sample_photos():
        photo = load_photo(path)
        names.append(path.name)
        targets.append(from_uint8_hwc(Placement.default_for(photo).target(photo.pixels, G.resolution), G.device))
    return names, torch.cat(targets)


def psnr_after(G: Generator, targets: torch.Tensor, config: InversionConfig, steps: int) -> list[float]:
    """PSNR (dB) of each target's result after ``steps`` updates, one start per target, in batches of at most
    ``MAX_STARTS``, each seeded after the targets before it: the scores are those one batch would give."""
    out: list[float] = []
    for first, batch in start_batches(targets):
        changed = config.with_changes(steps=steps, starts=len(batch), seed=config.seed + first)
        result = run_job(invert(G, batch, changed))
        out += [float(v) for v in psnr(from_uint8_hwc(result.images, G.device), batch)]
    return out
