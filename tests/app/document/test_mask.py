"""The brush mask lives in the document: replaced, cleared, inverted and imported as undoable steps, and the canvas
draws the document's own array."""

import numpy as np
import pytest

from app.document.controller import DocumentController
from app.document.state import OpenedPhoto
from app.views.canvas import CanvasView
from core.imageio import Photo
from core.placement import Placement


@pytest.fixture
def doc(qtbot):
    controller = DocumentController()
    pixels = np.zeros((30, 40, 3), np.uint8)
    photo = Photo(pixels, None, None, "RGB")
    controller.show_photo(OpenedPhoto(photo, pixels, Placement.default_for(photo)))
    yield controller
    controller.shutdown()


def test_clear_and_invert_are_undoable_steps_covering_only_what_changed(doc):
    marked = np.zeros((30, 40), bool)
    marked[5:10, 5:10] = True
    doc.replace_mask(marked, "Brush")
    assert doc.mask.sum() == 255 * 25
    doc.clear_mask()
    assert doc.mask.max() == 0 and doc.undo_stack.text(doc.undo_stack.count() - 1) == "Clear mask"
    assert doc.undo_stack.command(doc.undo_stack.count() - 1).edit.before.shape == (5, 5)  # just the brushed box
    doc.undo_stack.undo()
    assert doc.mask.sum() == 255 * 25
    doc.invert_mask()
    assert doc.mask[0, 0] == 255 and doc.mask[7, 7] == 0
    doc.undo_stack.undo()
    assert doc.mask[0, 0] == 0 and doc.mask[7, 7] == 255
    count = doc.undo_stack.count()
    doc.replace_mask(doc.mask.copy(), "Nothing")  # no change, no history
    assert doc.undo_stack.count() == count


def test_replace_mask_accepts_bool_and_float_and_refuses_another_size(doc):
    with pytest.raises(ValueError, match="must match"):
        doc.replace_mask(np.zeros((3, 4), np.uint8), "Import mask")
    doc.replace_mask(np.full((30, 40), 0.5, np.float32), "Import mask")
    assert doc.mask[15, 15] == 128
    assert doc.run_mask() is not None and doc.run_mask() is not doc.mask  # a job gets a copy
    doc.clear_mask()
    assert doc.run_mask() is None  # nothing brushed: runs see no mask


def test_the_canvas_draws_the_documents_mask(doc, qtbot):
    canvas = CanvasView()
    qtbot.addWidget(canvas)
    canvas.set_photo(doc.opened.display, (40, 30))
    canvas.attach_mask(doc.mask)
    doc.mask_changed.connect(canvas.refresh_mask)
    doc.replace_mask(np.ones((30, 40), bool), "Brush")
    assert canvas.mask().min() == 255
    doc.undo_stack.undo()
    assert canvas.mask().max() == 0
