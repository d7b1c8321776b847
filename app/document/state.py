"""What the document holds about the open photo and its adopted result (plain frozen data, no Qt).

Views, presenters and engine jobs share these types without the controller's Qt machinery. Everything that is
shown on screen is derived through the one ``core.placement.Placement`` rule, on the display copy (a preview) or
the full-resolution photo (export).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from core.generators.tuning import WeightDelta
from core.imageio import CropBox, Photo, display_pixels, load_photo
from core.inversion import InversionResult
from core.placement import DEFAULT_COMPOSITE, Placement
from core.sessions import Document, EditedDirection, Fill
from core.sessions.fill_layers import stack


@dataclass(frozen=True)
class OpenedPhoto:
    """A loaded photo with its on-screen copy and the placement to start with."""

    photo: Photo
    display: np.ndarray  # uint8 HWC, at most 4096 px a side
    placement: Placement  # the photo's default square (a bundled sample's face box, else the largest centred one)

    @property
    def scale(self) -> float:
        """Display pixels per photo pixel (1 for photos no larger than the display copy's limit)."""
        return self.display.shape[1] / self.photo.width

    def on_display(self, placement: Placement) -> Placement:
        """``placement`` on the display copy's pixel grid (previews cost a fraction of full-resolution work)."""
        height, width = self.display.shape[:2]
        return placement.scaled(self.scale, width, height)

    def display_mask(self, mask: np.ndarray | None) -> np.ndarray | None:
        """A photo-sized mask (uint8 [H, W]) at the display copy's size."""
        if mask is None:
            return None
        height, width = self.display.shape[:2]
        if mask.shape == (height, width):
            return mask
        from PIL import Image

        return np.asarray(Image.fromarray(mask).resize((width, height), Image.Resampling.BILINEAR))

    def composite_on_display(self, placement: Placement, image: np.ndarray, fill_mask: np.ndarray | None,
                             feather: float, reference: np.ndarray | None = None) -> np.ndarray:
        """The display copy with ``image`` composited (what the canvas shows as "after"); with ``reference`` only
        its change from the reference is added (the "detail" composite)."""
        return self.on_display(placement).composite(self.display, image, fill_mask=self.display_mask(fill_mask),
                                                    feather=feather, reference=reference)

    def patch_on_display(self, placement: Placement, image: np.ndarray, fill_mask: np.ndarray | None,
                         feather: float, fills: Sequence[Fill] = (), base: np.ndarray | None = None, *,
                         reference: np.ndarray | None = None, detail: bool = True) -> tuple[np.ndarray, CropBox]:
        """Only the square's part of :meth:`composite_on_display` over ``base`` (default: the display copy), with
        ``fills`` stacked on top as they lie over it (``detail``: as "detail" fills), and where the part lies in
        photo pixels."""
        base = self.display if base is None else base
        patch, box = self.on_display(placement).patch(base, image, fill_mask=self.display_mask(fill_mask),
                                                      feather=feather, reference=reference)
        if fills:
            patch = self._with_fills(patch, box, base, fills, detail)
        back = 1.0 / self.scale
        return patch, CropBox(round(box.x * back), round(box.y * back), max(1, round(box.size * back)))

    def _with_fills(self, patch: np.ndarray, box: CropBox, base: np.ndarray, fills: Sequence[Fill],
                    detail: bool) -> np.ndarray:
        """``patch`` (display pixels at ``box``) with the fills applied over it; parts past the photo stay as they
        are (a viewer clips them)."""
        height, width = base.shape[:2]
        x0, y0, x1, y1 = max(box.x, 0), max(box.y, 0), min(box.x + box.size, width), min(box.y + box.size, height)
        if x0 >= x1 or y0 >= y1:
            return patch
        inner = (slice(y0 - box.y, y1 - box.y), slice(x0 - box.x, x1 - box.x))
        work = np.array(base, copy=True)
        work[y0:y1, x0:x1] = patch[inner]
        work = self.display_fills(work, fills, detail)
        patch = np.array(patch, copy=True)
        patch[inner] = work[y0:y1, x0:x1]
        return patch

    def display_fills(self, pixels: np.ndarray, fills: Sequence[Fill], detail: bool) -> np.ndarray:
        """Display-sized ``pixels`` with ``fills`` applied in order, as they look on the display copy (the rule of
        ``core.sessions.Fill.apply``, on the display's grid)."""
        for fill in fills:
            pixels = self.on_display(fill.placement).composite(
                pixels, fill.image, fill_mask=self.display_mask(fill.mask), feather=fill.feather,
                reference=self.fill_reference(fill.placement, pixels, fill.image.shape[0], detail))
        return pixels

    def fill_reference(self, placement: Placement, pixels: np.ndarray, resolution: int,
                       detail: bool) -> np.ndarray | None:
        """A "detail" fill's reference on the display: the display pixels' own view of the square at the model's
        resolution (None: the fill replaces the pixels)."""
        return self.on_display(placement).target(pixels, resolution) if detail else None

    def shown(self, adopted: Adopted | None, fills: Sequence[Fill], detail: bool) -> np.ndarray | None:
        """What the canvas shows as "after" (before any edit's patch): the result and the fills over the display
        copy; None when there is neither."""
        if adopted is None and not fills:
            return None
        return self.display_fills(adopted.display if adopted is not None else self.display, fills, detail)

    def to_display(self, pixels: np.ndarray) -> np.ndarray:
        """A full-resolution image of this photo at the display copy's size."""
        return pixels if pixels.shape == self.display.shape else display_pixels(replace(self.photo, pixels=pixels))


@dataclass(frozen=True)
class Adopted:
    """An inversion result placed into the photo: what the canvas shows as "after" and what export writes."""

    result: InversionResult | None  # the run it came from (None when restored from a project file)
    placement: Placement  # the square it was made for
    display: np.ndarray  # the display copy with the reconstruction composited
    latent: np.ndarray  # [*shape] the best latent: what edits move
    image: np.ndarray  # uint8 [R, R, 3] the reconstruction of ``latent`` as adopted
    fill_mask: np.ndarray | None = None  # uint8 [H, W]: an inpainting fills only these pixels (None: the square)
    tuning: WeightDelta | None = None  # the generator copy tuned for this photo ("pivotal"); None: the model
    space: str | None = None  # the latent space ``latent`` lives in (None: the model's default)
    label: str = "inversion"  # what made it, for the history ("direct inversion", "inpainting candidate #2")
    model_id: str = ""  # with ``result`` None (a reopened project): the model and settings that made it
    inversion: dict[str, Any] = field(default_factory=dict)
    reference: np.ndarray | None = None  # uint8 [R, R, 3]: the model's image of the photo when not ``image``
    composite: str = DEFAULT_COMPOSITE  # the composite ``display`` was blended with ("detail" | "replace")

    def change_reference(self, detail: bool) -> np.ndarray | None:
        """What an image of this result is composited against: under "detail" the model's image of the photo as
        it is (``reference``, else the adopted image), so only changes enter the photo; None under "replace" and
        for an older inpainting result (``fill_mask``), which always replaced its pixels."""
        if not detail or self.fill_mask is not None:
            return None
        return self.image if self.reference is None else self.reference

    def redisplayed(self, opened: OpenedPhoto, feather: float, detail: bool) -> Adopted:
        """The same result on the display copy under the other composite (engine thread: it blends pixels)."""
        display = opened.composite_on_display(self.placement, self.image, self.fill_mask, feather,
                                              self.change_reference(detail))
        return replace(self, display=display, composite="detail" if detail else "replace")

    def record(self) -> tuple[str, str, dict[str, Any]]:
        """(model id, latent space, inversion settings) of the run that made it."""
        if self.result is not None:
            return self.result.model_id, self.result.space, self.result.config.to_dict()
        return self.model_id, self.space or "", dict(self.inversion)


@dataclass(frozen=True, eq=False)
class DocumentState:
    """The editor's document, field for field what a project file stores (``core.sessions.Document``): the
    photo, where the model's square lies, the brush mask, the adopted result, the edits with their own vectors
    and the paste-back feather. ``DocumentController.state`` builds it; reopening a project makes one back."""

    opened: OpenedPhoto
    placement: Placement
    mask: np.ndarray | None  # uint8 [H, W], None when nothing is brushed
    adopted: Adopted | None
    edits: tuple[EditedDirection, ...]
    feather: float
    fills: tuple[Fill, ...] = ()  # inpainting fills stacked over the result, in the order applied
    composite: str = DEFAULT_COMPOSITE  # how results enter the photo: "detail" (their change) or "replace"

    def to_document(self, *, embed: bool) -> Document:
        """The project document (without the edited image, which the save job renders on the engine thread)."""
        photo, fields = self.opened.photo, self.document_fields()
        if photo.source is None:
            return Document(photo_path=None, photo_sha256="", **fields)
        return Document.for_photo(photo.source, embed=embed, **fields)

    def document_fields(self) -> dict[str, Any]:
        """Every field of the project document but the photo's (which a caller may take from elsewhere, as the
        autosave does)."""
        adopted = self.adopted
        fields: dict[str, Any] = {"crop": self.placement.crop, "alignment": self.placement.alignment,
                                  "feather": self.feather, "mask": self.mask, "fills": self.fills,
                                  "composite": self.composite}
        if adopted is not None:
            model_id, space, inversion = adopted.record()
            fields |= {"latents": adopted.latent[None], "best_index": 0, "image": adopted.image,
                       "fill_mask": adopted.fill_mask, "tuning": adopted.tuning,
                       "crop": adopted.placement.crop, "alignment": adopted.placement.alignment,
                       "model_id": model_id, "space": space, "inversion": inversion, "edits": self.edits,
                       "reference": adopted.reference}
        return fields

    @classmethod
    def from_document(cls, doc: Document, photo: Photo) -> DocumentState:
        """The state a project file describes, with its result composited on the display copy (engine thread)."""
        opened = OpenedPhoto(photo, display_pixels(photo), Placement(doc.crop))
        adopted = None
        if doc.latents is not None and doc.image is not None and doc.best_latent is not None:
            fill_mask = None if doc.fill_mask is None else np.array(doc.fill_mask)
            display = opened.composite_on_display(doc.placement, doc.image, fill_mask, doc.feather,
                                                  doc.result_reference)
            adopted = Adopted(None, doc.placement, display, doc.best_latent.copy(), doc.image, fill_mask, doc.tuning,
                              doc.space or None, "project result", doc.model_id, dict(doc.inversion), doc.reference,
                              doc.composite)
        return cls(opened, doc.placement, doc.mask, adopted, doc.edits if adopted is not None else (), doc.feather,
                   doc.fills, doc.composite)


FullRender = Callable[[], "tuple[np.ndarray, np.ndarray] | None"]  # engine-thread call: (image, reference) at full size


def composite_photo(pixels: np.ndarray, adopted: Adopted | None, image: np.ndarray | None,
                    fills: Sequence[Fill], feather: float, detail: bool,
                    full: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """The photo as the document shows it, at full resolution: the result (``image``: its edited rendering, else
    as adopted) composited, then the fills in order — what export writes and what a new fill starts from.
    ``detail``: the "detail" composite (results add their change; the photo keeps its own detail). ``full``:
    the edited image and the unedited reference rendered at a 1024-px model's full resolution (export)."""
    if adopted is not None and full is not None:  # (image, reference) at the model's full render resolution
        reference = full[1] if adopted.change_reference(detail) is not None else None
        pixels = adopted.placement.composite(pixels, full[0], fill_mask=adopted.fill_mask, feather=feather,
                                             reference=reference)
    elif adopted is not None:
        pixels = adopted.placement.composite(pixels, adopted.image if image is None else image,
                                             fill_mask=adopted.fill_mask, feather=feather,
                                             reference=adopted.change_reference(detail))
    return stack(pixels, fills, detail=detail)


def open_photo_job(path: Path) -> OpenedPhoto:
    photo = load_photo(path)
    return OpenedPhoto(photo, display_pixels(photo), Placement.default_for(photo))
