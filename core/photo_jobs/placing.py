"""Choosing a photo's placement for a run: the given crop, the recorded or centred default, or an aligned face."""

from __future__ import annotations

from core.alignment import Alignment, align_faces, framing_for, pick
from core.generators import Generator
from core.imageio import CropBox, Photo
from core.placement import Placement


def align_face(photo: Photo, G: Generator, face: int = 0) -> Alignment:
    """Face ``face`` of the photo (0 = the largest) aligned to ``G``'s own framing; ``NoFaceFoundError`` if none."""
    _faces, alignments = align_faces(photo.pixels, framing_for(G), G.resolution)
    return pick(alignments, face)


def placement_for(photo: Photo, G: Generator, *, crop: CropBox | None = None, align: bool = False,
                  face: int = 0) -> Placement:
    """The placement a headless run uses: ``crop`` (else the photo's default square), or with ``align`` the
    aligned face ``face`` — the same rule the editor follows after opening a photo."""
    placement = Placement.default_for(photo, crop)
    return placement.aligned(align_face(photo, G, face)) if align else placement
