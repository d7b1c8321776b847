"""Directions in the editor, offscreen, real engine and model: sliders, live previews, undo, projects, dialogs."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from core.directions.recipes import recipe_directions
from core.imageio import load_photo
from core.resources import resources_dir

WAIT_MS = 600_000  # generous: waits end on the work's own signal; this only ends a hang


def invert(qtbot, win, steps=10):
    win.inversion_panel.steps.setValue(steps)
    win.inversion_panel.lpips.setValue(0.0)
    with qtbot.waitSignal(win.controller.result_applied, timeout=WAIT_MS):
        win.inversion_panel.run_button.click()


def drag_slider(qtbot, win, name, fraction):
    """Drag the handle of ``name``'s slider with the mouse to ``fraction`` (0..1) of its groove."""
    win.docks["directions"].raise_()
    slider = win.directions_panel.sliders[name].slider
    qtbot.waitExposed(slider)
    y = slider.height() // 2
    span = slider.width()
    start = QPoint(round(span * (slider.value() - slider.minimum()) / (slider.maximum() - slider.minimum())), y)
    QTest.mousePress(slider, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for step in range(1, 6):
        x = round(start.x() + (span * fraction - start.x()) * step / 5)
        QTest.mouseMove(slider, QPoint(x, y))
    QTest.mouseRelease(slider, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x, y))


def test_the_shipped_directions_are_sliders_that_wait_for_a_result(window):
    names = list(window.directions_panel.sliders)
    assert {"smile", "age", "glasses", "head turn"} <= set(names) and len(names) >= 8
    assert not window.directions_panel.sliders["smile"].isEnabled()


def test_dragging_a_slider_changes_the_image_live_and_is_one_undo_step(qtbot, window):
    invert(qtbot, window)
    edits, stack = window.edits, window.controller.undo_stack
    before = stack.count()
    shown = []
    edits.preview_ready.connect(shown.append)
    drag_slider(qtbot, window, "glasses", 0.95)
    qtbot.waitUntil(lambda: bool(shown) and shown[-1].edits == edits.edits, timeout=WAIT_MS)
    value = edits.edits["glasses"]
    assert value > 2.0 and window.canvas.has_result_patch()
    assert stack.count() == before + 1 and stack.text(stack.count() - 1).startswith("Edit glasses")
    patch = shown[-1].patch
    region = window.controller.adopted.display[:patch.shape[0]]  # any: the patch differs from the plain result
    assert patch.shape[0] == patch.shape[1] and region.size
    assert not np.array_equal(shown[-1].image, window.controller.adopted.image)
    stack.undo()
    qtbot.waitUntil(lambda: shown[-1].edits == {}, timeout=WAIT_MS)
    assert edits.edits == {} and window.directions_panel.sliders["glasses"].value() == 0.0
    assert not window.canvas.has_result_patch()
    stack.redo()
    assert window.directions_panel.sliders["glasses"].value() == value


def test_latest_request_wins(qtbot, window):
    invert(qtbot, window)
    edits = window.edits
    shown = []
    edits.preview_ready.connect(shown.append)
    for i in range(1, 41):
        edits.preview({"smile": i * 0.05})
    qtbot.waitUntil(lambda: bool(shown) and shown[-1].edits == {"smile": 2.0}, timeout=WAIT_MS)
    qtbot.wait(50)
    stamps = [p.stamp for p in shown]
    assert stamps == sorted(stamps) and len(shown) < 40  # stale requests were replaced, never queued


def test_export_writes_the_edited_crop(qtbot, window, tmp_path):
    invert(qtbot, window)
    with qtbot.waitSignal(window.controller.status_changed, timeout=WAIT_MS, check_params_cb=lambda t: "Exported" in t):
        window.controller.export(tmp_path / "plain.png")
    window.edits.commit({}, {"glasses": 3.0}, "Edit glasses")
    with qtbot.waitSignal(window.controller.status_changed, timeout=WAIT_MS, check_params_cb=lambda t: "Exported" in t):
        window.controller.export(tmp_path / "edited.png")
    plain, edited = (load_photo(tmp_path / n).pixels for n in ("plain.png", "edited.png"))
    box = window.controller.adopted.placement.crop
    inside = (slice(box.y, box.y + box.size), slice(box.x, box.x + box.size))
    assert not np.array_equal(plain[inside], edited[inside])
    outside = np.ones(plain.shape[:2], bool)
    outside[inside] = False
    assert np.array_equal(plain[outside], edited[outside])


