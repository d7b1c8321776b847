"""Forward models A of the inverse problems: the objective compares A(G(x)) with the observation A(photo).

Inpainting, super-resolution and colorization are the same inversion with a different A (Bora et al. 2017;
BRGM, Marinescu et al. 2020): find x whose image, degraded the way the photo was, matches the photo.

Every operator maps images [N, 3, R, R] in [-1, 1] to its observation space, stays differentiable, and carries
per-pixel loss weights along (:meth:`Operator.weights`) so a mask keeps working after a downsample. Observations
stay 3-channel RGB so every loss term (LPIPS needs RGB) and every preview applies unchanged:

- ``Mask(mask)``: inpainting. The selection M·x is realised as per-pixel weights (1 − mask), which the
  objective already applies to every term and normalises by the known-pixel count; the image map is the identity.
- ``Downsample(f)``: super-resolution, f ∈ {2, 4, 8}; an f×f area average (anti-aliased box filter) → R/f.
- ``Grayscale()``: colorization; ITU-R BT.601 luma, replicated into the three channels.
- ``Compose([a, b, …])``: applies a first, then b, … (``compose_operators`` drops identities).

``parse_operator("downsample2+grayscale")`` builds one from the names a config or the CLI stores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

import numpy as np
import torch
import torch.nn.functional as F

from core.errors import InvalidInputError

FACTORS = (2, 4, 8)
OPERATOR_NAMES = ("downsample2", "downsample4", "downsample8", "grayscale")  # what parse_operator accepts, joined by +
LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601 (sums to 1, so it maps [-1, 1] onto [-1, 1])


class Operator:
    """A forward model. Subclasses override :meth:`__call__` (and :meth:`weights` when they change the grid)."""

    name: str = "none"
    scale: int = 1  # how many times smaller the observation's side is than the image's

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Images [N, 3, H, W] in [-1, 1] → observations [N, 3, H / scale, W / scale] (differentiable)."""
        return images

    def weights(self, weights: torch.Tensor | None) -> torch.Tensor | None:
        """Per-pixel loss weights [N|1, 1, H, W] (None = all count) → the same on the observation's grid."""
        return weights

    @overload
    def observe(self, photo: torch.Tensor) -> torch.Tensor: ...
    @overload
    def observe(self, photo: np.ndarray) -> np.ndarray: ...
    @torch.no_grad()
    def observe(self, photo: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
        """The observation of a full-colour crop: a tensor [N, 3, R, R] in [-1, 1], or uint8 [R, R, 3] pixels
        (returned as uint8 [r, r, 3], e.g. for the GUI to show what the model is asked to match).

        A photo that is already low-res (upscaled to R by the crop) or grey passes through nearly unchanged,
        so it can be given as is.
        """
        if isinstance(photo, np.ndarray):
            if photo.dtype != np.uint8 or photo.ndim != 3 or photo.shape[2] != 3:
                raise InvalidInputError(f"Expected uint8 RGB pixels [R, R, 3], got {photo.dtype} {photo.shape}.")
            x = torch.from_numpy(np.ascontiguousarray(photo)).permute(2, 0, 1)[None].float().div(127.5).sub(1)
            y = self(x)[0].clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8)
            return y.permute(1, 2, 0).numpy().copy()
        return self(photo)

    @torch.no_grad()
    def seen(self, images: np.ndarray) -> np.ndarray:
        """uint8 [R, R, 3] → uint8 [R, R, 3]: ``images`` as the degradation leaves them, back on their own grid
        (bicubic where the observation is smaller): how a photo would look if the model's image were the truth.

        A restored square enters the photo as its change from this view (``core.placement``): super-resolution
        adds only the detail the photo lacks, colorization only the colour, and the photo keeps the rest."""
        seen = torch.from_numpy(self.observe(images)).permute(2, 0, 1)[None].float()
        if seen.shape[-2:] != images.shape[:2]:
            seen = F.interpolate(seen, size=images.shape[:2], mode="bicubic", align_corners=False)
        return seen[0].round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy().copy()

    def __repr__(self) -> str:
        return f"<operator {self.name}>"


Identity = Operator


