"""dlib's age and gender classifiers run in PyTorch: equal to onnxruntime on the original ONNX graphs (golden
outputs, so CI needs no onnxruntime), refusing graphs they cannot run, and reading real photos sensibly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.alignment.framing import framing_for
from core.attributes.classifier import AttributeClassifier, attributes_dir
from core.attributes.graph import GraphNet
from core.device import from_uint8_hwc
from core.errors import InvalidInputError
from core.generators import load_generator
from core.imageio import load_photo
from core.photo_jobs import placement_for
from core.resources import resources_dir

GOLDEN = Path(__file__).with_name("golden_onnxruntime.npz")


@pytest.mark.parametrize("task", ["age", "gender"])
def test_the_converted_graphs_equal_onnxruntime(task):
    golden = np.load(GOLDEN)
    with torch.no_grad():
        ours = GraphNet.load(attributes_dir(), task)(torch.from_numpy(golden[f"{task}_input"])).numpy()
    np.testing.assert_allclose(ours, golden[f"{task}_onnxruntime"], atol=1e-5)
    assert np.allclose(ours.sum(1), 1.0, atol=1e-5)  # probabilities


def test_a_graph_with_an_unknown_op_is_refused():
    with pytest.raises(InvalidInputError, match="LSTM"):
        GraphNet([{"op": "LSTM", "inputs": ["x"], "outputs": ["y"]}], {}, input_name="x", output_name="y")


def test_a_missing_classifier_is_a_clear_error(tmp_path):
    with pytest.raises(InvalidInputError, match="cannot be read"):
        AttributeClassifier(eyes_mouth=((0.35, 0.4), (0.65, 0.4), (0.5, 0.75)), folder=tmp_path)


def test_real_photos_read_as_their_ages():
    G = load_generator("default", "cpu")
    classifier = AttributeClassifier.from_framing(framing_for(G, measure=False))
    readings = {}
    for name in ("astronaut.png", "grace_hopper.jpg"):
        photo = load_photo(resources_dir() / "samples" / name)
        square = placement_for(photo, G, align=True).target(photo.pixels, 256)
        with torch.no_grad():
            age, male = classifier(from_uint8_hwc(square[None], "cpu"))
        readings[name] = float(age), float(male)
    assert 20 < readings["astronaut.png"][0] < 50 and readings["astronaut.png"][1] < 0.2
    assert readings["grace_hopper.jpg"][0] > readings["astronaut.png"][0] + 30  # photographed in her late 70s


def test_the_shipped_files_are_the_recorded_conversion():
    import hashlib
    import json

    record = json.loads((attributes_dir() / "provenance.json").read_text())
    assert record["licence"] == "CC0-1.0" and record["wheel_sha256"].startswith("b1f8b994")
    for task in ("age", "gender"):
        for name, digest in record["models"][task]["files"].items():
            assert hashlib.sha256((attributes_dir() / name).read_bytes()).hexdigest() == digest
        assert record["models"][task]["max_abs_difference_vs_onnxruntime"] < 1e-5
