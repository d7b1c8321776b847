"""Starts of θ's descent that already know their target: the encoder's code blended into each prior draw.

θ's trained steps from a random start reach ≈ 22.4 dB in 10 steps on generated faces of the default model; from
a start that leans towards the encoder's code of the target they reach ≈ 23.7 (docs/landscape.md), because the
steps then begin in the right basin instead of wherever the draw fell. It is the first layer of an unrolled
solver such as LISTA (x₁ = f(W·y)): an amortised guess from the target, then the learned iterations. A θ with
``encoder_start`` λ > 0 starts from z₀ = √(1 − λ²)·θ.start(ε) + λ·z_E, where z_E is θ's start at the encoder's
code (:func:`start_from`: moved out to the prior's radius, then its preimage), so the starts keep the prior's
radius and, for λ < 1, part of ε's spread: K starts still reach K different faces (inpainting's completions).
The trainer draws its starts the same way, so the steps learn to go on from such starts.
"""

from __future__ import annotations

from pathlib import Path

import torch

from core.errors import InvalidInputError, ModelLoadError
from core.generators import Generator
from core.inversion.encoder import find_encoder
from core.inversion.encoder_methods import Encode, encoder_view, in_space
from core.theta import LandscapeMapping

# λ of the shipped θ and the training dialog: on 128 fresh generated faces, with the θ shipped before it frozen,
# λ = 0.5 / 0.7 / 0.85 / 0.95 / 1 gained +1.18 / +1.24 / +1.30 / +1.15 / +0.93 dB at 10 steps over random starts
ENCODER_START = 0.85


def encoder_for_theta(G: Generator, folder: str | Path | None = None) -> Encode:
    """The encoder of ``G`` (``folder``, else the shipped or trained one) predicting codes of G's default space,
    θ's; :class:`ModelLoadError` when there is none or it cannot give such codes."""
    encoder, meta = find_encoder(G, folder)
    try:
        return in_space(G, encoder, meta.get("space") or G.default_space, G.default_space)
    except InvalidInputError as exc:
        raise ModelLoadError(f"The encoder cannot give codes of θ's '{G.default_space}' space ({exc}).") from exc


@torch.no_grad()
def encoded_targets(G: Generator, theta: LandscapeMapping, target: torch.Tensor, mask: torch.Tensor | None = None,
                    folder: str | Path | None = None) -> torch.Tensor | None:
    """The encoder's codes [N, *shape] of ``target`` [N, 3, R, R] when θ starts from them, else None."""
    if theta.config.encoder_start <= 0:
        return None
    encode = encoder_for_theta(G, folder)
    return encode(encoder_view(target.to(G.device, torch.float32), mask))