def test_a_project_reopens_with_the_exact_pixels(qtbot, window, tmp_path):
    invert(qtbot, window)
    mask = np.zeros((512, 512), np.uint8)
    mask[300:340, 100:180] = 255
    window.controller.replace_mask(mask, "Brush")
    window.edits.commit({}, {"smile": 1.5, "glasses": -1.0}, "Edit")
    qtbot.waitUntil(lambda: window.edits.last_preview is not None
                    and window.edits.last_preview.edits == window.edits.edits, timeout=WAIT_MS)
    patch = window.edits.last_preview.patch.copy()
    with qtbot.waitSignal(window.projects.project_saved, timeout=WAIT_MS):
        window.projects.save(tmp_path / "edit.lsproj")
    with qtbot.waitSignal(window.controller.photo_opened, timeout=WAIT_MS):
        window.open_path(resources_dir() / "samples" / "grace_hopper.jpg")
    assert window.controller.adopted is None
    with qtbot.waitSignal(window.projects.project_opened, timeout=WAIT_MS):
        window.open_path(tmp_path / "edit.lsproj")
    assert window.canvas.photo_size() == (512, 512) and np.array_equal(window.canvas.mask(), mask)
    assert window.edits.edits == {"smile": 1.5, "glasses": -1.0}
    assert window.directions_panel.sliders["smile"].value() == 1.5
    assert np.array_equal(window.edits.last_preview.patch, patch) and window.canvas.has_result_patch()
    assert window.projects.path == tmp_path / "edit.lsproj"


def test_discover_adds_a_named_component(qtbot, window):
    window.directions.open_discover()
    dialog = window.directions.discover_dialog
    dialog.count.setValue(3)
    with qtbot.waitSignal(window.directions.maker.components_ready, timeout=WAIT_MS):
        dialog.compute.click()
    assert len(dialog.rows) == 3
    tick, field = dialog.rows[1]
    tick.setChecked(True)
    field.setText("my pose")
    dialog.add.click()
    assert "my pose" in window.directions_panel.sliders
    assert window.edits.library.get("my pose").method == "sefa"
    dialog.close()


def test_train_from_labels_adds_a_direction(qtbot, window):
    window.directions.open_labels()
    dialog = window.directions.label_dialog
    qtbot.waitUntil(lambda: len(dialog.faces) == dialog.count, timeout=WAIT_MS)
    for button in dialog.faces[::3]:
        button.setChecked(True)
    dialog.name.setText("odd ones")
    with qtbot.waitSignal(window.directions.maker.direction_made, timeout=WAIT_MS):
        dialog.train.click()
    made = window.edits.library.get("odd ones")
    assert made.method == "supervised" and made.provenance["labels"] == dialog.count
    assert "odd ones" in window.directions_panel.sliders
    dialog.close()


def test_an_interfacegan_boundary_file_imports_as_a_slider(qtbot, window, tmp_path):
    boundary = np.random.default_rng(0).normal(size=(1, 100)).astype(np.float32)
    np.save(tmp_path / "pose_boundary.npy", boundary)
    with qtbot.waitSignal(window.directions.maker.imported, timeout=WAIT_MS):
        assert window.directions.import_file(tmp_path / "pose_boundary.npy")
    assert "pose_boundary" in window.directions_panel.sliders
    assert window.edits.library.get("pose_boundary").method == "imported"
    np.save(tmp_path / "bad.npy", np.ones((1, 7), np.float32))
    count = len(window.edits.library)
    with qtbot.waitSignal(window.controller.error_raised, timeout=WAIT_MS) as blocker:
        window.directions.import_file(tmp_path / "bad.npy")
    assert "7" in blocker.args[0] or "100" in blocker.args[0]  # a clear message naming the size
    assert len(window.edits.library) == count


