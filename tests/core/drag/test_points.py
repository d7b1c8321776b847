"""Points files: pixels, fractions and photo pixels; every malformed file is a clear one-line error."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from core.drag import MAX_POINTS, DragPoint, check_points, parse_points, read_points_file
from core.errors import InvalidInputError


def test_pixels_fractions_and_photo_units():
    data = {"points": [{"handle": [512, 256], "target": [256, 768]}]}
    assert parse_points(data, 1024) == [DragPoint((0.5, 0.25), (0.25, 0.75))]
    assert parse_points({**data, "units": "fraction", "points": [{"handle": [0.5, 0.25], "target": [0, 1]}]},
                        1024) == [DragPoint((0.5, 0.25), (0.0, 1.0))]
    photo = parse_points({**data, "units": "photo"}, 1024, lambda p: (p - [256, 0]) / 1024)
    assert photo == [DragPoint((0.25, 0.25), (0.0, 0.75))]
    assert DragPoint((0.5, 0.25), (0.25, 0.75)).to_pixels(1024) == data["points"][0]


@pytest.mark.parametrize(("data", "message"), [
    ([], '"points" list'),
    ({"points": []}, "at least one"),
    ({"points": [{"handle": [1, 2]}]}, "target must be two numbers"),
    ({"points": [{"handle": [1, 2], "target": [1, "x"]}]}, "target must be two numbers"),
    ({"points": [{"handle": [1, 2], "target": [True, 3]}]}, "target must be two numbers"),
    ({"points": [[1, 2]]}, "must be an object"),
    ({"points": [{"handle": [1, 2], "target": [2000, 3]}]}, "target lies outside"),
    ({"points": [{"handle": [-1, 2], "target": [3, 3]}]}, "at -0.1%, 0.2% of its width"),
    ({"points": [{"handle": [1, 2], "target": [3, 3]}], "units": "mm"}, '"units" must be'),
    ({"points": [{"handle": [1, 2], "target": [3, 3]}], "units": "photo"}, "needs a photo"),
    ({"points": [{"handle": [1, 2], "target": [3, 3]}] * (MAX_POINTS + 1)}, f"at most {MAX_POINTS}"),
])
def test_malformed_points_are_refused(data, message):
    with pytest.raises(InvalidInputError) as error:
        parse_points(data, 1024)
    assert message in str(error.value)


def test_nan_is_refused():
    with pytest.raises(InvalidInputError, match="outside the model"):
        check_points([DragPoint((float("nan"), 0.5), (0.5, 0.5))])


def test_file_with_a_mask(tmp_path):
    may_move = np.zeros((40, 40), np.uint8)
    may_move[10:30, 10:30] = 255
    Image.fromarray(may_move).save(tmp_path / "mask.png")
    (tmp_path / "points.json").write_text(json.dumps({"points": [{"handle": [8, 8], "target": [12, 8]}],
                                                      "mask": "mask.png"}))
    points, mask = read_points_file(tmp_path / "points.json", 16)
    assert points == [DragPoint((0.5, 0.5), (0.75, 0.5))]
    assert mask is not None and mask.shape == (16, 16) and mask[8, 8] == 1.0 and mask[0, 0] == 0.0


@pytest.mark.parametrize(("text", "mask", "message"), [
    ("{not json", None, "not valid JSON"),
    ('{"points": [{"handle": [1, 1], "target": [2, 2]}], "mask": "gone.png"}', None, "Cannot read the drag mask"),
    ('{"points": [{"handle": [1, 1], "target": [2, 2]}], "mask": "black.png"}', "black", "all black"),
    ('{"points": [{"handle": [1, 1], "target": [2, 2]}], "mask": 3}', None, "name of an image file"),
])
def test_bad_files_are_refused(tmp_path, text, mask, message):
    if mask == "black":
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "black.png")
    (tmp_path / "points.json").write_text(text)
    with pytest.raises(InvalidInputError) as error:
        read_points_file(tmp_path / "points.json", 16)
    assert message in str(error.value)
    with pytest.raises(InvalidInputError, match="Cannot read the points file"):
        read_points_file(tmp_path / "missing.json", 16)
