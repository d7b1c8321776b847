"""The main window filling a screen of a given size, after a short inversion of the sample photo: does every panel
fit and stay usable on a laptop? One size per X server:

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python packaging/screenshot_sizes.py [--out docs] [--more DIR]

Writes ``screenshot_<W>x<H>.png`` (the window as it opens, after the run) to ``--out``; with ``--more``, also the
Inpainting tab, the pivotal method's settings and the Landscape view opened, at the same size, into DIR.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    import faulthandler

    faulthandler.dump_traceback_later(90, exit=True)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--more", type=Path, default=None)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--height", type=int, default=0, help="the window's height, if not the screen's")
    args = parser.parse_args()
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from app.document.controller import DocumentController
    from app.main_window import MainWindow
    from core.resources import sample_photos

    app = QApplication([])
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.Format.IniFormat)
    controller = DocumentController()
    window = MainWindow(controller, settings)
    screen = window.screen().availableGeometry()
    if args.height:
        screen.setHeight(args.height)
    window.setGeometry(screen)  # no window manager under Xvfb: the window is given the whole screen
    window.show()
    wait = QEventLoop()
    controller.photo_opened.connect(lambda _: wait.quit())
    window.open_path(sample_photos()[0])
    wait.exec()
    wait_until_idle(app, controller)
    window.inversion_panel.steps.setValue(args.steps)
    done = QEventLoop()
    controller.run_state_changed.connect(lambda running: None if running else QTimer.singleShot(300, done.quit))
    window.run_inversion()
    done.exec()
    app.processEvents()
    size = f"{screen.width()}x{screen.height()}"
    args.out.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(args.out / f"screenshot_{size}.png"))
    print(f"window {window.size().toTuple()}, minimum size hint {window.minimumSizeHint().toTuple()}")
    if args.more is not None:
        shoot_more(app, window, args.more, size)
    controller.shutdown()  # no close(): an unsaved-changes question would wait for an answer
    return 0


def shoot_more(app: object, window: object, out: Path, size: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    window.docks["inpainting"].raise_()
    settle(app)
    window.grab().save(str(out / f"inpainting_{size}.png"))
    window.docks["inversion"].raise_()
    window.inversion_panel.method.setCurrentText("pivotal")
    settle(app)
    window.grab().save(str(out / f"pivotal_{size}.png"))
    window.docks["landscape"].show()
    window.docks["landscape"].raise_()
    settle(app)
    window.grab().save(str(out / f"landscape_{size}.png"))


def settle(app: object) -> None:
    for _ in range(5):
        app.processEvents()
        time.sleep(0.05)


def wait_until_idle(app: object, controller: object) -> None:
    """Let the engine's current job (the face alignment after opening) finish, drawing meanwhile."""
    while controller.engine.busy:
        app.processEvents()
        time.sleep(0.05)
    app.processEvents()


if __name__ == "__main__":
    sys.exit(main())
