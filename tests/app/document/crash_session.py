"""An editing session that dies: ``python -m tests.app.document.crash_session OUT`` builds the real main window
(offscreen) on the user data folder of ``$LANDSCAPE_STUDIO_DATA``, opens the sample, brushes the mask, moves the
crop, runs a short inversion, applies a direction edit, autosaves, writes what the document showed to
``OUT/expected.npz`` (and ``OUT/expected.json``), then kills itself with SIGKILL: no clean-up code runs, as in a
crash. ``test_recovery`` then recovers the work in a fresh window.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, QEventLoop, QSettings, QTimer, SignalInstance
from PySide6.QtWidgets import QApplication

WAIT_MS = 600_000  # only ends a hang


def wait_for(signal_: SignalInstance, start: Callable[[], object] | None = None) -> list[object]:
    """Run the event loop until ``signal_`` fires (after calling ``start``); its arguments."""
    loop, got = QEventLoop(), []

    def done(*args: object) -> None:
        got.append(args)
        loop.quit()

    signal_.connect(done)
    if start is not None:
        start()
    if not got:
        QTimer.singleShot(WAIT_MS, loop.quit)
        loop.exec()
    signal_.disconnect(done)
    if not got:
        raise TimeoutError(f"no signal {signal_}")
    return list(got[0])


def main(out: Path) -> None:
    app = QApplication.instance() or QApplication([sys.argv[0]])
    from app.document.controller import DocumentController
    from app.main_window import MainWindow
    from core.imageio import CropBox
    from core.resources import resources_dir

    settings = QSettings(str(out / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("prefs/align_on_open", False)
    win = MainWindow(DocumentController(), settings)
    win.show()
    c = win.controller
    wait_for(c.photo_opened, lambda: win.open_path(resources_dir() / "samples" / "astronaut.png"))
    if c.engine.busy:
        wait_for(c.engine_idle)
    stroke = np.zeros_like(c.mask)
    stroke[300:360, 40:140] = 255
    c.replace_mask(stroke, "Brush stroke")
    assert c.crop is not None
    c.set_crop(c.crop, CropBox(c.crop.x + 8, c.crop.y + 4, c.crop.size))
    panel = win.inversion_panel
    panel.steps.setValue(3)
    panel.lpips.setValue(0.0)
    timings = {}
    before_run = win.autosave.saved  # the autosave before a long job, off the GUI thread

    def remember(seconds: float) -> None:
        timings.setdefault("before_run_s", seconds)

    before_run.connect(remember)
    wait_for(c.result_applied, panel.run_button.click)
    if c.engine.busy:
        wait_for(c.engine_idle)
    name = win.edits.names()[0]
    wait_for(win.edits.preview_ready, lambda: win.edits.commit({}, {name: 1.5}, f"Edit {name}"))
    future = win.autosave.save()
    assert future is not None
    timings["edited_s"] = future.result()
    QCoreApplication.processEvents()
    composite = c.composite_photo()
    assert composite is not None and c.adopted is not None
    np.savez(out / "expected.npz", composite=composite(), mask=c.mask, image=c.adopted.image,
             latent=c.adopted.latent)
    (out / "expected.json").write_text(json.dumps({
        "title": win.windowTitle(), "edits": win.edits.edits, "crop": c.crop.to_dict() if c.crop else None,
        "pid": os.getpid(), "timings": timings}))
    del app
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
