"""GUI benchmark: ``python -m app.bench gui`` → ``bench/results/gui.json``.

During a real inversion run in the real main window (offscreen unless a display is set), a 5 ms timer on the
GUI thread records the longest gap between its ticks (the worst event-loop stall a user would feel), and the
run's steps/s is compared with the same run headless.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent.parent / "bench" / "results"


class StallMeter:
    """Longest gap between ticks of a fast timer on the GUI thread while it runs."""

    def __init__(self, interval_ms: int = 5) -> None:
        from PySide6.QtCore import QTimer

        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self._last = 0.0

    def start(self) -> None:
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now

    @property
    def longest_ms(self) -> float:
        return max(self.gaps, default=0.0) * 1000


def headless_steps_per_second(steps: int, starts: int) -> float:
    from core.device import from_uint8_hwc
    from core.generators import load_generator
    from core.imageio import CropBox, crop_and_resize, load_photo
    from core.inversion import InversionConfig, invert
    from core.jobs import run_job
    from core.resources import sample_face_crop, sample_photos

    G = load_generator()
    path = sample_photos()[0]
    box = CropBox.from_dict(sample_face_crop(path))
    target = from_uint8_hwc(crop_and_resize(load_photo(path).pixels, box, G.resolution))
    began = time.perf_counter()
    run_job(invert(G, target, InversionConfig(steps=steps, starts=starts)))
    return steps / (time.perf_counter() - began)


def gui_run(steps: int, starts: int) -> dict[str, float]:
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from app.controller import DocumentController
    from app.main_window import MainWindow
    from core.resources import sample_photos

    app = QApplication.instance() or QApplication([])
    settings = QSettings(str(Path(os.environ.get("TMPDIR", "/tmp")) / "ls_bench.ini"), QSettings.Format.IniFormat)
    settings.clear()
    controller = DocumentController()
    window = MainWindow(controller, settings)
    window.show()
    loop = QEventLoop()
    controller.photo_opened.connect(lambda _: loop.quit())
    window.open_path(sample_photos()[0])
    loop.exec()
    window.inversion_panel.steps.setValue(steps)
    window.inversion_panel.starts.setValue(starts)
    meter = StallMeter()
    done = QEventLoop()
    controller.run_state_changed.connect(lambda running: None if running else done.quit())
    QTimer.singleShot(0, meter.start)
    app.processEvents()
    began = time.perf_counter()
    window.run_inversion()
    done.exec()
    elapsed = time.perf_counter() - began
    meter.stop()
    result = {"steps_per_s": steps / elapsed, "longest_stall_ms": meter.longest_ms,
              "median_tick_ms": statistics.median(meter.gaps) * 1000 if meter.gaps else 0.0}
    window.close()
    return result


def bench_gui(args: argparse.Namespace) -> dict[str, Any]:
    from core.bench import machine_info
    from core.device import pick_device

    runs = [gui_run(args.steps, args.starts) for _ in range(args.repeats)]
    headless = [headless_steps_per_second(args.steps, args.starts) for _ in range(args.repeats)]
    gui_rate = statistics.median(r["steps_per_s"] for r in runs)
    head_rate = statistics.median(headless)
    return {"benchmark": "gui", "machine": machine_info(pick_device("auto")),
            "qt_platform": os.environ.get("QT_QPA_PLATFORM", "default"), "steps": args.steps, "starts": args.starts,
            "longest_stall_ms": round(max(r["longest_stall_ms"] for r in runs), 2),
            "median_tick_ms": round(statistics.median(r["median_tick_ms"] for r in runs), 2),
            "steps_per_s_gui": round(gui_rate, 2), "steps_per_s_headless": round(head_rate, 2),
            "gui_slowdown_percent": round(100 * (1 - gui_rate / head_rate), 1), "runs": runs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.bench", description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=["gui"])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--starts", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    report = bench_gui(args)
    out = args.out or RESULTS / "gui.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k not in ("runs", "machine")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
