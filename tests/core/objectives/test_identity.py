"""dlib's face-recognition ResNet in PyTorch: the port (golden embeddings from dlib itself), the chip and the loss."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

from core.alignment.framing import Framing, framing_for
from core.device import from_uint8_hwc
from core.errors import IdentityUnavailableError
from core.objectives import identity
from core.objectives.identity import DLIB_CHIP, IdentityLoss, identity_distance, identity_loss, unavailable_reason
from core.objectives.identity_net import WEIGHTS_FILE, load_identity_net, weights_path
from core.resources import resources_dir, sample_face_crop, sample_photos

# dlib 20.0.1's compute_face_descriptor on the chips of golden_chips() (packaging/check_identity_port.py):
# first 8 dimensions and the norm. Our port agreed to within 5e-7 on every dimension.
GOLDEN = {
    "astronaut": ([-0.066493, 0.085721, 0.010531, 0.033974, -0.050162, -0.039652, -0.046114, -0.138491],
                  1.3639711),
    "astronaut_mirrored": ([-0.082145, 0.10693, 0.040718, 0.038502, -0.067938, -0.058193, -0.056213, -0.12433],
                           1.3686566),
    "grace_hopper_halved": ([-0.044458, 0.05589, -0.015759, 0.085407, 0.001735, -0.056375, -0.044748, -0.086481],
                            1.3336728),
}


def golden_chips() -> dict[str, np.ndarray]:
    """150×150 chips cut without resampling (the same in packaging/check_identity_port.py)."""
    astronaut = np.asarray(Image.open(resources_dir() / "samples" / "astronaut.png").convert("RGB"))
    hopper = np.asarray(Image.open(resources_dir() / "samples" / "grace_hopper.jpg").convert("RGB"))
    face = astronaut[30:180, 150:300]
    halved = hopper[58:358, 113:413].astype(np.float64).reshape(150, 2, 150, 2, 3).mean((1, 3))
    return {"astronaut": face, "astronaut_mirrored": face[:, ::-1].copy(),
            "grace_hopper_halved": np.floor(halved + 0.5).astype(np.uint8)}


def face_square(name: str, side: int = 256) -> np.ndarray:
    """A sample photo's recorded face crop (framed as the default model frames faces), resized to ``side``."""
    photo = next(p for p in sample_photos() if p.stem == name)
    box = sample_face_crop(photo)
    assert box is not None
    crop = Image.open(photo).convert("RGB").crop((box["x"], box["y"], box["x"] + box["size"], box["y"] + box["size"]))
    return np.array(crop.resize((side, side), Image.Resampling.LANCZOS))


def degraded(pixels: np.ndarray) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(pixels).filter(ImageFilter.GaussianBlur(1.0)).save(buffer, "JPEG", quality=70)
    return np.array(Image.open(buffer).convert("RGB"))


@pytest.fixture(scope="module")
def framing(G) -> Framing:
    return framing_for(G, measure=False)


@pytest.fixture(scope="module")
def loss(framing) -> IdentityLoss:
    return identity_loss(framing, "cpu")


def test_weights_load_frozen_in_eval_mode():
    net = load_identity_net()
    assert not net.training
    assert all(not p.requires_grad for p in net.parameters())
    assert sum(p.numel() for p in net.parameters()) == 5614592
    assert torch.allclose(net.input_mean, torch.tensor([122.782, 117.001, 104.298]), atol=1e-3)
    assert unavailable_reason() is None


def test_embeddings_match_dlibs_own(loss):
    chips = golden_chips()
    pixels = torch.from_numpy(np.stack(list(chips.values()))).permute(0, 3, 1, 2).float()
    with torch.no_grad():
        embeddings = loss.net(pixels)
    for row, name in zip(embeddings, chips, strict=True):
        first8, norm = GOLDEN[name]
        assert torch.allclose(row[:8], torch.tensor(first8), atol=1e-4), name
        assert abs(float(row.norm()) - norm) < 1e-4, name


def test_the_same_image_is_at_distance_zero(loss):
    image = from_uint8_hwc(face_square("astronaut"))
    with torch.no_grad():
        assert float(loss(image, image)[0]) < 1e-6


def test_a_degraded_copy_is_the_same_person_and_another_person_is_not(loss):
    astronaut, hopper = face_square("astronaut"), face_square("grace_hopper")
    with torch.no_grad():
        targets = loss.embed(from_uint8_hwc(np.stack([astronaut, hopper])))
        copies = from_uint8_hwc(np.stack([degraded(astronaut), degraded(hopper)]))
        same = loss(copies, targets)  # a cached target embedding [N, 128] is accepted as the target
        other = loss(from_uint8_hwc(astronaut), from_uint8_hwc(hopper))
    assert (same < 0.3).all(), same
    assert float(other[0]) > 0.6 > float(same.max())


