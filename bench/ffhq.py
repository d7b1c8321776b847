"""``python -m bench ffhq``: what the user-installed 1024-px FFHQ MobileStyleGAN costs here.

Measured after one warm-up pass of each, as medians of ``repeats``:

- ``load_s``: reading and checking the install, building the network and estimating w's spread (10 000 z);
- ``working_forward_ms``: one 256-px image from w without gradients (what a slider preview costs);
- ``working_step_ms``: one direct-inversion step in w at 256 px (forward, pixel loss, backward, Adam), batch 1,
  and ``working_step_ms_lpips`` with the editor's LPIPS (AlexNet) term added;
- ``batch8_step_ms``: the same step for 8 faces at once (per batch; divide by 8 for per face);
- ``render_ms``: one full 1024-px image (paste-back and export);
- ``coarse_step_ms`` (and ``_lpips``): the same step on the coarse image a descent's first ``coarse_steps`` see
  (the 128-px block through the fitted to-image layer, :mod:`core.generators.coarse_head`); ``coarse_fit_s`` the
  one-off fit of that layer and ``coarse_fidelity_db`` its PSNR against the exact image on held-out samples;
- peak memory of forward, step and render: each in a fresh process (``python -m bench.ffhq KIND``) with the
  allocator settings the app uses (:mod:`core.allocator`, which keeps freed memory in the process, so a delta
  measured after other work would read ~0): the resident set's peak over the loaded model's, and the whole
  process's peak.

Timings are medians of at least 5 runs, each kind after two warm-up runs of its own: on this VM a step's time
varies by ±30 % from run to run, and the first runs after other work are slower while the heap settles.

Skips with a clear message when the model is not installed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import torch

from bench.common import machine_info
from bench.stylegan2 import median_ms, peak_memory_mb, proc_kib
from core.allocator import keep_freed_memory
from core.device import pick_device
from core.generators.ffhq_install import FFHQ_MODEL, PACKAGE, VERSION
from core.generators.mobilestylegan import MobileStyleGANGenerator
from core.generators.registry import load_generator
from core.inversion import InversionConfig
from core.inversion.optimize import build_objective


def _step(G: Any, n: int, lpips: float, coarse: bool = False) -> Callable[[], None]:
    target = G.sample(n, 100)  # [n, 3, 256, 256]
    w = G.sample_latent(n, 0, "w").requires_grad_(True)  # [n, w_dim]
    config = InversionConfig(space="w").with_changes(loss_lpips=lpips, loss_lpips_net="alex")
    objective = build_objective(G, target, config)
    optimizer = torch.optim.Adam([w], lr=0.05)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        images = G.synthesize_coarse(w, "w") if coarse else G.synthesize(w, "w")
        objective(images, w)["total"].sum().backward()
        optimizer.step()

    return step


def bench_ffhq(args: argparse.Namespace) -> dict[str, Any]:
    device = pick_device(args.device)
    repeats = max(1, args.repeats)
    began = time.perf_counter()
    G = load_generator(FFHQ_MODEL, device)
    load_s = time.perf_counter() - began
    w = G.sample_latent(1, 0, "w")

    def forward() -> None:
        with torch.no_grad():
            G.synthesize(w, "w")

    def render() -> None:
        with torch.no_grad():
            G.render(w, "w")

    step, step_lpips, step8 = _step(G, 1, 0.0), _step(G, 1, 0.5), _step(G, 8, 0.0)
    assert isinstance(G, MobileStyleGANGenerator)
    began = time.perf_counter()  # fitted here rather than read from the user's data folder: its cost is a figure
    fidelity = G.fit_coarse_head()
    fit_s = time.perf_counter() - began
    coarse_step, coarse_step_lpips = _step(G, 1, 0.0, coarse=True), _step(G, 1, 0.5, coarse=True)
    repeats = max(repeats, 5)

    def timed(run: Callable[[], None], times: int) -> float:  # two warm-up runs right before its own timing
        run()
        run()
        return round(median_ms(run, times, device), 1)

    peaks = {kind: _peak_in_child(kind, args.device) for kind in ("forward", "step", "render")}
    figures = {
        "load_s": round(load_s, 2), "num_ws": G.space("w+").shape[0], "working_resolution": G.resolution,
        "render_resolution": G.render_resolution,
        "working_forward_ms": timed(forward, repeats), "working_step_ms": timed(step, repeats),
        "working_step_ms_lpips": timed(step_lpips, repeats), "render_ms": timed(render, repeats),
        "batch8_step_ms": timed(step8, 3),
        "coarse_fit_s": round(fit_s, 1), "coarse_fidelity_db": round(fidelity, 2),
        "coarse_step_ms": timed(coarse_step, repeats), "coarse_step_ms_lpips": timed(coarse_step_lpips, repeats),
        **{f"{kind}_peak_mb": peak["added_mb"] for kind, peak in peaks.items()},
        **{f"{kind}_process_peak_mb": peak["process_mb"] for kind, peak in peaks.items()},
        "memory_method": next(iter(peaks.values()))["method"],
    }
    return {"benchmark": "ffhq", "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine_info(device), "model": G.model_id, "package": f"{PACKAGE}=={VERSION}",
            "repeats": repeats, "results": figures}


def _peak_in_child(kind: str, device: str) -> dict[str, Any]:
    """Peak memory of one ``kind`` ("forward", "step", "render") measured in a fresh process (see the doc)."""
    done = subprocess.run([sys.executable, "-m", "bench.ffhq", kind, device], capture_output=True, text=True,
                          check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _measure_peak(kind: str, device_name: str) -> dict[str, Any]:
    keep_freed_memory()
    device = pick_device(device_name)
    G = load_generator(FFHQ_MODEL, device)
    w = G.sample_latent(1, 0, "w")
    if kind == "step":
        run = _step(G, 1, 0.0)
    else:
        def run() -> None:
            with torch.no_grad():
                (G.render if kind == "render" else G.synthesize)(w, "w")
    added, method = peak_memory_mb(run, device)
    process = None if device.type == "cuda" else proc_kib("VmHWM")
    return {"added_mb": added, "process_mb": None if process is None else round(process / 1024, 1),
            "method": method}


if __name__ == "__main__":  # one memory measurement in this fresh process: python -m bench.ffhq KIND DEVICE
    print(json.dumps(_measure_peak(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "auto")))
