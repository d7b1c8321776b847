"""``landscape-studio inpaint`` and ``restore``: diverse inpainting with a mask, and super-resolution/colorization.

Registered by ``core.cli`` (which owns the one-line error handling and exit codes). Both take the crop ``invert``
takes (``--crop``, else a bundled sample's face box, else the largest centred square) and write at the photo's
own resolution as well as the model's. Ctrl-C stops at the next step and still writes what was found.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core import __version__
from core.alignment.align import Alignment, unwarp_and_paste, warp_to_model
from core.alignment.commands import aligned_target
from core.cli_progress import drive_inversion
from core.device import from_uint8_hwc, pick_device
from core.errors import ImageSaveError, InvalidInputError
from core.generators import load_generator
from core.generators.base import Generator
from core.imageio import (
    CropBox,
    Photo,
    atomic_write_bytes,
    crop_and_resize,
    crop_and_resize_mask,
    load_mask,
    load_photo,
    save_image,
)
from core.inpainting.blend import composite, composite_aligned, paste_back
from core.inpainting.diverse import InpaintConfig, InpaintResult, inpaint
from core.inversion import InversionResult, invert
from core.inversion.config import restoration_config
from core.inversion.report import save_npy
from core.metrics import psnr
from core.objectives.operators import OPERATOR_NAMES, parse_operator
from core.resources import sample_face_crop

SCHEMA_VERSION = 1
EXIT_INTERRUPTED = 130


def add_inpainting_parsers(sub: argparse._SubParsersAction, add_model_args: Callable[[argparse.ArgumentParser], None],
                           crop_arg: Callable[[str], CropBox]) -> None:
    """Register ``inpaint`` and ``restore`` (the CLI passes its model arguments and crop parser)."""
    d = InpaintConfig()
    p = sub.add_parser("inpaint", help="fill a masked region with several candidates, ranked by fit")
    p.add_argument("photo", type=Path)
    p.add_argument("--mask", type=Path, required=True, help="PNG the size of the photo; non-zero = region to fill")
    p.add_argument("--candidates", type=int, default=d.candidates, help="K starts in one batch (≤ 16 on the CPU)")
    p.add_argument("--out", type=Path, required=True, help="folder for candidates, raw images and report.json")
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument("--crop", type=crop_arg, help="X,Y,SIZE square in photo pixels (default: as invert)")
    p.add_argument("--seed", type=int, default=d.seed, help="candidate k starts from seed + k")
    p.add_argument("--align", action="store_true", help="fill the face aligned to the model's framing (not --crop)")
    p.add_argument("--face", type=int, default=0, help="with --align: which face, 0 = the largest")
    p.add_argument("--prior", type=float, default=d.prior, help="latent prior weight")
    p.add_argument("--lpips", type=float, default=d.lpips, help="LPIPS weight on the known pixels (0 = off)")
    p.add_argument("--feather", type=float, default=0.03, help="ramp inside the mask, fraction of the crop side")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_model_args(p)
    c = restoration_config("grayscale")
    r = sub.add_parser("restore", help="super-resolution or colorization: invert through a degradation")
    r.add_argument("photo", type=Path)
    r.add_argument("--op", required=True, help=f"{' | '.join(OPERATOR_NAMES)}, or several joined by '+'")
    r.add_argument("--out", type=Path, required=True, help="folder for the restored crop, the photo and report.json")
    r.add_argument("--steps", type=int, default=c.steps)
    r.add_argument("--starts", type=int, default=c.starts, help="random starts optimised together (best kept)")
    r.add_argument("--crop", type=crop_arg, help="X,Y,SIZE square in photo pixels (default: as invert)")
    r.add_argument("--seed", type=int, default=c.seed)
    r.add_argument("--prior", type=float, default=c.loss.prior, help="latent prior weight")
    r.add_argument("--lpips", type=float, default=c.loss.lpips, help="LPIPS weight (0 = off)")
    r.add_argument("--feather", type=float, default=0.08, help="seam width when pasting back (fraction of the crop)")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    add_model_args(r)


def _photo_and_crop(args: argparse.Namespace) -> tuple[Photo, CropBox]:
    photo = load_photo(args.photo)
    recorded = sample_face_crop(args.photo)
    box = args.crop or (CropBox.from_dict(recorded) if recorded else CropBox.centered(photo.width, photo.height))
    box.validate(photo.width, photo.height)
    return photo, box


def _prepare_out(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImageSaveError(f"Cannot create the output folder '{out}' ({exc.strerror}).") from exc


def _write_report(out: Path, report: dict[str, Any], files: list[Path]) -> None:
    report["outputs"] = [*sorted(p.name for p in files), "report.json"]
    report["versions"] = {"landscape_studio": __version__, "torch": torch.__version__,
                          "python": platform.python_version()}
    atomic_write_bytes(out / "report.json", (json.dumps(report, indent=2) + "\n").encode())


def _inpaint_target(args: argparse.Namespace, photo: Photo, full_mask: np.ndarray, box: CropBox, G: Generator
                    ) -> tuple[np.ndarray, torch.Tensor, Alignment | None]:
    """The model-resolution target (uint8), its mask (float [R, R], 1 = fill) and the alignment (--align)."""
    if not args.align:
        target = crop_and_resize(photo.pixels, box, G.resolution)
        return target, torch.from_numpy(crop_and_resize_mask(full_mask, box, G.resolution)), None
    target, alignment, _faces = aligned_target(photo.pixels, G, args.face)
    as_image = np.repeat((full_mask * 255).round().astype(np.uint8)[..., None], 3, axis=2)
    small = warp_to_model(as_image, alignment.transform, G.resolution)[..., 0].astype(np.float32) / 255.0
    return target, torch.from_numpy(small), alignment


def _covered(photo: Photo, box: CropBox, alignment: Alignment | None, resolution: int) -> np.ndarray:
    """1 where the model's square covers the photo (float32 [H, W]): masked pixels elsewhere cannot be filled."""
    if alignment is None:
        covered = np.zeros((photo.height, photo.width), np.float32)
        covered[box.y:box.y + box.size, box.x:box.x + box.size] = 1.0
        return covered
    white = np.full((resolution, resolution, 3), 255, np.uint8)
    pasted = unwarp_and_paste(np.zeros((photo.height, photo.width, 3), np.uint8), white, alignment.transform, 0.0)
    return (pasted[..., 0] > 0).astype(np.float32)


