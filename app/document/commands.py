"""Undoable edits (``QUndoCommand``): mask strokes, crop changes and adopted inversion results.

Strokes and crop drags are already applied when they are pushed (the canvas showed them live), so their first
``redo`` is skipped; every later redo/undo replays them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtGui import QUndoCommand

from app.views.canvas_math import MaskEdit


class MaskOwner(Protocol):
    def apply_mask_edit(self, edit: MaskEdit, undo: bool = False) -> None: ...


class MaskEditCommand(QUndoCommand):
    """One brush or eraser stroke, or a clear / invert of the mask."""

    def __init__(self, owner: MaskOwner, edit: MaskEdit, text: str = "Brush stroke") -> None:
        super().__init__(text)
        self.owner, self.edit, self._applied = owner, edit, True

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        self.owner.apply_mask_edit(self.edit)

    def undo(self) -> None:
        self.owner.apply_mask_edit(self.edit, undo=True)


class ValueCommand(QUndoCommand):
    """A change from ``old`` to ``new`` replayed through ``apply`` (crop box, adopted result, …)."""

    def __init__(self, text: str, apply: Callable[[Any], None], old: Any, new: Any, applied: bool = True) -> None:
        super().__init__(text)
        self.apply, self.old, self.new, self._applied = apply, old, new, applied

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        self.apply(self.new)

    def undo(self) -> None:
        self.apply(self.old)
