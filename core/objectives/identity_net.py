"""dlib's face-recognition ResNet (``dlib_face_recognition_resnet_model_v1``) rebuilt in PyTorch.

Davis King trained it with a metric loss so that two chips of one person lie closer than 0.6 in its 128-d space;
he released the weights into the public domain (CC0). ``packaging/fetch_identity_model.py`` reads dlib's own file
and writes ``resources/identity/`` (safetensors, float32); this module only rebuilds the layers that file lists:

* input: a 150×150 RGB chip with values in 0…255, minus dlib's per-channel means, divided by 256;
* a 7×7 stride-2 convolution to 32 channels (no padding: dlib pads only stride-1 layers), an affine layer (a
  batch norm frozen into a per-channel scale and shift), ReLU and a 3×3 stride-2 max pool (no padding);
* 14 residual blocks in five stages — 3 × 32, 4 × 64, 3 × 128, 3 × 256 and 1 × 256 channels; each stage after
  the first opens with a down block: its first 3×3 convolution has stride 2 and no padding, and its shortcut is a
  2×2 average pool; dlib adds tensors of unequal shape by zero-filling the smaller one from the top-left corner
  (channels 32 → 64 and, at 8 → 3 vs 4 pixels, the spatial size too);
* a global average pool and a 128-wide fully connected layer without bias. The output is the embedding as is.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from core.errors import IdentityUnavailableError
from core.resources import resources_dir

CHIP_SIDE = 150  # dlib's input_rgb_image_sized<150>
INPUT_DIVISOR = 256.0  # dlib's input_rgb_image: (value - channel mean) / 256
EMBEDDING_DIM = 128
SAME_PERSON_BELOW = 0.6  # the Euclidean distance dlib's training aimed to keep one person's chips within
# (channels, blocks, whether the stage's first block halves the resolution), input side to output side
STAGES: tuple[tuple[int, int, bool], ...] = ((32, 3, False), (64, 4, True), (128, 3, True), (256, 3, True),
                                             (256, 1, True))
WEIGHTS_FILE = "dlib_face_recognition_resnet_v1.safetensors"
# sha256 of the file the converter writes (it checks its output against this pin, so a change cannot go unseen)
WEIGHTS_SHA256 = "b56134f0385aa1a0da47d7dd3517288466b7d3d5765dcc1a28131085b473f553"


class Affine(nn.Module):
    """dlib's ``affine_`` layer: a frozen batch norm, ``gamma * x + beta`` per channel."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.addcmul(self.beta[:, None, None], x, self.gamma[:, None, None])


def add_padded(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a + b`` the way dlib's ``add_prev`` does it: the sum has the larger size in every dimension, and each
    operand counts as zero where it does not reach (both start at channel 0, row 0, column 0)."""
    if a.shape == b.shape:
        return a + b
    c, h, w = (max(a.shape[i], b.shape[i]) for i in (1, 2, 3))

    def grow(t: torch.Tensor) -> torch.Tensor:
        return F.pad(t, (0, w - t.shape[3], 0, h - t.shape[2], 0, c - t.shape[1]))

    return grow(a) + grow(b)


class ResidualBlock(nn.Module):
    """conv → affine → ReLU → conv → affine, plus the shortcut, then ReLU (dlib's ``ares`` / ``ares_down``)."""

    def __init__(self, channels_in: int, channels: int, *, down: bool) -> None:
        super().__init__()
        self.down = down
        stride, padding = (2, 0) if down else (1, 1)
        self.conv1 = nn.Conv2d(channels_in, channels, 3, stride=stride, padding=padding)
        self.affine1 = Affine(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.affine2 = Affine(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.affine2(self.conv2(F.relu(self.affine1(self.conv1(x)))))
        shortcut = F.avg_pool2d(x, 2, 2) if self.down else x
        return F.relu(add_padded(y, shortcut))


class IdentityNet(nn.Module):
    """150×150 RGB chips with values in 0…255 [N, 3, 150, 150] → dlib face embeddings [N, 128]."""

    input_mean: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("input_mean", torch.zeros(3))  # dlib's per-channel means, read from its file
        self.stem = nn.Conv2d(3, 32, 7, stride=2)
        self.stem_affine = Affine(32)
        blocks, channels_in = [], 32
        for channels, count, down in STAGES:
            for index in range(count):
                blocks.append(ResidualBlock(channels_in, channels, down=down and index == 0))
                channels_in = channels
        self.blocks = nn.ModuleList(blocks)
        self.fc = nn.Linear(channels_in, EMBEDDING_DIM, bias=False)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        if pixels.shape[1:] != (3, CHIP_SIDE, CHIP_SIDE):
            raise ValueError(f"IdentityNet takes [N, 3, {CHIP_SIDE}, {CHIP_SIDE}] chips, got {tuple(pixels.shape)}")
        x = (pixels - self.input_mean[:, None, None]) / INPUT_DIVISOR
        x = F.max_pool2d(F.relu(self.stem_affine(self.stem(x))), 3, 2)
        for block in self.blocks:
            x = block(x)
        return self.fc(x.mean(dim=(2, 3)))


def weights_path() -> Path:
    """Where the converted weights ship: ``resources/identity/``."""
    return resources_dir() / "identity" / WEIGHTS_FILE


def _fix(path: Path) -> str:
    return (f"Reinstall Landscape Studio, or in a source checkout run 'python packaging/fetch_identity_model.py', "
            f"which rebuilds '{path.name}' from dlib's published model.")


def file_problem(path: Path) -> str | None:
    """None when ``path`` is the converted weights file, byte for byte; else what is wrong with it, and the fix."""
    if not path.is_file():
        return f"The face-identity model '{path}' is missing. {_fix(path)}"
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        return f"The face-identity model '{path}' cannot be read ({exc}). {_fix(path)}"
    if digest != WEIGHTS_SHA256:
        return f"The face-identity model '{path}' is damaged (its checksum differs from the shipped file). {_fix(path)}"
    return None


def load_identity_net(path: Path | None = None) -> IdentityNet:
    """The network with its weights, in eval mode and with frozen parameters (gradients reach only the input).

    Raises :class:`IdentityUnavailableError` naming the file and the fix when it is missing or damaged.
    """
    path = path or weights_path()
    problem = file_problem(path)
    if problem:
        raise IdentityUnavailableError(problem)
    net = IdentityNet()
    try:
        net.load_state_dict(load_file(str(path)), strict=True)
    except (OSError, RuntimeError, SafetensorError) as exc:  # RuntimeError: a missing or mis-shaped tensor
        raise IdentityUnavailableError(f"The face-identity model '{path}' does not fit the network ({exc}). "
                                       f"{_fix(path)}") from exc
    return net.eval().requires_grad_(False)
