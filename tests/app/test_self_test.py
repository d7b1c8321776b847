"""``landscape-studio --self-test``: the check an installed bundle runs on itself, offscreen."""

from __future__ import annotations

import numpy as np
from PIL import Image

from app import self_test
from app.__main__ import main


def test_self_test_shows_the_window_inverts_and_writes_a_png(qtbot, tmp_path, capsys):
    assert main(["--self-test", "--out", str(tmp_path), "--steps", "5"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("self-test ok: PSNR ") and "after 5 steps" in line and "window shown" in line
    assert "(offscreen" in line
    png = tmp_path / "self_test_reconstruction.png"
    assert png.is_file() and str(png) in line
    assert np.asarray(Image.open(png)).shape[2] == 3


def test_self_test_without_gui_reports_psnr(tmp_path):
    report = self_test.run_self_test(tmp_path, steps=3, gui=False)
    assert report.window_shown_s is None and report.platform is None
    assert report.psnr_db >= self_test.MIN_PSNR_DB and report.image.is_file()
    assert "window shown skipped" in report.line()


def test_a_failure_is_one_clear_line_and_exit_1(tmp_path, monkeypatch, capsys):
    def broken(out, steps):
        raise OSError("no model here")

    monkeypatch.setattr(self_test, "invert_sample", broken)
    assert main(["--self-test", "--no-gui", "--out", str(tmp_path)]) == self_test.EXIT_FAILED
    err = capsys.readouterr().err
    assert err.strip() == "self-test failed: OSError: no model here"


def test_process_age_is_plausible():
    age = self_test.process_age()
    assert age is None or 0.0 <= age < 24 * 3600
