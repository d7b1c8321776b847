"""The brush mask's history, part of the document controller: strokes, clear, invert and import as undo steps.

The mask (uint8 [H, W], 255 = brushed) is drawn live by the canvas into the controller's own array; these methods
record what changed so undo writes back exactly the pixels a step touched.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from app.document.commands import MaskEditCommand
from app.views.canvas_math import MaskEdit, mask_values, replacement_edit, write_edit
from core.errors import InvalidInputError
from core.imageio import load_mask

if TYPE_CHECKING:
    from PySide6.QtGui import QUndoStack

    from app.document.state import OpenedPhoto


class MaskHistory:
    """Mask editing for ``DocumentController`` (which provides the attributes declared here)."""

    mask: np.ndarray
    opened: OpenedPhoto | None
    undo_stack: QUndoStack
    mask_changed: Any  # a Signal(object) of the controller: (x, y, w, h) of the changed pixels, or None

    def push_mask_edit(self, edit: MaskEdit | None, text: str) -> None:
        """A mask change already made in ``mask`` (a brush stroke drawn live): record it for undo."""
        if edit is not None and edit.before.size:  # an empty edit (clearing an empty mask) is not history
            self.undo_stack.push(MaskEditCommand(self, edit, text))

    def apply_mask_edit(self, edit: MaskEdit, undo: bool = False) -> None:
        """Write ``edit.after`` (``edit.before`` when undoing) into the mask."""
        self.mask_changed.emit(write_edit(self.mask, edit, undo))

    def replace_mask(self, after: np.ndarray, text: str) -> None:
        """Make the mask ``after`` (uint8 0..255, bool or float 0..1, shaped like the photo; else ValueError) as one
        undo step covering only the pixels that change."""
        edit = replacement_edit(self.mask, mask_values(after, self.mask.shape))
        if edit.before.size:
            self.apply_mask_edit(edit)
            self.push_mask_edit(edit, text)

    def clear_mask(self) -> None:
        self.replace_mask(np.zeros_like(self.mask), "Clear mask")

    def invert_mask(self) -> None:
        self.replace_mask(255 - self.mask, "Invert mask")

    def import_mask(self, path: str | Path) -> None:
        """Read a mask PNG the size of the photo into the mask (one undo step)."""
        if self.opened is None:
            raise InvalidInputError("Open a photo before importing a mask.")
        photo = self.opened.photo
        self.replace_mask((load_mask(path, photo.width, photo.height) * 255).astype(np.uint8), "Import mask")

    def run_mask(self) -> np.ndarray | None:
        """A copy of the mask for a job, or None when nothing is brushed (strokes made during a run wait)."""
        return self.mask.copy() if self.mask.any() else None
