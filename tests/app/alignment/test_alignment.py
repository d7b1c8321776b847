"""Automatic face alignment in the editor, offscreen on the real engine, model and face detector."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.alignment import align_faces, framing_for
from core.imageio import load_photo
from core.resources import resources_dir

SAMPLE = resources_dir() / "samples" / "astronaut.png"
WAIT_MS = 600_000  # generous: waits end on the work's own signal; this only ends a hang


def _open(qtbot, window, path) -> None:
    with qtbot.waitSignal(window.controller.photo_opened, timeout=WAIT_MS):
        window.open_path(path)
    qtbot.waitUntil(lambda: not window.controller.engine.busy, timeout=WAIT_MS)


def _align(qtbot, window) -> None:
    with qtbot.waitSignal(window.controller.busy_changed, timeout=WAIT_MS, check_params_cb=lambda busy: not busy):
        window.alignment.action.trigger()


@pytest.fixture
def rotated(tmp_path):
    path = tmp_path / "tilted.png"
    pixels = load_photo(SAMPLE).pixels
    Image.fromarray(pixels).rotate(15.0, Image.Resampling.BICUBIC, fillcolor=(128, 128, 128)).save(path)
    return path


@pytest.fixture
def aligned(window, qtbot, rotated):
    _open(qtbot, window, rotated)
    _align(qtbot, window)
    assert window.controller.alignment is not None
    return window


def _far_from(corners: np.ndarray, shape: tuple[int, int], margin: float) -> np.ndarray:
    """bool [H, W]: pixels further than ``margin`` from the square's bounding box."""
    ys, xs = np.mgrid[:shape[0], :shape[1]]
    (x0, y0), (x1, y1) = corners.min(0) - margin, corners.max(0) + margin
    return (xs < x0) | (xs > x1) | (ys < y0) | (ys > y1)


def test_align_face_turns_the_square_and_hides_the_crop_box(aligned):
    c = aligned.controller
    G = c.model("cpu")
    _, (upright,) = align_faces(load_photo(SAMPLE).pixels, framing_for(G), G.resolution)  # the face's own tilt
    assert abs(abs(c.alignment.angle - upright.angle) - 15.0) < 3.0
    assert aligned.alignment.action.isChecked()
    assert c.undo_stack.text(c.undo_stack.count() - 1) == "Align face"
    outline = aligned.canvas.aligned_square()
    assert outline is not None and aligned.canvas._aligned_item.isVisible()
    assert np.allclose(outline, c.alignment.corners())
    assert not aligned.canvas._crop_item.isVisible()
    edge = outline[1] - outline[0]
    drawn = abs(np.degrees(np.arctan2(edge[1], edge[0])))
    assert drawn > 8.0 and abs(drawn - abs(c.alignment.angle)) < 0.1  # drawn turned, not axis-aligned
    assert "Align Face" in {a.text().replace("&", "") for a in aligned.all_actions()}


def test_undo_removes_the_alignment_and_manual_crop_clears_it(aligned):
    c = aligned.controller
    c.undo_stack.undo()
    assert c.alignment is None and not aligned.alignment.action.isChecked()
    assert aligned.canvas.aligned_square() is None and aligned.canvas._crop_item.isVisible()
    c.undo_stack.redo()
    assert c.alignment is not None and aligned.canvas.aligned_square() is not None
    aligned.alignment.action.trigger()  # unchecking: back to the manual crop, one undo step
    assert c.alignment is None and c.undo_stack.text(c.undo_stack.count() - 1) == "Manual crop"
    c.undo_stack.undo()
    assert c.alignment is not None


def test_an_aligned_inversion_changes_only_the_face_square(aligned, qtbot, tmp_path):
    c, panel = aligned.controller, aligned.inversion_panel
    panel.steps.setValue(5)
    panel.starts.setValue(1)
    panel.lpips.setValue(0.0)
    with qtbot.waitSignal(c.composite_changed, timeout=WAIT_MS):
        aligned.composite_action.trigger()  # paste the model's face, so the square's footprint shows
    with qtbot.waitSignal(c.result_applied, timeout=WAIT_MS):
        panel.run_button.click()
    assert c.adopted.placement == c.placement
    photo = load_photo(tmp_path / "tilted.png").pixels
    far = _far_from(c.alignment.corners(), photo.shape[:2], 2.0)
    assert np.array_equal(c.adopted.display[far], photo[far])  # the display copy is the photo here (512 px)
    out = tmp_path / "out.png"
    with qtbot.waitSignal(c.busy_changed, timeout=WAIT_MS, check_params_cb=lambda busy: not busy):
        c.export(out)
    exported = load_photo(out).pixels
    assert exported.shape == photo.shape and far.any()
    assert np.array_equal(exported[far], photo[far])
    assert not np.array_equal(exported, photo)


