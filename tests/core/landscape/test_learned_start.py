"""A θ with a learned start (``MappingConfig.learned_start``): untrained it starts where its recipe does; a shift
leans the starts but keeps each at its draw's radius; a search after training finds it, the gate resets it, files
keep it."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from core.jobs import run_job
from core.landscape.gate import untrained_recipe
from core.landscape.learning import LandscapeTrainConfig, fit_to_model, train_landscape
from core.landscape.start_search import SCALES, StartSearch, refine_start, search_start
from core.theta.mapping import LandscapeMapping, MappingConfig, load_mapping, save_mapping
from core.theta.registry import learning_note
from tests.core.landscape.paths import RECIPE, method_losses, trainer_losses

LEARNED = replace(RECIPE, learned_start=True)
DRAWS = torch.randn(5, 100, generator=torch.Generator().manual_seed(3))


def shifted(config: MappingConfig = LEARNED) -> LandscapeMapping:
    theta = LandscapeMapping(config, seed=2)
    with torch.no_grad():
        theta.start_shift.copy_(torch.randn(100, generator=torch.Generator().manual_seed(7)) * 5)
    return theta.requires_grad_(False)


def test_an_untrained_start_is_the_recipes_and_a_shifted_one_keeps_each_draws_radius(G):
    plain = LandscapeMapping(RECIPE, seed=2)
    assert torch.equal(LandscapeMapping(LEARNED, seed=2).start(DRAWS), plain.start(DRAWS))
    assert torch.allclose(trainer_losses(G, LandscapeMapping(LEARNED, seed=2)), trainer_losses(G, plain))
    theta = shifted()
    starts = theta.centred(theta.start(DRAWS))  # x₀ in unit coordinates (the MLP is still zero)
    assert torch.allclose(starts.norm(dim=1), DRAWS.norm(dim=1), rtol=1e-5)
    towards = torch.nn.functional.cosine_similarity(starts, theta.start_shift[None], dim=1)
    assert bool((towards > torch.nn.functional.cosine_similarity(DRAWS, theta.start_shift[None], dim=1)).all())
    assert torch.linalg.matrix_rank(starts) == 5  # the starts still differ: several starts stay several


def test_the_method_starts_where_the_trainer_does(G):
    theta = shifted()
    losses = trainer_losses(G, theta)
    assert not torch.allclose(losses[-1], trainer_losses(G, LandscapeMapping(RECIPE, seed=2))[-1], rtol=1e-3)
    assert torch.allclose(losses, method_losses(G, theta), rtol=1e-4)


def test_training_leaves_the_start_to_the_search_and_the_gate_resets_what_it_found(G):
    config = LandscapeTrainConfig(mapping=replace(LEARNED, width=8), inner_steps=3, batch=2, max_iterations=2,
                                  validate_every=0, objective="log_last")
    state = run_job(train_landscape(G, config))
    assert float(state.theta.step_net[-1].weight.detach().abs().sum()) > 0  # the steps trained ...
    assert float(state.theta.start_shift.detach().abs().sum()) == 0  # ... the start did not
    assert fit_to_model(G, config).mapping.learned_start
    search = StartSearch(candidates=3, faces=6, seed=1, refine_steps=0)
    found = search_start(G, state.theta, search)
    shift = state.theta.start_shift.detach().clone()
    assert found["kept"] == bool(shift.abs().sum() > 0) == (found["sizing_gain_db"]["mean"] > 0)
    assert set(found["sizes_db"]) == {str(s) for s in SCALES}
    assert found["scale"] in (0.0, *SCALES)
    assert float(untrained_recipe(state.theta).start_shift.abs().sum()) == 0
    again = search_start(G, state.theta, search)
    assert {**again, "seconds": 0} == {**found, "seconds": 0}  # the same search finds the same start
    assert torch.equal(state.theta.start_shift, shift)


def test_a_search_keeps_a_start_only_when_it_is_ahead_on_the_faces_that_sized_it(G):
    theta = LandscapeMapping(replace(LEARNED, horizon=3), seed=2)
    found = search_start(G, theta, StartSearch(candidates=2, faces=4, refine_steps=0))
    assert "refined" not in found
    if found["kept"]:
        assert found["sizes_db"][str(found["scale"])] == max(found["sizes_db"].values()) > 0
    else:
        assert max(found["sizes_db"].values()) <= 0 and float(theta.start_shift.abs().sum()) == 0
    with pytest.raises(ValueError, match="no learned start"):
        search_start(G, LandscapeMapping(RECIPE), StartSearch(candidates=1, faces=2))


def test_a_refinement_moves_the_start_uphill_and_keeps_it_only_when_it_is_ahead_on_check_faces(G):
    theta = LandscapeMapping(replace(LEARNED, horizon=3), seed=2).requires_grad_(False)
    searched = torch.randn(100, generator=torch.Generator().manual_seed(5)) * 2
    search = StartSearch(faces=6, seed=3, refine_steps=1, refine_pairs=3, refine_faces=4, refine_stride=1.5)
    shift, record = refine_start(G, theta, searched, search)
    assert torch.equal(theta.start_shift.detach(), shift)
    assert record["moved"] == pytest.approx(1.5, abs=1e-3)  # one step of the stride, along the estimate
    assert record["kept"] == (record["check_gain_db"]["mean"] > 0)
    assert torch.equal(shift, searched) != record["kept"]
    again, repeated = refine_start(G, theta, searched, search)
    assert repeated == record and torch.equal(again, shift)  # seeded: the same faces, probes and step
    longer = replace(search, refine_steps=3)
    assert refine_start(G, theta, searched, longer)[1]["moved"] <= 3 * 1.5 + 1e-3


def test_a_search_with_refinement_sets_the_start_it_reports(G):
    theta = LandscapeMapping(replace(LEARNED, horizon=3), seed=2)
    search = StartSearch(candidates=2, faces=4, refine_steps=1, refine_pairs=2, refine_faces=3)
    found = search_start(G, theta, search)
    kept = theta.start_shift.detach().clone()
    searched = found["scale"] * torch.randn(2, 100, generator=torch.Generator().manual_seed(7))[found["direction"]]
    expected, record = refine_start(G, theta, searched, search)
    assert found["refined"] == record
    assert torch.equal(kept, expected) and torch.equal(theta.start_shift.detach(), expected)


def test_a_learned_start_is_saved_and_loaded(tmp_path):
    theta = shifted()
    save_mapping(theta, tmp_path / "theta", {})
    loaded, _ = load_mapping(tmp_path / "theta")
    assert torch.equal(loaded.start(DRAWS), theta.start(DRAWS))


def test_the_methods_help_says_which_parts_training_learned(tmp_path):
    gate = {"learned_gain": {"10": {"mean": 1.04, "se": 0.08}}, "learned": True}
    save_mapping(shifted(), tmp_path / "theta", {"gate": gate})
    note = learning_note(tmp_path / "theta")
    assert note.startswith("Training added +1.04 ± 0.08 dB at 10 steps over the same θ untrained (beyond noise).")
    assert "each step's size and momentum, to adapt them to each face, where descents start." in note
    save_mapping(LandscapeMapping(MappingConfig()), tmp_path / "plain", {"gate": gate})
    assert "It learned" not in learning_note(tmp_path / "plain")
