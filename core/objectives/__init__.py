"""Objectives: pixel, perceptual (LPIPS) and prior terms, composed into the inversion loss."""

from core.objectives.compose import LossWeights, Objective

__all__ = ["LossWeights", "Objective"]
