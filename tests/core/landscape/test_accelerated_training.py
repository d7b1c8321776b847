"""θ's trainer on a GPU (issue 24, item 4): the same losses and gradients as on the CPU, a whole run that writes a
θ and a checkpoint the CPU reads back, and memory plans made from the GPU's own free memory.

Marked ``gpu``: they run where CUDA is (``pytest -m gpu``; ``bench/device_training.sh`` runs them on a lent GPU
before it trains) and skip elsewhere. ``LS_TEST_ACCELERATOR=cpu`` runs them on the CPU against itself, which checks
the tests' own code on a machine without a GPU (every comparison then holds trivially)."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
import torch

from core.generators import load_generator
from core.jobs import run_job
from core.landscape import run_training
from core.landscape.learning import LandscapeTrainConfig, load_checkpoint
from core.landscape.memory_plan import plan_for
from core.landscape.unrolled import backward_in_passes
from core.memory import available_bytes, memory_budget
from core.theta import recipe_config
from core.theta.mapping import LandscapeMapping, load_mapping

ACCELERATOR = os.environ.get("LS_TEST_ACCELERATOR", "cuda")
pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(ACCELERATOR == "cuda" and not torch.cuda.is_available(), reason="needs CUDA")]


@pytest.fixture(autouse=True)
def exact_float32():
    """TF32 matrix products would differ from the CPU's by ≈ 1e-3 relative: compare float32 with float32."""
    kept = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = kept


def _losses_and_grads(device: str) -> tuple[torch.Tensor, list[torch.Tensor]]:
    G = load_generator("default", device)
    G.net.requires_grad_(False)
    theta = LandscapeMapping(replace(recipe_config("plain", width=32), schedule=True, adaptive=True), seed=3)
    with torch.no_grad():  # every part away from its zero start, so each gradient is a real check
        for i, p in enumerate(theta.parameters()):
            p.add_(0.05 * torch.randn(p.shape, generator=torch.Generator().manual_seed(i)))
    theta.to(device)
    target = G.sample(4, 7)
    z0 = torch.randn(4, 100, generator=torch.Generator().manual_seed(8)).to(device)
    per_step, _ = backward_in_passes(G, theta, theta.start(z0), target, 4, True, lambda rows: rows[-1].log().mean(),
                                     micro_batch=2, checkpointed=True)
    return per_step.cpu(), [p.grad.cpu() for p in theta.parameters() if p.grad is not None]


def test_the_unrolled_descent_gives_the_cpus_losses_and_gradients():
    losses, grads = _losses_and_grads(ACCELERATOR)
    cpu_losses, cpu_grads = _losses_and_grads("cpu")
    assert losses.shape == cpu_losses.shape == (4, 4)
    torch.testing.assert_close(losses, cpu_losses, rtol=1e-4, atol=1e-6)
    assert len(grads) == len(cpu_grads) > 4
    for a, b in zip(grads, cpu_grads, strict=True):  # second order amplifies the kernels' rounding differences
        torch.testing.assert_close(a, b, rtol=1e-3, atol=2e-3 * float(b.abs().max()))


def test_memory_plans_read_the_devices_own_free_memory():
    G = load_generator("default", ACCELERATOR)
    theta = LandscapeMapping(recipe_config("plain", width=32)).to(ACCELERATOR)
    z = theta.start(torch.randn(4, 100, generator=torch.Generator().manual_seed(0)).to(ACCELERATOR))
    plan = plan_for(G, theta, z, G.sample(4, 1), steps=10, unroll=True)
    assert 0 < plan.budget_bytes == memory_budget(ACCELERATOR) < available_bytes(ACCELERATOR)
    assert plan.micro_batch == 4 and not plan.checkpointed and plan.step_bytes > 0  # a few MB: all of it fits


def test_a_run_on_the_accelerator_writes_a_theta_and_checkpoint_the_cpu_reads(tmp_path):
    G = load_generator("default", ACCELERATOR)
    config = LandscapeTrainConfig(mapping=recipe_config("preconditioned", width=32, schedule=True), inner_steps=3,
                                  batch=4, max_iterations=3, minutes=60, validate_every=0, precondition_draws=2,
                                  objective="log_last")
    outcome = run_job(run_training(G, config, tmp_path, gate_faces=4, gate_budgets=(3,)))
    assert outcome.iterations == 3 and not outcome.cancelled
    theta, meta = load_mapping(tmp_path)  # on the CPU
    assert next(theta.parameters()).device.type == "cpu" and meta["iterations"] == 3
    assert meta["gate"]["n_faces"] == {"3": 4}
    state, stored = load_checkpoint(tmp_path / "checkpoint", "cpu")
    assert state.iteration == 3 and stored.batch == 4
    for name, value in theta.state_dict().items():
        torch.testing.assert_close(state.theta.state_dict()[name], value)
