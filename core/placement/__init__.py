"""Where the model's square lies in a photo, and how a generated square goes back: ``Placement`` and the blends.

``Placement.default_for(photo)`` → ``target`` / ``mask`` (model resolution) → … → ``composite`` (full resolution).
"""

from core.placement.blend import MAX_FEATHER, composite, composite_aligned, feather_weights, fill_weights, paste_back
from core.placement.detail import detail_kept, high_frequency_energy
from core.placement.placement import (
    COMPOSITE_MODES,
    DEFAULT_COMPOSITE,
    DEFAULT_FEATHER,
    Placement,
    check_composite_mode,
    unit_mask,
)

__all__ = ["COMPOSITE_MODES", "DEFAULT_COMPOSITE", "DEFAULT_FEATHER", "MAX_FEATHER", "Placement",
           "check_composite_mode", "composite", "composite_aligned", "detail_kept", "feather_weights", "fill_weights",
           "high_frequency_energy", "paste_back", "unit_mask"]
