"""``python -m bench ffhq``: what the user-installed 1024-px FFHQ MobileStyleGAN costs here.

Measured after one warm-up pass of each, as medians of ``repeats``:

- ``load_s``: reading and checking the install, building the network and estimating w's spread (10 000 z);
- ``working_forward_ms``: one 256-px image from w without gradients (what a slider preview costs);
- ``working_step_ms``: one direct-inversion step in w at 256 px (forward, pixel loss, backward, Adam), batch 1,
  and ``working_step_ms_lpips`` with the editor's LPIPS (AlexNet) term added;
- ``batch8_step_ms``: the same step for 8 faces at once (per batch; divide by 8 for per face);
- ``render_ms``: one full 1024-px image (paste-back and export);
- peak memory of forward, step and render, measured as ``bench stylegan2`` does.

Skips with a clear message when the model is not installed.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import torch

from bench.common import machine_info
from bench.stylegan2 import median_ms, peak_memory_mb
from core.device import pick_device
from core.generators.ffhq_install import FFHQ_MODEL, PACKAGE, VERSION
from core.generators.registry import load_generator
from core.inversion import InversionConfig
from core.inversion.optimize import build_objective


def _step(G: Any, n: int, lpips: float) -> Callable[[], None]:
    target = G.sample(n, 100)  # [n, 3, 256, 256]
    w = G.sample_latent(n, 0, "w").requires_grad_(True)  # [n, w_dim]
    config = InversionConfig(space="w").with_changes(loss_lpips=lpips, loss_lpips_net="alex")
    objective = build_objective(G, target, config)
    optimizer = torch.optim.Adam([w], lr=0.05)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        objective(G.synthesize(w, "w"), w)["total"].sum().backward()
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
    forward_peak, method = peak_memory_mb(forward, device)  # each doubles as its warm-up
    step_peak, _ = peak_memory_mb(step, device)
    render_peak, _ = peak_memory_mb(render, device)
    step_lpips()
    step8()
    figures = {
        "load_s": round(load_s, 2), "num_ws": G.space("w+").shape[0], "working_resolution": G.resolution,
        "render_resolution": G.render_resolution,
        "working_forward_ms": round(median_ms(forward, repeats, device), 1),
        "working_step_ms": round(median_ms(step, repeats, device), 1),
        "working_step_ms_lpips": round(median_ms(step_lpips, repeats, device), 1),
        "batch8_step_ms": round(median_ms(step8, max(1, repeats // 2), device), 1),
        "render_ms": round(median_ms(render, repeats, device), 1),
        "forward_peak_mb": forward_peak, "step_peak_mb": step_peak, "render_peak_mb": render_peak,
        "memory_method": method,
    }
    return {"benchmark": "ffhq", "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine_info(device), "model": G.model_id, "package": f"{PACKAGE}=={VERSION}",
            "repeats": repeats, "results": figures}
