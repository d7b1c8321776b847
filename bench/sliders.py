"""``python -m bench sliders`` → ``bench/results/sliders.json``: slider value → pixels on screen.

A scripted drag of one direction's slider at 60 moves a second on an inverted sample photo in the real main
window (offscreen unless a display is set).
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np
from PySide6.QtCore import QEventLoop, QTimer

from bench.common import machine_info
from bench.gui_session import GuiSession


def drag_latencies_ms(session: GuiSession, direction: str, moves: int, rate: float) -> list[float]:
    """Latency of each shown move of a sine drag (±3) of ``direction``'s slider: from the slider's value change
    to the end of the first canvas paint after the preview carrying that move's stamp (or a newer one: a stale
    request is never drawn, by design) reached the canvas."""
    window, edits = session.window, session.window.edits
    window.docks["directions"].raise_()
    slider = window.directions_panel.sliders[direction]
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
    values = [3 * np.sin(2 * np.pi * i / moves) for i in range(moves)]
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
    timer.start(round(1000 / rate))
    loop.exec()  # ends by itself: the timer stops after the last move
    edits.preview_ready.disconnect(shown)
    window.canvas.painted.disconnect(painted)
    return latencies


def bench_sliders(args: argparse.Namespace) -> dict[str, Any]:
    """Slider value → pixels on screen, over a scripted drag at ``--rate`` moves a second after a ``--steps``
    inversion (see :func:`drag_latencies_ms`)."""
    from app.engine import configure_interpreter
    from core.device import pick_device

    configure_interpreter()
    session = GuiSession()
    session.run(args.steps, 1)
    session.settle()  # whatever the adopted result set off has ended: the drag starts on an idle engine
    latencies = drag_latencies_ms(session, args.direction, args.moves, args.rate)
    session.close()
    if not latencies:
        raise RuntimeError(f"no move of the {args.direction} slider reached the screen")
    ordered = sorted(latencies)
    pick = lambda q: ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]  # noqa: E731
    return {"benchmark": "sliders", "machine": machine_info(pick_device("auto")),
            "qt_platform": os.environ.get("QT_QPA_PLATFORM", "default"), "direction": args.direction,
            "moves": args.moves, "moves_per_s": args.rate, "shown": len(latencies),
            "p50_ms": round(pick(0.5), 2), "p95_ms": round(pick(0.95), 2), "max_ms": round(ordered[-1], 2),
            "target_p95_ms": 16.0}
