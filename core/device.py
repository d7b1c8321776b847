"""Device choice, seeding and the tensor ↔ image conversions used at the engine's edges.

Convention (stated once): core tensors are float NCHW in [-1, 1]; the GUI and files get uint8 HWC.
"""

from __future__ import annotations

import numpy as np
import torch

from core.errors import InvalidInputError


def available_devices() -> list[str]:
    """Devices usable on this machine, best first ("cuda", "mps", then always "cpu")."""
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    found.append("cpu")
    return found


def pick_device(name: str | None = "auto") -> torch.device:
    """Resolve "auto" to the best device present; refuse a device this machine does not have."""
    if name in (None, "", "auto"):
        return torch.device(available_devices()[0])
    kind = name.split(":")[0]
    if kind not in available_devices():
        raise InvalidInputError(
            f"Device '{name}' is not available here; choose one of: auto, {', '.join(available_devices())}."
        )
    return torch.device(name)


MAX_SEED = 2**63 - 1  # seeds a person gives: a signed 64-bit integer, as settings and JSON readers keep them


def check_seed(seed: object, name: str = "seed") -> int:
    """``seed`` as an int in 0 … MAX_SEED, or :class:`InvalidInputError` (torch overflows past 64 bits)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InvalidInputError(f"The {name} must be a whole number from 0 to {MAX_SEED} (got {seed!r}).")
    return seed


def seeded_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A private RNG so that seeded draws do not depend on (or disturb) torch's global state."""
    if not 0 <= int(seed) < 2**64:  # torch's own range (seed + k of K starts may pass MAX_SEED)
        raise InvalidInputError(f"The seed must be a whole number from 0 to {MAX_SEED} (got {seed}).")
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed))
    return gen


def to_uint8_hwc(images: torch.Tensor) -> np.ndarray:
    """[N, C, H, W] or [C, H, W] floats in [-1, 1] → uint8 [N, H, W, 3] or [H, W, 3] (a numpy copy)."""
    x = images.detach().float().clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8)
    x = x.permute(0, 2, 3, 1) if x.dim() == 4 else x.permute(1, 2, 0)
    return x.cpu().numpy().copy()


def from_uint8_hwc(pixels: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """uint8 [H, W, 3] or [N, H, W, 3] → float [N, 3, H, W] in [-1, 1]."""
    arr = np.asarray(pixels)
    if arr.dtype != np.uint8 or arr.shape[-1] != 3:
        raise InvalidInputError(f"Expected uint8 RGB pixels, got {arr.dtype} of shape {arr.shape}.")
    x = torch.from_numpy(np.ascontiguousarray(arr)).to(device)
    x = x.unsqueeze(0) if x.dim() == 3 else x
    return x.permute(0, 3, 1, 2).float().div(127.5).sub(1)
