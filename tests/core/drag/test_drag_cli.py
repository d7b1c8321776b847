"""``landscape-studio drag``: a real drag from the command line, on the model's image and composited into a
photo, and bad input in one line with exit code 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from core.cli import main
from core.inversion.report import save_npy
from core.resources import resources_dir

SAMPLE = resources_dir() / "samples" / "astronaut.png"


@pytest.fixture
def files(tmp_path, tiny_stylegan2):
    latent = save_npy(tmp_path / "latent.npy", tiny_stylegan2.sample_latent(1, 3, "w")[0].numpy())
    points = tmp_path / "points.json"
    points.write_text(json.dumps({"points": [{"handle": [16, 16], "target": [22, 16]}]}))
    return latent, points


def test_drag_writes_the_image_the_code_and_the_report(tmp_path, tiny_stylegan2_path, files, capsys):
    latent, points = files
    assert main(["drag", "--model", str(tiny_stylegan2_path), "--latent", str(latent), "--points", str(points),
                 "--steps", "3", "--out", str(tmp_path / "dragged.png"), "--save-latent", str(tmp_path / "wp.npy"),
                 "--report", str(tmp_path / "report.json"), "--quiet"]) == 0
    assert "written to" in capsys.readouterr().out
    with Image.open(tmp_path / "dragged.png") as image:
        assert image.size == (32, 32)
    code = np.load(tmp_path / "wp.npy")
    assert code.shape == (8, 32) and code.dtype == np.float32
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["steps"] <= 3 and report["distance_start_px"] == pytest.approx(48.0) and not report["stopped"]
    # the dragged code drags on: its space is w+
    assert main(["drag", "--model", str(tiny_stylegan2_path), "--latent", str(tmp_path / "wp.npy"), "--space", "w+",
                 "--points", str(points), "--steps", "2", "--out", str(tmp_path / "again.png"), "--quiet"]) == 0


def test_drag_composites_into_the_photo_at_its_resolution(tmp_path, tiny_stylegan2_path, files):
    latent, _ = files
    points = tmp_path / "photo_points.json"  # in photo pixels, inside the crop 100,50,200
    points.write_text(json.dumps({"units": "photo", "points": [{"handle": [200, 150], "target": [230, 150]}]}))
    assert main(["drag", str(SAMPLE), "--crop", "100,50,200", "--model", str(tiny_stylegan2_path), "--latent",
                 str(latent), "--points", str(points), "--steps", "2", "--out", str(tmp_path / "photo.png"),
                 "--quiet"]) == 0
    with Image.open(SAMPLE) as photo, Image.open(tmp_path / "photo.png") as out:
        assert out.size == photo.size
        before, after = np.asarray(photo.convert("RGB")), np.asarray(out.convert("RGB"))
    assert (before[:40] == after[:40]).all()  # outside the square nothing changed
    assert (before[60:240, 110:290] != after[60:240, 110:290]).any()


@pytest.mark.parametrize(("change", "message"), [
    ({"model": "default"}, "StyleGAN-family"),
    ({"points": "missing.json"}, "Cannot read the points file"),
    ({"steps": "0"}, "steps must be"),
    ({"space": "z+"}, "no latent space 'z+'"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, tiny_stylegan2_path, files, capsys, change, message):
    latent, points = files
    values = {"model": str(tiny_stylegan2_path), "points": str(points), "steps": "2", "space": "w"} | change
    if change.get("model") == "default":
        latent = save_npy(tmp_path / "z.npy", np.zeros(100, np.float32))
        values["space"] = "z"
    code = main(["drag", "--model", values["model"], "--latent", str(latent), "--space", values["space"],
                 "--points", values["points"], "--steps", values["steps"], "--out", str(tmp_path / "x.png"),
                 "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "x.png").exists()