def test_cached_embeddings_give_the_same_distance_as_images(loss):
    images = from_uint8_hwc(np.stack([face_square("astronaut"), face_square("grace_hopper")]))
    target = from_uint8_hwc(degraded(face_square("astronaut")))
    with torch.no_grad():
        assert torch.allclose(loss(images, target), loss(images, loss.embed(target)), atol=1e-6)


def test_any_resolution_gives_the_same_identity(loss):
    """A large square is shrunk with antialiasing before sampling, a small one only sampled: both stay one person."""
    with torch.no_grad():
        reference = loss.embed(from_uint8_hwc(face_square("astronaut", 256)))
        big = loss(from_uint8_hwc(face_square("astronaut", 1024)), reference)
        small = loss(from_uint8_hwc(face_square("astronaut", 96)), reference)
    assert float(big[0]) < 0.1 and float(small[0]) < 0.25


def test_gradient_reaches_the_input(loss):
    images = from_uint8_hwc(face_square("astronaut", 64)).requires_grad_(True)
    target = from_uint8_hwc(face_square("grace_hopper", 64))
    loss(images, target).sum().backward()
    assert images.grad is not None and torch.isfinite(images.grad).all()
    assert float(images.grad.abs().sum()) > 0
    assert all(p.grad is None for p in loss.net.parameters())


def test_the_chip_puts_the_framing_points_where_dlib_puts_them():
    """Bright dots at the framing's eyes and mouth land on dlib's template positions in the chip."""
    turn = np.deg2rad(8.0)  # a tilted, off-centre framing: dlib's template turned, scaled and moved
    rotation = 0.8 * np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    points = tuple((float(x), float(y)) for x, y in np.array(DLIB_CHIP) @ rotation.T + (0.12, 0.05))
    side = 512
    yy, xx = np.mgrid[0:side, 0:side] + 0.5
    dots = sum(np.exp(-((xx - x * side) ** 2 + (yy - y * side) ** 2) / (2 * 6.0**2)) for x, y in points)
    image = torch.from_numpy(dots).float()[None, None].expand(1, 3, side, side) * 2 - 1
    chip = IdentityLoss(eyes_mouth=points).chip(image)[0, 0].numpy() + 1
    cy, cx = np.mgrid[0:150, 0:150] + 0.5
    for x, y in DLIB_CHIP:
        near = (cx - x * 150) ** 2 + (cy - y * 150) ** 2 < 12**2
        weight = chip * near
        centre = ((cx * weight).sum() / weight.sum(), (cy * weight).sum() / weight.sum())
        assert np.hypot(centre[0] - x * 150, centre[1] - y * 150) < 0.5, (x, y, centre)


def test_identity_distance_for_reports(framing):
    astronaut = face_square("astronaut")
    assert identity_distance(astronaut, astronaut, framing) < 1e-6
    assert identity_distance(astronaut, face_square("grace_hopper"), framing) > 0.6


def test_a_missing_weights_file_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("LANDSCAPE_STUDIO_RESOURCES", str(tmp_path))
    reason = unavailable_reason()
    assert reason is not None and WEIGHTS_FILE in reason and "is missing" in reason
    assert "fetch_identity_model.py" in reason
    with pytest.raises(IdentityUnavailableError, match="is missing"):
        IdentityLoss(eyes_mouth=DLIB_CHIP)


def test_a_damaged_weights_file_is_a_clear_error(tmp_path, monkeypatch):
    folder = tmp_path / "identity"
    folder.mkdir()
    damaged = folder / WEIGHTS_FILE
    shutil.copyfile(weights_path(), damaged)
    with damaged.open("r+b") as fh:  # one flipped byte deep inside the float data
        fh.seek(10_000_000)
        byte = fh.read(1)
        fh.seek(10_000_000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(IdentityUnavailableError, match="damaged") as caught:
        IdentityLoss(eyes_mouth=DLIB_CHIP, weights=damaged)
    assert str(damaged) in str(caught.value) and "Reinstall" in str(caught.value)
    damaged.write_bytes(b"not a safetensors file")
    assert "damaged" in (unavailable_reason(damaged) or "")
    monkeypatch.setenv("LANDSCAPE_STUDIO_RESOURCES", str(tmp_path))
    monkeypatch.setattr(identity, "_cache", {})
    with pytest.raises(IdentityUnavailableError, match="damaged"):
        identity_loss(Framing("x", *DLIB_CHIP, ((0, 0),) * 3, 1, 1, 0), "cpu")


def test_a_malformed_chip_request_is_refused():
    from core.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="three"):
        IdentityLoss(eyes_mouth=((0.3, 0.4), (0.7, 0.4)))
