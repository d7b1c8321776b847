"""Age, gender and smile directions from the classifiers and the face mesh (InterFaceGAN), on the embedded model:
each moves its own attribute as read on held-out faces, and is conditioned on the others."""

from __future__ import annotations

import numpy as np
import pytest

from core.attributes.classifier import AttributeClassifier
from core.cli import main
from core.directions import DirectionLibrary, sefa_directions
from core.directions.attributes import attribute_directions, classifier_for, measure_edit
from core.generators import load_generator


@pytest.fixture(scope="module")
def made():
    G = load_generator("default", "cpu")
    return G, *attribute_directions(G, samples=300)


def test_each_direction_moves_its_attribute_and_not_the_other(made):
    G, (age, gender, _smile), figures = made
    assert 20 < figures["median_age"] < 45 and 0.2 < figures["male_share"] < 0.8
    assert age.provenance["conditioned_on"] == [gender.name] and gender.provenance["conditioned_on"] == [age.name]
    assert age.method == gender.method == "classifier" and abs(float(np.linalg.norm(age.vector)) - 1) < 1e-5
    classifier = classifier_for(G)
    older = measure_edit(G, age, 2.0, faces=128, classifier=classifier)
    assert older.age_change > 3 * older.age_se and older.age_change > 2.0  # +2.6 ± 0.7 years
    male = measure_edit(G, gender, 2.0, faces=48, classifier=classifier)
    assert male.male_change > 3 * male.male_se
    assert abs(male.age_change) < 3.0  # no ageing to speak of along gender
    assert measure_edit(G, age, -2.0, faces=48, classifier=classifier).age_change < 0


def test_smile_widens_the_mouth_and_lifts_its_corners(made):
    G, (age, gender, smile), figures = made
    assert smile.name == "smile (landmarks)" and smile.provenance["conditioned_on"] == [age.name, gender.name]
    assert figures["faces_found"] > 0.8 and figures["smile_accuracy"] > 0.8
    wider = measure_edit(G, smile, 2.0, faces=48)
    assert wider.mouth_faces > 40
    assert wider.width_change > 3 * wider.width_se and wider.lift_change > 3 * wider.lift_se
    narrower = measure_edit(G, smile, -2.0, faces=48)
    assert narrower.width_change < 0 and narrower.lift_change < 0
    assert "mouth width +" in wider.summary() and wider.to_dict()["lift_change"] > 0


def test_the_command_line_writes_both_and_reports_their_effect(tmp_path, capsys):
    assert main(["directions", "discover", "--method", "attributes", "--samples", "200",
                 "--out", str(tmp_path / "lib")]) == 0
    out = capsys.readouterr().out
    assert "age (classifier) +2 on 64 held-out faces: age " in out and "gender (classifier) +2 on 64" in out
    assert "smile (landmarks) +2 on 64 held-out faces: age " in out and "mouth width" in out
    assert DirectionLibrary.load(tmp_path / "lib").names() == ["age (classifier)", "gender (classifier)",
                                                               "smile (landmarks)"]


def test_a_layer_range_edit_is_measured_on_per_layer_codes(tiny_stylegan2):
    """A direction over every layer row reads the same as the plain w direction: the held-out codes are made
    per layer for it (a batch of w codes would have its faces taken for layer rows)."""
    G = tiny_stylegan2
    plain = sefa_directions(G, 1)[0][0]
    rows = plain.replace(space="w+", layers=(0, G.space("w+").shape[0]))
    classifier = AttributeClassifier(eyes_mouth=[(0.35, 0.45), (0.65, 0.45), (0.5, 0.75)])  # random faces: no framing
    a, b = (measure_edit(G, d, 2.0, faces=6, classifier=classifier) for d in (plain, rows))
    assert a.age_change != 0.0 and a.male_change != 0.0
    assert b.age_change == pytest.approx(a.age_change, abs=1e-4) and b.male_change == pytest.approx(a.male_change,
                                                                                                     abs=1e-5)
