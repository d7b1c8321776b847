"""``python -m bench stylegan2``: what a StyleGAN2 costs here, per output resolution.

For each resolution (default 64, 256 and 1024 px) a config-F generator is built with random weights (the
reference channel table, channel_multiplier 2: the layout and cost of a real checkpoint; random weights are
fine for timing) and measured at batch 1:

- ``forward_ms``: median of ``repeats`` synthesis passes from w, without gradients, after one warm-up pass;
- ``inversion_step_ms``: median of ``repeats`` direct-inversion steps in w (forward, pixel loss, backward through
  the generator, one Adam update of w), after one warm-up step: the per-step cost of inverting a photo;
- ``w_stats_s``: the one-time estimate of w's spread (10 000 mapped z) the first inversion pays;
- peak memory of each phase: on CUDA ``torch.cuda.max_memory_allocated`` (tensors only); on the CPU the peak
  resident set (Linux ``VmHWM``, reset per phase through ``/proc/self/clear_refs``) minus the resident set
  before the phase, i.e. what the phase added to the process (torch's allocator caches, so it is an upper bound
  of the tensors' own peak). ``memory_method`` says which was used.

``--tiny`` builds 32-channel nets with a 32-d w instead (a smoke test: its figures say nothing).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from bench.common import machine_info
from core.device import pick_device
from core.errors import InvalidInputError
from core.generators.stylegan2 import StyleGAN2Config, StyleGAN2Generator, StyleGAN2Net
from core.inversion import InversionConfig
from core.inversion.optimize import build_objective

RESOLUTIONS = (64, 256, 1024)
TINY = {"style_dim": 32, "n_mlp": 2, "channel_max": 32}  # --tiny: a smoke-test size
_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def random_generator(resolution: int, device: torch.device, tiny: bool = False, seed: int = 0) -> StyleGAN2Generator:
    """A config-F StyleGAN2 (channel_multiplier 2) with seeded random weights; w_avg 0 (no estimate at build)."""
    config = StyleGAN2Config(resolution=resolution, channel_multiplier=2, **(TINY if tiny else {}))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = StyleGAN2Net(config)
    return StyleGAN2Generator(net.to(device), name=f"random-{resolution}", model_id=f"random-{resolution}@{seed}",
                              w_avg=torch.zeros(config.style_dim, device=device))


def proc_kib(field: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def peak_memory_mb(run: Callable[[], None], device: torch.device) -> tuple[float | None, str]:
    """Run ``run`` once; the peak memory it added (MiB) and how that was measured (see the module doc)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        run()
        torch.cuda.synchronize(device)
        return (torch.cuda.max_memory_allocated(device) - before) / 2**20, "cuda_max_memory_allocated"
    gc.collect()
    try:
        _CLEAR_REFS.write_text("5")  # resets VmHWM to the current resident set (Linux ≥ 4.0)
    except OSError:
        run()
        return None, "unavailable"
    rss_before = proc_kib("VmRSS")
    run()
    peak = proc_kib("VmHWM")
    if rss_before is None or peak is None:
        return None, "unavailable"
    return max(peak - rss_before, 0) / 1024, "linux_vmhwm_delta"


def median_ms(run: Callable[[], None], repeats: int, device: torch.device) -> float:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        run()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def measure(resolution: int, device: torch.device, repeats: int, tiny: bool = False) -> dict[str, Any]:
    """The figures of one resolution (see the module doc)."""
    began = time.perf_counter()
    G = random_generator(resolution, device, tiny)
    build_s = time.perf_counter() - began
    began = time.perf_counter()
    G.latent_stats("w")
    w_stats_s = time.perf_counter() - began
    target = G.sample(1, 1)  # [1, 3, R, R]
    w = G.sample_latent(1, 0, "w").requires_grad_(True)  # [1, w_dim]
    objective = build_objective(G, target, InversionConfig(space="w").with_changes(loss_lpips=0.0))
    optimizer = torch.optim.Adam([w], lr=0.1)

    def forward() -> None:
        with torch.no_grad():
            G.synthesize(w.detach(), "w")

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        objective(G.synthesize(w, "w"), w)["total"].sum().backward()
        optimizer.step()

    forward_peak, method = peak_memory_mb(forward, device)  # doubles as the warm-up pass
    step_peak, _ = peak_memory_mb(step, device)
    figures = {"resolution": resolution, "num_ws": G.num_ws, "w_dim": G.config.style_dim,
               "parameters": sum(p.numel() for p in G.net.parameters()), "build_s": round(build_s, 3),
               "w_stats_s": round(w_stats_s, 3), "forward_ms": round(median_ms(forward, repeats, device), 2),
               "inversion_step_ms": round(median_ms(step, repeats, device), 2),
               "forward_peak_mb": None if forward_peak is None else round(forward_peak, 1),
               "inversion_step_peak_mb": None if step_peak is None else round(step_peak, 1), "memory_method": method}
    return figures


def measure_released(resolution: int, device: torch.device, repeats: int, tiny: bool = False) -> dict[str, Any]:
    """:func:`measure`, then its model freed, so the next resolution starts from the same memory."""
    figures = measure(resolution, device, repeats, tiny)
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return figures


def parse_resolutions(text: str | None) -> tuple[int, ...]:
    if not text:
        return RESOLUTIONS
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError as exc:
        raise InvalidInputError(f"--resolutions must be comma-separated integers (got '{text}').") from exc
    for r in values:
        StyleGAN2Config(resolution=r).validate()
    return values


def bench_stylegan2(args: argparse.Namespace) -> dict[str, Any]:
    device = pick_device(args.device)
    repeats = max(1, args.repeats)
    results = [measure_released(r, device, repeats, bool(getattr(args, "tiny", False)))
               for r in parse_resolutions(getattr(args, "resolutions", None))]
    return {"benchmark": "stylegan2", "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine_info(device), "repeats": repeats, "batch": 1, "weights": "random (seeded)",
            "config": "tiny" if getattr(args, "tiny", False) else "config F, channel_multiplier 2",
            "loss": "pixel MSE (no LPIPS): the generator's share of a step", "results": results}
