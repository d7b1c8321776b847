"""Named directions as *recipes*: numbers we can commit for a model whose weights we may not ship. The vectors
are computed on the user's machine from the installed model, so nothing derived from non-commercial weights is
ever in the repository or the installers. Two kinds, both instant and deterministic:

- ``"sefa"``: which SeFa component of which layers, with its sign (closed-form from the weights);
- ``"labelled-seeds"``: a range of the model's seeds, those that show the attribute (labelled by a person on
  contact sheets) and those left out (unclear, or another kind of it); the rest show it not. The seeds' mapped
  codes (the mapping network only, no render) are separated by :func:`core.directions.linear.supervised_direction`
  (InterFaceGAN). For an attribute no SeFa component carries alone and no reader ships for, such as glasses.

``resources/directions/<model name>/recipes.json``::

    {"format": "landscape-studio-direction-recipes", "version": 1, "model": "ffhq-mobilestylegan",
     "directions": [{"name": "hat", "method": "sefa", "component": 4, "layers": [0, 5], "sign": 1,
                     "checked": "what was seen on which seeds"},
                    {"name": "glasses", "method": "labelled-seeds", "seeds": [1000, 1384], "yes": [1014, …],
                     "left_out": [1221], "layers": [0, 6], "checked": "…"}, …]}

Each recipe was checked by eye on contact sheets of generated faces (``directions discover --sheet``); its
``checked`` text says what was seen.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from core.directions.library import Direction, DirectionLibrary, shipped_library_dir
from core.directions.linear import supervised_direction
from core.directions.sefa import sefa_directions
from core.errors import InvalidInputError
from core.generators import Generator
from core.imageio import atomic_write_bytes
from core.resources import resources_dir

FORMAT, VERSION = "landscape-studio-direction-recipes", 1
RECIPE_FILE = "recipes.json"
SEEDED_FILE = "seeded-recipes.json"  # beside a user's library: which recipes it has been given (see seed_library)
MAX_LABELLED_SEEDS = 100_000  # mapping that many seeds takes seconds; more is a damaged file
SEFA, LABELLED = "sefa", "labelled-seeds"

log = logging.getLogger(__name__)


def recipes_path(model_name: str) -> Path:
    return resources_dir() / "directions" / model_name / RECIPE_FILE


def model_recipes_path(G: Generator) -> Path:
    """Where ``G``'s recipes would be (whether or not the file exists)."""
    return recipes_path(G.base_model_id.split("@")[0])  # "ffhq-mobilestylegan@<hash>": the model's key


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
        if not (isinstance(r, dict) and isinstance(r.get("name"), str) and r.get("method") in (SEFA, LABELLED)):
            raise InvalidInputError(f"'{path}' has a recipe that is neither a SeFa component nor labelled seeds: "
                                    f"{r!r:.200}.")
        layers = r.get("layers")
        if not (layers is None or (isinstance(layers, list) and len(layers) == 2
                                   and all(isinstance(i, int) for i in layers) and 0 <= layers[0] < layers[1])):
            raise InvalidInputError(f"'{path}': the layers of '{r['name']}' are not a range [start, stop]: {layers!r}.")
        if r["method"] == SEFA and not (isinstance(r.get("component"), int) and 0 <= r["component"] < 512
                                        and r.get("sign") in (1, -1)):
            raise InvalidInputError(f"'{path}' has a recipe that is not a SeFa component with a sign: {r!r:.200}.")
        if r["method"] == LABELLED:
            _check_labelled(path, r)
    return recipes


def _check_labelled(path: Path, recipe: dict[str, Any]) -> None:
    """A labelled-seeds recipe: a seed range, "yes" and "left_out" seeds inside it, both labels present."""
    seeds, yes, left_out = recipe.get("seeds"), recipe.get("yes"), recipe.get("left_out", [])
    name = recipe["name"]
    if not (isinstance(seeds, list) and len(seeds) == 2 and all(type(i) is int for i in seeds)
            and 0 <= seeds[0] < seeds[1] <= seeds[0] + MAX_LABELLED_SEEDS):
        raise InvalidInputError(f"'{path}': the seeds of '{name}' are not a range [first, stop): {seeds!r:.100}.")
    for label, values in (("yes", yes), ("left_out", left_out)):
        if not (isinstance(values, list) and all(type(i) is int and seeds[0] <= i < seeds[1] for i in values)):
            raise InvalidInputError(f"'{path}': the {label} seeds of '{name}' must be seeds of {seeds}.")
    assert isinstance(yes, list) and isinstance(left_out, list)
    no = seeds[1] - seeds[0] - len(set(yes) | set(left_out))
    if len(set(yes) - set(left_out)) < 2 or no < 2:
        raise InvalidInputError(f"'{path}': '{name}' needs at least two seeds with the attribute and two without.")


