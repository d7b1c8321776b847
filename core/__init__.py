"""Landscape Studio's engine: generators, objectives, inversion and the CLI. Never imports Qt."""

__version__ = "0.1.0"
