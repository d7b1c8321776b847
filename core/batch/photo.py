"""One photo of a batch: invert (or restore), edit and encode it with a warm model, and hand back its manifest row
and its files' bytes. Nothing here writes into the batch's folder: the driver (this process, or the Ray driver)
alone does, so the manifest and the files stay consistent however workers come and go."""

from __future__ import annotations

import dataclasses
import io
import os
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.batch.inputs import BatchPhoto
from core.batch.recipe import Recipe
from core.device import from_uint8_hwc
from core.directions import Direction, find_direction
from core.directions.recipes import standard_libraries
from core.errors import CoreError, NoFaceFoundError
from core.generators import Generator, load_generator
from core.generators.tuning import tuned_copy
from core.imageio import Photo, encode_image, load_photo
from core.jobs import run_job
from core.metrics import psnr
from core.photo_jobs.edit import edit_photo
from core.photo_jobs.invert import PhotoInversion, invert_photo
from core.photo_jobs.invert_group import groupable, invert_photos
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


@dataclass(frozen=True)
class PhotoOutcome:
    """A photo's manifest row and the files it made (name → bytes; none when it failed)."""

    row: dict[str, Any]
    files: dict[str, bytes]


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


def process_photo(model: WarmModel, photo: BatchPhoto, name: str, *, data: bytes | None = None) -> PhotoOutcome:
    """The photo's outcome (never raises for the photo's own faults: they are the row's error). ``data``: the
    photo's bytes when this process cannot see the driver's files (a Ray worker on another machine)."""
    began = time.perf_counter()
    row: dict[str, Any] = {"index": photo.index, "photo": str(photo.path), "sha256": photo.sha256}
    files: dict[str, bytes] = {}
    try:
        loaded = _load(photo, data)
        fields, files = _process(model, loaded, name)
        row |= fields
        row["status"] = "done"
    except CoreError as exc:
        row |= {"status": "failed", "error": str(exc)}
    except (OSError, ValueError, RuntimeError) as exc:  # a photo that trips a reader: still this photo's fault
        row |= {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
    row["seconds"] = round(time.perf_counter() - began, 2)
    row["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return PhotoOutcome(row, files)


def _load(photo: BatchPhoto, data: bytes | None) -> Photo:
    if data is None:
        return load_photo(photo.path)
    with tempfile.TemporaryDirectory(prefix="landscape-batch-") as folder:
        copy = Path(folder) / photo.path.name  # the same name, so messages name the user's photo
        copy.write_bytes(data)
        return dataclasses.replace(load_photo(copy), source=photo.path)


def _process(model: WarmModel, loaded: Photo, name: str) -> tuple[dict[str, Any], dict[str, bytes]]:
    placement, warnings = _placed(model, loaded)
    config = model.recipe.config()
    done: PhotoInversion | PhotoRestoration
    if model.recipe.restore:
        done = run_job(restore_photo(model.G, loaded, placement=placement, config=config,
                                     feather=model.recipe.feather, composite=model.recipe.composite))
    else:
        done = run_job(invert_photo(model.G, loaded, placement=placement, config=config,
                                    feather=model.recipe.feather, composite=model.recipe.composite))
    return _finish(model, loaded, placement, done, name, warnings)


def _placed(model: WarmModel, loaded: Photo) -> tuple[Placement, list[str]]:
    """The recipe's square of the photo (the aligned face, or the default square when none is found)."""
    warnings = list(loaded.notes)
    placement = Placement.default_for(loaded)
    if model.recipe.align:
        try:
            placement = placement_for(loaded, model.G, align=True, face=model.recipe.face)
        except NoFaceFoundError as exc:
            warnings.append(f"{exc} The default square was used.")
    return placement, warnings


def _finish(model: WarmModel, loaded: Photo, placement: Placement, done: PhotoInversion | PhotoRestoration,
            name: str, warnings: list[str]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The recipe's edits on the inversion, and the export and latent encoded."""
    recipe, G, result = model.recipe, model.G, done.result
    warnings = warnings + list(result.warnings)
    pixels = done.photo
    if model.edits:
        tuned = G if result.tuning is None else tuned_copy(G, result.tuning)
        reference = getattr(done, "reference", None)  # a restoration's square as degraded ("detail")
        edited = run_job(edit_photo(tuned, loaded, placement=placement, latent=result.best_latent,
                                    edits=model.edits, space=result.space, feather=recipe.feather,
                                    composite=recipe.composite, reference=reference))
        pixels = edited.photo
    latent_name = f"{Path(name).stem}.latent.npy"
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(result.best_latent, dtype=np.float32), allow_pickle=False)
    files = {name: encode_image(pixels, name, exif=loaded.exif, quality=recipe.export.quality),
             latent_name: buffer.getvalue()}
    fit = psnr(from_uint8_hwc(result.best_image), from_uint8_hwc(done.target))
    fields = {"output": name, "latent": latent_name, "space": result.space, "model_id": result.model_id,
              "method": result.config.method, "psnr": round(float(fit[0]), 3), "warnings": warnings,
              "tuned": result.tuning is not None}
    return fields, files


def groups_of(model: WarmModel, photos: list[BatchPhoto], size: int) -> list[list[BatchPhoto]]:
    """The photos in groups of ``size`` when the recipe's inversion can share a batch, else one by one."""
    size = size if size > 1 and not model.recipe.restore and groupable(model.recipe.config()) else 1
    return [photos[i:i + size] for i in range(0, len(photos), size)]


def process_group(model: WarmModel, photos: list[BatchPhoto], names: dict[str, str]) -> list[PhotoOutcome]:
    """The photos' outcomes, inverted together (:mod:`core.photo_jobs.invert_group`); a photo that cannot be read
    fails alone, and if the group's inversion itself fails each photo is tried on its own."""
    if len(photos) == 1:
        return [process_photo(model, photos[0], names[photos[0].sha256])]
    began = time.perf_counter()
    outcomes: dict[int, PhotoOutcome] = {}
    ready: list[tuple[BatchPhoto, Photo, Placement, list[str]]] = []
    for photo in photos:
        try:
            loaded = load_photo(photo.path)
            ready.append((photo, loaded, *_placed(model, loaded)))
        except (CoreError, OSError, ValueError):
            outcomes[photo.index] = process_photo(model, photo, names[photo.sha256])  # its own error, in its row
    if not ready:
        return [outcomes[p.index] for p in photos]
    try:
        done = run_job(invert_photos(model.G, [(loaded, placement) for _p, loaded, placement, _w in ready],
                                     config=model.recipe.config(), feather=model.recipe.feather,
                                     composite=model.recipe.composite))
    except (CoreError, RuntimeError):
        return [outcomes.get(p.index) or process_photo(model, p, names[p.sha256]) for p in photos]
    shared = (time.perf_counter() - began) / len(ready)
    for (photo, loaded, placement, warnings), inversion in zip(ready, done, strict=True):
        outcomes[photo.index] = _finished_row(model, photo, loaded, placement, inversion, names[photo.sha256],
                                              warnings, shared=shared, group=len(ready))
    return [outcomes[p.index] for p in photos]


def _finished_row(model: WarmModel, photo: BatchPhoto, loaded: Photo, placement: Placement,
                  inversion: PhotoInversion, name: str, warnings: list[str], *, shared: float,
                  group: int) -> PhotoOutcome:
    began = time.perf_counter()
    row: dict[str, Any] = {"index": photo.index, "photo": str(photo.path), "sha256": photo.sha256}
    try:
        fields, files = _finish(model, loaded, placement, inversion, name, warnings)
        row |= fields | {"status": "done", "group": group}
    except CoreError as exc:
        row, files = row | {"status": "failed", "error": str(exc)}, {}
    row["seconds"] = round(shared + time.perf_counter() - began, 2)
    row["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return PhotoOutcome(row, files)
