"""File → Save Recipe…: the document's settings as a batch recipe, so a look made on one photo can be run over a
folder (``landscape-studio batch``). Edits from the model's library are kept by name; a direction the user made
that the library does not have is written beside the recipe as ``<recipe>.<name>.npy`` and named by that file."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path

import numpy as np

from core.atomic_files import atomic_write_bytes
from core.batch import Recipe, save_recipe
from core.batch.recipe import split_mix
from core.inversion import InversionConfig
from core.sessions.document import EditedDirection


def document_recipe(*, model: str, aligned: bool, config: InversionConfig, edits: tuple[EditedDirection, ...],
                    library_names: set[str], composite: str, feather: float
                    ) -> tuple[Recipe, dict[str, np.ndarray]]:
    """The recipe, and the vectors (file name → [D]) of edits that must travel as files."""
    settings = config.to_dict()
    restore = settings.pop("operator")
    by_name: dict[str, float] = {}
    files: dict[str, np.ndarray] = {}
    for edit in edits:
        if edit.alpha == 0:
            continue
        if edit.name in library_names or edit.method == "truncation":  # truncation: the model's own, by name
            by_name["truncation" if edit.method == "truncation" else edit.name] = float(edit.alpha)
        elif edit.method == "style-mix" and edit.layers is not None:  # the other code travels as a file
            slug = re.sub(r"[^\w-]+", "_", edit.name).strip("_")
            files[f"{slug}.npy"] = np.asarray(edit.vector, dtype=np.float32)
            by_name[f"mix:{edit.layers[0]}-{edit.layers[1]}:{slug}.npy"] = float(edit.alpha)
        else:
            slug = re.sub(r"[^\w-]+", "_", edit.name).strip("_") or "direction"
            files[f"{slug}.npy"] = np.asarray(edit.vector, dtype=np.float32)
            by_name[f"{slug}.npy"] = float(edit.alpha)
    recipe = Recipe(model=model, align=aligned, inversion=settings, edits=by_name, restore=restore,
                    composite=composite, feather=float(feather))
    return recipe, files


def write_recipe(path: Path, recipe: Recipe, files: dict[str, np.ndarray]) -> Path:
    """The recipe at ``path`` and its vector files beside it (``<stem>.<file>``), each written whole."""
    renamed = {}
    for name, vector in files.items():
        target = path.with_name(f"{path.stem}.{name}")
        buffer = io.BytesIO()
        np.save(buffer, vector, allow_pickle=False)
        atomic_write_bytes(target, buffer.getvalue())
        renamed[name] = target.name
    edits = {}
    for name, amount in recipe.edits.items():
        prefix, file = split_mix(name)
        edits[prefix + renamed.get(file, file)] = amount
    return save_recipe(replace(recipe, edits=edits), path)
