"""GUI benchmarks: ``python -m app.bench gui`` → ``bench/results/gui.json``, ``python -m app.bench sliders`` →
``bench/results/sliders.json``.

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

import numpy as np

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


class GuiSession:
    """One main window on a sample photo, as a user has it open; runs inversions in it on demand."""

    def __init__(self) -> None:
        from PySide6.QtCore import QEventLoop, QSettings
        from PySide6.QtWidgets import QApplication

        from app.controller import DocumentController
        from app.main_window import MainWindow
        from core.resources import sample_photos

        self.app = QApplication.instance() or QApplication([])
        ini = Path(os.environ.get("TMPDIR", "/tmp")) / "ls_bench.ini"
        settings = QSettings(str(ini), QSettings.Format.IniFormat)
        settings.clear()
        self.controller = DocumentController()
        self.window = MainWindow(self.controller, settings)
        self.window.show()
        loop = QEventLoop()
        self.controller.photo_opened.connect(lambda _: loop.quit())
        self.window.open_path(sample_photos()[0])
        loop.exec()

    def run(self, steps: int, starts: int, measure_stalls: bool = True) -> dict[str, float]:
        """One run. The stall meter wakes the GUI thread every 5 ms, which itself takes the GIL from the engine,
        so throughput is measured in runs without it."""
        from PySide6.QtCore import QEventLoop, QTimer

        self.window.inversion_panel.steps.setValue(steps)
        self.window.inversion_panel.starts.setValue(starts)
        meter, done = StallMeter(), QEventLoop()

        def finished(running: bool) -> None:
            if not running:
                done.quit()

        self.controller.run_state_changed.connect(finished)
        if measure_stalls:
            QTimer.singleShot(0, meter.start)
        self.app.processEvents()
        began = time.perf_counter()
        self.window.run_inversion()
        done.exec()
        elapsed = time.perf_counter() - began
        meter.stop()
        self.controller.run_state_changed.disconnect(finished)
        return {"steps_per_s": steps / elapsed, "longest_stall_ms": meter.longest_ms,
                "median_tick_ms": statistics.median(meter.gaps) * 1000 if meter.gaps else 0.0}

    def close(self) -> None:
        self.window.close()


def bench_gui(args: argparse.Namespace) -> dict[str, Any]:
    from app.workers import configure_interpreter
    from core.bench import machine_info
    from core.device import pick_device

    configure_interpreter()  # as the application does; the headless runs below share it
    session = GuiSession()
    runs = [session.run(args.steps, args.starts) for _ in range(args.repeats)]
    plain, headless = [], []
    for _ in range(args.repeats):  # interleaved, so drifts of the machine's speed hit both alike
        plain.append(session.run(args.steps, args.starts, measure_stalls=False))
        headless.append(headless_steps_per_second(args.steps, args.starts))
    session.close()
    gui_rate = statistics.median(r["steps_per_s"] for r in plain)
    head_rate = statistics.median(headless)
    return {"benchmark": "gui", "machine": machine_info(pick_device("auto")),
            "qt_platform": os.environ.get("QT_QPA_PLATFORM", "default"), "steps": args.steps, "starts": args.starts,
            "longest_stall_ms": round(max(r["longest_stall_ms"] for r in runs), 2),
            "median_tick_ms": round(statistics.median(r["median_tick_ms"] for r in runs), 2),
            "steps_per_s_gui": round(gui_rate, 2), "steps_per_s_headless": round(head_rate, 2),
            "steps_per_s_gui_with_stall_meter": round(statistics.median(r["steps_per_s"] for r in runs), 2),
            "gui_slowdown_percent": round(100 * (1 - gui_rate / head_rate), 1), "runs": runs + plain,
            "headless_steps_per_s": [round(h, 2) for h in headless]}


def bench_sliders(args: argparse.Namespace) -> dict[str, Any]:
    """Slider value → pixels on screen, over a scripted drag at 60 moves a second on an inverted sample photo.

    Latency of one move = from the slider's value change to the end of the first canvas paint after the preview
    carrying that move's stamp (or a newer one: a stale request is never drawn, by design) reached the canvas.
    """
    from PySide6.QtCore import QEventLoop, QTimer

    from app.workers import configure_interpreter
    from core.bench import machine_info
    from core.device import pick_device

    configure_interpreter()
    session = GuiSession()
    session.run(args.steps, 1, measure_stalls=False)
    window, edits = session.window, session.window.edits
    window.docks["directions"].raise_()
    slider = window.directions_panel.sliders[args.direction]
    asked: dict[int, float] = {}
    latencies: list[float] = []
    on_canvas = [0]  # the newest stamp handed to the canvas, not yet painted

    def shown(preview: Any) -> None:
        on_canvas[0] = preview.stamp

    def painted() -> None:
        now = time.perf_counter()
        for stamp in [s for s in asked if s <= on_canvas[0]]:
            latencies.append((now - asked.pop(stamp)) * 1000)

    edits.preview_ready.connect(shown)  # after the presenter's slot (Qt calls slots in connection order)
    window.canvas.painted.connect(painted)
    values = [3 * np.sin(2 * np.pi * i / args.moves) for i in range(args.moves)]
    loop, timer, index = QEventLoop(), QTimer(), [0]

    def move() -> None:
        if index[0] >= len(values):
            timer.stop()
            QTimer.singleShot(500, loop.quit)
            return
        slider.value_changing.emit(float(values[index[0]]))
        asked[edits.stamp] = time.perf_counter()
        index[0] += 1

    timer.timeout.connect(move)
    timer.start(round(1000 / args.rate))
    loop.exec()
    session.close()
    ordered = sorted(latencies)
    pick = lambda q: ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]  # noqa: E731
    return {"benchmark": "sliders", "machine": machine_info(pick_device("auto")),
            "qt_platform": os.environ.get("QT_QPA_PLATFORM", "default"), "direction": args.direction,
            "moves": len(values), "moves_per_s": args.rate, "shown": len(latencies),
            "p50_ms": round(pick(0.5), 2), "p95_ms": round(pick(0.95), 2), "max_ms": round(ordered[-1], 2),
            "target_p95_ms": 16.0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.bench", description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=["gui", "sliders"])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--moves", type=int, default=600, help="sliders: moves in the scripted drag")
    parser.add_argument("--rate", type=float, default=60.0, help="sliders: moves per second")
    parser.add_argument("--direction", default="smile", help="sliders: the direction dragged")
    parser.add_argument("--starts", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    report = bench_gui(args) if args.name == "gui" else bench_sliders(args)
    out = args.out or RESULTS / f"{args.name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k not in ("runs", "machine")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
