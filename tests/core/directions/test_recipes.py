"""Named directions from recipes: a SeFa component of a layer range, signed and named, computed from the model's
weights on this machine; damaged recipe files are refused by name; the user's library is seeded once."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.directions import DirectionLibrary, sefa_directions
from core.directions.recipes import (
    FORMAT,
    VERSION,
    read_recipes,
    recipe_directions,
    recipe_library,
    recipes_path,
    seed_library,
)
from core.errors import InvalidInputError
from core.generators import load_generator
from core.generators.ffhq_install import FFHQ_MODEL, find_data

RECIPES = [{"name": "first", "method": "sefa", "component": 0, "layers": None, "sign": 1, "checked": "test"},
           {"name": "third-coarse", "method": "sefa", "component": 2, "layers": [0, 4], "sign": -1,
            "checked": "test"}]


def write(path: Path, directions: object, **extra: object) -> Path:
    path.write_text(json.dumps({"format": FORMAT, "version": VERSION, "directions": directions, **extra}))
    return path


def test_a_recipe_is_its_sefa_component_signed_and_named(tiny_stylegan2, tmp_path):
    G = tiny_stylegan2
    made = recipe_directions(G, read_recipes(write(tmp_path / "r.json", RECIPES)))
    assert [d.name for d in made] == ["first", "third-coarse"]
    whole = sefa_directions(G, 1)[0][0]
    coarse = sefa_directions(G, 3, layers=(0, 4))[0][2]
    np.testing.assert_allclose(made[0].vector, whole.vector)
    np.testing.assert_allclose(made[1].vector, -coarse.vector)
    assert made[1].layers == (0, 4) and made[1].space == "w+" and made[0].space == G.default_space
    assert made[1].provenance["recipe"]["component"] == 2 and made[1].model_id == G.model_id


@pytest.mark.parametrize(("content", "message"), [
    ("not json", "cannot be read"),
    (json.dumps({"format": FORMAT, "version": 99, "directions": RECIPES}), "not a version-1"),
    (json.dumps({"format": FORMAT, "version": VERSION, "directions": []}), "lists no directions"),
    (json.dumps({"format": FORMAT, "version": VERSION, "directions": [{**RECIPES[0], "sign": 2}]}), "with a sign"),
    (json.dumps({"format": FORMAT, "version": VERSION, "directions": [{**RECIPES[0], "method": "pca"}]}),
     "SeFa component"),
    (json.dumps({"format": FORMAT, "version": VERSION, "directions": [{**RECIPES[0], "layers": [0]}]}),
     "SeFa component"),
])
def test_damaged_recipe_files_are_refused(tmp_path, content, message):
    path = tmp_path / "recipes.json"
    path.write_text(content)
    with pytest.raises(InvalidInputError, match=message):
        read_recipes(path)


def test_models_without_recipes_have_none(tiny_stylegan2, tmp_path):
    assert recipe_library(tiny_stylegan2) is None
    assert not seed_library(tiny_stylegan2, tmp_path / "library")
    assert not (tmp_path / "library").exists()


def test_the_shipped_ffhq_recipes_are_well_formed():
    recipes = read_recipes(recipes_path(FFHQ_MODEL))
    names = [r["name"] for r in recipes]
    assert len(names) == len(set(names)) >= 3 and all(r["checked"] for r in recipes)


@pytest.mark.skipif(find_data() is None, reason="the FFHQ model (random-face) is not installed here")
def test_ffhq_gets_its_named_directions_in_the_users_library_once(tmp_path):
    G = load_generator(FFHQ_MODEL)
    folder = tmp_path / "directions"
    assert seed_library(G, folder)
    library = DirectionLibrary.load(folder)
    assert library.names() == [r["name"] for r in read_recipes(recipes_path(FFHQ_MODEL))]
    library.remove(library.names()[0])  # the user's own changes are kept: seeding happens only once
    library.save(folder)
    assert not seed_library(G, folder)
    assert len(DirectionLibrary.load(folder)) == len(library)
