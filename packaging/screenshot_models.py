"""Screenshots of choosing the photoreal model (needs the FFHQ model installed):

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python packaging/screenshot_models.py [--out docs]

``screenshot_ffhq_offer.png`` (the first start offers the installed FFHQ model on the canvas),
``screenshot_models.png`` (File → Choose Model… with both models, speed measured here) and
``screenshot_ffhq_result.png`` (a photo inverted on FFHQ with its editor defaults, one named edit moved).
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
    parser.add_argument("--photo", type=Path, default=None, help="default: the Grace Hopper sample")
    parser.add_argument("--no-run", action="store_true", help="only the offer and the picker (no inversion)")
    parser.add_argument("--edit", default="age=1.5", help="the named edit moved on the result, NAME=AMOUNT")
    args = parser.parse_args()
    from PySide6.QtCore import QEventLoop, QPoint, QSettings
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

    def wait_for(signal: object, start: object) -> None:
        loop = QEventLoop()
        signal.connect(lambda *_: loop.quit())  # type: ignore[attr-defined]
        start()  # type: ignore[operator]
        loop.exec()

    wait_for(controller.photo_opened, lambda: window.open_path(args.photo or sample_photos()[-1]))
    wait_until_idle(app, controller)
    window.models.start(window.canvas.viewport())
    wait_until_idle(app, controller)
    args.out.mkdir(parents=True, exist_ok=True)
    settle(app)
    window.grab().save(str(args.out / "screenshot_ffhq_offer.png"))
    window.models.open_picker()
    wait_until_idle(app, controller)
    window.models.measure()
    wait_until_idle(app, controller)
    settle(app)
    assert window.models.picker is not None
    window.models.picker.table.selectRow(1)
    settle(app)
    window.models.picker.grab().save(str(args.out / "screenshot_models.png"))
    window.models.picker.close()
    if args.no_run:
        controller.shutdown()
        return 0
    assert window.models.offer is not None
    wait_for(window.models.models.model_loaded, window.models.offer.use_button.click)
    wait_until_idle(app, controller)
    window.inversion_panel.tune_steps.setValue(5)  # FFHQ's defaults with a shorter tuning: a screenshot, not a bench
    wait_for(controller.result_applied, window.inversion_panel.run_button.click)
    wait_until_idle(app, controller)
    name, _, amount = args.edit.rpartition("=")
    window.edits.commit({}, {name: float(amount)}, f"Edit {name}")
    wait_until_idle(app, controller)
    settle(app)
    window.grab().save(str(args.out / "screenshot_ffhq_result.png"))
    print("wrote screenshot_ffhq_offer, screenshot_models and screenshot_ffhq_result to", args.out)
    controller.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
