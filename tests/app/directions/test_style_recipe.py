"""A document's truncation and style mix travel in a recipe (Save Recipe…) and come back as the same edits in a
batch's warm model."""

from __future__ import annotations

import numpy as np

from app.batch.recipe_saving import document_recipe, write_recipe
from core.batch import load_recipe
from core.batch.photo import WarmModel
from core.directions import style_mix, truncation
from core.generators import load_generator
from core.inversion import InversionConfig
from core.photo_jobs import edited_latent
from core.sessions import EditedDirection
from tests.app.models.tiny_stylegan2 import write_tiny_stylegan2


def test_truncation_and_mixing_survive_a_recipe(tmp_path):
    model = write_tiny_stylegan2(tmp_path / "tiny.pt")
    G = load_generator(str(model), "cpu")
    mix = style_mix(G, G.sample_latent(1, 6, "w+")[0].numpy(), "w+", "middle", label="second photo")
    chosen = [(truncation(G), 0.3), (mix, 0.8)]
    edits = tuple(EditedDirection(name=d.name, vector=d.vector, scale=d.scale, alpha=a, layers=d.layers,
                                  method=d.method) for d, a in chosen)
    recipe, files = document_recipe(model=str(model), aligned=False, config=InversionConfig(), edits=edits,
                                    library_names=set(), composite="detail", feather=0.08)
    path = write_recipe(tmp_path / "styled.json", recipe, files)
    warm = WarmModel.load(load_recipe(path))
    assert [d.method for d, _ in warm.edits] == ["truncation", "style-mix"]
    assert [a for _, a in warm.edits] == [0.3, 0.8]
    w = G.sample_latent(1, 2, G.default_space)[0].numpy()
    np.testing.assert_allclose(edited_latent(warm.G, w, warm.edits)[0], edited_latent(G, w, chosen)[0], atol=1e-6)
