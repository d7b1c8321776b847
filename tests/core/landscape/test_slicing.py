import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core.cli import main
from core.errors import InvalidInputError
from core.generators import load_generator
from core.inversion import InversionConfig, invert
from core.jobs import CancelToken, run_job
from core.landscape.slicing import (
    LandscapeSlice,
    SliceConfig,
    SliceRow,
    inversion_loss_fn,
    landscape_trajectory,
    latent_trajectory,
    random_axes,
    save_slice,
    slice_for_photo,
    slice_grid,
    slice_line,
    trajectory_axes,
)
from core.theta import find_mapping

ROOT = Path(__file__).resolve().parents[3]
A = torch.tensor([1.0, 2.0, 0.5, 3.0], dtype=torch.float64)


def quadratic(v: torch.Tensor) -> torch.Tensor:
    return (A * v ** 2).sum(1)


def closed_form(center, axes, xs, ys):
    c, a, b = (t.numpy() for t in (center, axes[0], axes[1]))
    return np.array([[float((A.numpy() * (c + x * a + y * b) ** 2).sum()) for x in xs] for y in ys])


@pytest.fixture(scope="module")
def G():
    return load_generator("default", "cpu")


def test_quadratic_slice_equals_the_closed_form():
    center = torch.tensor([0.3, -0.2, 1.0, 0.1], dtype=torch.float64)
    axes = torch.tensor([[1.0, 0.5, 0.0, -1.0], [0.0, 2.0, 1.0, 0.3]], dtype=torch.float64)
    config = SliceConfig(grid=9, span=1.5, batch=7)  # batch < grid: rows split over several calls
    s = run_job(slice_grid(quadratic, center, axes, config))
    assert s.loss.shape == (9, 9) and np.allclose(s.xs, np.linspace(-1.5, 1.5, 9)) and s.xs[4] == 0
    np.testing.assert_allclose(s.loss, closed_form(center, axes, s.xs, s.ys), rtol=1e-12)
    assert s.center_loss == pytest.approx(float(quadratic(center[None])[0]))
    ts, line = slice_line(quadratic, center, axes[0], config)
    np.testing.assert_allclose(line, closed_form(center, axes, ts, [0.0])[0], rtol=1e-12)


def test_rows_stream_in_order_and_cancel_leaves_nan_rows():
    center, axes = torch.zeros(4, dtype=torch.float64), torch.eye(4, dtype=torch.float64)[:2]
    token, seen = CancelToken(), []

    def on_row(row: SliceRow) -> None:
        seen.append(row.index)
        if row.index == 2:
            token.cancel()

    s = run_job(slice_grid(quadratic, center, axes, SliceConfig(grid=7, batch=7), token), on_row)
    assert seen == [0, 1, 2] and s.cancelled
    assert np.isfinite(s.loss[:3]).all() and np.isnan(s.loss[3:]).all()
    rows = []
    run_job(slice_grid(quadratic, center, axes, SliceConfig(grid=7, batch=100)), rows.append)  # 14 rows per call
    assert [r.index for r in rows] == list(range(7)) and all(r.values.shape == (7,) for r in rows)


def test_trajectory_projection_leaves_exactly_the_unexplained_variance():
    rng = np.random.default_rng(1)
    steps = np.cumsum(rng.standard_normal((30, 12)) * np.linspace(3, 0.1, 12), axis=0)
    axes, explained, coords, center = trajectory_axes(steps.reshape(30, 3, 4))
    assert axes.shape == (2, 3, 4) and coords.shape == (30, 2) and np.allclose(center, steps[-1].reshape(3, 4))
    assert np.allclose(coords[-1], 0) and np.abs(coords).max(0) == pytest.approx([1, 1])
    flat_axes, mean = axes.reshape(2, -1), steps.mean(0)
    recon = mean + (coords - coords.mean(0)) @ flat_axes
    total = ((steps - mean) ** 2).sum()
    assert ((steps - recon) ** 2).sum() == pytest.approx((1 - explained.sum()) * total, rel=1e-9)
    assert 0 < explained[1] <= explained[0] and explained.sum() < 1
    units = flat_axes / np.linalg.norm(flat_axes, axis=1, keepdims=True)
    assert units @ units.T == pytest.approx(np.eye(2), abs=1e-9)
    # a straight path still gets a second (orthogonal) axis, explaining nothing
    axes, explained, coords, _ = trajectory_axes(np.outer(np.arange(5.0), np.ones(6)))
    assert explained == pytest.approx([1, 0]) and abs(float(axes[0] @ axes[1])) < 1e-9


def test_random_axes_are_orthonormal_and_reproducible():
    a = random_axes((2, 50), seed=3, scale=1.0)
    flat = a.reshape(2, -1)
    assert flat @ flat.T == pytest.approx(np.eye(2), abs=1e-12)
    assert np.array_equal(a, random_axes((2, 50), 3, 1.0)) and not np.allclose(a, random_axes((2, 50), 4, 1.0))
    assert np.allclose(random_axes((2, 50), 3, 2.5), 2.5 * a)


