"""Render the main window during a real inversion and after it, for the README.

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python packaging/screenshots.py [--out docs]

Uses a real X server (Xvfb) so fonts, styles and docks look as a user sees them. Writes
``screenshot_running.png`` (mid-run), ``screenshot_done.png`` (after, result pasted into the photo) and
``screenshot_directions.png`` (the Directions panel with two sliders moved, the edit pasted into the photo),
``screenshot_inpainting.png`` and ``screenshot_compare.png`` (the five inversion methods side by side).
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
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    from PySide6.QtCore import QEventLoop, QPoint, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

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
    window.inversion_panel.steps.setValue(args.steps)
    window.inversion_panel.starts.setValue(4)
    args.out.mkdir(parents=True, exist_ok=True)
    shots: dict[str, bool] = {"running": False}

    def on_steps(records: list) -> None:
        if not shots["running"] and records[-1].step >= args.steps // 3:
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
    shoot_inpainting(app, window, args.out)
    shoot_compare(app, window, args.out)
    controller.undo_stack.setClean()  # a scripted session: nothing to save, so closing does not ask
    window.close()
    print(f"wrote screenshot_running.png, screenshot_done.png, screenshot_directions.png, "
          f"screenshot_inpainting.png and screenshot_compare.png to {args.out}")
    return 0


def wait_until_idle(app: object, controller: object) -> None:
    """Let the engine's current job (the face alignment after opening) finish, drawing meanwhile."""
    import time

    while controller.engine.busy:
        app.processEvents()
        time.sleep(0.05)
    app.processEvents()


def shoot_inpainting(app: object, window: object, out: Path) -> None:
    """The mouth brushed out of the original photo and 8 candidates in the gallery, the second one previewed."""
    import numpy as np
    from PySide6.QtCore import QEventLoop, QTimer

    window.controller.undo_stack.setIndex(0)  # back to the photo as opened
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
    app.processEvents()
    dialog.grab().save(str(out / "screenshot_compare.png"))


if __name__ == "__main__":
    sys.exit(main())
