"""Training θ within the machine's memory: recomputed steps and smaller passes give the trainer the same losses
and gradients, recomputing really keeps less, and a plan that cannot fit refuses with figures before it starts."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from core.errors import InvalidInputError
from core.jobs import run_job
from core.landscape.learning import LandscapeTrainConfig, fit_to_model, train_landscape
from core.landscape.memory_plan import forward_bytes, jvp_chunk, plan_memory, step_bytes
from core.landscape.unrolled import backward_in_passes, descent_losses
from core.memory import GIB, available_bytes, resident, saved_bytes
from core.theta import curvature_draws, mean_gauss_newton
from core.theta.mapping import LandscapeMapping
from tests.core.landscape.paths import RECIPE

AWARE = replace(RECIPE, loss_aware=True, horizon=4)  # every kind of step memory (velocity, norms, losses)


def trained_like() -> LandscapeMapping:
    """A θ whose every part is away from its zero start, so each part's gradient is a real check."""
    theta = LandscapeMapping(AWARE, seed=3)
    with torch.no_grad():
        for i, p in enumerate(theta.parameters()):
            p.add_(0.05 * torch.randn(p.shape, generator=torch.Generator().manual_seed(i)))
    return theta


def problem(G, n: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    return G.sample(n, 7), torch.randn(n, 100, generator=torch.Generator().manual_seed(8))


def losses_and_grads(G, *, checkpointed: bool, micro_batch: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
    theta = trained_like()
    target, z0 = problem(G)
    per_step, _ = backward_in_passes(G, theta, theta.start(z0), target, 4, True, lambda rows: rows[-1].log().mean(),
                                     micro_batch=micro_batch, checkpointed=checkpointed)
    return per_step, [p.grad.clone() for p in theta.parameters() if p.grad is not None]


@pytest.mark.parametrize(("checkpointed", "micro_batch"), [(True, 3), (False, 1), (True, 2)])
def test_recomputed_steps_and_smaller_passes_give_the_same_gradient(G, checkpointed, micro_batch):
    whole_losses, whole_grads = losses_and_grads(G, checkpointed=False, micro_batch=3)
    losses, grads = losses_and_grads(G, checkpointed=checkpointed, micro_batch=micro_batch)
    assert losses.shape == whole_losses.shape == (4, 3)
    torch.testing.assert_close(losses, whole_losses, rtol=1e-5, atol=1e-7)
    assert len(grads) == len(whole_grads) > 4
    assert all(g.abs().max() > 0 for g in whole_grads[:1])
    for a, b in zip(grads, whole_grads, strict=True):  # smaller passes change float rounding (batch-size kernels),
        # which the second-order path amplifies to ~4e-4 of a gradient's largest entry; a mis-weighted pass is 50 %
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-3 * float(b.abs().max()))


def test_recomputing_keeps_a_fraction_of_what_the_unrolled_descent_keeps(G):
    theta = trained_like()
    target, z0 = problem(G, 2)

    def kept(checkpointed: bool) -> int:
        return saved_bytes(lambda: descent_losses(G, theta, theta.start(z0), target, 4, True,
                                                  checkpointed=checkpointed), loaded=resident(G.net, theta))

    unrolled, recomputed = kept(False), kept(True)
    one_step = step_bytes(G, theta, theta.start(z0), target)
    assert one_step > 0
    assert unrolled > 3 * one_step  # four steps' graphs for two faces, against one step of one face
    assert recomputed < unrolled / 3


def test_the_plan_picks_the_cheapest_way_that_fits():
    step = GIB // 4
    whole = plan_memory(batch=8, steps=10, unroll=True, step_size_bytes=step, budget_bytes=64 * GIB)
    assert (whole.micro_batch, whole.checkpointed) == (8, False)
    recomputed = plan_memory(batch=8, steps=10, unroll=True, step_size_bytes=step, budget_bytes=8 * GIB)
    assert (recomputed.micro_batch, recomputed.checkpointed) == (8, True)
    passes = plan_memory(batch=8, steps=10, unroll=True, step_size_bytes=step, budget_bytes=2 * GIB)
    assert passes.checkpointed and passes.micro_batch == 5
    assert passes.need_bytes <= passes.budget_bytes
    first_order = plan_memory(batch=8, steps=10, unroll=False, step_size_bytes=step, budget_bytes=8 * GIB)
    assert not first_order.checkpointed and first_order.micro_batch == 2
    assert "5 faces per pass" in passes.describe() and "recomputed" in passes.describe()


def test_a_plan_that_cannot_fit_one_face_refuses_with_its_figures():
    with pytest.raises(InvalidInputError, match=r"about 1\.5 GiB for a single face.*only 1\.0 GiB"):
        plan_memory(batch=4, steps=10, unroll=True, step_size_bytes=GIB, budget_bytes=GIB)


def test_the_free_memory_is_read_from_the_system():
    free = available_bytes("cpu")
    assert 0 < free < 1 << 50  # a real figure: more than nothing, less than a petabyte


def test_the_preconditioners_curvature_is_the_same_in_chunks(G):
    def to_latent(u: torch.Tensor) -> torch.Tensor:
        return u.view(-1, 100)

    H, k = mean_gauss_newton(G, to_latent, 100, draws=2, seed=1)
    chunked, k2 = mean_gauss_newton(G, to_latent, 100, draws=2, seed=1, chunk=7)
    assert k == k2
    torch.testing.assert_close(chunked, H, rtol=1e-4, atol=1e-6 * float(H.abs().max()))
    latent = torch.zeros(1, 100)
    assert jvp_chunk(100, forward_bytes(G, latent), 64 * GIB) == 100  # the embedded model: every column at once
    assert jvp_chunk(512, GIB, 8 * GIB) == 2


def test_a_training_run_says_how_its_batch_fits(G):
    config = LandscapeTrainConfig(mapping=replace(RECIPE, horizon=2), inner_steps=2, batch=2, max_iterations=2,
                                  minutes=10, validate_every=0)
    records: list = []
    run_job(train_landscape(G, config), records.append)
    assert records[0].memory.startswith("memory: 2 faces per pass, every step kept")
    assert records[1].memory == ""


def test_the_curvature_draws_follow_the_model_unless_given(G):
    assert curvature_draws(G) == 48  # the embedded 64-px model: the shipped θ's preconditioner
    assert fit_to_model(G, LandscapeTrainConfig()).precondition_draws == 48
    assert fit_to_model(G, LandscapeTrainConfig(precondition_draws=3)).precondition_draws == 3


@pytest.fixture(scope="module")
def wide_model():
    """A random StyleGAN2 whose working image (128 px) is wider than the embedded model's: a "large" model's
    defaults apply to it, at a tiny model's cost."""
    from core.generators.stylegan2 import StyleGAN2Config, StyleGAN2Generator, StyleGAN2Net

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = StyleGAN2Net(StyleGAN2Config(resolution=128, style_dim=16, n_mlp=1, channel_max=8))
    return StyleGAN2Generator(net, "wide test model", "wide-test")


def test_a_model_wider_than_the_embedded_one_gets_a_gate_and_curvature_it_can_afford(wide_model):
    from core.landscape.gate import LARGE_MODEL_GATE, gate, model_gate
    from core.landscape.learning import mapping_config_for

    assert wide_model.resolution == 128
    assert curvature_draws(wide_model) == 1
    assert fit_to_model(wide_model, LandscapeTrainConfig(mapping=mapping_config_for(wide_model, width=8))
                        ).precondition_draws == 1
    assert model_gate(wide_model) == LARGE_MODEL_GATE == {10: 16, 30: 8}
    theta = LandscapeMapping(mapping_config_for(wide_model, width=8, step=1.0))
    theta.set_frame(*wide_model.latent_stats())
    verdict = gate(wide_model, theta, n=2)
    assert verdict["budgets"] == [10, 30] and verdict["n_faces"] == {"10": 2, "30": 2}


def test_a_frozen_theta_keeps_no_graph_across_steps(G):
    """A step-size probe or a search descends through a frozen θ: its losses come back without graphs, so memory
    holds one step's graph at a time; a θ being trained keeps them for its gradient."""
    target, z0 = problem(G, 2)
    frozen = trained_like().requires_grad_(False)
    assert not any(loss.requires_grad for loss in descent_losses(G, frozen, frozen.start(z0), target, 3, False))
    learning = trained_like()
    assert all(loss.requires_grad for loss in descent_losses(G, learning, learning.start(z0), target, 3, False))


def test_faces_per_pass_fit_the_budget_or_are_refused_with_figures():
    from core.memory import faces_per_pass

    assert faces_per_pass(32, GIB // 100, 64 * GIB, "Training") == 32
    assert faces_per_pass(32, GIB, 6 * GIB, "Training") == 4  # 1.5 GiB a face with the backward's own buffers
    with pytest.raises(InvalidInputError, match=r"Training the encoder on this model needs about 1\.5 GiB"):
        faces_per_pass(32, GIB, GIB, "Training the encoder")
