"""The new methods through the command line and the methods benchmark (real runs, kept short)."""

from __future__ import annotations

import json

from bench.__main__ import main as bench_main
from core.cli import main
from core.generators import load_generator
from core.resources import resources_dir, trained_dir

SAMPLE = resources_dir() / "samples" / "astronaut.png"


def test_invert_with_each_encoder_based_method(tmp_path):
    for method, extra in (("encoder", []), ("hybrid", ["--consistency", "0.1"]),
                          ("pivotal", ["--pivot", "encoder", "--tune-steps", "5"])):
        out = tmp_path / method
        assert main(["invert", str(SAMPLE), "--method", method, "--steps", "3", "--lpips", "0", "--quiet",
                     "--out", str(out), *extra]) == 0
        report = json.loads((out / "report.json").read_text())
        assert report["settings"]["method"] == method and report["metrics"]["psnr"] > 10
        assert not report["warnings"]
    assert report["settings"]["tune_steps"] == 5


def test_train_encoder_writes_an_encoder_the_methods_can_use(tmp_path, capsys):
    out = tmp_path / "encoder"
    assert main(["train-encoder", "--out", str(out), "--iterations", "3", "--batch", "4", "--width", "8",
                 "--validate-every", "0", "--quiet"]) == 0
    meta = json.loads((out / "encoder.json").read_text())
    assert meta["iterations"] == 3 and meta["train"]["batch"] == 4
    assert "Encoder saved" in capsys.readouterr().out
    assert main(["invert", str(SAMPLE), "--method", "encoder", "--encoder", str(out), "--lpips", "0", "--quiet",
                 "--out", str(tmp_path / "run")]) == 0


def test_the_methods_benchmark_reports_every_method(tmp_path):
    out = tmp_path / "methods.json"
    assert bench_main(["methods", "--faces", "1", "--budgets", "2", "--tune-steps", "3", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    results = report["sample_photos"]["results"]
    assert set(results) == {"direct", "landscape", "encoder", "hybrid", "pivotal"}
    assert len(results["pivotal"]["psnr_per_target"]) == 2 and results["pivotal"]["tuning_steps"][0] <= 3
    assert results["direct"]["edit_cosine_mean"] == 1.0 and results["direct"]["edit_norm_ratio_mean"] == 1.0
    assert report["encoder_ms_batch1"] > 0


def test_an_encoder_trained_without_out_is_kept_in_the_data_folder_and_found(tmp_path, tiny_stylegan2_path):
    """A model with nothing shipped (a user's StyleGAN2, or FFHQ): the encoder trained here goes to the user's data
    folder and the encoder methods find it there, instead of falling back to direct."""
    model = ["--model", str(tiny_stylegan2_path)]
    before = tmp_path / "before"
    assert main(["invert", str(SAMPLE), *model, "--method", "encoder", "--lpips", "0", "--quiet",
                 "--out", str(before)]) == 0
    assert json.loads((before / "report.json").read_text())["warnings"]  # no encoder yet: direct, said so
    assert main(["train-encoder", *model, "--iterations", "2", "--batch", "2", "--width", "8",
                 "--validate-every", "0", "--quiet"]) == 0
    G = load_generator(str(tiny_stylegan2_path))
    assert (trained_dir(G.model_id, "encoder") / "encoder.json").is_file()
    after = tmp_path / "after"
    assert main(["invert", str(SAMPLE), *model, "--method", "encoder", "--lpips", "0", "--quiet",
                 "--out", str(after)]) == 0
    assert not json.loads((after / "report.json").read_text())["warnings"]
