"""Learning-rate and latent-noise schedules over an inversion run (t = step / steps, in [0, 1])."""

from __future__ import annotations

import math

SCHEDULES = ("constant", "rampdown")
RAMP_UP, RAMP_DOWN = 0.05, 0.25  # NVIDIA projector's fractions of the run


def learning_rate(step: int, steps: int, base: float, schedule: str = "constant") -> float:
    """The learning rate for update ``step`` (0-based) of ``steps``.

    "rampdown" is the StyleGAN projector's: linear warm-up over the first 5 %, cosine decay to 0 over the last
    25 %. It helps when the start is the mean latent; from random starts on the DCGAN, constant was better.
    """
    if schedule == "constant" or steps <= 0:
        return base
    t = step / steps
    down = min(1.0, (1.0 - t) / RAMP_DOWN)
    factor = 0.5 - 0.5 * math.cos(down * math.pi)
    return base * factor * min(1.0, t / RAMP_UP)


def noise_strength(step: int, steps: int, strength: float, ramp: float = 0.75) -> float:
    """Latent noise (× latent std) at ``step``: ``strength`` decaying quadratically to 0 at ``ramp`` of the run."""
    if strength <= 0 or steps <= 0:
        return 0.0
    return strength * max(0.0, 1.0 - step / (steps * ramp)) ** 2
