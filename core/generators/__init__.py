"""Generators: the contract (:class:`Generator`), the embedded DCGAN and the loader."""

from core.generators.base import Generator, LatentSpace
from core.generators.registry import DEFAULT_MODEL, builtin_models, load_generator

__all__ = ["DEFAULT_MODEL", "Generator", "LatentSpace", "builtin_models", "load_generator"]