def test_a_photo_without_a_face_keeps_the_manual_crop(window, qtbot, tmp_path):
    path = tmp_path / "gradient.png"
    pixels = np.zeros((300, 400, 3), np.uint8)
    pixels[..., 0] = np.linspace(0, 255, 400, dtype=np.uint8)[None]
    Image.fromarray(pixels).save(path)
    _open(qtbot, window, path)
    _align(qtbot, window)
    c = window.controller
    assert c.alignment is None and not window.alignment.action.isChecked()
    assert "No face" in window.status.text()
    assert window.canvas._crop_item.isVisible() and window.canvas.aligned_square() is None
    assert c.undo_stack.count() == 0


def test_a_project_keeps_the_alignment(aligned, qtbot, tmp_path):
    c = aligned.controller
    alignment = c.alignment
    with qtbot.waitSignal(aligned.projects.project_saved, timeout=WAIT_MS):
        aligned.projects.save(tmp_path / "aligned.lsproj")
    _open(qtbot, aligned, SAMPLE)
    assert c.alignment is None and aligned.canvas.aligned_square() is None
    with qtbot.waitSignal(aligned.projects.project_opened, timeout=WAIT_MS):
        aligned.projects.open(tmp_path / "aligned.lsproj")
    assert c.alignment == alignment
    assert aligned.canvas.aligned_square() is not None and not aligned.canvas._crop_item.isVisible()


def test_several_faces_offer_a_picker_that_switches_the_alignment(window, qtbot, tmp_path):
    astronaut = load_photo(SAMPLE).pixels[0:300, 75:375]
    hopper = load_photo(resources_dir() / "samples" / "grace_hopper.jpg").pixels
    hopper = np.asarray(Image.fromarray(hopper).resize((240, round(240 * hopper.shape[0] / hopper.shape[1]))))[:240]
    pixels = np.full((300, 560, 3), 128, np.uint8)
    pixels[:, :300], pixels[30:30 + hopper.shape[0], 310:550] = astronaut, hopper
    Image.fromarray(pixels).save(tmp_path / "two.png")
    _open(qtbot, window, tmp_path / "two.png")
    _align(qtbot, window)
    c, panel = window.controller, window.inversion_panel
    assert [panel.face.itemText(i) for i in range(panel.face.count())] == ["Face 1 (largest)", "Face 2"]
    assert panel.form.isRowVisible(panel.face) and panel.face.currentIndex() == 0
    first = c.alignment
    panel.face.activated.emit(1)
    assert c.alignment.face_index == 1 and c.alignment != first
    assert c.undo_stack.text(c.undo_stack.count() - 1) == "Choose face"
    assert np.allclose(window.canvas.aligned_square(), c.alignment.corners())
    c.undo_stack.undo()
    assert c.alignment == first and panel.face.currentIndex() == 0


def test_aligned_edits_and_projects_paste_through_the_square(aligned, qtbot, tmp_path):
    c = aligned.controller
    panel = aligned.inversion_panel
    panel.steps.setValue(5)
    panel.lpips.setValue(0.0)
    with qtbot.waitSignal(c.result_applied, timeout=WAIT_MS):
        panel.run_button.click()
    display = c.adopted.display.copy()
    aligned.edits.commit({}, {"smile": 1.5}, "Edit")
    qtbot.waitUntil(lambda: aligned.edits.last_preview is not None
                    and aligned.edits.last_preview.edits == aligned.edits.edits, timeout=WAIT_MS)
    preview = aligned.edits.last_preview
    corners = c.alignment.corners()
    assert preview.box.size >= np.ptp(corners, axis=0).max() and aligned.canvas.has_result_patch()
    with qtbot.waitSignal(aligned.projects.project_saved, timeout=WAIT_MS):
        aligned.projects.save(tmp_path / "aligned.lsproj")
    _open(qtbot, aligned, SAMPLE)
    assert c.alignment is None and aligned.canvas.aligned_square() is None
    with qtbot.waitSignal(aligned.projects.project_opened, timeout=WAIT_MS):
        aligned.projects.open(tmp_path / "aligned.lsproj")
    assert c.adopted.placement == c.placement and c.alignment is not None
    assert np.array_equal(c.adopted.display, display)
    assert np.array_equal(aligned.edits.last_preview.patch, preview.patch)
    assert aligned.edits.last_preview.box == preview.box
    assert aligned.canvas.aligned_square() is not None and not aligned.canvas._crop_item.isVisible()