def test_a_conditional_direction_leaves_the_other_unchanged(window):
    name = window.directions.condition("age", ["glasses"])
    assert name == "age | glasses" and name in window.directions_panel.sliders
    library = window.edits.library
    made, glasses = library.get(name), library.get("glasses")
    assert abs(float(made.vector @ glasses.vector)) < 1e-6
    assert float(made.vector @ library.get("age").vector) > 0.5


def test_a_direction_from_two_photos(qtbot, window):
    samples = resources_dir() / "samples"
    with qtbot.waitSignal(window.directions.maker.direction_made, timeout=WAIT_MS):
        window.directions.maker.from_two_photos("astronaut to hopper", samples / "astronaut.png",
                                                samples / "grace_hopper.jpg", 20)
    made = window.edits.library.get("astronaut to hopper")
    assert made.method == "two-photos" and made.provenance["from"] == "astronaut.png"
    assert "astronaut to hopper" in window.directions_panel.sliders


def test_opening_another_photo_resets_the_edits_and_disables_the_sliders(qtbot, window):
    invert(qtbot, window)
    window.edits.commit({}, {"smile": 2.0}, "Edit smile")
    assert window.directions_panel.sliders["smile"].isEnabled()
    with qtbot.waitSignal(window.controller.photo_opened, timeout=WAIT_MS):
        window.open_path(resources_dir() / "samples" / "grace_hopper.jpg")
    assert window.edits.edits == {} and window.directions_panel.sliders["smile"].value() == 0.0
    assert not window.directions_panel.sliders["smile"].isEnabled()
    assert not window.canvas.has_result_patch()


def test_a_project_renders_with_its_own_vectors_and_never_writes_the_library(qtbot, window, tmp_path):
    invert(qtbot, window)
    window.edits.commit({}, {"smile": 2.0}, "Edit smile")
    qtbot.waitUntil(lambda: window.edits.last_preview is not None
                    and window.edits.last_preview.edits == {"smile": 2.0}, timeout=WAIT_MS)
    saved_image = window.edits.last_preview.image.copy()
    with qtbot.waitSignal(window.projects.project_saved, timeout=WAIT_MS):
        window.projects.save(tmp_path / "smile.lsproj")
    smile = window.edits.library.get("smile")  # the user changes the library after saving: smile turns around
    window.edits.remove_direction("smile")
    window.edits.add_direction(smile.replace(vector=-smile.vector))
    library_file = window.edits.library_dir / "library.json"
    written = library_file.read_bytes()
    with qtbot.waitSignal(window.controller.photo_opened, timeout=WAIT_MS):
        window.open_path(resources_dir() / "samples" / "grace_hopper.jpg")
    with qtbot.waitSignal(window.projects.project_opened, timeout=WAIT_MS):
        window.open_path(tmp_path / "smile.lsproj")
    assert library_file.read_bytes() == written  # opening a project wrote nothing outside it
    assert np.array_equal(window.edits.library.get("smile").vector, -smile.vector)  # the user's change stays
    assert np.array_equal(window.edits.direction("smile").vector, smile.vector)  # the project's own vector
    assert np.array_equal(window.edits.render_function({"smile": 2.0})(), saved_image)  # the same pixels again


def test_a_recipe_sliders_tooltip_says_what_was_seen_when_it_was_checked(window, tiny_stylegan2):
    """A model's recipe directions (FFHQ's glasses: labelled seeds on rows 0–5) tell the user what was checked."""
    recipe = {"name": "marked", "method": "labelled-seeds", "seeds": [0, 40], "yes": [1, 2, 3, 4], "layers": [0, 2],
              "checked": "+2 put the attribute on 3 of 4 faces."}
    made = recipe_directions(tiny_stylegan2, [recipe])
    shipped = window.directions_panel.sliders["smile"].toolTip()
    window.directions_panel.set_directions(made)
    tip = window.directions_panel.sliders["marked"].toolTip()
    assert tip.startswith("marked: supervised direction in w+, rows 0–1") and tip.endswith(
        "Checked by eye: +2 put the attribute on 3 of 4 faces.")
    assert shipped.startswith("smile: ") and "Checked by eye" not in shipped  # hand-labelled, not a recipe
