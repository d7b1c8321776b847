"""The real main window on a sample photo, as a user has it open, for the GUI benchmarks (``gui``, ``sliders``).

Opening a photo starts work of its own on the engine thread (the model's description, then the automatic face
alignment, queued behind it); a Run asked for meanwhile is refused as busy or waits for the alignment. So the
session waits for that work to end before a measured run, and every wait ends: on the work's own signal or
outcome, or with a ``TimeoutError`` that says what did not happen and what the editor last said.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication

from app.document.controller import DocumentController
from app.main_window import MainWindow
from core.resources import sample_photos

if TYPE_CHECKING:
    from bench.gui import StallMeter

SETTLE_TIMEOUT_S = 600.0  # opening + alignment take seconds; generous, so a slow machine never fails
RUN_TIMEOUT_S = 3600.0  # one measured inversion run (200 steps take seconds here)


def wait_until(done: Callable[[], bool], timeout_s: float, what: str, status: Callable[[], str] = lambda: "",
               poll_ms: int = 10) -> None:
    """Run the GUI event loop until ``done()`` holds (checked every ``poll_ms``); ``TimeoutError`` naming
    ``what`` after ``timeout_s``. It polls, so it is not for use during a measurement (see :meth:`GuiSession.run`)."""
    if done():
        return
    loop, poll, deadline = QEventLoop(), QTimer(), QTimer()

    def check() -> None:
        if done():
            loop.quit()

    poll.timeout.connect(check)
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    poll.start(poll_ms)
    deadline.start(round(timeout_s * 1000))
    while not done() and deadline.isActive():
        loop.exec()
    poll.stop()
    deadline.stop()
    if not done():
        raise TimeoutError(f"{what} did not happen within {timeout_s:.0f} s (the editor's status: '{status()}')")


class GuiSession:
    """One main window on a sample photo, as a user has it open; runs inversions in it on demand."""

    def __init__(self) -> None:
        self.app = QApplication.instance() or QApplication([])
        ini = Path(os.environ.get("TMPDIR", "/tmp")) / "ls_bench.ini"
        settings = QSettings(str(ini), QSettings.Format.IniFormat)
        settings.clear()
        self.controller = DocumentController()
        self.window = MainWindow(self.controller, settings)
        self.last_status = ""
        self.controller.status_changed.connect(self._status)
        self.window.show()
        self.window.open_path(sample_photos()[0])
        wait_until(lambda: self.controller.opened is not None, SETTLE_TIMEOUT_S, "opening the sample photo",
                   status=lambda: self.last_status)
        if self.window.prefs.align_on_open:
            wait_until(lambda: self.controller.alignment is not None, SETTLE_TIMEOUT_S,
                       "the face alignment after opening", status=lambda: self.last_status)
        self.settle()

    def _status(self, text: str) -> None:
        self.last_status = text

    def settle(self) -> None:
        """Wait until the engine is idle: no job runs and none waits (a Run now starts at once)."""
        wait_until(lambda: not self.controller.engine.busy, SETTLE_TIMEOUT_S, "the editor's engine going idle",
                   status=lambda: self.last_status)

    def run(self, steps: int, starts: int, meter: StallMeter | None = None) -> float:
        """One inversion run of ``steps`` from ``starts`` starts, as Run in the window does it, once the engine is
        idle; its wall time in seconds. ``meter`` (if any) runs during it. Waits on the run's own end signal
        (no polling, which would disturb what is measured), under a generous deadline."""
        self.settle()
        self.window.inversion_panel.steps.setValue(steps)
        self.window.inversion_panel.starts.setValue(starts)
        done, deadline = QEventLoop(), QTimer()

        def finished(running: bool) -> None:
            if not running:
                done.quit()

        self.controller.run_state_changed.connect(finished)
        if meter is not None:
            QTimer.singleShot(0, meter.start)
        self.app.processEvents()
        began = time.perf_counter()
        self.window.run_inversion()
        try:
            if not self.controller.running:  # refused (e.g. busy): its end would never come
                raise RuntimeError(f"the editor did not start the run (its status: '{self.last_status}')")
            deadline.setSingleShot(True)  # silent until it fires
            deadline.timeout.connect(done.quit)
            deadline.start(round(RUN_TIMEOUT_S * 1000))
            done.exec()
            elapsed = time.perf_counter() - began
        finally:
            if meter is not None:
                meter.stop()
            self.controller.run_state_changed.disconnect(finished)
        if not deadline.isActive():
            raise TimeoutError(f"a {steps}-step run did not finish within {RUN_TIMEOUT_S:.0f} s "
                               f"(the editor's status: '{self.last_status}')")
        deadline.stop()
        return elapsed

    def close(self) -> None:
        self.window.controller.undo_stack.setClean()  # a scripted session: nothing to save, so closing does not ask
        self.window.close()

