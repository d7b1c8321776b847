"""A cheap image for FFHQ's first inversion steps: the 128-px features through a to-image layer fitted here.

Why: MobileStyleGAN's exact 256-px working image needs the whole network — its last block runs at 512 px, and a
step through it takes ≈ 0.47 s on a 2-core CPU, where the blocks up to the 128-px features take ≈ 0.13 s. The
model had a to-image layer after every block (a 1×1 convolution from a block's features to the image's wavelet
bands); the export kept only the last. This refits one for the 128-px block: a linear map from the 256 feature
channels at each 128-px position to the 2×2 pixels of the 256-px image it covers (12 numbers), least squares over
the model's own samples (the Haar bands are an orthogonal transform of those pixels, so fitting pixels is fitting
bands). Its image is soft — ≈ 24 dB from the exact one — but it moves with w as the exact one does, so the first
steps of a descent (finding the face's basin) run on it and the last ones on the exact image (``coarse_steps`` of
:class:`~core.inversion.config.InversionConfig`).

The head is derived from the user's FFHQ install, so like a θ trained on it, it is made on the user's machine
(≈ 11 s, when the editor first loads the model or a descent first needs it) and kept in the user data folder,
never shipped; a damaged or foreign file is refitted.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from core.device import seeded_generator
from core.errors import ImageSaveError, ModelLoadError
from core.resources import set_aside, trained_dir
from core.weight_files import read_weights, save_weights

log = logging.getLogger(__name__)

SCHEMA = 1
STEM = "coarse_head"
FIT_FACES = 32  # samples the least squares sees: 32 × 128² positions for 257 × 12 unknowns
CHECK_FACES = 4  # held-out samples whose agreement with the exact image is recorded
FIT_SEED = 0
RIDGE = 1e-3  # keeps the normal equations well posed when a feature channel barely varies
TRUNCATIONS = (0.7, 1.0)  # samples alternate between these, covering both typical and unusual faces

Render = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]  # ws → (features, exact working image)


def apply_head(features: torch.Tensor, head: torch.Tensor) -> torch.Tensor:
    """Features [N, C, h, w] and a head [C + 1, 12] → the image [N, 3, 2h, 2w] (bias in the head's last row)."""
    n, c, h, w = features.shape
    pixels = features.permute(0, 2, 3, 1).reshape(-1, c) @ head[:-1] + head[-1]
    return F.pixel_shuffle(pixels.reshape(n, h, w, 12).permute(0, 3, 1, 2), 2)


def _rows(features: torch.Tensor) -> torch.Tensor:
    flat = features.permute(0, 2, 3, 1).reshape(-1, features.shape[1]).double()
    return torch.cat([flat, torch.ones(len(flat), 1, dtype=flat.dtype, device=flat.device)], 1)


def _samples(w_avg: torch.Tensor, mapping: Callable[[torch.Tensor], torch.Tensor], num_ws: int, count: int,
             seed: int) -> list[torch.Tensor]:
    """``count`` seeded ws [1, num_ws, w_dim], truncated alternately by :data:`TRUNCATIONS`."""
    z = torch.randn(count, w_avg.numel(), generator=seeded_generator(seed)).to(w_avg.device)
    w = mapping(z)
    psi = torch.tensor([TRUNCATIONS[i % len(TRUNCATIONS)] for i in range(count)], device=w.device)[:, None]
    w = w_avg + psi * (w - w_avg)
    return [row[None, None].expand(1, num_ws, -1) for row in w]


@torch.no_grad()
def fit_head(render: Render, w_avg: torch.Tensor, mapping: Callable[[torch.Tensor], torch.Tensor], num_ws: int, *,
             faces: int = FIT_FACES, check_faces: int = CHECK_FACES, seed: int = FIT_SEED
             ) -> tuple[torch.Tensor, float]:
    """The least-squares head [C + 1, 12] and its mean PSNR (dB) against the exact image on held-out samples."""
    gram: torch.Tensor | float = 0.0
    cross: torch.Tensor | float = 0.0
    for ws in _samples(w_avg, mapping, num_ws, faces, seed):
        features, image = render(ws)
        rows = _rows(features)
        gram = gram + rows.T @ rows
        cross = cross + rows.T @ _rows(F.pixel_unshuffle(image, 2))[:, :-1]
    assert isinstance(gram, torch.Tensor) and isinstance(cross, torch.Tensor)
    ridge = RIDGE * torch.eye(len(gram), dtype=gram.dtype, device=gram.device)
    head = torch.linalg.solve(gram + ridge, cross).float()
    scores = []
    for ws in _samples(w_avg, mapping, num_ws, check_faces, seed + faces):
        features, image = render(ws)
        mse = float((((apply_head(features, head) - image) / 2) ** 2).mean())
        scores.append(-10 * math.log10(max(mse, 1e-12)))
    return head, sum(scores) / max(len(scores), 1)


def head_folder(model_id: str) -> Path:
    return trained_dir(model_id, STEM)


def load_head(model_id: str, channels: int) -> torch.Tensor | None:
    """The head fitted earlier for exactly ``model_id``, or None (none yet; a damaged one is moved aside)."""
    folder = head_folder(model_id)
    if not (folder / f"{STEM}.json").exists():
        return None
    try:
        tensors, meta = read_weights(folder, STEM, "coarse image layer", SCHEMA)
        head = tensors.get("head")
        if meta.get("model_id") != model_id or head is None or tuple(head.shape) != (channels + 1, 12):
            raise ModelLoadError(f"'{folder}' holds a coarse image layer of another model version.")
        if not bool(torch.isfinite(head).all()):
            raise ModelLoadError(f"'{folder}' holds a coarse image layer with NaN or infinite weights.")
    except ModelLoadError as exc:
        log.warning("%s It is fitted again; the old one is moved aside.", exc)
        try:
            set_aside(folder)
        except OSError as move:
            log.warning("could not move %s aside: %s", folder, move)
        return None
    return head


def save_head(model_id: str, head: torch.Tensor, fidelity_db: float) -> None:
    """Keep ``head`` for next time; a failure to write (full disk, read-only home) only costs a refit later."""
    meta = {"schema_version": SCHEMA, "model_id": model_id, "faces": FIT_FACES, "seed": FIT_SEED,
            "fidelity_db": round(fidelity_db, 3)}
    try:
        save_weights(head_folder(model_id), STEM, {"head": head}, meta)
    except (ImageSaveError, OSError) as exc:  # a cache: a failure to write it is only logged
        log.warning("could not keep the coarse image layer (%s); it will be fitted again next time", exc)
