"""Running a recipe over many photos on this machine: one warm model, one photo after another, every outcome a
manifest row. A bad photo becomes a "failed" row and the rest go on; a photo already done with this recipe (same
bytes, same recipe hash, its files still there) is skipped; ``stop()`` is asked between photos, so stopping
never leaves a half-made result.

The per-photo work (:func:`process_photo`) is also what a Ray worker runs (the driver alone writes the folder).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from collections.abc import Generator as JobGenerator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from core.atomic_files import atomic_write_bytes
from core.batch.folder import BatchFolder
from core.batch.inputs import BatchPhoto, Inputs, collect
from core.batch.recipe import Recipe
from core.device import from_uint8_hwc
from core.directions import Direction, find_direction
from core.directions.recipes import standard_libraries
from core.errors import CoreError, NoFaceFoundError
from core.generators import Generator, load_generator
from core.generators.tuning import tuned_copy
from core.imageio import load_photo, save_image
from core.jobs import CancelToken, run_job
from core.metrics import psnr
from core.photo_jobs.edit import edit_photo
from core.photo_jobs.invert import PhotoInversion, invert_photo
from core.photo_jobs.placing import placement_for
from core.photo_jobs.restore import PhotoRestoration, restore_photo
from core.placement import Placement


@dataclass
class WarmModel:
    """The recipe's model and edit directions, loaded once per process (the CLI's, or a Ray worker's)."""

    recipe: Recipe
    G: Generator
    edits: list[tuple[Direction, float]]

    @classmethod
    def load(cls, recipe: Recipe, device: torch.device | str = "cpu") -> WarmModel:
        G = load_generator(recipe.model, device)
        libraries = standard_libraries(G)
        return cls(recipe, G, [(find_direction(name, G, libraries), float(amount))
                               for name, amount in recipe.edits.items()])


@dataclass
class BatchReport:
    rows: list[dict[str, Any]] = field(default_factory=list)  # this run's rows (done and failed)
    skipped: int = 0  # already done by an earlier run
    stopped: bool = False  # stop() ended it early
    inputs: Inputs | None = None


