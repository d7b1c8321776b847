import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.cli import main
from core.resources import resources_dir

SAMPLE = resources_dir() / "samples" / "astronaut.png"
ROOT = Path(__file__).resolve().parents[3]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def test_invert_writes_images_latents_and_report(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["invert", str(SAMPLE), "--steps", "5", "--starts", "2", "--quiet", "--out", str(out)]) == 0
    assert "PSNR" in capsys.readouterr().out
    report = json.loads((out / "report.json").read_text())
    assert report["schema_version"] == 1
    assert set(report["metrics"]) == {"psnr", "ssim", "lpips", "identity"} and report["metrics"]["psnr"] > 5
    assert report["crop"] == {"x": 162, "y": 42, "size": 126}  # the sample's recorded face crop
    assert report["settings"]["steps"] == 5 and report["settings"]["starts"] == 2
    assert len(report["loss_history"]) == 6 and report["model_id"].startswith("dcgan-digiface@")
    assert {"invert", "load_model", "per_step_ms"} <= set(report["timings"])
    assert np.load(out / "latents.npy").shape == (2, 100) and np.load(out / "latent.npy").shape == (100,)
    assert Image.open(out / "reconstruction.png").size == (64, 64)
    assert (out / "reconstruction_start01.png").exists() and (out / "target.png").exists()
    for name in report["outputs"]:
        assert (out / name).exists()


def test_lpips_fallback_is_announced(tmp_path, capsys, missing_lpips_weights):
    assert main(["invert", str(SAMPLE), "--steps", "1", "--lpips", "1", "--quiet", "--out", str(tmp_path)]) == 0
    assert "warning: LPIPS (vgg) cannot run: its weights file" in capsys.readouterr().err
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["uses_lpips"] is False and report["warnings"] and report["metrics"]["lpips"] is None


def test_crop_and_mask(tmp_path):
    mask = np.zeros((512, 512), dtype=np.uint8)
    mask[200:300, 200:300] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    out = tmp_path / "run"
    code = main(["invert", str(SAMPLE), "--crop", "150,150,200", "--mask", str(tmp_path / "mask.png"),
                 "--steps", "2", "--quiet", "--out", str(out)])
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    assert report["crop"] == {"x": 150, "y": 150, "size": 200}
    assert report["masked_fraction"] == pytest.approx(0.25, abs=0.02)


@pytest.mark.parametrize(("args", "message"), [
    (["invert", "missing.png", "--out", "o"], "does not exist"),
    (["invert", str(ROOT / "pyproject.toml"), "--out", "o"], "not an image"),
    (["invert", str(SAMPLE), "--crop", "400,400,300", "--out", "o"], "crop"),
    (["invert", str(SAMPLE), "--steps", "-3", "--out", "o"], "steps"),
    (["invert", str(SAMPLE), "--model", "nope.safetensors", "--out", "o"], "No model file"),
    (["sample", "--n", "0", "--out", "o.png"], "--n"),
])
def test_bad_input_is_one_line_and_exit_2(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and message.lower() in err.lower()


@pytest.mark.parametrize("args", [["--crop", "abc"], ["--steps", "x"], ["--method", "magic"]])
def test_bad_arguments_are_one_line_and_exit_2(args, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["invert", str(SAMPLE), "--out", "o", *args])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err


def test_bad_mask_size_through_the_real_entry_point(tmp_path):
    Image.new("L", (10, 10)).save(tmp_path / "small.png")
    done = run_cli("invert", str(SAMPLE), "--mask", str(tmp_path / "small.png"), "--out", str(tmp_path / "o"))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "mask is 10x10" in done.stderr.replace("×", "x")


def test_sample_grid(tmp_path, capsys):
    assert main(["sample", "--n", "6", "--seed", "3", "--out", str(tmp_path / "grid.png")]) == 0
    assert Image.open(tmp_path / "grid.png").size == (3 * 64, 2 * 64)


def test_info_json(capsys):
    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["model"]["resolution"] == 64 and "cpu" in info["devices"]["available"]
    assert set(info["lpips"]) == {"vgg", "alex"}


def test_ctrl_c_stops_the_run_and_keeps_the_best(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "invert", str(SAMPLE), "--steps", "100000",
                             "--lpips", "0", "--out", str(out)], cwd=ROOT, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 60
    seen = ""
    while "best=" not in seen and time.monotonic() < deadline:  # wait until steps are running
        seen += proc.stderr.read(1)
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 130, seen + rest
    report = json.loads((out / "report.json").read_text())
    assert report["cancelled"] is True and report["steps_done"] < 100000
    assert (out / "reconstruction.png").exists() and (out / "latent.npy").exists()
