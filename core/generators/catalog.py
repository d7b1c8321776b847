"""The models a user can choose from — the embedded DCGAN and the user-installed FFHQ model — with what a choice
needs to know: resolution, licence, whether it is ready, and how fast it is *on this machine*.

Speed is measured here, not quoted: :func:`measure_speed` times one inversion step at the model's working
resolution and keeps the figure in the user's data folder, so the picker and ``landscape-studio models`` show
what this computer does (a figure that has not been measured yet says so).
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from core.atomic_files import atomic_write_bytes
from core.errors import CoreError
from core.generators.ffhq_install import FFHQ_MODEL, LICENCE, PIP_COMMAND, check_data, find_data
from core.generators.registry import DEFAULT_MODEL, load_generator
from core.resources import user_data_dir

DCGAN_LICENCE = ("Embedded DCGAN on DigiFace-1M's synthetic faces, from the gan-face-generate 1.1.1 wheel: MIT "
                 "(resources/models/dcgan_digiface/provenance.json).")


@dataclass(frozen=True)
class ModelEntry:
    """One choice in the model picker."""

    key: str  # what ``--model`` and the picker pass to ``load_generator``
    title: str
    resolution: int  # the side of exported results, in pixels
    working_resolution: int  # the side inversion and previews run at
    licence: str
    commercial_use: bool
    ready: bool  # installed and intact
    status: str  # "ready", or what is wrong and how to fix it
    step_ms: float | None  # one inversion step here (median), None until measured

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def speed_file() -> Path:
    return user_data_dir() / "models" / "speed.json"


def measured_speeds() -> dict[str, float]:
    """Model key → step milliseconds measured on this machine (a damaged file counts as no measurements)."""
    try:
        data = json.loads(speed_file().read_text(encoding="utf-8"))
        return {str(k): float(v) for k, v in data.items() if isinstance(v, int | float)}
    except (OSError, ValueError, AttributeError):
        return {}


def _ffhq_status() -> tuple[bool, str]:
    folder = find_data()
    if folder is None:
        return False, (f"not installed: `{PIP_COMMAND}` in the product's environment (make run does), or File → "
                       "Choose Model… → Install FFHQ from Wheel…")
    try:
        check_data(folder)
    except CoreError as exc:
        return False, str(exc)
    return True, "ready"


def model_catalog() -> list[ModelEntry]:
    """Every model the picker offers, in its order: the embedded one first (always ready)."""
    speeds = measured_speeds()
    ffhq_ready, ffhq_status = _ffhq_status()
    return [
        ModelEntry(DEFAULT_MODEL, "Embedded faces (DCGAN, 64 px)", 64, 64, DCGAN_LICENCE, True, True, "ready",
                   speeds.get(DEFAULT_MODEL)),
        ModelEntry(FFHQ_MODEL, "Photoreal faces (FFHQ MobileStyleGAN, 1024 px)", 1024, 256, LICENCE, False,
                   ffhq_ready, ffhq_status, speeds.get(FFHQ_MODEL)),
    ]


def measure_speed(key: str, *, repeats: int = 3, device: torch.device | str = "cpu") -> float:
    """Median milliseconds of one inversion step (forward at the working resolution, pixel loss, backward) of
    model ``key`` here, after a warm-up step; kept in :func:`speed_file` for the picker."""
    G = load_generator(key, device)
    w = G.mean_latent().clone().requires_grad_(True)
    target = torch.zeros(1, 3, G.resolution, G.resolution, device=G.device)
    times = []
    for i in range(repeats + 1):
        began = time.perf_counter()
        loss = (G.synthesize(w) - target).square().mean()
        loss.backward()
        if i:
            times.append((time.perf_counter() - began) * 1000)
    milliseconds = round(statistics.median(times), 1)
    speeds = measured_speeds() | {key: milliseconds}
    speed_file().parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(speed_file(), json.dumps(speeds, indent=2, sort_keys=True).encode())
    return milliseconds
