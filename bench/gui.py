"""``python -m bench gui`` → ``bench/results/gui.json``: the editor's responsiveness during a run.

During a real inversion run in the real main window (offscreen unless a display is set), a 5 ms timer on the
GUI thread records the longest gap between its ticks (the worst event-loop stall a user would feel), and the
run's steps/s is compared with the same run headless.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

from PySide6.QtCore import QTimer

from bench.common import machine_info
from bench.gui_session import GuiSession


class StallMeter:
    """Longest gap between ticks of a fast timer on the GUI thread while it runs."""

    def __init__(self, interval_ms: int = 5) -> None:
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

    @property
    def median_tick_ms(self) -> float:
        return statistics.median(self.gaps) * 1000 if self.gaps else 0.0


def headless_steps_per_second(steps: int, starts: int) -> float:
    from core.device import from_uint8_hwc
    from core.generators import load_generator
    from core.imageio import load_photo
    from core.inversion import InversionConfig, invert
    from core.jobs import run_job
    from core.placement import Placement
    from core.resources import sample_photos

    G = load_generator()
    photo = load_photo(sample_photos()[0])
    target = from_uint8_hwc(Placement.default_for(photo).target(photo.pixels, G.resolution))
    began = time.perf_counter()
    run_job(invert(G, target, InversionConfig(steps=steps, starts=starts)))
    return steps / (time.perf_counter() - began)


def measured_run(session: GuiSession, steps: int, starts: int, measure_stalls: bool = True) -> dict[str, float]:
    """One run in the window. The stall meter wakes the GUI thread every 5 ms, which itself takes the GIL from
    the engine, so throughput is measured in runs without it."""
    meter = StallMeter()
    seconds = session.run(steps, starts, meter if measure_stalls else None)
    return {"steps_per_s": steps / seconds, "longest_stall_ms": meter.longest_ms,
            "median_tick_ms": meter.median_tick_ms}


def bench_gui(args: argparse.Namespace) -> dict[str, Any]:
    from app.engine import configure_interpreter
    from core.device import pick_device

    configure_interpreter()  # as the application does; the headless runs below share it
    session = GuiSession()
    runs = [measured_run(session, args.steps, args.starts) for _ in range(args.repeats)]
    plain, headless = [], []
    for _ in range(args.repeats):  # interleaved, so drifts of the machine's speed hit both alike
        plain.append(measured_run(session, args.steps, args.starts, measure_stalls=False))
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