def output_names(recipe: Recipe, photos: list[BatchPhoto]) -> dict[str, str]:
    """Photo sha256 → its output file name; two photos with the same stem get their index appended."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for photo in photos:
        name = recipe.output_name(photo.path.stem, photo.index)
        if name.lower() in used:
            suffix = recipe.export.suffix
            name = f"{name[: -len(suffix)]}_{photo.index}{suffix}"
        used.add(name.lower())
        names[photo.sha256] = name
    return names


def process_photo(model: WarmModel, photo: BatchPhoto, out: Path, name: str) -> dict[str, Any]:
    """Invert (or restore), edit and export one photo into ``out``; the manifest row (never raises for the
    photo's own faults: they are the row's error)."""
    began = time.perf_counter()
    row: dict[str, Any] = {"index": photo.index, "photo": str(photo.path), "sha256": photo.sha256}
    try:
        row |= _process(model, photo, out, name)
        row["status"] = "done"
    except CoreError as exc:
        row |= {"status": "failed", "error": str(exc)}
    except (OSError, ValueError, RuntimeError) as exc:  # a photo that trips a reader: still this photo's fault
        row |= {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
    row["seconds"] = round(time.perf_counter() - began, 2)
    return row


def _process(model: WarmModel, photo: BatchPhoto, out: Path, name: str) -> dict[str, Any]:
    recipe, G = model.recipe, model.G
    loaded = load_photo(photo.path)
    warnings = list(loaded.notes)
    placement = Placement.default_for(loaded)
    if recipe.align:
        try:
            placement = placement_for(loaded, G, align=True, face=recipe.face)
        except NoFaceFoundError as exc:
            warnings.append(f"{exc} The default square was used.")
    config = recipe.config()
    done: PhotoInversion | PhotoRestoration
    if recipe.restore:
        done = run_job(restore_photo(G, loaded, placement=placement, config=config, feather=recipe.feather,
                                     composite=recipe.composite))
    else:
        done = run_job(invert_photo(G, loaded, placement=placement, config=config, feather=recipe.feather,
                                    composite=recipe.composite))
    result = done.result
    warnings += list(result.warnings)
    pixels = done.photo
    if model.edits:
        tuned = G if result.tuning is None else tuned_copy(G, result.tuning)
        reference = getattr(done, "reference", None)  # a restoration's square as degraded ("detail")
        edited = run_job(edit_photo(tuned, loaded, placement=placement, latent=result.best_latent,
                                    edits=model.edits, space=result.space, feather=recipe.feather,
                                    composite=recipe.composite, reference=reference))
        pixels = edited.photo
    save_image(pixels, out / name, exif=loaded.exif, quality=recipe.export.quality)
    latent_name = f"{Path(name).stem}.latent.npy"
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(result.best_latent, dtype=np.float32), allow_pickle=False)
    atomic_write_bytes(out / latent_name, buffer.getvalue())
    fit = psnr(from_uint8_hwc(result.best_image), from_uint8_hwc(done.target))
    return {"output": name, "latent": latent_name, "space": result.space, "model_id": result.model_id,
            "method": config.method, "psnr": round(float(fit[0]), 3), "warnings": warnings,
            "tuned": result.tuning is not None}


@dataclass(frozen=True)
class BatchProgress:
    """What a batch job yields after each photo: its manifest row, how far the batch is, and small previews
    (uint8 [h, w, 3], ≤ ``THUMB`` px) of the photo before and after for a live list."""

    row: dict[str, Any]
    finished: int
    to_do: int
    before: np.ndarray | None = None
    after: np.ndarray | None = None


THUMB = 96


def _thumb(path: Path) -> np.ndarray | None:
    try:
        with Image.open(path) as opened:
            opened.draft("RGB", (THUMB, THUMB))
            small = opened.convert("RGB")
        small.thumbnail((THUMB, THUMB))
        return np.asarray(small).copy()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def batch_job(entries: list[str], recipe: Recipe, out: Path, *, device: torch.device | str = "cpu",
              overwrite: bool = False, cancel: CancelToken | None = None, model: WarmModel | None = None,
              thumbnails: bool = False) -> JobGenerator[BatchProgress, None, BatchReport]:
    """The whole batch on this machine as a job (see the module doc): yields after each photo, checks ``cancel``
    between photos (never inside one), returns the report."""
    inputs = collect(entries, out)
    folder = BatchFolder(out, recipe, overwrite=overwrite)
    report = BatchReport(inputs=inputs)
    for path, reason in inputs.unreadable:
        row = {"index": -1, "photo": str(path), "sha256": "", "status": "failed", "error": reason}
        folder.append(row)
        report.rows.append(row)
    finished = folder.finished()
    to_do = [p for p in inputs.photos if p.sha256 not in finished]
    report.skipped = len(inputs.photos) - len(to_do)
    names = output_names(recipe, inputs.photos)
    model = model or WarmModel.load(recipe, device)
    for count, photo in enumerate(to_do, 1):
        if cancel is not None and cancel.cancelled:
            report.stopped = True
            break
        row = process_photo(model, photo, folder.out, names[photo.sha256])
        folder.append(row)
        report.rows.append(row)
        done = row["status"] == "done"
        yield BatchProgress(row, count, len(to_do), _thumb(photo.path) if thumbnails and done else None,
                            _thumb(folder.out / str(row["output"])) if thumbnails and done else None)
    folder.write_summary()
    return report


def run_batch(entries: list[str], recipe: Recipe, out: Path, *, device: torch.device | str = "cpu",
              overwrite: bool = False, stop: Callable[[], bool] = lambda: False,
              on_row: Callable[[dict[str, Any], int, int], None] = lambda _row, _i, _n: None,
              model: WarmModel | None = None) -> BatchReport:
    """:func:`batch_job` driven here; ``stop()`` is asked between photos, ``on_row(row, finished, to_do)``
    told after each."""
    token = _StopToken(stop)
    return run_job(batch_job(entries, recipe, out, device=device, overwrite=overwrite, cancel=token, model=model),
                   lambda p: on_row(p.row, p.finished, p.to_do))


class _StopToken(CancelToken):
    """A token whose flag is also raised by a callable (the CLI's first Ctrl-C)."""

    def __init__(self, stop: Callable[[], bool]) -> None:
        super().__init__()
        self._stop = stop

    @property
    def cancelled(self) -> bool:
        return self._stop() or super().cancelled
