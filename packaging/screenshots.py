"""Render the main window as a newcomer meets it, during a real inversion and after it, for the README.

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python packaging/screenshots.py [--out docs]

Uses a real X server (Xvfb) so fonts, styles and docks look as a user sees them. Writes
``screenshot_first_run.png`` (the first start: the note on the canvas, the hint in the status bar),
``screenshot_running.png`` (mid-run: a pivotal run's loss plot over both phases), ``screenshot_done.png``
(after, result pasted into the photo), ``screenshot_directions.png`` (two sliders moved, the edit pasted into the
photo), ``screenshot_split.png`` (the Split view, its divider on the face), ``screenshot_inpainting.png`` (the
mouth of the edited result brushed out, candidates in the gallery, the second previewed over the edit),
``screenshot_compare.png`` (the five inversion methods side by side, one adopted) and
``screenshot_landscape.png`` (the Landscape view: both slices on one colour scale, axes, colour bar, legend).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()
    from PySide6.QtCore import QEventLoop, QPoint, QSettings, QTimer
    from PySide6.QtWidgets import QApplication
    from screenshot_sizes import settle, wait_until_idle  # a sibling script (packaging/ is not a package)

    from app.document.controller import DocumentController
    from app.main_window import MainWindow
    from core.resources import sample_photos

    app = QApplication([])
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.Format.IniFormat)
    controller = DocumentController()
    window = MainWindow(controller, settings)
    window.resize(1560, 960)
    window.move(QPoint(0, 0))
    window.show()
    wait = QEventLoop()
    controller.photo_opened.connect(lambda _: wait.quit())
    window.open_path(sample_photos()[0])
    wait.exec()
    wait_until_idle(app, controller)  # the face alignment that follows opening runs first; Run would be refused
    args.out.mkdir(parents=True, exist_ok=True)
    settle(app)
    window.grab().save(str(args.out / "screenshot_first_run.png"))
    window.inversion_panel.steps.setValue(args.steps)  # the editor's default method: pivotal
    window.inversion_panel.starts.setValue(4)
    shots: dict[str, bool] = {"running": False}

    def on_steps(records: list) -> None:  # mid-way through the weight tuning, so both phases show
        if not shots["running"] and records[-1].step >= args.steps + 60:
            shots["running"] = True
            QTimer.singleShot(50, lambda: window.grab().save(str(args.out / "screenshot_running.png")))

    window.inversion.steps_received.connect(on_steps)
    done = QEventLoop()
    controller.run_state_changed.connect(lambda running: None if running else QTimer.singleShot(300, done.quit))
    window.run_inversion()
    done.exec()
    app.processEvents()
    window.grab().save(str(args.out / "screenshot_done.png"))
    window.docks["directions"].raise_()
    edits = {"smile": 1.5, "glasses": 3.0}
    rendered = QEventLoop()
    window.edits.preview_ready.connect(lambda p: QTimer.singleShot(300, rendered.quit) if p.edits == edits else None)
    window.edits.commit({}, edits, "Edit")
    rendered.exec()
    app.processEvents()
    window.grab().save(str(args.out / "screenshot_directions.png"))
    window.toolbar.compare_actions[2].trigger()  # Split: the divider starts on the face
    settle(app)
    window.grab().save(str(args.out / "screenshot_split.png"))
    window.toolbar.compare_actions[0].trigger()
    shoot_inpainting(app, window, args.out)
    shoot_compare(app, window, args.out)
    shoot_landscape(app, window, args.out)
    controller.undo_stack.setClean()  # a scripted session: nothing to save, so closing does not ask
    window.close()
    print(f"wrote screenshot_first_run, _running, _done, _directions, _split, _inpainting, _compare and _landscape "
          f"(.png) to {args.out}")
    return 0


def shoot_landscape(app: object, window: object, out: Path) -> None:
    """A small slice of the loss around the adopted result, in X and in θ's Z, on one colour scale."""
    from PySide6.QtCore import QEventLoop, QTimer

    window.controller.undo_stack.setIndex(0)
    dock = window.docks["landscape"]
    dock.show()
    dock.raise_()
    window.landscape_panel.grid.setValue(21)
    done = QEventLoop()
    window.landscape.landscape.finished.connect(lambda _f: QTimer.singleShot(500, done.quit))
    window.landscape_panel.compute.click()
    done.exec()
    from screenshot_sizes import settle

    settle(app)
    window.grab().save(str(out / "screenshot_landscape.png"))


def shoot_inpainting(app: object, window: object, out: Path) -> None:
    """The mouth of the edited result brushed out and 8 candidates in the gallery, the second one previewed over
    the edit (a fill goes over what the document shows)."""
    import numpy as np
    from PySide6.QtCore import QEventLoop, QTimer

    crop = window.controller.crop
    mask = np.zeros((window.controller.opened.photo.height, window.controller.opened.photo.width), np.uint8)
    mask[crop.y + 78:crop.y + 112, crop.x + 30:crop.x + 96] = 255
    window.controller.replace_mask(mask, "Brush")
    window.docks["inpainting"].raise_()
    window.inpainting_panel.candidates.setValue(8)
    done = QEventLoop()
    window.inpainting.inpaint.finished.connect(lambda _r: QTimer.singleShot(300, done.quit))
    window.inpainting_panel.run_button.click()
    done.exec()
    window.inpainting_panel.gallery.setCurrentRow(1)
    app.processEvents()
    window.grab().save(str(out / "screenshot_inpainting.png"))


def shoot_compare(app: object, window: object, out: Path) -> None:
    """The five inversion methods on the sample's crop (100 steps each; pivotal tunes from a hybrid pivot)."""
    from PySide6.QtCore import QEventLoop, QTimer

    window.controller.undo_stack.setIndex(0)
    window.controller.clear_mask()
    panel = window.inversion_panel
    panel.steps.setValue(100)
    panel.starts.setValue(1)
    window.compare_dialog()
    dialog = window._compare_dialog
    dialog.resize(1500, 760)
    done = QEventLoop()
    dialog.compare.finished.connect(lambda _c: QTimer.singleShot(500, done.quit))
    dialog.run()
    done.exec()
    dialog.table.selectRow(4)  # pivotal: "Use this result" adopts it into the photo
    app.processEvents()
    dialog.grab().save(str(out / "screenshot_compare.png"))
    dialog.close()


if __name__ == "__main__":
    sys.exit(main())
