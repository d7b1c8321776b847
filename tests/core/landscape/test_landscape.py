import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from core.errors import ModelLoadError
from core.inversion import InversionConfig, invert
from core.jobs import run_job
from core.landscape import gate
from core.landscape.learning import (
    LandscapeTrainConfig,
    descent_losses,
    load_checkpoint,
    new_state,
    save_checkpoint,
    train_landscape,
)
from core.theta.mapping import PRECONDITIONED, LandscapeMapping, MappingConfig, load_mapping, save_mapping
from tests.core.landscape.paths import method_losses, trainer_losses

SMALL = LandscapeTrainConfig(mapping=MappingConfig(width=64), inner_steps=3, batch=4, theta_lr=1e-3, minutes=5)


def test_an_untrained_mapping_is_the_identity():
    theta = LandscapeMapping(MappingConfig(width=32))
    z = torch.randn(5, 100)
    assert torch.equal(theta(z), z)
    assert float(theta.step_size.detach()) == pytest.approx(10.0)


def test_save_and_load_round_trip_bit_exactly(tmp_path):
    theta = LandscapeMapping(MappingConfig(width=32))
    with torch.no_grad():
        for p in theta.parameters():
            p.add_(torch.randn_like(p))
    save_mapping(theta, tmp_path / "theta", {"generator_id": "x", "ready": False})
    loaded, meta = load_mapping(tmp_path / "theta")
    assert meta["mapping"]["width"] == 32 and meta["generator_id"] == "x"
    for (k, a), (_, b) in zip(theta.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert torch.equal(a, b), k


def test_a_broken_mapping_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ModelLoadError):
        load_mapping(tmp_path)
    save_mapping(LandscapeMapping(MappingConfig(width=8)), tmp_path, {})
    meta = json.loads((tmp_path / "theta.json").read_text())
    (tmp_path / "theta.json").write_text(json.dumps({**meta, "mapping": {**meta["mapping"], "width": 9}}))
    with pytest.raises(ModelLoadError, match="do not match"):
        load_mapping(tmp_path)


def test_unrolled_descent_lets_theta_learn_from_every_step(G):
    theta = LandscapeMapping(MappingConfig(width=16))
    target = G.sample(2, 5)
    losses = descent_losses(G, theta, torch.randn(2, 100), target, steps=2, graph=True)
    torch.stack(losses).sum().backward()
    assert theta.log_step.grad is not None and theta.mlp[-1].weight.grad.abs().sum() > 0


def _train(G, config, state=None):
    return run_job(train_landscape(G, config, state))


def test_a_short_training_run_lowers_the_trajectory_loss(G):
    config = LandscapeTrainConfig.from_dict({**SMALL.to_dict(), "max_iterations": 25})
    state = _train(G, config)
    first = np.mean([h["step_losses"][-1] for h in state.history[:5]])
    last = np.mean([h["step_losses"][-1] for h in state.history[-5:]])
    assert state.iteration == 25 and last < first