class Mask(Operator):
    """Inpainting: only the pixels outside ``mask`` are observed. ``mask`` is [H, W], [N, H, W] or
    [N|1, 1, H, W] in [0, 1], 1 = unknown (to be filled / ignored by the loss); fractions weigh a pixel partly."""

    name = "mask"

    def __init__(self, mask: torch.Tensor) -> None:
        if mask.dim() in (2, 3):
            mask = mask.reshape(-1, 1, *mask.shape[-2:])
        if mask.dim() != 4 or mask.shape[1] != 1:
            raise InvalidInputError(f"A mask must be [H, W] or [N, 1, H, W] (got {tuple(mask.shape)}).")
        if not bool(torch.isfinite(mask).all()):
            raise InvalidInputError("The mask contains NaN or infinite values; repaint it.")
        self.keep = 1.0 - mask.float().clamp(0, 1)  # [N|1, 1, H, W], 1 = known pixel

    def _check(self, x: torch.Tensor) -> None:
        if tuple(x.shape[-2:]) != tuple(self.keep.shape[-2:]):
            raise InvalidInputError(f"The mask is {tuple(self.keep.shape[-2:])} but the image it applies to is "
                                    f"{tuple(x.shape[-2:])}; apply the mask before any downsampling.")

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        self._check(images)
        return images

    def weights(self, weights: torch.Tensor | None) -> torch.Tensor | None:
        if weights is None:
            return self.keep
        self._check(weights)
        return weights * self.keep.to(weights.device)


class Downsample(Operator):
    """Super-resolution's degradation: an f×f area average (anti-aliased), the observation R/f pixels wide."""

    def __init__(self, factor: int) -> None:
        if factor not in FACTORS:
            raise InvalidInputError(f"The downsampling factor must be one of {FACTORS} (got {factor}).")
        self.factor = self.scale = factor
        self.name = f"downsample{factor}"

    def _check(self, x: torch.Tensor) -> None:
        if x.shape[-1] % self.factor or x.shape[-2] % self.factor:
            raise InvalidInputError(f"{tuple(x.shape[-2:])} images cannot be downsampled by {self.factor} evenly; "
                                    "use a smaller factor.")

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        self._check(images)
        return F.avg_pool2d(images, self.factor)

    def weights(self, weights: torch.Tensor | None) -> torch.Tensor | None:
        """A low-res pixel counts only as much as its least-known source pixel: one that mixes in unknown
        content must not pull the fit towards it (min-pooling, i.e. −maxpool(−w))."""
        if weights is None:
            return None
        self._check(weights)
        return -F.max_pool2d(-weights, self.factor)


class Grayscale(Operator):
    """Colorization's degradation: BT.601 luma Y = 0.299 R + 0.587 G + 0.114 B, in all three channels."""

    name = "grayscale"

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        coefficients = images.new_tensor(LUMA).view(1, 3, 1, 1)
        return (images * coefficients).sum(dim=1, keepdim=True).expand(-1, 3, -1, -1)


class Compose(Operator):
    """``Compose([a, b])(x) == b(a(x))``: the operators apply first to last (weights travel the same way)."""

    def __init__(self, operators: Sequence[Operator]) -> None:
        self.operators = tuple(operators)
        self.name = "+".join(op.name for op in self.operators) or "none"
        self.scale = int(np.prod([op.scale for op in self.operators])) if self.operators else 1

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        for op in self.operators:
            images = op(images)
        return images

    def weights(self, weights: torch.Tensor | None) -> torch.Tensor | None:
        for op in self.operators:
            weights = op.weights(weights)
        return weights


def compose_operators(*operators: Operator | None) -> Operator:
    """Chain operators, first to last, dropping None and identities (a single one is returned as is)."""
    kept: list[Operator] = []
    for op in operators:
        if op is None or type(op) is Operator:
            continue
        kept.extend(op.operators if isinstance(op, Compose) else [op])
    if not kept:
        return Identity()
    return kept[0] if len(kept) == 1 else Compose(kept)


def parse_operator(name: str | None) -> Operator:
    """``None``/"none" → identity; "downsample4", "grayscale", "downsample2+grayscale", … (applied left to right).

    Masks are not named here: they carry data, so callers pass them to the inversion separately.
    """
    if name is None or name.strip().lower() in ("", "none"):
        return Identity()
    parts = [part.strip().lower() for part in name.split("+")]
    unknown = [part for part in parts if part not in OPERATOR_NAMES]
    if unknown:
        raise InvalidInputError(f"Unknown operator '{unknown[0]}'; choose one of: {', '.join(OPERATOR_NAMES)} "
                                "(or several joined by '+', e.g. downsample2+grayscale).")
    return compose_operators(*(Grayscale() if p == "grayscale" else Downsample(int(p[10:])) for p in parts))
