"""``landscape-studio align``: find the faces of a photo and write one aligned to the model's framing."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.alignment import align_faces, framing_for, pick, warp_to_model
from core.cli.common import add_model_args
from core.device import pick_device
from core.generators import load_generator
from core.imageio import load_photo, save_image
from core.json_text import strict_dumps


def add_align_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("align", help="find the faces in a photo and write one aligned to the model's framing")
    p.add_argument("photo", type=Path)
    p.add_argument("--out", type=Path, required=True, help="PNG or JPEG: the aligned face at the model's resolution")
    p.add_argument("--face", type=int, default=0, help="which face, 0 = the largest (default: 0)")
    p.add_argument("--json", action="store_true", help="print the faces and the alignment as JSON")
    add_model_args(p)


def cmd_align(args: argparse.Namespace) -> int:
    photo = load_photo(args.photo)
    G = load_generator(args.model, pick_device(args.device))
    faces, alignments = align_faces(photo.pixels, framing_for(G), G.resolution)
    alignment = pick(alignments, args.face)
    aligned = warp_to_model(photo.pixels, alignment.transform, G.resolution)
    path = save_image(aligned, args.out)
    if args.json:
        print(strict_dumps({"faces": [f.summary() for f in faces], "alignment": alignment.to_dict(),
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
