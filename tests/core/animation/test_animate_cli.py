"""``landscape-studio animate edit|walk|inversion``: real clips from the command line, and bad input in one line."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.cli import main
from core.generators import load_generator
from core.inversion.report import save_npy
from core.resources import resources_dir

SAMPLE = resources_dir() / "samples" / "astronaut.png"
SHORT = ["--fps", "10", "--seconds", "0.5", "--quiet"]


def test_edit_walk_and_inversion_clips(tmp_path, capsys):
    G = load_generator("default", "cpu")
    latent = save_npy(tmp_path / "latent.npy", G.sample_latent(1, 4)[0].numpy())
    assert main(["animate", "edit", str(SAMPLE), "--latent", str(latent), "--dir", "age=-2:2", "--dir", "smile=1",
                 "--loop", "--size", "128", "--out", str(tmp_path / "edit.gif"), *SHORT, "--seconds", "0.6"]) == 0
    assert "6 frames (0.6 s at 10 fps, 128x128)" in capsys.readouterr().out
    with Image.open(tmp_path / "edit.gif") as gif:  # there and back: no two frames alike (a GIF merges those)
        assert gif.size == (128, 128) and gif.n_frames == 6
    assert main(["animate", "walk", "--seed", "3", "--latent", str(latent), "--seed", "5", "--loop",
                 "--out", str(tmp_path / "walk.mp4"), *SHORT]) == 0
    assert f"5 frames (0.5 s at 10 fps, {G.render_resolution}x{G.render_resolution})" in capsys.readouterr().out
    assert main(["animate", "inversion", str(SAMPLE), "--steps", "4", "--lpips", "0", "--out",
                 str(tmp_path / "inversion.mp4"), *SHORT]) == 0
    assert "5 frames (0.5 s at 10 fps, 512x512)" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["edit.gif", "inversion.mp4", "latent.npy", "walk.mp4"]


@pytest.mark.parametrize(("args", "message"), [
    (["walk", "--seed", "1", "--seed", "2", "--out", "clip.avi"], ".mp4 or .gif"),
    (["walk", "--seed", "1", "--out", "clip.mp4"], "at least 2 keyframes"),
    (["walk", "--seed", "1", "--seed", "2", "--fps", "0", "--out", "clip.mp4"], "frame rate"),
    (["walk", "--seed", "1", "--seed", "2", "--size", "9", "--out", "clip.mp4"], "between 16 and 4096"),
    (["edit", str(SAMPLE), "--latent", "LATENT", "--out", "clip.mp4"], "at least one direction"),
    (["edit", str(SAMPLE), "--latent", "LATENT", "--dir", "nope=1", "--out", "clip.mp4"], "nope"),
    (["edit", str(SAMPLE), "--latent", "LATENT", "--dir", "age=a:b", "--out", "clip.mp4"], "NAME=A:B"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    save_npy(tmp_path / "latent.npy", np.zeros(100, np.float32))
    args = [str(tmp_path / "latent.npy") if a == "LATENT" else a for a in args]
    try:
        code = main(["animate", *args])
    except SystemExit as exit_:
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latent.npy"]
