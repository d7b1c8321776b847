"""The curvature-preconditioned θ: its linear part, its starts, its file, the gate's baseline, and what it buys."""

import math
import statistics
from dataclasses import replace

import pytest
import torch

from core.evaluation import held_out_faces
from core.inversion import InversionConfig
from core.inversion.optimize import descend
from core.inversion.theta_descent import handover_descent, landscape_descent, preimage
from core.jobs import run_job
from core.landscape.gate import identity_like, landscape_psnr
from core.landscape.learning import (
    LandscapeTrainConfig,
    fit_to_model,
    load_checkpoint,
    new_state,
    save_checkpoint,
    train_landscape,
)
from core.theta import LandscapeMapping, MappingConfig, load_mapping, mean_gauss_newton, preconditioner, save_mapping


def test_the_preconditioner_is_the_scaled_inverse_square_root_of_the_damped_curvature():
    rng = torch.Generator().manual_seed(3)
    B = torch.randn(6, 6, generator=rng, dtype=torch.float64)
    H = B @ B.T + 0.1 * torch.eye(6, dtype=torch.float64)
    A = preconditioner(H, k=120, step=10.0, damping=0.05).double()
    lam = 0.05 * float(torch.linalg.eigvalsh(H)[-1])
    expected = (120 / (2 * 10.0)) * torch.linalg.inv(H + lam * torch.eye(6, dtype=torch.float64))
    assert torch.allclose(A, A.T, atol=1e-5)
    assert torch.allclose(A @ A.T, expected, rtol=1e-4, atol=1e-6)


def test_mean_gauss_newton_is_the_average_of_jacobian_products(G):
    def to_latent(u):
        return u.view(-1, *G.space().shape)

    H, k = mean_gauss_newton(G, to_latent, 100, draws=2, seed=5)
    assert k == 3 * 64 * 64 and H.shape == (100, 100)
    assert torch.allclose(H, H.T) and float(torch.linalg.eigvalsh(H)[0]) > -1e-6  # symmetric, PSD
    u = torch.randn(100, generator=torch.Generator().manual_seed(5))  # draw 0 of seed 5 (seeded_generator(5))
    J = torch.func.jacfwd(lambda v: G.synthesize(to_latent(v[None])).flatten())(u)
    single, _ = mean_gauss_newton(G, to_latent, 100, draws=1, seed=5)
    assert torch.allclose(single, (J.T @ J).double(), rtol=1e-4, atol=1e-4)


def _preconditioned(G, draws=8):
    config = fit_to_model(G, LandscapeTrainConfig(mapping=MappingConfig(preconditioned=True), precondition_draws=draws))
    return new_state(config, "cpu", G).theta.requires_grad_(False)


