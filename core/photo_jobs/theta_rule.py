"""Which θ a run uses: one rule for every caller and every method.

A θ chosen for the session (trained in the running editor, or named on the command line) applies to every method
that descends through θ — landscape, hybrid refining through θ, pivotal with a θ pivot — unless the run's own
settings already name one. Without either, each method falls back to the model's shipped θ.
"""

from __future__ import annotations

from core.inversion import InversionConfig


def with_session_theta(config: InversionConfig, theta: str | None) -> InversionConfig:
    """``config`` using the session's θ folder ``theta`` (None: unchanged) unless it names its own."""
    if theta is None or config.landscape is not None:
        return config
    return config.with_changes(landscape=str(theta))
