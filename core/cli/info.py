"""``landscape-studio info`` (versions, devices, model and LPIPS availability) and ``sample`` (a grid of faces)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from core.cli.common import add_model_args, load_model, seed_arg
from core.device import to_uint8_hwc
from core.errors import InvalidInputError
from core.imageio import save_image
from core.json_text import strict_dumps
from core.system_info import system_info


def add_info_parser(sub: argparse._SubParsersAction) -> None:
    info = sub.add_parser("info", help="versions, devices, model and LPIPS availability")
    info.add_argument("--json", action="store_true", help="machine-readable output")
    add_model_args(info)


def add_sample_parser(sub: argparse._SubParsersAction) -> None:
    smp = sub.add_parser("sample", help="write a grid of random faces from the model")
    smp.add_argument("--n", type=int, default=16)
    smp.add_argument("--seed", type=seed_arg, default=0)
    smp.add_argument("--out", type=Path, required=True, help="PNG or JPEG file")
    add_model_args(smp)


def image_grid(images: np.ndarray, columns: int | None = None) -> np.ndarray:
    """uint8 [N, H, W, 3] → one uint8 image, ``columns`` wide (default: square-ish), black where empty."""
    n, h, w, c = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    grid = np.zeros((rows * h, columns * w, c), dtype=np.uint8)
    for i, img in enumerate(images):
        r, col = divmod(i, columns)
        grid[r * h:(r + 1) * h, col * w:(col + 1) * w] = img
    return grid


def cmd_sample(args: argparse.Namespace) -> int:
    if not 1 <= args.n <= 1024:
        raise InvalidInputError(f"--n must be between 1 and 1024 (got {args.n}).")
    G = load_model(args)
    images = to_uint8_hwc(G.sample(args.n, args.seed))
    path = save_image(image_grid(images), args.out)
    print(f"{args.n} faces from {G.model_id} (seed {args.seed}) written to {path.resolve()}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    info = system_info(args.model, args.device)
    if args.json:
        print(strict_dumps(info))
        return 0
    for section, values in info.items():
        print(f"{section}:")
        for key, value in values.items():
            print(f"  {key}: {value}")
    return 0
