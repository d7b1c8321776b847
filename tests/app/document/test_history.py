"""The canvas and the history agree: undoing an adopt brings back the previous result together with its edits."""

import numpy as np

from core.inpainting import InpaintConfig

WAIT_MS = 600_000  # generous: waits end on the work's own signal; this only ends a hang


def _invert(qtbot, window) -> None:
    panel = window.inversion_panel
    panel.steps.setValue(5)
    panel.lpips.setValue(0.0)
    with qtbot.waitSignal(window.controller.result_applied, timeout=WAIT_MS):
        window.run_inversion()


def _edit_shown(qtbot, window, edits) -> None:
    qtbot.waitUntil(lambda: window.edits.last_preview is not None and window.edits.last_preview.edits == edits,
                    timeout=WAIT_MS)


def test_undoing_an_applied_fill_brings_back_the_edited_inversion(qtbot, window):
    c = window.controller
    _invert(qtbot, window)
    inversion = c.adopted
    window.edits.commit({}, {"smile": 2.0}, "Edit smile")
    _edit_shown(qtbot, window, {"smile": 2.0})
    mask = np.zeros((512, 512), bool)
    mask[120:150, 200:260] = True
    c.replace_mask(mask, "Brush stroke")
    inpaint = window.inpainting.inpaint
    with qtbot.waitSignal(inpaint.finished, timeout=WAIT_MS):
        assert inpaint.run(InpaintConfig(candidates=2, steps=3, preview_every=10_000))
    assert inpaint.apply(0)
    assert c.adopted is inversion and window.edits.edits == {"smile": 2.0}  # the fill lies over the edited result
    assert len(c.fills) == 1 and c.undo_stack.undoText() == "Apply inpainting candidate #1"
    _edit_shown(qtbot, window, {"smile": 2.0})
    c.undo_stack.undo()
    assert c.undo_stack.text(c.undo_stack.index() - 1) == "Brush stroke"
    assert c.adopted is inversion and window.edits.edits == {"smile": 2.0}
    assert window.directions_panel.sliders["smile"].value() == 2.0
    _edit_shown(qtbot, window, {"smile": 2.0})  # the canvas shows the edit the history lists again
    assert window.canvas.has_result_patch()
    assert c.fills == ()
    c.undo_stack.redo()
    assert c.adopted is inversion and window.edits.edits == {"smile": 2.0} and len(c.fills) == 1