def _layers(recipe: dict[str, Any]) -> tuple[int, int] | None:
    layers = recipe.get("layers")
    return None if layers is None else (int(layers[0]), int(layers[1]))


def recipe_directions(G: Generator, recipes: list[dict[str, Any]]) -> list[Direction]:
    """The recipes' directions for ``G``, computed now from its weights (one SeFa per layer range)."""
    counts: dict[tuple[int, int] | None, int] = {}
    for r in recipes:
        if r["method"] == SEFA:
            counts[_layers(r)] = max(counts.get(_layers(r), 0), r["component"] + 1)
    bases = {layers: sefa_directions(G, count=count, layers=layers)[0] for layers, count in counts.items()}
    made = []
    for r in recipes:
        if r["method"] == LABELLED:
            made.append(labelled_direction(G, r))
            continue
        base = bases[_layers(r)][r["component"]]
        made.append(base.replace(name=r["name"], vector=base.vector * r["sign"],
                                 provenance={**base.provenance, "recipe": dict(r)}))
    return made


def labelled_direction(G: Generator, recipe: dict[str, Any]) -> Direction:
    """The boundary normal between the recipe's "yes" seeds and the rest of its range (less those left out),
    fitted on the seeds' w codes; applied to the recipe's layers only, when it names some."""
    first, stop = recipe["seeds"]
    left_out, yes = set(recipe.get("left_out", [])), set(recipe["yes"])
    seeds = [s for s in range(first, stop) if s not in left_out]
    space = "w" if "w" in G.latent_spaces else G.default_space
    codes = G.sample_latent(stop - first, first, space).cpu().numpy()[[s - first for s in seeds]]
    made = supervised_direction(G, codes, [s in yes for s in seeds], recipe["name"], space=space)
    layers = _layers(recipe)
    if layers is not None:
        made = made.replace(space="w+", layers=layers)
    return made.replace(provenance={**made.provenance, "recipe": dict(recipe)})


def recipe_library(G: Generator) -> DirectionLibrary | None:
    """The named directions of ``G``'s recipe file, computed here; None when the model has no recipes."""
    path = model_recipes_path(G)
    if not path.is_file():
        return None
    return DirectionLibrary(recipe_directions(G, read_recipes(path)))


def seed_library(G: Generator, folder: Path) -> bool:
    """Put the recipes' directions into the user's library ``folder``, so they show as sliders and can be edited
    like any library: all of them the first time the model is used, and later only recipes it has never had (a
    newer version's), so a direction the user deleted or changed stays as they left it. True when written.

    ``seeded-recipes.json`` beside the library records which recipes it has had; a library seeded before that
    record existed had every SeFa recipe (the only kind there was). A library that cannot be read is left alone:
    the editor's loader sets it aside and says so.
    """
    path = model_recipes_path(G)
    if not path.is_file():
        return False
    recipes = read_recipes(path)
    had = _seeded_names(folder, recipes) if folder.exists() else set()
    new = [r for r in recipes if r["name"] not in had]
    if not new:
        return False
    try:
        library = DirectionLibrary.load(folder) if folder.exists() else DirectionLibrary()
    except InvalidInputError:
        log.warning("not adding recipes to the unreadable library %s", folder, exc_info=True)
        return False
    for direction in recipe_directions(G, new):
        if direction.name not in library.names():  # a direction of the user's own under that name is theirs
            library.add(direction)
    library.save(folder)
    names = sorted(had | {r["name"] for r in recipes})
    atomic_write_bytes(folder / SEEDED_FILE, (json.dumps({"recipes": names}, indent=1) + "\n").encode())
    return True


def _seeded_names(folder: Path, recipes: list[dict[str, Any]]) -> set[str]:
    """The recipe names ``folder``'s library has had (a damaged record counts as all of them: add nothing)."""
    record = folder / SEEDED_FILE
    if not record.is_file():
        return {r["name"] for r in recipes if r["method"] == SEFA}
    try:
        names = json.loads(record.read_text(encoding="utf-8"))["recipes"]
        if isinstance(names, list) and all(isinstance(n, str) for n in names):
            return set(names)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    log.warning("'%s' is damaged; no recipes are added to that library", record)
    return {r["name"] for r in recipes}


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