def cmd_inpaint(args: argparse.Namespace) -> int:
    config = InpaintConfig(candidates=args.candidates, steps=args.steps, seed=args.seed, prior=args.prior,
                           lpips=args.lpips)
    config.validate(pick_device(args.device))
    began = time.perf_counter()
    if args.align and args.crop is not None:
        raise InvalidInputError("--align finds the face itself; leave out --crop.")
    photo, box = _photo_and_crop(args)
    full_mask = load_mask(args.mask, photo.width, photo.height)  # float32 [H, W], 1 = fill
    loaded = time.perf_counter()
    G = load_generator(args.model, pick_device(args.device))
    model_ready = time.perf_counter()
    target, mask, alignment = _inpaint_target(args, photo, full_mask, box, G)
    if not mask.any():
        where = "the aligned face square" if alignment else f"the crop {box.x},{box.y},{box.size}"
        raise InvalidInputError(f"The mask marks nothing inside {where}; paint the region to fill on the face.")
    covered = _covered(photo, box, alignment, G.resolution)
    outside = int(np.count_nonzero(full_mask * (1 - covered)))
    result: InpaintResult = drive_inversion(
        lambda token: inpaint(G, from_uint8_hwc(target, G.device), mask, config, None, token), config.steps,
        args.quiet, "inpainting")
    _prepare_out(args.out)
    files = [save_image(target, args.out / "target.png"), save_npy(args.out / "latents.npy", result.latents)]
    for rank, candidate in enumerate(result.candidates):
        files.append(save_image(candidate, args.out / f"raw_{rank:02d}.png"))
        filled = (composite(photo.pixels, candidate, full_mask, box, args.feather) if alignment is None else
                  composite_aligned(photo.pixels, candidate, full_mask, alignment.transform,
                                    args.feather * G.resolution / alignment.scale))
        files.append(save_image(filled, args.out / f"candidate_{rank:02d}.png", exif=photo.exif))
    warnings = list(result.warnings)
    if outside:
        warnings.append(f"{outside} masked pixels lie outside the crop and were left as they are; "
                        "choose a crop that covers the whole mask.")
        print(f"warning: {warnings[-1]}", file=sys.stderr)
    summary = result.summary()
    summary["warnings"] = warnings
    summary["timings"].update(load_photo=round(loaded - began, 4), load_model=round(model_ready - loaded, 4))
    report = {"schema_version": SCHEMA_VERSION, "command": "inpaint", "model_id": G.model_id,
              "photo": str(args.photo), "photo_size": [photo.width, photo.height],
              "crop": None if alignment else box.to_dict(), "alignment": alignment.to_dict() if alignment else None,
              "mask": str(args.mask), "masked_fraction": round(float(mask.mean()), 6), "device": str(G.device),
              "settings": config.to_dict(), "space": result.inversion.space, **summary,
              "files_note": "candidate_NN.png: rank NN composited into the photo; raw_NN.png: the model's image",
              "loss_history": result.inversion.history}
    _write_report(args.out, report, files)
    state = "cancelled after" if result.cancelled else "after"
    print(f"{len(result.candidates)} candidates {state} {result.inversion.steps_done} steps: best fit "
          f"{result.fit_psnr[0]:.2f} dB on the known pixels, diversity {result.diversity:.4f} "
          f"({result.diversity_metric}) ({result.timings['total']:.1f} s). Results in {args.out.resolve()}")
    return EXIT_INTERRUPTED if result.cancelled else 0


