"""``landscape-studio inpaint`` and ``restore`` end to end on a bundled sample, and their one-line errors."""

import json

import numpy as np
import pytest
from PIL import Image

from core.cli import main
from core.resources import resources_dir

SAMPLE = resources_dir() / "samples" / "astronaut.png"  # 512×512, face crop 162,42,126 recorded


@pytest.fixture
def mask_png(tmp_path):
    mask = np.zeros((512, 512), dtype=np.uint8)
    mask[90:130, 200:260] = 255  # the eyes, inside the sample's face crop
    path = tmp_path / "mask.png"
    Image.fromarray(mask).save(path)
    return path


def test_inpaint_writes_ranked_candidates_composited_into_the_photo(tmp_path, mask_png, capsys):
    out = tmp_path / "run"
    code = main(["inpaint", str(SAMPLE), "--mask", str(mask_png), "--candidates", "3", "--steps", "8", "--quiet",
                 "--out", str(out)])
    assert code == 0
    assert "3 candidates after 8 steps" in capsys.readouterr().out
    report = json.loads((out / "report.json").read_text())
    assert report["schema_version"] == 1 and report["command"] == "inpaint"
    assert report["crop"] == {"x": 162, "y": 42, "size": 126}  # as invert: the sample's face crop
    assert [c["rank"] for c in report["candidates"]] == [0, 1, 2]
    fits = [c["fit_mse"] for c in report["candidates"]]
    assert fits == sorted(fits) and sorted(report["ranking"]) == [0, 1, 2]
    assert report["diversity"]["metric"] == "lpips_alex" and report["diversity"]["value"] > 0  # the shipped LPIPS
    assert report["settings"]["candidates"] == 3 and len(report["loss_history"]) == 9
    for name in report["outputs"]:
        assert (out / name).exists()
    photo = np.asarray(Image.open(SAMPLE).convert("RGB"))
    masked = np.asarray(Image.open(mask_png)) > 0
    for rank in range(3):
        filled = np.asarray(Image.open(out / f"candidate_{rank:02d}.png"))
        assert filled.shape == photo.shape
        assert np.array_equal(filled[~masked], photo[~masked]) and not np.array_equal(filled, photo)
        assert Image.open(out / f"raw_{rank:02d}.png").size == (64, 64)
    assert np.load(out / "latents.npy").shape == (3, 100)


def test_restore_writes_the_crop_the_photo_and_a_report(tmp_path, capsys):
    out = tmp_path / "sr"
    code = main(["restore", str(SAMPLE), "--op", "downsample4", "--steps", "4", "--lpips", "0", "--quiet",
                 "--out", str(out)])
    assert code == 0 and "downsample4, 4 steps" in capsys.readouterr().out
    report = json.loads((out / "report.json").read_text())
    assert report["operator"] == "downsample4" and report["settings"]["operator"] == "downsample4"
    assert report["observation_psnr"] > 5 and report["crop"] == {"x": 162, "y": 42, "size": 126}
    assert Image.open(out / "observation.png").size == (16, 16)
    assert Image.open(out / "restored.png").size == (64, 64)
    assert Image.open(out / "photo_restored.png").size == (512, 512)
    assert sorted(report["outputs"]) == sorted(p.name for p in out.iterdir())


def test_restore_takes_a_grey_photo_as_is(tmp_path):
    grey = tmp_path / "grey.png"
    Image.open(SAMPLE).convert("L").save(grey)
    out = tmp_path / "colour"
    assert main(["restore", str(grey), "--op", "grayscale", "--steps", "2", "--crop", "162,42,126", "--lpips", "0",
                 "--quiet", "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["operator"] == "grayscale" and report["photo_size"] == [512, 512]


def _fails(capsys, *args):
    """Exit code and stderr of a run (argparse's own errors exit through SystemExit)."""
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err.strip()


def test_a_mask_of_the_wrong_size_exits_2(tmp_path, capsys):
    Image.fromarray(np.full((100, 80), 255, dtype=np.uint8)).save(tmp_path / "small.png")
    code, err = _fails(capsys, "inpaint", str(SAMPLE), "--mask", str(tmp_path / "small.png"), "--out", str(tmp_path))
    assert code == 2 and err.startswith("error: The mask is 80x100 pixels") and "\n" not in err


def test_a_mask_outside_the_crop_exits_2(tmp_path, capsys):
    mask = np.zeros((512, 512), dtype=np.uint8)
    mask[400:, 400:] = 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    code, err = _fails(capsys, "inpaint", str(SAMPLE), "--mask", str(tmp_path / "m.png"), "--out", str(tmp_path))
    assert code == 2 and "marks nothing inside the crop 162,42,126" in err


@pytest.mark.parametrize(("args", "message"), [
    (["restore", str(SAMPLE), "--op", "blur"], "error: Unknown operator 'blur'"),
    (["restore", str(SAMPLE), "--op", "downsample3"], "error: Unknown operator 'downsample3'"),
    (["restore", str(SAMPLE), "--op", "grayscale", "--steps", "-1"], "error: The setting 'steps' is out of range"),
    (["inpaint", str(SAMPLE), "--mask", "MASK", "--candidates", "17"], "error: At most 16 candidates"),
    (["inpaint", str(SAMPLE), "--mask", "MASK", "--prior", "-1"], "error: The prior loss weight"),
    (["inpaint", str(SAMPLE), "--mask", "MASK", "--crop", "500,500,100"], "error: The crop 500,500,100"),
    (["inpaint", str(SAMPLE)], "error: the following arguments are required: --mask"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, mask_png, capsys, args, message):
    args = [str(mask_png) if a == "MASK" else a for a in args]
    code, err = _fails(capsys, *args, "--out", str(tmp_path / "out"))
    assert code == 2 and err.startswith(message) and "\n" not in err
    assert not (tmp_path / "out").exists()


def test_inpaint_align_fills_the_aligned_face_and_changes_only_masked_pixels(tmp_path, mask_png, capsys):
    out = tmp_path / "aligned"
    assert main(["inpaint", str(SAMPLE), "--mask", str(mask_png), "--align", "--candidates", "2", "--steps", "5",
                 "--quiet", "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["crop"] is None and report["alignment"]["face_index"] == 0
    photo = np.asarray(Image.open(SAMPLE).convert("RGB"))
    masked = np.asarray(Image.open(mask_png)) > 0
    filled = np.asarray(Image.open(out / "candidate_00.png"))
    assert np.array_equal(filled[~masked], photo[~masked]) and not np.array_equal(filled[masked], photo[masked])
    assert main(["inpaint", str(SAMPLE), "--mask", str(mask_png), "--align", "--crop", "0,0,100", "--quiet",
                 "--out", str(out)]) == 2
    assert "leave out --crop" in capsys.readouterr().err
