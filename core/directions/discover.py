"""Unsupervised discovery by method name, for the command line and the GUI's Discover dialog."""

from __future__ import annotations

import numpy as np

from core.directions.attributes import attribute_directions
from core.directions.library import Direction
from core.directions.pca import DEFAULT_SAMPLES, pca_directions
from core.directions.sefa import sefa_directions
from core.errors import InvalidInputError
from core.generators import Generator

DISCOVERY_METHODS = ("sefa", "pca", "attributes")


def discover_directions(G: Generator, method: str, count: int = 10, samples: int = DEFAULT_SAMPLES,
                        seed: int = 0, layers: tuple[int, int] | None = None) -> tuple[list[Direction], np.ndarray]:
    """``count`` directions named ``{method}-00`` …, with the figure that orders them (descending):
    SeFa's eigenvalues, or PCA's explained-variance ratios. ``samples`` and ``seed`` matter for PCA only;
    ``layers`` (half-open w+ rows) for SeFa only."""
    if layers is not None and method != "sefa":
        raise InvalidInputError("A layer range is a SeFa setting; PCA directions apply to every layer.")
    if method == "sefa":
        return sefa_directions(G, count, layers=layers)
    if method == "pca":
        return pca_directions(G, count, samples=samples, seed=seed)
    if method == "attributes":
        found, figures = attribute_directions(G, samples=samples, seed=seed)
        return found, np.array([figures["age_accuracy"], figures["gender_accuracy"], figures["smile_accuracy"]])
    raise InvalidInputError(f"Unknown discovery method '{method}'; choose one of: {', '.join(DISCOVERY_METHODS)}.")
