"""Batches: a recipe (what to do to each photo), its inputs, its output folder, and the engines that run it."""

from core.batch.recipe import Recipe, load_recipe, save_recipe

__all__ = ["Recipe", "load_recipe", "save_recipe"]
