"""``edit_photo``: a latent moved along directions, rendered and composited back into the photo."""

from __future__ import annotations

from collections.abc import Generator as Job
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from core.device import to_uint8_hwc
from core.directions import Direction, apply_directions
from core.generators import Generator
from core.imageio import Photo
from core.placement import DEFAULT_COMPOSITE, DEFAULT_FEATHER, Placement, check_composite_mode


@dataclass(frozen=True, eq=False)
class PhotoEdit:
    latent: np.ndarray  # [*shape] the edited latent
    image: np.ndarray  # uint8 [R, R, 3] the generator's image of it
    photo: np.ndarray  # uint8 [H, W, 3] the photo with ``image`` composited
    placement: Placement
    reference: np.ndarray | None = None  # uint8 [R, R, 3] the unedited image the change was taken from ("detail")


def render_latent(G: Generator, latent: np.ndarray, space: str | None = None, *, full: bool = False) -> np.ndarray:
    """uint8 [R, R, 3]: the generator's image of one latent [*shape]; with ``full`` at its render resolution (a
    1024-px model that works at 256 px renders 1024 for paste-back and export)."""
    code = torch.from_numpy(np.ascontiguousarray(latent[None], dtype=np.float32)).to(G.device)
    with torch.no_grad():
        return to_uint8_hwc(G.render(code, space) if full else G.synthesize(code, space))[0]


def edited_latent(G: Generator, latent: np.ndarray, edits: Sequence[tuple[Direction, float]],
                  space: str | None = None) -> tuple[np.ndarray, str | None]:
    """``latent`` [*shape] moved by every (direction, amount in std units), and the space it is then in.

    Edits limited to some layers on a result found in one shared code (StyleGAN's w) need per-layer codes: the
    code is turned into w+ first (each layer the same), so only the chosen layers move.
    """
    latent = np.asarray(latent, dtype=np.float32)
    if latent.ndim == 1 and any(direction.layers is not None for direction, _ in edits):
        code = torch.from_numpy(np.ascontiguousarray(latent[None])).to(G.device)
        with torch.no_grad():
            layered = G.convert_latent(code, space or G.default_space, "w+")[0].cpu().numpy()
        return apply_directions(layered, edits), "w+"
    return (apply_directions(latent, edits) if edits else latent), space


def edit_photo(G: Generator, photo: Photo, *, placement: Placement, latent: np.ndarray,
               edits: Sequence[tuple[Direction, float]], space: str | None = None,
               fill_mask: np.ndarray | None = None, feather: float = DEFAULT_FEATHER,
               composite: str = DEFAULT_COMPOSITE, reference: np.ndarray | None = None) -> Job[None, None, PhotoEdit]:
    """``latent`` moved by every (direction, amount in std units) (:func:`edited_latent`), rendered by ``G`` and
    composited (only the ``fill_mask`` pixels when the result came from an inpainting). A job with no steps.

    ``composite`` "detail" adds only the edit's change — the edited image minus ``reference`` (default: the
    unedited latent's image) — to the photo, which keeps its own detail; "replace" pastes the edited image."""
    check_composite_mode(composite)
    edited, edited_space = edited_latent(G, latent, edits, space)
    full = G.render_resolution != G.resolution and reference is None  # paste the full render where it has one
    image = render_latent(G, edited, edited_space, full=full)
    if composite == "replace":
        reference = None
    elif reference is None:
        reference = render_latent(G, np.asarray(latent, dtype=np.float32), space, full=full)
    composited = placement.composite(photo.pixels, image, fill_mask=fill_mask, feather=feather, reference=reference)
    return PhotoEdit(edited, image, composited, placement, reference)
    yield  # a generator function, like every photo job
