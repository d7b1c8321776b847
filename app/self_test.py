"""``landscape-studio --self-test [--out DIR]``: proves an installed build works, display or not.

It builds and shows the editor's main window (offscreen when there is no display: this checks that the Qt
platform plugins and the GUI stack are in the bundle), then loads the default model, inverts a bundled sample
photo for a few steps with the pixel loss, writes the reconstruction as a PNG and prints one line with the PSNR
and the timings. Exit 0 when all of it worked, 1 (with ``self-test failed: …``) when any part did not.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

EXIT_FAILED = 1
MIN_PSNR_DB = 10.0  # a reconstruction worse than this means the engine is broken (20 pixel steps reach ~17 dB)


@dataclass(frozen=True)
class SelfTestReport:
    """What the self-test measured; seconds are wall-clock from the start of the self-test."""

    psnr_db: float  # PSNR of the reconstruction against the cropped sample, in dB
    steps: int  # inversion steps done
    window_shown_s: float | None  # main window built and shown (None: GUI check skipped)
    since_launch_s: float | None  # the process's age when the window was shown (None: unknown on this OS)
    model_s: float  # loading the default model
    inversion_s: float  # the inversion itself
    total_s: float  # the whole self-test
    platform: str | None  # Qt platform plugin in use ("xcb", "wayland", "offscreen"…)
    torch_version: str
    image: Path  # the reconstruction PNG

    def line(self) -> str:
        window = "skipped" if self.window_shown_s is None else f"{self.window_shown_s:.2f} s ({self.platform})"
        if self.since_launch_s is not None:
            window += f", {self.since_launch_s:.2f} s after launch"
        return (f"self-test ok: PSNR {self.psnr_db:.2f} dB after {self.steps} steps; window shown {window}, "
                f"model {self.model_s:.2f} s, inversion {self.inversion_s:.2f} s, total {self.total_s:.2f} s; "
                f"torch {self.torch_version}; wrote {self.image}")


def process_age() -> float | None:
    """Seconds since this process started (Linux: from /proc), or None where that is not known."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def show_main_window() -> tuple[float, str]:
    """Build the editor's main window, show it and let Qt paint it once; returns (seconds, platform name).
    Uses throwaway settings so a self-test never touches the user's preferences."""
    if sys.platform.startswith("linux") and not any(os.environ.get(v) for v in
                                                    ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    began = time.perf_counter()
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.document.controller import DocumentController
    from app.main_window import MainWindow

    app = cast("QApplication | None", QApplication.instance()) or QApplication([sys.argv[0]])
    with tempfile.TemporaryDirectory(prefix="ls-selftest-") as folder:
        settings = QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat)
        controller = DocumentController()
        window = MainWindow(controller, settings)
        try:
            window.resize(1200, 800)
            window.show()
            app.processEvents()
            if not window.isVisible():
                raise RuntimeError("the main window did not show")
            shown = time.perf_counter() - began
        finally:
            window.close()
            controller.shutdown()
            window.deleteLater()
            app.processEvents()
    return shown, app.platformName()


def invert_sample(out: Path, steps: int) -> tuple[float, float, float, Path]:
    """Invert the first bundled sample photo (its recorded face crop) with the pixel loss on the CPU;
    returns (PSNR dB, model seconds, inversion seconds, PNG path)."""
    from core.device import from_uint8_hwc
    from core.generators import load_generator
    from core.imageio import load_photo, save_image
    from core.inversion import InversionConfig, invert
    from core.jobs import run_job
    from core.metrics import psnr
    from core.objectives import LossWeights
    from core.placement import Placement
    from core.resources import sample_photos

    sample = sample_photos()[0]
    photo = load_photo(sample)
    placement = Placement.default_for(photo)
    began = time.perf_counter()
    G = load_generator("default", "cpu")
    loaded = time.perf_counter()
    target = placement.target(photo.pixels, G.resolution)  # uint8 [R, R, 3]
    config = InversionConfig(steps=steps, loss=LossWeights(pixel=1.0, lpips=0.0))
    result = run_job(invert(G, from_uint8_hwc(target, G.device), config))
    inverted = time.perf_counter()
    image = save_image(result.best_image, out / "self_test_reconstruction.png")
    score = float(psnr(from_uint8_hwc(result.best_image), from_uint8_hwc(target))[0])
    return score, loaded - began, inverted - loaded, image


def run_self_test(out: Path | None = None, steps: int = 20, gui: bool = True) -> SelfTestReport:
    """Run every check; raises on the first failure (the caller turns that into one line and exit 1)."""
    import torch

    began = time.perf_counter()
    window_s, platform = show_main_window() if gui else (None, None)
    since_launch = process_age() if gui else None
    folder = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="landscape-studio-selftest-"))
    folder.mkdir(parents=True, exist_ok=True)
    score, model_s, inversion_s, image = invert_sample(folder, steps)
    if not score >= MIN_PSNR_DB:
        raise RuntimeError(f"the reconstruction's PSNR is {score:.2f} dB (expected at least {MIN_PSNR_DB} dB)")
    total = time.perf_counter() - began
    return SelfTestReport(score, steps, window_s, since_launch, model_s, inversion_s, total, platform,
                          torch.__version__, image.resolve())


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="landscape-studio",
                                     description="Check that this installation works (display not needed).")
    parser.add_argument("--self-test", action="store_true", required=True)
    parser.add_argument("--out", type=Path, help="folder for the reconstruction PNG (default: a new temp folder)")
    parser.add_argument("--steps", type=int, default=20, help="inversion steps (default: 20)")
    parser.add_argument("--no-gui", action="store_true", help="skip building the main window")
    args = parser.parse_args(list(argv))
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    try:
        report = run_self_test(args.out, args.steps, gui=not args.no_gui)
    except Exception as exc:  # a self-test reports every failure as one clear line, never a traceback
        print(f"self-test failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(report.line(), flush=True)
    return 0
