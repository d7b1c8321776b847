"""Write an inversion's outputs to a folder: images, latents (.npy) and ``report.json``.

The CLI and the GUI's export use this one writer, so a researcher gets the same files either way. Every file is
written atomically; ``report.json`` is versioned (``schema_version``) and holds no pickles.
"""

from __future__ import annotations

import io
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core import __version__
from core.alignment import Framing
from core.device import from_uint8_hwc
from core.errors import ImageSaveError
from core.imageio import atomic_write_bytes, save_image
from core.inversion.optimize import InversionResult
from core.json_text import strict_dumps
from core.metrics import reconstruction_metrics

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class RunContext:
    """Where the target came from and what the run cost, for the report."""

    photo: str | None  # the photo's path (None for a generated target)
    photo_size: tuple[int, int] | None  # (width, height) of the full photo
    crop: dict[str, int] | None  # the crop box used, in photo pixels
    mask: str | None  # the mask file, if any
    masked_fraction: float  # share of target pixels the loss ignored
    device: str
    timings: dict[str, float]  # seconds: load_model, load_photo, invert, …
    alignment: dict[str, Any] | None = None  # Alignment.to_dict() when the target was aligned automatically
    composite: str | None = None  # how the result entered the photo ("detail" | "replace"), when it did


def save_npy(path: Path, array: np.ndarray) -> Path:
    """``np.save`` through an atomic write (never pickles: object arrays are refused)."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return atomic_write_bytes(path, buffer.getvalue())


def build_report(result: InversionResult, target: np.ndarray, context: RunContext,
                 framing: Framing | None = None) -> dict[str, Any]:
    """The ``report.json`` content: metrics of the best start against ``target`` (uint8 [R, R, 3]), and more
    (the identity distance needs the model's ``framing``)."""
    images = from_uint8_hwc(result.images)  # [K, 3, R, R]
    per_start = reconstruction_metrics(images, from_uint8_hwc(target), framing)
    best = result.best_index
    metrics = {k: (None if v is None else v[best]) for k, v in per_start.items()}
    summary = result.summary()
    steps = max(result.steps_done, 1)
    return {
        "schema_version": SCHEMA_VERSION,
        "metrics": metrics,
        "metrics_per_start": per_start,
        "model_id": result.model_id,
        "photo": context.photo, "photo_size": context.photo_size, "crop": context.crop, "mask": context.mask,
        "masked_fraction": round(context.masked_fraction, 6),
        "settings": summary["config"], "space": result.space, "device": context.device,
        "steps_done": result.steps_done, "cancelled": result.cancelled, "best_start": best,
        "start_losses": summary["start_losses"], "uses_lpips": result.uses_lpips, "warnings": result.warnings,
        "timings": {**{k: round(v, 4) for k, v in context.timings.items()},
                    "invert": round(result.seconds, 4), "per_step_ms": round(1000 * result.seconds / steps, 3)},
        "loss_history": summary["history"],
        "versions": {"landscape_studio": __version__, "torch": torch.__version__, "python": platform.python_version()},
        "metrics_note": "against the cropped target at the model's resolution; lpips is null without its weights, "
                        "identity (dlib embedding distance, same person below 0.6) without the model's framing",
        "alignment": context.alignment,
        "composite": context.composite,
    }


def write_outputs(out: Path, result: InversionResult, target: np.ndarray, context: RunContext,
                  extra_images: dict[str, np.ndarray] | None = None, framing: Framing | None = None
                  ) -> dict[str, Any]:
    """Write target.png, reconstruction.png (best start), one PNG per start, latent(s).npy and report.json, plus
    ``extra_images`` (file name → uint8 [H, W, 3], e.g. the result pasted back into the photo)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImageSaveError(f"Cannot create the output folder '{out}' ({exc.strerror}).") from exc
    files = [save_image(target, out / "target.png"), save_image(result.best_image, out / "reconstruction.png")]
    if len(result.images) > 1:
        files += [save_image(img, out / f"reconstruction_start{k:02d}.png") for k, img in enumerate(result.images)]
    files += [save_image(pixels, out / name) for name, pixels in (extra_images or {}).items()]
    files.append(save_npy(out / "latent.npy", result.best_latent))
    files.append(save_npy(out / "latents.npy", result.latents))
    report = build_report(result, target, context, framing)
    report["outputs"] = [*sorted(p.name for p in files), "report.json"]
    atomic_write_bytes(out / "report.json", (strict_dumps(report) + "\n").encode())
    return report
