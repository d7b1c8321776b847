"""A drag on a tiny StyleGAN2 in the real window: live frames, one undo step with a w+ result, Stop keeping the face
reached so far, and the refusals that submit nothing."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from app.document.controller import DocumentController
from app.drag.controller import BUSY, NO_MASK, NO_POINTS, NO_RESULT, NOT_STYLE
from app.main_window import MainWindow
from tests.app.directions.test_directions import invert
from tests.app.drag.test_drag_points import click, drag_tool, inside
from tests.app.models.test_models import load, run_inversion
from tests.app.models.tiny_stylegan2 import write_tiny_stylegan2

WAIT_MS = 120_000  # generous for a tiny model: waits end on the work's own signal; this only ends a hang


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_tiny_stylegan2(tmp_path_factory.mktemp("models") / "tiny.pt")


@pytest.fixture
def inverted(window, qtbot, tiny):
    """The window on the tiny StyleGAN2 with the photo inverted in w, and the Drag tool chosen."""
    load(qtbot, window, tiny)
    run_inversion(qtbot, window, "w", steps=2)
    drag_tool(window)
    return window


def place(window, *pairs):
    for handle, target in pairs:
        click(window.canvas, inside(window, *handle))
        if target is not None:
            click(window.canvas, inside(window, *target))


def refused(qtbot, window, expected):
    """Drag is clicked and refused with ``expected``: a message, and no job (so nothing to wait for)."""
    before = window.controller.undo_stack.count()
    with qtbot.waitSignal(window.controller.error_raised) as said:
        window.drag.panel.run_button.click()
    assert expected in said.args[0]
    assert not window.controller.engine.pending("drag") and window.controller.undo_stack.count() == before


def test_a_drag_is_one_undo_step_with_a_w_plus_result(inverted, qtbot):
    window, c = inverted, inverted.controller
    before = c.adopted
    place(window, ((0.5, 0.5), (0.5, 0.3)), ((0.3, 0.6), (0.4, 0.65)))
    placed = window.canvas.drag_points()
    window.drag.panel.steps.setValue(4)
    frames = []
    window.drag.drag.frame_ready.connect(frames.append)
    with qtbot.waitSignal(window.drag.drag.finished, timeout=WAIT_MS) as done:
        window.drag.panel.run_button.click()
        assert window.drag.panel.stop_button.isEnabled() and not window.drag.panel.run_button.isEnabled()
    outcome = done.args[0]
    assert frames and any(f.patch is not None for f in frames)
    after = c.adopted
    assert after is outcome.adopted and after.space == "w+" and after.label == "drag edit"
    G = c.model("auto")
    assert after.latent.shape == (G.num_ws, G.w_dim)
    assert not np.allclose(after.latent, np.broadcast_to(before.latent, after.latent.shape))
    assert after.tuning is before.tuning and after.placement == before.placement
    assert after.reference is not None and np.array_equal(after.reference, before.image)  # only the change enters
    assert c.undo_stack.undoText() == "Drag Points" and window.drag.panel.run_button.isEnabled()
    assert not window.canvas.has_result_patch()  # the adopted display replaced the live preview
    ended = window.canvas.drag_points()
    assert [t for _, t in ended] == [t for _, t in placed]  # targets stay; handles sit where the drag left them
    assert np.allclose([h for h, _ in ended], outcome.handles)
    assert "step 4 / 4" in window.drag.panel.progress.text() or "arrived" in window.drag.panel.progress.text()
    c.undo_stack.undo()
    assert c.adopted is before and window.canvas.drag_points() == placed  # the face and points before the drag
    c.undo_stack.redo()
    assert c.adopted is after and window.canvas.drag_points() == ended


def test_stop_keeps_the_face_reached_so_far(inverted, qtbot):
    window, c = inverted, inverted.controller
    before = c.adopted
    place(window, ((0.5, 0.5), (0.5, 0.1)))
    window.drag.panel.steps.setValue(2000)

    def stop_once_moving(frame):
        if frame.step >= 1 and window.drag.panel.stop_button.isEnabled():
            window.drag.panel.stop_button.click()

    window.drag.drag.frame_ready.connect(stop_once_moving)
    with qtbot.waitSignal(window.drag.drag.finished, timeout=WAIT_MS) as done:
        window.drag.panel.run_button.click()
    result = done.args[0].result
    assert result.stopped and 1 <= result.steps < 2000
    assert c.adopted is not before and c.adopted.space == "w+" and "stopped" in window.status.text()


def test_a_masked_drag_uses_the_brushed_area(inverted, qtbot):
    window, c = inverted, inverted.controller
    place(window, ((0.5, 0.5), (0.6, 0.45)))
    panel = window.drag.panel
    assert not panel.masked.isEnabled()
    panel.masked.setChecked(True)
    box = window.canvas.crop()
    c.mask[box.y:box.y + box.size // 2, box.x:box.x + box.size] = 255  # the upper half may move
    c.mask_changed.emit(None)
    assert panel.masked.isEnabled() and panel.settings() == (panel.steps.value(), True)
    panel.steps.setValue(3)
    with qtbot.waitSignal(window.drag.drag.finished, timeout=WAIT_MS):
        panel.run_button.click()
    assert c.adopted.label == "drag edit"


def test_refusals_say_why_and_submit_nothing(inverted, qtbot):
    window = inverted
    refused(qtbot, window, NO_POINTS)
    place(window, ((0.5, 0.5), (0.5, 0.4)), ((0.4, 0.4), None))
    refused(qtbot, window, "Point 2 has no target")
    place(window, ((0.4, 0.3), None))  # the second pair's target
    window.drag.panel.masked.setChecked(True)
    window.drag.panel.masked.setEnabled(True)  # as if brushed: but nothing is, inside the square
    refused(qtbot, window, NO_MASK)
    window.drag.panel.masked.setChecked(False)
    window.drag.panel.steps.setValue(2000)
    with qtbot.waitSignal(window.drag.drag.finished, timeout=WAIT_MS):
        window.drag.panel.run_button.click()
        with qtbot.waitSignal(window.controller.error_raised) as said:
            window.drag.run()  # a second drag while the first runs
        assert BUSY in said.args[0]
        window.controller.stop()


def test_a_dcgan_cannot_be_dragged(window, qtbot):
    invert(qtbot, window, steps=2)  # the embedded default model: a DCGAN
    drag_tool(window)
    place(window, ((0.5, 0.5), (0.5, 0.4)))
    refused(qtbot, window, NOT_STYLE)


def test_a_drag_needs_a_photo_and_a_result(window, qtbot, tmp_path):
    drag_tool(window)
    place(window, ((0.5, 0.5), (0.5, 0.4)))
    refused(qtbot, window, NO_RESULT)
    empty = MainWindow(DocumentController(), QSettings(str(tmp_path / "empty.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(empty)
    try:
        with qtbot.waitSignal(empty.controller.error_raised) as said:
            empty.drag.panel.run_button.click()
        assert said.args[0] == "Open a photo first."
    finally:
        empty.controller.shutdown()


def test_the_drag_starts_from_the_slider_edits_and_bakes_them_in(inverted, qtbot):
    from core.photo_jobs import edited_latent

    window, c = inverted, inverted.controller
    with qtbot.waitSignal(window.edits.edits_applied, timeout=WAIT_MS):
        assert window.directions.style.request("truncation")  # a slider edit: truncation at 0.3
    edits = dict(window.edits.edits)
    G = c.model("auto")
    start, _space = edited_latent(G, c.adopted.latent, window.edits.pairs(edits), c.adopted.space)
    place(window, ((0.5, 0.5), (0.5, 0.3)))
    window.drag.panel.steps.setValue(2)
    with qtbot.waitSignal(window.drag.drag.finished, timeout=WAIT_MS):
        window.drag.panel.run_button.click()
    kept = c.adopted.latent[6:]  # the drag frees only the coarse rows: the rest is the code it started from
    assert np.allclose(kept, np.broadcast_to(start, kept.shape), atol=1e-6)
    assert window.edits.edits == {}  # the edits are in the dragged code now
    c.undo_stack.undo()
    assert window.edits.edits == edits
