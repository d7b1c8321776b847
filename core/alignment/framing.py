"""Where a model puts its faces: measured once per model on its own samples, then cached.

Every generator has its own framing (DCGAN DigiFace crops tight, FFHQ shows hair and shoulders), so alignment
targets the model's average eye and mouth positions, not a fixed template. They are measured by running the face
finder on a few hundred of the model's own samples; the default model's framing ships precomputed in
``resources/framing/``, any other is measured on first use and kept in the user's data folder.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from core.alignment.faces import find_faces
from core.device import to_uint8_hwc
from core.errors import InvalidInputError, NoFaceFoundError
from core.generators import Generator
from core.imageio import atomic_write_bytes
from core.resources import resources_dir, set_aside, user_data_dir

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
DETECT_SIDE = 256  # small samples are upscaled to this side for the detector (it sees faces at 128 px anyway)
PAD = 0.25  # edge-replicated border, as a fraction of the side: a face touching the frame is found more often
MAX_RECORD_BYTES = 1 << 20  # a framing record is a few hundred bytes
MIN_FOUND = 8  # fewer faces than this among the samples means the model does not make faces the finder sees


@dataclass(frozen=True)
class Framing:
    """Mean positions of the image-left eye, image-right eye and mouth centre, as fractions of the model's side."""

    model_id: str
    eye_left: tuple[float, float]  # (x, y) fractions in [0, 1]
    eye_right: tuple[float, float]
    mouth: tuple[float, float]
    spread: tuple[tuple[float, float], ...]  # per point (x, y) standard deviation, fractions of the side
    samples: int  # samples looked at
    found: int  # samples where a face was found (only these count)
    seed: int  # the first sample's seed

    def points(self, resolution: int) -> np.ndarray:
        """float64 [3, 2]: the three points in model pixels (continuous coordinates) at ``resolution``."""
        return np.array([self.eye_left, self.eye_right, self.mouth], dtype=np.float64) * resolution

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "model_id": self.model_id, "eye_left": list(self.eye_left),
                "eye_right": list(self.eye_right), "mouth": list(self.mouth),
                "spread": [list(s) for s in self.spread], "samples": self.samples, "found": self.found,
                "seed": self.seed}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Framing:
        try:
            pts = np.array([d["eye_left"], d["eye_right"], d["mouth"]], dtype=np.float64)
            spread = np.array(d["spread"], dtype=np.float64)
            model_id = str(d["model_id"])
            eye_left, eye_right, mouth = (tuple(map(float, p)) for p in pts)  # 3 rows, as 3 keys were read
            spread_xy = tuple(tuple(map(float, s)) for s in spread)
            # the points' and spreads' lengths (2) are checked below, so the type checker cannot know them here
            framing = cls(model_id, eye_left, eye_right, mouth, spread_xy,  # type: ignore[arg-type]
                          int(d["samples"]), int(d["found"]), int(d["seed"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"The framing record is incomplete or malformed ({exc}); delete it so it is "
                                    "measured again.") from exc
        if pts.shape != (3, 2) or not np.isfinite(pts).all() or spread.shape != (3, 2):
            raise InvalidInputError("The framing record has the wrong shape; delete it so it is measured again.")
        return framing


def measure_framing(G: Generator, n: int = 256, seed: int = 0, batch: int = 32) -> Framing:
    """Run the face finder on ``n`` samples of ``G`` (seeds from ``seed``) and average the largest face's points.

    Samples where no face is found are skipped and counted; too few found faces is an error, since alignment would
    then aim at noise.
    """
    if n < 1:
        raise InvalidInputError(f"Measuring a framing needs at least one sample (got {n}).")
    points = []
    batch = max(1, int(batch * (64 / G.render_resolution) ** 2))  # a 1024-px model's activations: one at a time
    for start in range(0, n, batch):
        with torch.no_grad():  # seeds are per sample, so batching does not change which faces are drawn
            images = to_uint8_hwc(G.sample(min(batch, n - start), seed + start))  # [B, R, R, 3]
        for image in images:
            found = _key_points(image)
            if found is not None:
                points.append(found)
    if len(points) < min(MIN_FOUND, n):
        raise NoFaceFoundError(f"Only {len(points)} of {n} samples of {G.name} showed a face the detector finds; "
                               "this model cannot be aligned automatically — set the crop by hand.")
    arr = np.stack(points)  # [found, 3, 2] fractions
    mean, std = arr.mean(0), arr.std(0)
    log.info("framing of %s: %d of %d samples had a face", G.model_id, len(points), n)
    eye_left, eye_right, mouth = ((float(x), float(y)) for x, y in mean)  # [3, 2]
    return Framing(G.model_id, eye_left, eye_right, mouth, tuple((float(x), float(y)) for x, y in std), n,
                   len(points), seed)


def _key_points(image: np.ndarray) -> np.ndarray | None:
    """The largest face's [3, 2] points as fractions of the sample's side, or None when there is no face."""
    side = image.shape[0]
    up = max(1, round(DETECT_SIDE / side))
    big = np.asarray(Image.fromarray(image).resize((side * up, side * up), Image.Resampling.LANCZOS))
    pad = round(PAD * side * up)
    big = np.pad(big, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
    try:
        face = find_faces(big)[0]
    except NoFaceFoundError:
        return None
    return (face.key_points() - pad) / (side * up)


def framing_file(model_id: str, folder: Path) -> Path:
    """The framing record of ``model_id`` inside ``folder`` (the id made safe as a file name)."""
    return folder / f"{re.sub(r'[^A-Za-z0-9._-]', '_', model_id)}.json"


def shipped_framing_dir() -> Path:
    return resources_dir() / "framing"


def cached_framing_dir() -> Path:
    return user_data_dir() / "framing"


def known_framing(G: Generator) -> Framing | None:
    """``G``'s framing when it is shipped or already measured, else None (reports never start a measurement)."""
    try:
        return framing_for(G, measure=False)
    except InvalidInputError:
        return None


def framing_for(G: Generator, measure: bool = True, n: int = 256) -> Framing:
    """``G``'s framing: shipped, else cached, else measured now (``measure``) and cached for next time."""
    for folder in (shipped_framing_dir(), cached_framing_dir()):
        path = framing_file(G.model_id, folder)
        if path.exists():
            try:
                if not path.is_file() or path.stat().st_size > MAX_RECORD_BYTES:
                    raise ValueError("it is not a small file")
                return Framing.from_dict(json.loads(path.read_bytes().decode("utf-8")))
            except (OSError, ValueError, OverflowError, RecursionError, InvalidInputError) as exc:
                _unreadable(path, folder == cached_framing_dir(), exc)
    if not measure:
        raise InvalidInputError(f"The framing of {G.name} has not been measured yet.")
    framing = measure_framing(G, n)
    save_framing(framing, cached_framing_dir())
    return framing


def _unreadable(path: Path, cached: bool, exc: BaseException) -> None:
    """A damaged record is not used; one in the user data folder is moved aside (it would be measured again, and
    saving over it could fail, e.g. on a folder of that name), and the log names it."""
    if not cached:
        log.warning("ignoring the unreadable shipped framing record %s: %s", path, exc)
        return
    try:
        log.warning("the framing record %s is damaged (%s); moved to %s", path, type(exc).__name__, set_aside(path))
    except OSError as move:
        log.warning("the framing record %s is damaged (%s) and could not be moved aside: %s", path, exc, move)


def save_framing(framing: Framing, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(framing.to_dict(), indent=2) + "\n"
    return atomic_write_bytes(framing_file(framing.model_id, folder), text.encode())
