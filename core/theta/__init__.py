"""θ: Z→X and what inversion may use of it — the mapping, its curvature preconditioner and where a model's θ is.

Training θ lives in ``core.landscape``; inversion imports only this package, never the trainer.
"""

from core.theta.curvature import DEFAULT_DAMPING, curvature_draws, mean_gauss_newton, preconditioner
from core.theta.mapping import (
    DEFAULT_RECIPE,
    RECIPES,
    LandscapeMapping,
    MappingConfig,
    load_mapping,
    recipe_config,
    rescaled_to_radius,
    save_mapping,
    theta_latent,
)
from core.theta.registry import find_mapping, shipped_mapping_dir

__all__ = [
    "DEFAULT_DAMPING",
    "DEFAULT_RECIPE",
    "RECIPES",
    "LandscapeMapping",
    "MappingConfig",
    "curvature_draws",
    "find_mapping",
    "load_mapping",
    "mean_gauss_newton",
    "preconditioner",
    "recipe_config",
    "rescaled_to_radius",
    "save_mapping",
    "shipped_mapping_dir",
    "theta_latent",
]
