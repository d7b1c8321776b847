"""Named directions from recipes: a SeFa component of a layer range, signed and named, or the boundary between
labelled seeds, computed from the model on this machine; damaged recipe files are refused by name; the user's
library gets each recipe once, and a newer version's recipes later."""

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

LABELLED = {"name": "marked", "method": "labelled-seeds", "seeds": [0, 20], "yes": [1, 2, 3], "left_out": [4],
            "checked": "test"}
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
     "neither a SeFa component nor labelled seeds"),
    (json.dumps({"format": FORMAT, "version": VERSION, "directions": [{**RECIPES[0], "layers": [0]}]}),
     "not a range"),
    (json.dumps({"format": FORMAT, "version": VERSION, "directions": [{**LABELLED, "seeds": [10, 5]}]}),
     "not a range"),
    (json.dumps({"format": FORMAT, "version": VERSION, "directions": [{**LABELLED, "yes": [1, 99]}]}),
     "yes seeds of 'marked' must be seeds of"),
    (json.dumps({"format": FORMAT, "version": VERSION, "directions": [{**LABELLED, "left_out": "3"}]}),
     "left_out"),
    (json.dumps({"format": FORMAT, "version": VERSION, "directions": [{**LABELLED, "yes": [3]}]}),
     "at least two seeds with the attribute and two without"),
    (json.dumps({"format": FORMAT, "version": VERSION,
                 "directions": [{**LABELLED, "seeds": [0, 4], "yes": [0, 1], "left_out": [2]}]}),
     "at least two seeds with the attribute and two without"),
])
def test_damaged_recipe_files_are_refused(tmp_path, content, message):
    path = tmp_path / "recipes.json"
    path.write_text(content)
    with pytest.raises(InvalidInputError, match=message):
        read_recipes(path)


def test_labelled_seeds_give_the_boundary_between_them(tiny_stylegan2, tmp_path):
    """Seeds marked by a hidden linear rule on their w codes: the recipe's direction finds that rule's normal."""
    G = tiny_stylegan2
    codes = G.sample_latent(200, 100, "w").numpy()
    rule = np.random.default_rng(0).standard_normal(codes.shape[1])
    rule /= np.linalg.norm(rule)
    score = (codes - codes.mean(0)) @ rule
    yes = [100 + i for i in np.flatnonzero(score > np.quantile(score, 0.7))]
    left_out = [100 + i for i in np.flatnonzero(np.abs(score - np.quantile(score, 0.7)) < 0.02 * np.ptp(score))]
    recipe = {"name": "marked", "method": "labelled-seeds", "seeds": [100, 300], "yes": [int(s) for s in yes],
              "left_out": [int(s) for s in left_out], "layers": [0, 2], "checked": "test"}
    made = recipe_directions(G, read_recipes(write(tmp_path / "r.json", [recipe, RECIPES[0]])))
    marked = made[0]
    assert marked.name == "marked" and marked.method == "supervised" and marked.space == "w+"
    assert marked.layers == (0, 2) and marked.vector.shape == codes.shape[1:]
    assert float(marked.vector @ rule) > 0.7  # the boundary's normal points along the hidden rule, toward "yes"
    held = [s for s in range(100, 300) if s not in left_out]
    assert marked.provenance["labels"] == len(held) and marked.provenance["positives"] == len(set(yes) - set(left_out))
    assert marked.provenance["recipe"]["seeds"] == [100, 300]
    np.testing.assert_allclose(made[1].vector, sefa_directions(G, 1)[0][0].vector)  # the kinds mix in one file


def test_a_library_gets_new_recipes_once_and_keeps_what_the_user_did(tiny_stylegan2, tmp_path, monkeypatch):
    G = tiny_stylegan2
    recipes = tmp_path / "recipes.json"
    monkeypatch.setattr("core.directions.recipes.recipes_path", lambda name: recipes)
    folder = tmp_path / "library"
    write(recipes, RECIPES)
    assert seed_library(G, folder)
    assert DirectionLibrary.load(folder).names() == ["first", "third-coarse"]
    assert not seed_library(G, folder)
    library = DirectionLibrary.load(folder)
    library.remove("first")  # the user deletes one
    library.save(folder)
    write(recipes, [*RECIPES, LABELLED])  # a newer version ships one more
    assert seed_library(G, folder)
    assert DirectionLibrary.load(folder).names() == ["third-coarse", "marked"]  # the deleted one stays deleted
    assert not seed_library(G, folder)


def test_a_library_seeded_before_the_record_gets_only_the_new_kind(tiny_stylegan2, tmp_path, monkeypatch):
    G = tiny_stylegan2
    recipes = write(tmp_path / "recipes.json", [*RECIPES, LABELLED])
    monkeypatch.setattr("core.directions.recipes.recipes_path", lambda name: recipes)
    folder = tmp_path / "library"
    DirectionLibrary(recipe_directions(G, RECIPES[1:])).save(folder)  # an older version's seeding, one removed since
    assert seed_library(G, folder)
    assert DirectionLibrary.load(folder).names() == ["third-coarse", "marked"]
    (folder / "library.json").write_text("{damaged")
    write(recipes, [*RECIPES, LABELLED, {**LABELLED, "name": "later"}])
    assert not seed_library(G, folder)  # an unreadable library is left for the editor's loader to set aside
    assert (folder / "library.json").read_text() == "{damaged"


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
