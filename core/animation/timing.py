"""When each frame of a clip sits between its keyframes: frame counts, easing, loops and latent interpolation.

Kept apart from rendering so the timing rules are exact and testable on their own: a clip of ``n`` frames
starts on its first keyframe, ends on its last (or, looping, one frame short of the first again, so the clip
repeats without a doubled frame), and eases in and out of each keyframe as motion editors do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.errors import InvalidInputError

EASINGS = ("ease-in-out", "linear", "ease-in", "ease-out")
MAX_FPS = 60
MAX_SECONDS = 600.0  # ten minutes of frames is already 36 000 renders at 60 fps
MIN_FRAMES = 2


def ease(name: str, t: np.ndarray) -> np.ndarray:
    """``t`` in [0, 1] mapped through the named easing curve (each keeps 0 → 0 and 1 → 1)."""
    t = np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0)
    if name == "linear":
        return t
    if name == "ease-in":
        return t * t
    if name == "ease-out":
        return 1.0 - (1.0 - t) ** 2
    if name == "ease-in-out":
        return 0.5 - 0.5 * np.cos(math.pi * t)  # smooth at both ends: no jolt when a loop turns round
    raise InvalidInputError(f"Unknown easing '{name}' (choose one of: {', '.join(EASINGS)}).")


@dataclass(frozen=True, kw_only=True)
class ClipTiming:
    """How long a clip runs and how it moves: ``loop`` makes an edit go there and back, and a walk return to its
    first keyframe, so the clip can play on repeat without a jump."""

    fps: float = 25.0
    seconds: float = 4.0
    easing: str = "ease-in-out"
    loop: bool = False

    def validate(self) -> None:
        if not (math.isfinite(self.fps) and 1 <= self.fps <= MAX_FPS):
            raise InvalidInputError(f"The frame rate must be between 1 and {MAX_FPS} fps (got {self.fps:g}).")
        if not (math.isfinite(self.seconds) and 0 < self.seconds <= MAX_SECONDS):
            raise InvalidInputError(f"The duration must be more than 0 and at most {MAX_SECONDS:g} s "
                                    f"(got {self.seconds:g}).")
        if self.easing not in EASINGS:
            raise InvalidInputError(f"Unknown easing '{self.easing}' (choose one of: {', '.join(EASINGS)}).")
        if self.frames < MIN_FRAMES:
            raise InvalidInputError(f"{self.seconds:g} s at {self.fps:g} fps is fewer than {MIN_FRAMES} frames; "
                                    "make the clip longer or raise the frame rate.")

    @property
    def frames(self) -> int:
        return round(self.fps * self.seconds)

    def clock(self) -> np.ndarray:
        """[frames] position of each frame along the clip in [0, 1]; looping, the last frame stops one frame
        before 1, which is the first frame again."""
        n = self.frames
        return np.arange(n) / (n if self.loop else n - 1)

    def sweep(self) -> np.ndarray:
        """[frames] progress from a to b of an edit (0 = a, 1 = b), eased; looping it goes to b and back."""
        u = self.clock()
        if self.loop:
            u = 1.0 - np.abs(2.0 * u - 1.0)  # 0 → 1 → 0
        return ease(self.easing, u)

    def walk(self, keyframes: int) -> list[tuple[int, float]]:
        """For each frame, (segment, eased fraction) between keyframes ``segment`` and ``segment + 1`` of a walk
        through ``keyframes`` points (a looping walk has one more segment: from the last point back to the first).
        Segments share the frames evenly, each keyframe falls exactly on a frame, and motion eases in and out of
        each keyframe."""
        if keyframes < 2:
            raise InvalidInputError(f"A walk needs at least 2 latents (got {keyframes}).")
        segments = keyframes if self.loop else keyframes - 1
        n = self.frames
        span = n if self.loop else n - 1  # frames from the first keyframe to the last (or back to the first)
        if span < segments:
            raise InvalidInputError(f"{n} frames cannot pass through {keyframes} keyframes; make the clip longer "
                                    "or raise the frame rate.")
        bounds = [round(j * span / segments) for j in range(segments + 1)]
        places = []
        for j in range(segments):
            length = bounds[j + 1] - bounds[j]
            last = bounds[j + 1] + (1 if j == segments - 1 and not self.loop else 0)
            fractions = ease(self.easing, (np.arange(bounds[j], last) - bounds[j]) / length)
            places += [(j, float(f)) for f in fractions]
        return places


def interpolate(a: np.ndarray, b: np.ndarray, fraction: float, *, spherical: bool) -> np.ndarray:
    """The code ``fraction`` of the way from ``a`` to ``b``. ``spherical`` for Gaussian prior codes (z): a straight
    line between two draws passes through codes far shorter than any draw (a washed-out average face midway),
    so the direction turns along the great circle while the length moves linearly."""
    a64, b64 = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if not spherical:
        return (a64 + fraction * (b64 - a64)).astype(np.float32)
    length_a, length_b = float(np.linalg.norm(a64)), float(np.linalg.norm(b64))
    if length_a == 0.0 or length_b == 0.0:
        return (a64 + fraction * (b64 - a64)).astype(np.float32)
    unit_a, unit_b = a64 / length_a, b64 / length_b
    angle = math.acos(float(np.clip(np.sum(unit_a * unit_b), -1.0, 1.0)))
    if angle < 1e-6 or angle > math.pi - 1e-6:  # the same direction, or opposite ones: no single great circle
        return (a64 + fraction * (b64 - a64)).astype(np.float32)
    direction = (math.sin((1 - fraction) * angle) * unit_a + math.sin(fraction * angle) * unit_b) / math.sin(angle)
    return (direction * (length_a + fraction * (length_b - length_a))).astype(np.float32)
