"""Latent editing directions: find them (SeFa, PCA, labels, two photos, imports), keep them, apply them.

``library`` holds the :class:`Direction` record and the on-disk :class:`DirectionLibrary`; ``apply`` moves
latents (α in std units); ``sefa``, ``pca`` and ``linear`` make directions; ``importers`` reads other tools'
files; ``strip`` draws what a direction does.
"""

from core.directions.apply import apply_direction, apply_directions, conditional, latent_scale
from core.directions.discover import DISCOVERY_METHODS, discover_directions
from core.directions.importers import find_direction, import_ganspace, import_interfacegan
from core.directions.library import (
    Direction,
    DirectionLibrary,
    check_direction,
    load_user_library,
    recorded_direction,
    shipped_library_dir,
)
from core.directions.linear import direction_from_two_latents, fit_boundary, supervised_direction
from core.directions.pca import layer_activations, pca_directions, principal_components
from core.directions.sefa import dcgan_latent_weights, sefa_basis, sefa_directions
from core.directions.strip import contact_sheet, direction_strip
from core.directions.style import layer_range, named_style_edit, seed_mix, style_mix, truncation

__all__ = [
    "DISCOVERY_METHODS",
    "Direction",
    "DirectionLibrary",
    "apply_direction",
    "apply_directions",
    "check_direction",
    "conditional",
    "contact_sheet",
    "dcgan_latent_weights",
    "direction_from_two_latents",
    "direction_strip",
    "discover_directions",
    "find_direction",
    "fit_boundary",
    "import_ganspace",
    "import_interfacegan",
    "latent_scale",
    "layer_activations",
    "layer_range",
    "load_user_library",
    "named_style_edit",
    "pca_directions",
    "principal_components",
    "recorded_direction",
    "seed_mix",
    "sefa_basis",
    "sefa_directions",
    "shipped_library_dir",
    "style_mix",
    "supervised_direction",
    "truncation",
]
