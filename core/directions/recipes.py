"""Named directions as *recipes*: which SeFa component of which layers is "smile", "age", … — numbers we can
commit for a model whose weights we may not ship. The vectors are computed on the user's machine from the
installed model (SeFa is closed-form: instant and deterministic), so nothing derived from non-commercial weights
is ever in the repository or the installers.

``resources/directions/<model name>/recipes.json``::

    {"format": "landscape-studio-direction-recipes", "version": 1, "model": "ffhq-mobilestylegan",
     "directions": [{"name": "smile", "method": "sefa", "component": 3, "layers": [4, 6], "sign": -1,
                     "checked": "what was seen on which seeds"}, …]}

Each recipe was checked by eye on contact sheets of generated faces (``directions discover --sheet``); its
``checked`` text says what was seen.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.directions.library import Direction, DirectionLibrary, shipped_library_dir
from core.directions.sefa import sefa_directions
from core.errors import InvalidInputError
from core.generators import Generator
from core.resources import resources_dir

FORMAT, VERSION = "landscape-studio-direction-recipes", 1
RECIPE_FILE = "recipes.json"


def recipes_path(model_name: str) -> Path:
    return resources_dir() / "directions" / model_name / RECIPE_FILE


def read_recipes(path: Path) -> list[dict[str, Any]]:
    """The recipes of one file, checked field by field (a damaged file names what is wrong)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"Direction recipes '{path}' cannot be read ({exc}).") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
        raise InvalidInputError(f"'{path}' is not a version-{VERSION} direction recipe file.")
    recipes = data.get("directions")
    if not isinstance(recipes, list) or not recipes:
        raise InvalidInputError(f"'{path}' lists no directions.")
    for r in recipes:
        ok = (isinstance(r, dict) and isinstance(r.get("name"), str) and r.get("method") == "sefa"
              and isinstance(r.get("component"), int) and 0 <= r["component"] < 512 and r.get("sign") in (1, -1)
              and (r.get("layers") is None or (isinstance(r["layers"], list) and len(r["layers"]) == 2
                                               and all(isinstance(i, int) for i in r["layers"]))))
        if not ok:
            raise InvalidInputError(f"'{path}' has a recipe that is not a SeFa component with a sign: {r!r:.200}.")
    return recipes


def _layers(recipe: dict[str, Any]) -> tuple[int, int] | None:
    layers = recipe.get("layers")
    return None if layers is None else (int(layers[0]), int(layers[1]))


def recipe_directions(G: Generator, recipes: list[dict[str, Any]]) -> list[Direction]:
    """The recipes' directions for ``G``, computed now from its weights (one SeFa per layer range)."""
    counts: dict[tuple[int, int] | None, int] = {}
    for r in recipes:
        counts[_layers(r)] = max(counts.get(_layers(r), 0), r["component"] + 1)
    bases = {layers: sefa_directions(G, count=count, layers=layers)[0] for layers, count in counts.items()}
    made = []
    for r in recipes:
        base = bases[_layers(r)][r["component"]]
        made.append(base.replace(name=r["name"], vector=base.vector * r["sign"],
                                 provenance={**base.provenance, "recipe": dict(r)}))
    return made


def recipe_library(G: Generator) -> DirectionLibrary | None:
    """The named directions of ``G``'s recipe file, computed here; None when the model has no recipes."""
    path = recipes_path(G.base_model_id.split("@")[0])  # "ffhq-mobilestylegan@<hash>": the model's key
    if not path.is_file():
        return None
    return DirectionLibrary(recipe_directions(G, read_recipes(path)))


def seed_library(G: Generator, folder: Path) -> bool:
    """Write the recipes' directions into the user's library ``folder`` when it does not exist yet (the first
    time the model is used), so they show as sliders and can be edited like any library; True when written."""
    if folder.exists():
        return False
    library = recipe_library(G)
    if library is None:
        return False
    library.save(folder)
    return True


def standard_libraries(G: Generator, folder: Path | None = None) -> list[DirectionLibrary]:
    """What a headless command searches for direction names, in order: ``folder`` (a library the user named),
    the model's shipped library, then the one its recipes make (computed now)."""
    found = [DirectionLibrary.load(folder)] if folder is not None else []
    shipped = shipped_library_dir(G.name)
    if (shipped / "library.json").is_file():
        found.append(DirectionLibrary.load(shipped))
    made = recipe_library(G)
    if made is not None:
        found.append(made)
    return found