def test_config_validation_and_round_trip():
    config = SliceConfig(dirs="edit:smile,age", grid=33, space="z", term="pixel")
    assert SliceConfig.from_dict(config.to_dict()) == config
    for bad in (dict(grid=4), dict(grid=1), dict(span=0), dict(space="w"), dict(term="x"), dict(dirs="edit:a")):
        with pytest.raises(InvalidInputError):
            SliceConfig(**bad).validate()
    with pytest.raises(InvalidInputError):
        SliceConfig.from_dict({"grid": 5, "gird": 5})


def test_default_model_slices_in_x_and_z_centre_equals_the_objective(G):
    config = InversionConfig(steps=12, preview_every=100).with_changes(loss_lpips=0.0)
    target = G.sample(1, 7)
    steps: list = []
    result = run_job(invert(G, target, config), steps.append)
    path = latent_trajectory(steps)  # [13, 100]
    s = run_job(slice_for_photo(G, target, None, config, SliceConfig(grid=5), path))
    assert isinstance(s, LandscapeSlice) and s.loss.shape == (5, 5) and np.isfinite(s.loss).all()
    with torch.no_grad():
        truth = run_job(invert(G, target, config.with_changes(steps=0), start=torch.from_numpy(path[-1:])))
    assert s.center_loss == pytest.approx(float(truth.losses[0]), rel=1e-5)
    assert s.trajectory.shape == (13, 2) and s.explained_variance.sum() <= 1
    assert result.latents.shape == (1, 100)
    # z: the landscape method records z while it descends in Z (the shipped θ's Adam goes on in Z: every step);
    # the z-slice's centre is the objective at θ(z)
    theta, _ = find_mapping(G)
    assert theta.config.handover_in_z
    zsteps: list = []
    run_job(invert(G, target, config.with_changes(method="landscape")), zsteps.append)
    zpath = landscape_trajectory(zsteps)
    assert zpath.shape == (config.steps + 1, 100)
    assert np.allclose(zsteps[-1].latent, theta(torch.from_numpy(zsteps[-1].z)).detach().numpy(), atol=1e-5)
    assert np.allclose(zsteps[0].latent, theta(torch.from_numpy(zsteps[0].z)).detach().numpy(), atol=1e-5)
    zs = run_job(slice_for_photo(G, target, None, config, SliceConfig(grid=5, space="z", dirs="random"), zpath,
                                 theta=theta))
    loss_fn = inversion_loss_fn(G, target, None, config, "total", "z", theta)
    with torch.no_grad():
        expected = float(loss_fn(torch.from_numpy(zpath[-1:]).float())[0])
    assert zs.center_loss == pytest.approx(expected, rel=1e-5) and zs.trajectory.shape == (len(zpath), 2)
    pixel = run_job(slice_for_photo(G, target, None, config, SliceConfig(grid=3, term="prior"), path))
    assert np.isfinite(pixel.loss).all() and pixel.term == "prior"


def test_save_slice_writes_safe_files(tmp_path):
    center, axes = torch.zeros(4, dtype=torch.float64), torch.eye(4, dtype=torch.float64)[:2]
    s = run_job(slice_grid(quadratic, center, axes, SliceConfig(grid=5)))
    s.trajectory, s.explained_variance = np.array([[1.0, 1.0], [0.5, 0.2], [0, 0]]), np.array([0.7, 0.2])
    paths = save_slice(s, tmp_path / "out")
    with np.load(paths["npz"], allow_pickle=False) as data:
        assert np.array_equal(data["loss"], s.loss) and data["trajectory"].shape == (3, 2)
    lines = paths["csv"].read_text().splitlines()
    assert lines[0] == "x,y,loss" and len(lines) == 26
    summary = json.loads(paths["json"].read_text())
    assert summary["config"]["grid"] == 5 and summary["explained_variance"] == [0.7, 0.2]
    assert Image.open(paths["png"]).size == (512, 512)


def test_cli_slice_end_to_end_and_errors(tmp_path, capsys):
    out = tmp_path / "slice"
    assert main(["slice", "--seed", "2", "--grid", "5", "--steps", "5", "--lpips", "0", "--quiet",
                 "--device", "cpu", "--out", str(out)]) == 0
    assert "5×5 slice in x" in capsys.readouterr().out
    for name in ("slice.npz", "slice.csv", "slice.json", "slice.png", "result.png", "target.png"):
        assert (out / name).is_file()
    assert main(["slice", "--seed", "2", "--grid", "4", "--out", str(out)]) == 2
    assert "odd" in capsys.readouterr().err
    assert main(["slice", "--grid", "5", "--out", str(out)]) == 2  # neither PHOTO nor --seed
    assert main(["slice", "--seed", "2", "--dirs", "edit:nope,smile", "--grid", "5", "--steps", "2", "--lpips", "0",
                 "--device", "cpu", "--quiet", "--out", str(out)]) == 2
    assert "nope" in capsys.readouterr().err
    done = subprocess.run([sys.executable, "-m", "core.cli", "slice", "--seed", "1", "--space", "w", "--out",
                           str(out)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