def test_an_untrained_preconditioned_theta_starts_where_the_identity_starts(G):
    theta = _preconditioned(G, draws=2)
    assert not torch.allclose(theta.precond, torch.eye(100))
    eps = torch.randn(4, 100, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(theta(theta.start(eps)), eps, atol=1e-4)  # x₀ = ε, as for the identity
    x = torch.randn(3, 100, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(theta(preimage(theta, x)), x, atol=1e-4)


def test_a_preconditioned_theta_round_trips_and_its_gate_baseline_is_the_plain_identity(G, tmp_path):
    theta = _preconditioned(G, draws=2)
    save_mapping(theta, tmp_path / "t", {"note": "test"})
    loaded, meta = load_mapping(tmp_path / "t")
    assert meta["mapping"]["preconditioned"] is True
    assert torch.equal(loaded.precond, theta.precond) and torch.equal(loaded.precond_inv, theta.precond_inv)
    baseline = identity_like(theta, 10.0)
    assert not baseline.config.preconditioned
    z = torch.randn(2, 100)
    assert torch.equal(baseline(z), z) and torch.equal(baseline.start(z), z)


def test_the_preconditioner_alone_beats_plain_descent_at_ten_steps(G):
    """Measured on 32 held-out faces: 20.03 dB against 18.22 (docs/landscape.md); 8 faces and 8 curvature
    draws here, with a margin well inside that gain."""
    theta = _preconditioned(G, draws=8)
    faces = held_out_faces(G, 8)
    ours = statistics.fmean(landscape_psnr(G, theta, faces, 10))
    plain = statistics.fmean(landscape_psnr(G, identity_like(theta, theta.config.step), faces, 10))
    assert ours > plain + 0.8, (ours, plain)


def test_training_a_preconditioned_theta_moves_its_mlp_and_keeps_its_preconditioner(G, tmp_path):
    config = fit_to_model(G, LandscapeTrainConfig(
        mapping=MappingConfig(width=32, preconditioned=True), precondition_draws=2, inner_steps=2, batch=2,
        theta_lr=1e-3, max_iterations=3, validate_every=0))
    state = new_state(config, "cpu", G)
    before = {k: v.clone() for k, v in state.theta.state_dict().items()}
    assert not {"precond", "precond_inv"} & {name for name, _ in state.theta.named_parameters()}  # Adam never sees A
    state = run_job(train_landscape(G, config, state))
    after = state.theta.state_dict()
    assert state.iteration == 3 and all(all(map(math.isfinite, h["step_losses"])) for h in state.history)
    assert torch.equal(after["precond"], before["precond"]) and torch.equal(after["precond_inv"], before["precond_inv"])
    assert not torch.equal(after["mlp.4.weight"], before["mlp.4.weight"])
    save_checkpoint(state, config, tmp_path / "ck")
    resumed, _ = load_checkpoint(tmp_path / "ck", "cpu")  # the checkpoint carries A: no refit on resume
    assert torch.equal(resumed.theta.precond, before["precond"])


def _landscape_run(G, theta, faces, steps):
    config = InversionConfig(method="landscape", steps=steps, starts=len(faces), seed=0,
                             preview_every=10_000).with_changes(loss_lpips=0.0)
    return config, run_job(descend(G, faces, config, landscape_descent(G, theta, config)))


def test_keep_radius_holds_the_norm_of_theta_z_at_its_start_during_descent_in_z(G):
    theta = LandscapeMapping(MappingConfig(width=16, keep_radius=True, horizon=5), seed=1).requires_grad_(False)
    with torch.no_grad():
        theta.mlp[-1].weight.normal_(0, 0.01)  # a θ that is not the identity: the rescaling must still hold
    faces = held_out_faces(G, 3)
    steps = []
    config = InversionConfig(method="landscape", steps=5, starts=3, seed=0, preview_every=10_000
                             ).with_changes(loss_lpips=0.0)
    run_job(descend(G, faces, config, landscape_descent(G, theta, config)), steps.append)
    norms = [theta.centred(torch.from_numpy(s.z)).norm(dim=1) for s in steps if s.z is not None]
    assert len(norms) == 6  # the start and the 5 steps in Z
    for later in norms[1:]:
        assert torch.allclose(later, norms[0], rtol=1e-3)
    plain = LandscapeMapping(MappingConfig(width=16, horizon=5), seed=1).requires_grad_(False)
    moved = []
    run_job(descend(G, faces, config, landscape_descent(G, plain, config)), moved.append)
    assert not torch.allclose(torch.from_numpy(moved[-1].z).norm(dim=1), torch.from_numpy(moved[0].z).norm(dim=1),
                              rtol=1e-3)  # without it the norm drifts


def test_the_handover_uses_the_beta2_and_learning_rate_ramp_theta_names(G):
    mapping = MappingConfig(handover_beta2=0.9, handover_ramp=4, horizon=3)
    config = InversionConfig(method="landscape", steps=10, lr=0.2)
    descent = handover_descent(G, torch.zeros(2, 100), config, mapping)
    assert descent.optimizer.param_groups[0]["betas"] == (0.9, 0.9) and descent.ramp == 4
    assert handover_descent(G, torch.zeros(2, 100), config, MappingConfig()).ramp == 0
    theta = LandscapeMapping(replace(mapping, width=16)).requires_grad_(False)
    _, result = _landscape_run(G, theta, held_out_faces(G, 2), 10)
    lrs = [h["lr"] for h in result.history]
    assert lrs[:3] == [10.0] * 3  # plain descent in Z at θ's step
    assert lrs[3:8] == pytest.approx([0.05, 0.1, 0.15, 0.2, 0.2])  # Adam's lr ramps over 4 steps from the hand-over
