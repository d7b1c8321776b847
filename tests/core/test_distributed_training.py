"""Training under ``torchrun`` with 2 real CPU processes (gloo): the same result as one process within float
noise, rank 0 alone writes, and a batch that does not split over the processes is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from core.cli import main
from core.distributed import World
from core.errors import InvalidInputError
from core.generators import load_generator
from core.landscape.learning import LandscapeTrainConfig, _batch, descent_losses, fit_to_model, new_state
from core.theta import recipe_config

LANDSCAPE = ["train-landscape", "--recipe", "plain", "--iterations", "3", "--batch", "4", "--validate-every", "0",
             "--gate-faces", "2", "--quiet"]
ENCODER = ["train-encoder", "--iterations", "3", "--batch", "4", "--width", "8", "--validate-every", "0", "--quiet"]


def torchrun(args: list[str], processes: int = 2) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           f"--nproc_per_node={processes}", "-m", "core.cli", *args],
                          capture_output=True, text=True, env=env, timeout=600, check=False)


def test_shares_of_a_batch_give_the_whole_batchs_gradient():
    G = load_generator("default", "cpu")
    config = fit_to_model(G, LandscapeTrainConfig(mapping=recipe_config("plain"), batch=4))
    theta = new_state(config, "cpu", G).theta
    G.net.requires_grad_(False)
    weights = torch.arange(1.0, config.inner_steps + 1)
    weights /= weights.sum()

    def gradient(world: World) -> torch.Tensor:
        target, z0 = _batch(G, config, 0, world)
        per_step = torch.stack(descent_losses(G, theta, theta.start(z0), target, config.inner_steps, True))
        loss = (weights[:, None] * per_step).sum(0).mean()
        return torch.cat([g.flatten() for g in torch.autograd.grad(loss, list(theta.parameters()))])

    whole = gradient(World())
    shared = (gradient(World(0, 2)) + gradient(World(1, 2))) / 2
    assert float((whole - shared).norm() / whole.norm()) < 1e-5
    with pytest.raises(InvalidInputError, match="multiple of 2"):
        World(0, 2).share(5)


def test_train_landscape_on_two_processes_matches_one(tmp_path):
    assert main([*LANDSCAPE, "--out", str(tmp_path / "one")]) == 0
    run = torchrun([*LANDSCAPE, "--out", str(tmp_path / "two")])
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.count("θ NOT READY") + run.stdout.count("θ READY") == 1  # rank 0 alone reports
    one, two = (json.loads((tmp_path / n / "theta.json").read_text()) for n in ("one", "two"))
    assert two["iterations"] == one["iterations"] == 3
    for a, b in zip(one["curve"], two["curve"], strict=True):  # the whole batch's PSNR after T steps, each iteration
        assert abs(a["psnr_T"] - b["psnr_T"]) < 0.01
    assert abs(one["gate"]["psnr"]["theta"]["10"] - two["gate"]["psnr"]["theta"]["10"]) < 0.01
    weights_one, weights_two = (load_file(tmp_path / n / "theta.safetensors") for n in ("one", "two"))
    for name, value in weights_one.items():  # Adam's steps are 3e-4: these differ by float noise only
        torch.testing.assert_close(weights_two[name], value, atol=2e-4, rtol=0)


def test_train_encoder_on_two_processes_matches_one(tmp_path):
    assert main([*ENCODER, "--out", str(tmp_path / "one")]) == 0
    run = torchrun([*ENCODER, "--out", str(tmp_path / "two")])
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.count("Encoder saved to") == 1
    one, two = (json.loads((tmp_path / n / "encoder.json").read_text()) for n in ("one", "two"))
    assert two["iterations"] == one["iterations"] == 3
    assert abs(one["held_out_psnr"] - two["held_out_psnr"]) < 0.02
    for a, b in zip(one["curve"], two["curve"], strict=True):
        assert abs(a["loss"] - b["loss"]) < 1e-4 * max(1.0, abs(a["loss"]))


def test_a_batch_that_does_not_split_over_the_processes_is_refused(tmp_path):
    run = torchrun([*ENCODER, "--batch", "3", "--out", str(tmp_path / "odd")])
    assert run.returncode != 0 and "does not split evenly over 2 processes" in run.stderr
    assert not (tmp_path / "odd" / "encoder.safetensors").exists()


@pytest.mark.parametrize(("world_size", "printed"), [("2", "result"), ("1", "result\nteardown\n")])
def test_a_torchrun_worker_leaves_with_its_code_and_output_but_skips_the_teardown(world_size, printed):
    script = ("import atexit; from core.cli.__main__ import leave; atexit.register(lambda: print('\\nteardown')); "
              "print('result', end=''); leave(3)")
    env = {**os.environ, "WORLD_SIZE": world_size}
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120,
                         check=False)
    assert (run.returncode, run.stdout) == (3, printed), run.stderr
