"""Dev-only check: our IR interpreter (``core.generators.openvino_ir``) against OpenVINO itself on the FFHQ
MobileStyleGAN of ``random-face==2021.7.21.1``. Never part of the product or of ``make test``: OpenVINO is only
the referee, and the weights (non-commercial) are never committed.

Two halves, since OpenVINO need not share the project's environment:

    pip download --no-deps random-face==2021.7.21.1 && unzip random_face-*.whl -d rf
    python -m venv /tmp/ov && /tmp/ov/bin/pip install openvino numpy
    /tmp/ov/bin/python packaging/check_mobilestylegan.py reference --data rf/random_face/data --out /tmp/ref
    .venv/bin/python packaging/check_mobilestylegan.py compare --data rf/random_face/data --out /tmp/ref
    .venv/bin/python packaging/check_mobilestylegan.py golden --data rf/random_face/data --out /tmp/ref

``reference`` runs OpenVINO (FP32) on seeds 0…N-1 (z ~ N(0, I) from numpy's default_rng(seed)) and saves z, the
style and the 1024-px image; ``compare`` runs the same graphs in PyTorch and prints the largest absolute
differences as JSON (the target is at most 1e-3 on the image, whose range is about [-1, 1]).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def reference(data: Path, out: Path, seeds: int) -> dict:
    import openvino as ov  # the referee only; not a dependency of the project

    core = ov.Core()
    config = {"INFERENCE_PRECISION_HINT": "f32"}
    mapping = core.compile_model(str(data / "MappingNetwork.xml"), "CPU", config)
    synthesis = core.compile_model(str(data / "SynthesisNetwork.xml"), "CPU", config)
    out.mkdir(parents=True, exist_ok=True)
    for seed in range(seeds):
        z = np.random.default_rng(seed).standard_normal((1, 512)).astype(np.float32)
        style = mapping([z])[0]
        np.savez(out / f"seed{seed}.npz", z=z, style=style, image=synthesis([style])[0])
    return {"openvino": ov.__version__, "seeds": seeds}


def compare(data: Path, out: Path, seeds: int) -> dict:
    import torch

    from core.generators.openvino_ir import IRNetwork

    mapping = IRNetwork(data / "MappingNetwork.xml", data / "MappingNetwork.bin").eval()
    synthesis = IRNetwork(data / "SynthesisNetwork.xml", data / "SynthesisNetwork.bin").eval()
    rows = []
    with torch.no_grad():
        for seed in range(seeds):
            ref = np.load(out / f"seed{seed}.npz")
            style = mapping(torch.from_numpy(ref["z"]))
            began = time.perf_counter()
            image = synthesis(torch.from_numpy(ref["style"]))
            seconds = time.perf_counter() - began
            rows.append({"seed": seed, "style_max_abs": float((style - torch.from_numpy(ref["style"])).abs().max()),
                         "image_max_abs": float((image - torch.from_numpy(ref["image"])).abs().max()),
                         "render_s": round(seconds, 2)})
    return {"seeds": rows, "worst_style": max(r["style_max_abs"] for r in rows),
            "worst_image": max(r["image_max_abs"] for r in rows), "target": 1e-3}


GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "core" / "generators" / "golden" / "ffhq_openvino.npz"
GOLDEN_PIXELS = 64  # full-resolution pixels kept per seed, at seeded positions


def golden(data: Path, out: Path, seeds: int) -> dict:
    """The golden outputs the tests keep (so CI needs no OpenVINO): for seeds 0 and 1, OpenVINO's z, its style's
    first 32 values, its image area-averaged to 16 × 16, and 64 of its full-resolution pixels. A few hundred
    numbers of the model's *output*, never its weights."""
    rng = np.random.default_rng(1234)
    rows, cols = rng.integers(0, 1024, GOLDEN_PIXELS), rng.integers(0, 1024, GOLDEN_PIXELS)
    keep: dict[str, np.ndarray] = {"rows": rows, "cols": cols}
    for seed in range(min(seeds, 2)):
        ref = np.load(out / f"seed{seed}.npz")
        image = ref["image"][0]  # [3, 1024, 1024]
        keep[f"z{seed}"] = ref["z"]
        keep[f"style{seed}"] = ref["style"][:, :32]
        keep[f"pooled{seed}"] = image.reshape(3, 16, 64, 16, 64).mean(axis=(2, 4))
        keep[f"pixels{seed}"] = image[:, rows, cols]
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(GOLDEN, **keep)
    return {"written": str(GOLDEN), "bytes": GOLDEN.stat().st_size}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("half", choices=("reference", "compare", "golden"))
    parser.add_argument("--data", type=Path, required=True, help="random_face/data of the unpacked wheel")
    parser.add_argument("--out", type=Path, required=True, help="folder of OpenVINO's outputs")
    parser.add_argument("--seeds", type=int, default=8)
    args = parser.parse_args(argv)
    run = {"reference": reference, "compare": compare, "golden": golden}[args.half]
    print(json.dumps(run(args.data, args.out, args.seeds), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