def cmd_restore(args: argparse.Namespace) -> int:
    operator = parse_operator(args.op)
    config = restoration_config(operator.name, steps=args.steps, starts=args.starts, seed=args.seed,
                                loss_prior=args.prior, loss_lpips=args.lpips)
    config.validate()
    began = time.perf_counter()
    photo, box = _photo_and_crop(args)
    loaded = time.perf_counter()
    G = load_generator(args.model, pick_device(args.device))
    model_ready = time.perf_counter()
    target = crop_and_resize(photo.pixels, box, G.resolution)  # uint8 [R, R, 3]
    observation = operator.observe(target)  # uint8 [r, r, 3]: what the model is asked to match
    result: InversionResult = drive_inversion(
        lambda token: invert(G, from_uint8_hwc(target, G.device), config, None, token), config.steps, args.quiet,
        f"restoring ({operator.name})")
    _prepare_out(args.out)
    restored = result.best_image
    files = [save_image(observation, args.out / "observation.png"), save_image(restored, args.out / "restored.png"),
             save_image(paste_back(photo.pixels, restored, box, args.feather), args.out / "photo_restored.png",
                        exif=photo.exif),
             save_npy(args.out / "latent.npy", result.best_latent)]
    with torch.no_grad():
        seen = operator(from_uint8_hwc(result.images))
        fit = psnr(seen, operator.observe(from_uint8_hwc(target)).expand_as(seen))
    fits = [round(float(v), 4) for v in fit]
    report = {"schema_version": SCHEMA_VERSION, "command": "restore", "operator": operator.name,
              "model_id": G.model_id, "photo": str(args.photo), "photo_size": [photo.width, photo.height],
              "crop": box.to_dict(), "device": str(G.device), "settings": config.to_dict(), "space": result.space,
              "observation_psnr": fits[result.best_index], "observation_psnr_per_start": fits,
              "best_start": result.best_index, "steps_done": result.steps_done, "cancelled": result.cancelled,
              "uses_lpips": result.uses_lpips, "warnings": result.warnings,
              "timings": {"load_photo": round(loaded - began, 4), "load_model": round(model_ready - loaded, 4),
                          "invert": round(result.seconds, 4)},
              "metrics_note": "observation_psnr: the restored crop, degraded again, against the degraded photo",
              "loss_history": result.history}
    _write_report(args.out, report, files)
    state = f"cancelled after {result.steps_done} steps" if result.cancelled else f"{result.steps_done} steps"
    print(f"{operator.name}, {state}: {fits[result.best_index]:.2f} dB against the observation "
          f"({result.seconds:.1f} s). Results in {args.out.resolve()}")
    return EXIT_INTERRUPTED if result.cancelled else 0
