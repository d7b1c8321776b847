"""``landscape-studio align``: find the faces of a photo and write one aligned to the model's framing.

Also the helper ``invert --align`` uses, so the CLI and (later) the GUI align the same way.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from core.alignment.align import Alignment, align_faces, pick, warp_to_model
from core.alignment.faces import Face
from core.alignment.framing import framing_for
from core.device import pick_device
from core.generators import Generator, load_generator
from core.imageio import load_photo, save_image


def add_align_parser(sub: argparse._SubParsersAction,
                     add_model_args: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("align", help="find the faces in a photo and write one aligned to the model's framing")
    p.add_argument("photo", type=Path)
    p.add_argument("--out", type=Path, required=True, help="PNG or JPEG: the aligned face at the model's resolution")
    p.add_argument("--face", type=int, default=0, help="which face, 0 = the largest (default: 0)")
    p.add_argument("--json", action="store_true", help="print the faces and the alignment as JSON")
    add_model_args(p)


def aligned_target(pixels: np.ndarray, G: Generator, face_index: int) -> tuple[np.ndarray, Alignment, list[Face]]:
    """The photo's face ``face_index`` warped to ``G``'s framing (uint8 [R, R, 3]), its alignment, and all faces."""
    faces, alignments = align_faces(pixels, framing_for(G), G.resolution)
    alignment = pick(alignments, face_index)
    return warp_to_model(pixels, alignment.transform, G.resolution), alignment, faces


def cmd_align(args: argparse.Namespace) -> int:
    photo = load_photo(args.photo)
    G = load_generator(args.model, pick_device(args.device))
    aligned, alignment, faces = aligned_target(photo.pixels, G, args.face)
    path = save_image(aligned, args.out)
    if args.json:
        print(json.dumps({"faces": [f.summary() for f in faces], "alignment": alignment.to_dict(),
                          "out": str(path.resolve())}, indent=2))
        return 0
    print(f"{len(faces)} face{'' if len(faces) == 1 else 's'} found in {photo.width}x{photo.height} "
          f"{Path(args.photo).name} (largest first):")
    for i, face in enumerate(faces):
        s = face.summary()
        print(f"  face {i}: box {s['box']}, score {s['score']:.3f}, eyes {s['eye_left']} {s['eye_right']}, "
              f"mouth {s['mouth']}")
    print(f"face {args.face} turned {alignment.angle:+.1f}°, scaled ×{alignment.scale:.3f} to {G.name}'s framing: "
          f"{G.resolution}x{G.resolution} written to {path.resolve()}")
    return 0
