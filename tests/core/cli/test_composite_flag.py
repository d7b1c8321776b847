"""``--composite``: how the CLI's results enter the photo (the photo's own detail kept by default)."""

from __future__ import annotations

import json

import numpy as np

from core.cli import main
from core.imageio import load_photo
from core.resources import resources_dir

SAMPLE = resources_dir() / "samples" / "astronaut.png"


def test_invert_keeps_the_photo_by_default_and_pastes_with_replace(tmp_path):
    photo = load_photo(SAMPLE).pixels
    for mode in ("detail", "replace"):
        out = tmp_path / mode
        args = ["invert", str(SAMPLE), "--steps", "3", "--lpips", "0", "--quiet", "--out", str(out)]
        assert main([*args, "--composite", mode] if mode == "replace" else args) == 0
        composite = load_photo(out / "composite.png").pixels
        assert (composite.tobytes() == photo.tobytes()) == (mode == "detail")
        assert json.loads((out / "report.json").read_text())["composite"] == mode
    assert not np.array_equal(load_photo(tmp_path / "replace" / "composite.png").pixels[60:150, 180:270],
                              photo[60:150, 180:270])
