"""``landscape-studio render``: turn a latent file of any of the model's spaces into an image or raw array.

A ``.npy`` output is the generator's float32 NCHW output as is (unclamped), for comparing implementations
bit for bit; ``.png``/``.jpg`` is what a person looks at (several latents side by side).
"""

from __future__ import annotations

import argparse
import io
import math
from pathlib import Path

import numpy as np
import torch

from core.cli.common import add_model_args
from core.device import pick_device, to_uint8_hwc
from core.errors import InvalidInputError
from core.generators import Generator, load_generator
from core.generators.style_based import StyleBasedGenerator
from core.generators.stylegan2 import NOISE_MODES, StyleGAN2Generator
from core.imageio import SAVE_FORMATS, atomic_write_bytes, save_image
from core.npy_files import read_npy

MAX_LATENTS = 64  # rows of a batch latent file rendered at once
# Larger magnitudes are no model's code: z ~ N(0, I), StyleGAN's w within tens; 1e30 overflows the generator to inf.
MAX_LATENT_ABS = 1e4


def add_render_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help="synthesize the image of a latent (.npy) in the model's z, w or w+ space")
    p.add_argument("--latent", type=Path, required=True,
                   help="float .npy of one code [*shape] or a batch [N, *shape] of the chosen space")
    p.add_argument("--space", choices=("z", "w", "w+"), default=None,
                   help="the latent's space (default: the model's inversion space)")
    p.add_argument("--truncation", type=float, default=None, metavar="PSI",
                   help="move w towards the model's average w: 1 = unchanged, 0 = the average face (StyleGAN only)")
    p.add_argument("--noise", choices=NOISE_MODES, default=None,
                   help="StyleGAN noise inputs: the stored ones (const, default), fresh (random) or none")
    p.add_argument("--out", type=Path, required=True, help=".png/.jpg image, or .npy for the raw float32 NCHW output")
    add_model_args(p)


def cmd_render(args: argparse.Namespace) -> int:
    suffix = args.out.suffix.lower()
    if suffix != ".npy" and suffix not in SAVE_FORMATS:
        raise InvalidInputError(f"--out must end in .npy, .png, .jpg or .jpeg (got '{args.out.name}').")
    G = load_generator(args.model, pick_device(args.device))
    space = G.space(args.space).name
    latent = load_latents(args.latent, G.space(space).shape)  # [N, *shape]
    with torch.no_grad():
        images = render(G, torch.from_numpy(latent).to(G.device), space, args.truncation, args.noise)
    if not torch.isfinite(images).all():  # never a silently black image
        raise InvalidInputError(f"The model produced non-finite pixels from '{args.latent.name}'; the latent (or "
                                "--truncation) is far outside what the model was trained on.")
    path = _save_npy(images, args.out) if suffix == ".npy" else save_image(
        np.concatenate(list(to_uint8_hwc(images)), axis=1), args.out)
    psi = "" if args.truncation is None else f", ψ = {args.truncation:g}"
    print(f"{len(latent)} image(s) of {G.model_id} from '{space}' latents{psi} written to {path.resolve()}")
    return 0


def render(G: Generator, latent: torch.Tensor, space: str, psi: float | None = None,
           noise_mode: str | None = None) -> torch.Tensor:
    """Images [N, 3, R, R] (unclamped; R the model's full render resolution) of ``space`` codes, optionally
    truncated towards w_avg by ``psi``."""
    if psi is not None and not math.isfinite(psi):
        raise InvalidInputError(f"--truncation must be a finite number (got {psi}).")
    if psi is not None and not isinstance(G, StyleBasedGenerator):  # the family with an average w
        raise InvalidInputError(f"{G.name} has no average w to truncate towards; --truncation applies to "
                                "StyleGAN models only.")
    if noise_mode is not None and not isinstance(G, StyleGAN2Generator):  # the one with noise inputs
        raise InvalidInputError(f"{G.name} has no noise inputs; --noise applies to StyleGAN2 models only.")
    if psi is not None:
        assert isinstance(G, StyleBasedGenerator)
        latent, space = G.truncation(G.ws(latent, space), psi), "w+"
    if not isinstance(G, StyleGAN2Generator):
        return G.render(latent, space)
    previous = G.noise_mode
    try:
        if noise_mode is not None:
            G.noise_mode = noise_mode
        return G.render(latent, space)
    finally:
        G.noise_mode = previous


def load_latents(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    """A plain numeric .npy of one code [*shape] or up to MAX_LATENTS codes [N, *shape] → float32 [N, *shape].

    The header is checked before anything is allocated (:func:`read_npy`); values are checked after the cast to
    float32, so a float64 1e300 (inf in float32) is refused rather than rendered as a black image.
    """
    latent = read_npy(path, "latent", max_bytes=MAX_LATENTS * math.prod(shape) * 16)  # 16: complex128, the widest
    if not np.issubdtype(latent.dtype, np.floating):
        raise InvalidInputError(f"'{path.name}' must hold one float array (a latent), not {latent.dtype} values.")
    if latent.shape == shape:
        latent = latent[None]
    if latent.shape[1:] != shape or not 1 <= len(latent) <= MAX_LATENTS:
        raise InvalidInputError(f"'{path.name}' holds {latent.shape}, but this space's latent is {shape} "
                                f"(or [N, ...] with N ≤ {MAX_LATENTS}); was it made with another model or space?")
    return finite_latent(latent, path.name)


def finite_latent(latent: np.ndarray, name: str) -> np.ndarray:
    """``latent`` as float32, or :class:`InvalidInputError` for NaN, ±inf or values no latent ever holds."""
    if np.isnan(latent).any():
        raise InvalidInputError(f"'{name}' contains NaN (not-a-number) values; it is not a usable latent.")
    if np.isinf(latent).any():
        raise InvalidInputError(f"'{name}' contains infinite values; it is not a usable latent.")
    peak = float(np.abs(latent).max(initial=0.0))
    if peak > MAX_LATENT_ABS:
        raise InvalidInputError(f"'{name}' holds values as large as {peak:.3g}; latents stay within "
                                f"±{MAX_LATENT_ABS:g} (this one is too large to be a code of any model).")
    return latent.astype(np.float32)


def _save_npy(images: torch.Tensor, path: Path) -> Path:
    """Raw float32 [N, 3, R, R], written whole or not at all."""
    buffer = io.BytesIO()
    np.save(buffer, images.detach().float().cpu().numpy())
    return atomic_write_bytes(path, buffer.getvalue())
