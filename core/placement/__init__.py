"""Where the model's square lies in a photo, and how a generated square goes back: ``Placement`` and the blends.

``Placement.default_for(photo)`` → ``target`` / ``mask`` (model resolution) → … → ``composite`` (full resolution).
"""

from core.placement.blend import MAX_FEATHER, composite, composite_aligned, feather_weights, fill_weights, paste_back
from core.placement.placement import DEFAULT_FEATHER, Placement, unit_mask

__all__ = ["DEFAULT_FEATHER", "MAX_FEATHER", "Placement", "composite", "composite_aligned", "feather_weights",
           "fill_weights", "paste_back", "unit_mask"]