def test_training_resumes_exactly_from_a_checkpoint(G, tmp_path):
    straight = _train(G, LandscapeTrainConfig.from_dict({**SMALL.to_dict(), "max_iterations": 4}))
    half = _train(G, LandscapeTrainConfig.from_dict({**SMALL.to_dict(), "max_iterations": 2}))
    save_checkpoint(half, SMALL, tmp_path)
    state, config = load_checkpoint(tmp_path, "cpu")
    resumed = _train(G, LandscapeTrainConfig.from_dict({**config.to_dict(), "max_iterations": 4}), state)
    assert resumed.iteration == 4
    for a, b in zip(straight.theta.parameters(), resumed.theta.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def test_the_gate_refuses_an_untrained_theta(G):
    verdict = gate(G, new_state(SMALL, "cpu").theta, n=4, budgets=(2, 5))
    assert not verdict["passed"] and "does not beat" in verdict["reason"]
    assert set(verdict["psnr"]) == {"theta", "identity_initial_step", "identity_learned_step"}


def test_landscape_method_without_a_ready_theta_falls_back_visibly(G, tmp_path):
    config = InversionConfig(method="landscape", steps=3, landscape=str(tmp_path)).with_changes(loss_lpips=0.0)
    result = run_job(invert(G, G.sample(1, 7), config))
    assert result.warnings and "Used the direct method instead" in result.warnings[0]
    assert result.config.method == "direct"


def test_landscape_method_runs_in_z_and_returns_generator_latents(G, tmp_path):
    theta = LandscapeMapping(MappingConfig(width=16))
    with torch.no_grad():
        theta.mlp[-1].bias.fill_(0.5)  # a visible reparameterisation: x = z + 0.5
    save_mapping(theta, tmp_path, {"generator_id": G.model_id, "ready": True})
    config = InversionConfig(method="landscape", steps=4, starts=2, landscape=str(tmp_path)).with_changes(
        loss_lpips=0.0)
    records = []
    result = run_job(invert(G, G.sample(1, 7), config), records.append)
    assert not result.warnings and result.latents.shape == (2, 100)
    z0 = torch.stack([torch.randn(100, generator=torch.Generator().manual_seed(i)) for i in range(2)])
    assert np.allclose(records[0].latent, (z0 + 0.5).numpy(), atol=1e-6)  # step 0 is θ(z₀)
    assert records[-1].best_loss < records[0].losses["total"]


def test_train_landscape_command_end_to_end(tmp_path, capsys):
    from core.cli import main

    out = tmp_path / "theta"
    args = ["train-landscape", "--out", str(out), "--minutes", "0.02", "--inner-steps", "2", "--batch", "2",
            "--width", "16", "--gate-faces", "2", "--quiet"]
    assert main(args) == 0
    meta = json.loads((out / "theta.json").read_text())
    assert meta["generator_id"].startswith("dcgan-digiface@") and meta["iterations"] >= 1
    assert set(meta["gate"]["psnr"]["theta"]) == {"10", "100"} and isinstance(meta["ready"], bool)
    assert {k: meta["mapping"][k] for k in PRECONDITIONED} == PRECONDITIONED  # the shipped recipe by default
    assert "READY" in capsys.readouterr().out
    first = meta["iterations"]
    assert main([*args, "--resume"]) == 0
    assert json.loads((out / "theta.json").read_text())["iterations"] > first


def test_a_cancelled_training_keeps_its_checkpoint_and_skips_the_gate(G, tmp_path):
    from core.jobs import CancelToken
    from core.landscape import run_training

    token = CancelToken()

    def stop(step):
        token.cancel()

    outcome = run_job(run_training(G, SMALL, tmp_path, cancel=token), stop)
    assert outcome.cancelled and outcome.iterations == 1
    assert (tmp_path / "checkpoint" / "checkpoint.json").exists() and not (tmp_path / "theta.json").exists()


def test_an_identity_theta_is_exactly_the_warm_started_direct_method(G, tmp_path):
    """Landscape descent through an untrained θ = plain steps for θ's horizon, then Adam: the direct method with
    the same warm-up. Same seeds, same numbers."""
    save_mapping(LandscapeMapping(MappingConfig(width=8, horizon=3)), tmp_path, {"generator_id": G.model_id,
                                                                                 "ready": True})
    base = InversionConfig(steps=8, starts=2).with_changes(loss_lpips=0.0)
    target = G.sample(1, 11)
    landscape = run_job(invert(G, target, base.with_changes(method="landscape", landscape=str(tmp_path))))
    direct = run_job(invert(G, target, base.with_changes(warmup_steps=3, warmup_step=10.0)))
    assert np.allclose(landscape.latents, direct.latents, atol=1e-5)


def test_an_iteration_budget_reproduces_theta_bit_exactly(tmp_path):
    """Two runs with --iterations N (and a resume in the middle of one) write the same θ, byte for byte."""
    from core.cli import main

    common = ["--inner-steps", "2", "--batch", "2", "--width", "16", "--gate-faces", "2", "--quiet"]
    assert main(["train-landscape", "--out", str(tmp_path / "a"), "--iterations", "3", *common]) == 0
    assert main(["train-landscape", "--out", str(tmp_path / "b"), "--iterations", "1", *common]) == 0
    assert main(["train-landscape", "--out", str(tmp_path / "b"), "--iterations", "3", "--resume", *common]) == 0
    meta = json.loads((tmp_path / "a" / "theta.json").read_text())
    assert meta["iterations"] == 3 and meta["train"]["max_iterations"] == 3
    a, b = ((tmp_path / name / "theta.safetensors").read_bytes() for name in "ab")
    assert a == b


def test_a_learned_start_and_schedule_are_refined_after_training_and_the_wait_is_announced(tmp_path, capsys):
    from core.cli import main

    assert main(["train-landscape", "--out", str(tmp_path), "--iterations", "1", "--inner-steps", "2", "--batch",
                 "2", "--width", "16", "--gate-faces", "2", "--learn-start", "--start-candidates", "2",
                 "--start-faces", "4", "--start-refine", "1", "--schedule", "--schedule-refine", "1"]) == 0
    err = capsys.readouterr().err
    assert "Training done; the start search, the schedule's refinement and the gate follow" in err
    meta = json.loads((tmp_path / "theta.json").read_text())
    found = meta["start_search"]
    assert found["candidates"] == 2 and found["faces"] == 4
    assert found["refined"]["steps"] == 1 and found["refined"]["faces"] == 2  # half the search's faces
    assert meta["schedule_refinement"]["steps"] == 1 and meta["schedule_refinement"]["faces"] == 2


def test_the_gate_budgets_and_curvature_draws_are_chosen_and_the_memory_plan_is_said(tmp_path, capsys):
    from core.cli import main

    assert main(["train-landscape", "--out", str(tmp_path), "--iterations", "1", "--inner-steps", "2", "--batch",
                 "2", "--width", "16", "--gate-faces", "2", "--gate-budgets", "3", "--precondition-draws", "2"]) == 0
    assert "Memory: 2 faces per pass, every step kept" in capsys.readouterr().err
    meta = json.loads((tmp_path / "theta.json").read_text())
    assert meta["gate"]["budgets"] == [3] and meta["train"]["precondition_draws"] == 2


def test_a_nonpositive_iteration_budget_is_refused(tmp_path, capsys):
    from core.cli import main

    assert main(["train-landscape", "--out", str(tmp_path), "--iterations", "0"]) == 2
    assert "--iterations" in capsys.readouterr().err


def test_training_keeps_the_best_validated_theta_and_checkpoints_it(G, tmp_path):
    config = LandscapeTrainConfig.from_dict({**SMALL.to_dict(), "max_iterations": 3, "validate_every": 1,
                                             "validation_faces": 2})
    state = _train(G, config)
    scores = [h["validation"]["margin"] for h in state.history]
    assert len(scores) == 3 and state.best_score == max(scores)
    assert state.best_iteration == 1 + scores.index(max(scores))
    chosen = state.selected()
    assert all(torch.equal(chosen.state_dict()[k], v) for k, v in state.best.items())
    save_checkpoint(state, config, tmp_path)
    loaded, _ = load_checkpoint(tmp_path, "cpu")
    assert loaded.best_iteration == state.best_iteration and loaded.best_score == state.best_score
    assert all(torch.equal(loaded.best[k], v) for k, v in state.best.items())


def test_without_validation_the_last_theta_is_delivered(G):
    state = _train(G, LandscapeTrainConfig.from_dict({**SMALL.to_dict(), "max_iterations": 2, "validate_every": 0}))
    assert state.best is None and state.selected() is state.theta


def test_training_descends_with_momentum_exactly_as_the_landscape_method_does(G):
    """The trainer's own descent loop (heavy ball, keep-radius) and the method's SGD optimiser take the same steps."""
    theta = LandscapeMapping(MappingConfig(width=16, momentum=0.5, keep_radius=True, horizon=3), seed=2)
    with torch.no_grad():
        theta.mlp[-1].weight.normal_(0, 0.01)
    trained = trainer_losses(G, theta)  # [3, 2]
    assert torch.allclose(trained, method_losses(G, theta), rtol=1e-4)
    plain = LandscapeMapping(replace(theta.config, momentum=0.0), seed=2)
    plain.load_state_dict(theta.state_dict())
    without = trainer_losses(G, plain)
    assert not torch.allclose(trained[-1], without[-1], rtol=1e-3)  # the momentum does change the path
