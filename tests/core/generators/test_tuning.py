"""Tuned weights as a delta from the original model: round trip, identity, and refusals."""

import numpy as np
import pytest
import torch

from core.errors import InvalidInputError, ModelLoadError
from core.generators.tuning import WeightDelta, tuned_copy, weight_delta


@pytest.fixture(scope="module")
def nudged(G):
    """A copy of G with only the RGB layer's weights changed."""
    tuned = tuned_copy(G)
    with torch.no_grad():
        tuned.net.to_rgb.weight.add_(torch.linspace(-0.01, 0.01, tuned.net.to_rgb.weight.numel()).view_as(
            tuned.net.to_rgb.weight))
    return tuned


def test_the_delta_round_trips(G, nudged):
    before = G.sample(2, 3)
    delta = weight_delta(G, nudged, {"steps": 1})
    loaded = tuned_copy(G, delta)
    latent = G.sample_latent(2, 3)
    with torch.no_grad():
        assert torch.allclose(loaded.synthesize(latent), nudged.synthesize(latent), atol=1e-6)
    assert loaded.model_id == delta.tuned_model_id != G.model_id
    assert torch.equal(G.sample(2, 3), before)  # the original is never touched
    assert delta.summary()["parameters"] == G.net.to_rgb.weight.numel() and delta.summary()["steps"] == 1


def test_unchanged_parameters_are_left_out(G, nudged):
    assert set(weight_delta(G, nudged, {}).delta) == {"to_rgb.weight"}
    assert weight_delta(G, tuned_copy(G), {}).delta == {}


def test_the_digest_names_the_weights(G, nudged):
    a, b = weight_delta(G, nudged, {"x": 1}), weight_delta(G, nudged, {"x": 2})
    assert a.digest == b.digest  # how it was made does not change what it is
    changed = WeightDelta(a.base_model_id, {k: v * 2 for k, v in a.delta.items()}, {})
    assert changed.digest != a.digest and changed.tuned_model_id.startswith(G.model_id + "+tuned@")


def test_a_delta_for_another_model_is_refused(G, nudged):
    delta = weight_delta(G, nudged, {})
    with pytest.raises(ModelLoadError, match="made for"):
        tuned_copy(G, WeightDelta("other-model", delta.delta, {}))


def test_a_wrong_shape_or_unknown_name_is_refused(G):
    with pytest.raises(ModelLoadError, match=r"to_rgb\.weight"):
        tuned_copy(G, WeightDelta(G.model_id, {"to_rgb.weight": np.zeros((3, 3), np.float32)}, {}))
    with pytest.raises(ModelLoadError, match="lacks"):
        tuned_copy(G, WeightDelta(G.model_id, {"extra.weight": np.zeros(3, np.float32)}, {}))


def test_non_finite_weights_are_refused(G):
    shape = tuple(G.net.to_rgb.weight.shape)
    change = np.zeros(shape, np.float32)
    change.flat[0] = np.nan
    with pytest.raises(InvalidInputError, match="NaN"):
        tuned_copy(G, WeightDelta(G.model_id, {"to_rgb.weight": change}, {}))
