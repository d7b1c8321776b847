"""Face identity as a loss and a metric: the Euclidean distance between dlib face embeddings.

dlib's network (:mod:`core.objectives.identity_net`) was trained on 150-px chips that dlib cuts with
``get_face_chip_details(shape, 150, 0.25)`` from its 5-point landmarks (eye corners, base of the nose). Our
squares are already framed, so no landmarks are found per image: one fixed similarity, fitted once per model, takes
the model's mean eye centres and mouth centre (its :class:`~core.alignment.framing.Framing`) to where dlib's chip
puts them, and ``affine_grid``/``grid_sample`` apply it, so gradients reach the image.

Where dlib's chip puts them (``DLIB_CHIP``, fractions of the chip's side, continuous coordinates). dlib maps a
template point ``p`` (in its mean-face frame) to ``(0.25 + p) / 1.5 · 150``. Its 5-point template is
(0.8596, 0.2135), (0.6461, 0.2290), (0.1206, 0.2137), (0.3341, 0.2291) for the eye corners and (0.4901, 0.6278)
for the nose; it is its 68-point mean face (points 45, 42, 36, 39, 33) refined, so the least-squares similarity
between those five pairs (scale 1.0039, rotation 0.014°, residual < 0.001) carries the mean face's eye centres
(means of points 36–41 and 42–47, as our eye centres are means of the eye contour) and mouth centre (mean of points
48–67, as ours is the mean of both lip contours) into the 5-point frame: (0.2244, 0.2134), (0.7557, 0.2133) and
(0.4902, 0.8039), i.e. chip pixels (47.44, 46.34), (100.57, 46.33) and (74.02, 105.39) of 150. The template
numbers are the ones compiled into dlib 20.0 (read from its binary). Given five landmarks where this transform puts
the 5-point template, dlib's own ``extract_image_chip`` samples within 0.5 chip pixel of ours at the eyes and mouth
and within 1.2 anywhere inside the image (``packaging/check_identity_port.py``, squares of 64, 256 and 1024 px):
dlib stretches pixel indices 0…149 over its rectangle, and shrinks large images through a pyramid.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.alignment.framing import Framing
from core.alignment.geometry import scale_of, umeyama
from core.device import from_uint8_hwc
from core.errors import InvalidInputError
from core.objectives.identity_net import CHIP_SIDE, EMBEDDING_DIM, file_problem, load_identity_net, weights_path

log = logging.getLogger(__name__)

# image-left eye (the person's right eye), image-right eye, mouth centre: fractions of dlib's 150-px chip
SAME_PERSON_BELOW = 0.6  # dlib's own threshold: embeddings closer than this are the same person
DLIB_CHIP: tuple[tuple[float, float], ...] = ((0.316261, 0.308958), (0.670482, 0.308870), (0.493470, 0.702598))
PRESHRINK_ABOVE = 1.5  # image pixels per chip pixel above which the image is first shrunk (antialiased)
_cache: dict[tuple[tuple[tuple[float, float], ...], str], IdentityLoss] = {}


def unavailable_reason(weights: Path | None = None) -> str | None:
    """None when the identity loss can run here, else a plain reason naming the file and the fix."""
    path = weights or weights_path()
    try:
        stat = path.stat()
    except OSError:
        return file_problem(path)
    return _checked(path, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _checked(path: Path, size: int, mtime_ns: int) -> str | None:
    """:func:`file_problem`, hashed once per version of the file (its size and time stamp are part of the key)."""
    return file_problem(path)


def framing_points(framing: Framing) -> tuple[tuple[float, float], ...]:
    return (framing.eye_left, framing.eye_right, framing.mouth)


def chip_template(padding: float) -> tuple[tuple[float, float], ...]:
    """Where dlib's chip with ``padding`` puts the eyes and mouth: a template point p sits at (padding + p) /
    (1 + 2·padding) of the side, and :data:`DLIB_CHIP` is the 0.25 case."""
    return tuple(((1.5 * x - 0.25 + padding) / (1 + 2 * padding), (1.5 * y - 0.25 + padding) / (1 + 2 * padding))
                 for x, y in DLIB_CHIP)


def sample_chips(images: torch.Tensor, theta: torch.Tensor, chip_over_image: float, side: int) -> torch.Tensor:
    """[N, 3, R, R] → [N, 3, side, side] chips through ``theta`` (:func:`chip_theta`), a large image shrunk first
    (antialiased) so bilinear sampling does not alias; border pixels repeat outside the image."""
    x = images.float()
    size = images.shape[-1]
    per_chip_pixel = chip_over_image * size / side
    if per_chip_pixel > PRESHRINK_ABOVE:
        small = round(size / per_chip_pixel)  # about one pixel per chip pixel
        x = F.interpolate(x, size=(small, small), mode="bilinear", antialias=True, align_corners=False)
    grid = F.affine_grid(theta.to(x.device).expand(len(x), 2, 3), [len(x), 3, side, side], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def chip_theta(eyes_mouth: Sequence[tuple[float, float]],
               template: Sequence[tuple[float, float]] = DLIB_CHIP) -> tuple[torch.Tensor, float]:
    """The ``affine_grid`` matrix [2, 3] taking the chip's normalised coordinates to the image's, and the chip's
    side as a fraction of the image's, both from the three points (fractions of the image side) and where the
    chip puts them (``template``: :data:`DLIB_CHIP`, or :func:`chip_template` of another padding)."""
    points = np.asarray(eyes_mouth, dtype=np.float64)
    if points.shape != (3, 2) or not np.isfinite(points).all():
        raise InvalidInputError(f"The identity chip needs three (x, y) fractions: eyes and mouth; got {points}.")
    m = umeyama(np.array(template), points)  # chip fraction → image fraction
    linear, shift = m[:, :2], m[:, 2]
    # normalised coordinates n = 2·f − 1 on both sides (align_corners=False: −1 and 1 are the outer edges)
    theta = np.hstack([linear, (linear.sum(1) + 2 * shift - 1)[:, None]])
    return torch.tensor(theta, dtype=torch.float32), scale_of(m)


class IdentityLoss(nn.Module):
    """dlib embedding distance per image, [N]: below 0.6 dlib calls two faces the same person.

    ``eyes_mouth`` (keyword-only): the image-left eye, image-right eye and mouth centres as (x, y) fractions of the
    square's side — a model's framing; :meth:`from_framing` takes a :class:`Framing` directly.
    """

    theta: torch.Tensor

    def __init__(self, *, eyes_mouth: Sequence[tuple[float, float]], weights: Path | None = None) -> None:
        super().__init__()
        theta, self.chip_over_image = chip_theta(eyes_mouth)
        self.register_buffer("theta", theta, persistent=False)
        self.net = load_identity_net(weights)

    @classmethod
    def from_framing(cls, framing: Framing, *, weights: Path | None = None) -> IdentityLoss:
        return cls(eyes_mouth=framing_points(framing), weights=weights)

    def chip(self, images: torch.Tensor) -> torch.Tensor:
        """[N, 3, R, R] in [-1, 1] → dlib's [N, 3, 150, 150] chips in [-1, 1] (border pixels repeat outside)."""
        if images.dim() != 4 or images.shape[1] != 3 or images.shape[2] != images.shape[3]:
            raise InvalidInputError(f"The identity loss takes square RGB images [N, 3, R, R], got "
                                    f"{tuple(images.shape)}.")
        return sample_chips(images, self.theta, self.chip_over_image, CHIP_SIDE)

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """[N, 3, R, R] in [-1, 1] → dlib embeddings [N, 128] (differentiable with respect to ``images``)."""
        return self.embed_chips(self.chip(images))

    def embed_chips(self, chips: torch.Tensor) -> torch.Tensor:
        """[N, 3, 150, 150] chips in [-1, 1] → [N, 128]."""
        return self.net(chips.add(1).mul(127.5))  # the network reads 0…255, as dlib's uint8 chips

    def forward(self, images: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``images`` [N|1, 3, R, R]; ``target`` images [N|1, 3, R', R'] or their cached :meth:`embed` [N|1, 128];
        returns the Euclidean distances [N]."""
        mine = self.embed(images)
        cached = target.dim() == 2 and target.shape[1] == EMBEDDING_DIM
        theirs = target.to(mine) if cached else self.embed(target)
        return torch.linalg.vector_norm(mine - theirs, dim=1)


def identity_loss(framing: Framing, device: torch.device | str = "cpu") -> IdentityLoss:
    """A shared, loaded :class:`IdentityLoss` for ``framing`` on ``device`` (loading reads and hashes 22 MB)."""
    key = (framing_points(framing), str(device))
    if key not in _cache:  # raises IdentityUnavailableError, naming the file and the fix, when it cannot load
        _cache[key] = IdentityLoss.from_framing(framing).to(device)
        log.info("dlib identity network loaded on %s", device)
    return _cache[key]


def identity_distance(a: np.ndarray, b: np.ndarray, framing: Framing) -> float:
    """dlib embedding distance between two uint8 [R, R, 3] squares framed as ``framing`` says (for reports)."""
    loss = identity_loss(framing, "cpu")
    with torch.no_grad():
        return float(loss(from_uint8_hwc(a), loss.embed(from_uint8_hwc(b)))[0])
