"""Writing a :class:`LandscapeSlice`: npz (arrays, no pickle), csv (long format), json (settings, figures) and a
png heat map drawn with numpy + Pillow (core may not import a plotting library)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from core.imageio import atomic_write_bytes
from core.json_text import strict_dumps
from core.landscape.slicing import LandscapeSlice

SCHEMA_VERSION = 1
PIXELS = 512  # side of the heat map
# A perceptually ordered ramp (dark blue → teal → yellow, close to viridis) to interpolate between.
RAMP = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=np.float64)


def colour_map(values: np.ndarray) -> np.ndarray:
    """Float [H, W] → uint8 [H, W, 3]: log-scaled (losses span decades), min → dark, max → yellow; NaN grey."""
    finite = np.isfinite(values)
    out = np.full((*values.shape, 3), 128, dtype=np.uint8)
    if not finite.any():
        return out
    v = np.log(np.maximum(values[finite], 0) + 1e-12)
    lo, hi = float(v.min()), float(v.max())
    t = (v - lo) / (hi - lo) if hi > lo else np.zeros_like(v)
    pos = t * (len(RAMP) - 1)
    i = np.minimum(pos.astype(int), len(RAMP) - 2)
    frac = (pos - i)[:, None]
    out[finite] = np.round(RAMP[i] * (1 - frac) + RAMP[i + 1] * frac).astype(np.uint8)
    return out


def heat_map(s: LandscapeSlice, pixels: int = PIXELS) -> Image.Image:
    """The slice as an image, y upwards; the trajectory as a white polyline, start ○ white, end ● red."""
    image = Image.fromarray(colour_map(s.loss[::-1])).resize((pixels, pixels), Image.Resampling.NEAREST)
    if s.trajectory is not None and len(s.trajectory):
        draw = ImageDraw.Draw(image)
        span = float(s.xs[-1] - s.xs[0])
        pts = [((x - s.xs[0]) / span * (pixels - 1), (s.ys[-1] - y) / span * (pixels - 1)) for x, y in s.trajectory]
        if len(pts) > 1:
            draw.line(pts, fill=(255, 255, 255), width=2)
        r = max(3, pixels // 100)
        (x0, y0), (x1, y1) = pts[0], pts[-1]
        draw.ellipse([x0 - r, y0 - r, x0 + r, y0 + r], outline=(255, 255, 255), width=2)
        draw.ellipse([x1 - r, y1 - r, x1 + r, y1 + r], fill=(230, 30, 30), outline=(255, 255, 255))
    return image


def slice_summary(s: LandscapeSlice) -> dict:
    finite = s.loss[np.isfinite(s.loss)]
    return {"schema_version": SCHEMA_VERSION, "config": s.config.to_dict(), "space": s.space, "term": s.term,
            "explained_variance": None if s.explained_variance is None else [float(v) for v in s.explained_variance],
            "center_loss": s.center_loss, "min_loss": float(finite.min()) if finite.size else None,
            "max_loss": float(finite.max()) if finite.size else None, "cancelled": s.cancelled,
            "timings": {"slice_s": round(s.seconds, 4), "points": int(s.loss.size),
                        "ms_per_point": round(1000 * s.seconds / max(1, s.loss.size), 4)}}


def save_slice(s: LandscapeSlice, folder: str | Path) -> dict[str, Path]:
    """Write slice.npz, slice.csv, slice.json and slice.png into ``folder``; returns {kind: path}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {"loss": s.loss, "xs": s.xs, "ys": s.ys, "center": s.center, "axes": s.axes,
              "trajectory": np.zeros((0, 2)) if s.trajectory is None else np.asarray(s.trajectory, np.float64),
              "explained_variance": np.full(2, np.nan) if s.explained_variance is None else s.explained_variance}
    buffer = io.BytesIO()
    # plain numeric arrays only: loads with allow_pickle=False (ignore: mypy matches **arrays to savez's bool flag)
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    paths = {"npz": folder / "slice.npz", "csv": folder / "slice.csv", "json": folder / "slice.json",
             "png": folder / "slice.png"}
    atomic_write_bytes(paths["npz"], buffer.getvalue())
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["x", "y", "loss"])
    for i, y in enumerate(s.ys):
        for j, x in enumerate(s.xs):
            writer.writerow([f"{x:.6g}", f"{y:.6g}", f"{s.loss[i, j]:.9g}"])
    atomic_write_bytes(paths["csv"], text.getvalue().encode())
    atomic_write_bytes(paths["json"], (strict_dumps(slice_summary(s)) + "\n").encode())
    png = io.BytesIO()
    heat_map(s).save(png, format="PNG")
    atomic_write_bytes(paths["png"], png.getvalue())
    return paths