def test_aligned_inpainting_fills_only_brushed_pixels(aligned, qtbot, tmp_path):
    c = aligned.controller
    corners = c.alignment.corners()
    cx, cy = (int(v) for v in corners.mean(0))
    mask = np.zeros(c.opened.photo.pixels.shape[:2], np.uint8)
    mask[cy + 10:cy + 40, cx - 30:cx + 30] = 255
    aligned.controller.replace_mask(mask, "Brush")
    panel = aligned.inpainting_panel
    panel.candidates.setValue(2)
    panel.steps.setValue(5)
    with qtbot.waitSignal(aligned.inpainting.inpaint.finished, timeout=WAIT_MS):
        panel.run_button.click()
    assert aligned.inpainting.inpaint.apply(0)
    assert c.fills[0].placement == c.placement  # the fill goes through the aligned square
    photo, shown = c.opened.photo.pixels, c.shown_display()
    assert np.array_equal(shown[mask == 0], photo[mask == 0])
    assert not np.array_equal(shown[mask > 0], photo[mask > 0])
    out = tmp_path / "filled.png"
    with qtbot.waitSignal(c.busy_changed, timeout=WAIT_MS, check_params_cb=lambda busy: not busy):
        c.export(out)
    assert np.array_equal(load_photo(out).pixels[mask == 0], photo[mask == 0])


def test_with_the_preference_on_a_photo_aligns_as_it_opens_and_a_project_keeps_its_own(window, qtbot, rotated,
                                                                                        tmp_path):
    c = window.controller
    window.settings.setValue("prefs/align_on_open", True)
    with qtbot.waitSignal(c.alignment_changed, timeout=WAIT_MS, check_params_cb=lambda a: a is not None):
        window.open_path(rotated)
    assert c.alignment is not None and window.alignment.action.isChecked()
    assert c.undo_stack.text(c.undo_stack.count() - 1) == "Align face"  # undo gives the crop box back
    qtbot.waitUntil(lambda: not c.engine.busy, timeout=WAIT_MS)
    window.alignment.action.trigger()  # back to the manual crop, then save: the project has no alignment
    assert c.alignment is None
    with qtbot.waitSignal(window.projects.project_saved, timeout=WAIT_MS):
        window.projects.save(tmp_path / "manual.lsproj")
    with qtbot.waitSignal(window.projects.project_opened, timeout=WAIT_MS):
        window.open_path(tmp_path / "manual.lsproj")
    qtbot.wait(200)
    qtbot.waitUntil(lambda: not c.engine.busy, timeout=WAIT_MS)
    assert c.alignment is None  # a project is reopened as saved, never re-aligned


def test_run_during_the_alignment_after_opening_starts_when_it_ends(window, qtbot):
    """Run clicked while the opened photo's face is still being aligned is not refused as busy: it waits, then
    inverts the aligned square."""
    c, panel = window.controller, window.inversion_panel
    window.settings.setValue("prefs/align_on_open", True)  # the suite opens photos without aligning
    with qtbot.waitSignal(c.photo_opened, timeout=WAIT_MS):
        window.open_path(SAMPLE)
    qtbot.waitUntil(lambda: c.aligning, timeout=WAIT_MS)
    panel.steps.setValue(5)
    panel.starts.setValue(1)
    panel.lpips.setValue(0.0)
    with qtbot.waitSignal(c.result_applied, timeout=WAIT_MS):
        panel.run_button.click()
        panel.run_button.click()  # a second click while waiting queues nothing more
    assert c.alignment is not None and c.adopted.placement == c.placement
    qtbot.waitUntil(lambda: not c.engine.busy, timeout=WAIT_MS)
    assert c.adopted.result.steps_done == 5
