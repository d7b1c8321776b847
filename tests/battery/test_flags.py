"""Numeric flags out of range, non-finite, negative or too large for their type: one ``error:`` line naming the flag
(exit 2), no output, the inputs unchanged, and no engine run started on an absurd setting.

Each case is refused before any optimisation or training step runs, so even a case whose check were missing could
not run long: the commands get one step or iteration besides the bad flag.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.battery import input_kit as kit
from tests.battery.conftest import digest

HUGE = str(10**30)
OVER_INT64 = str(2**70)

# (id, command and flags after the inputs, words the error must contain); PHOTO, LATENT, MASK, OUT are filled in
CASES: list[tuple[str, list[str], str]] = [
    # invert: the optimiser and loss settings
    ("invert-steps-negative", ["invert", "PHOTO", "--steps", "-1"], "steps"),
    ("invert-steps-huge", ["invert", "PHOTO", "--steps", HUGE], "steps"),
    ("invert-steps-float-1e30", ["invert", "PHOTO", "--steps", "1e30"], "steps"),
    ("invert-steps-over-int64", ["invert", "PHOTO", "--steps", OVER_INT64], "steps"),
    ("invert-seed-over-int64", ["invert", "PHOTO", "--seed", OVER_INT64], "seed"),
    ("invert-seed-2-63", ["invert", "PHOTO", "--seed", str(2**63)], "seed"),
    ("invert-seed-negative", ["invert", "PHOTO", "--seed", "-1"], "seed"),
    ("invert-seed-nan", ["invert", "PHOTO", "--seed", "nan"], "seed"),
    ("invert-starts-zero", ["invert", "PHOTO", "--starts", "0"], "starts"),
    ("invert-starts-huge", ["invert", "PHOTO", "--starts", HUGE], "starts"),
    ("invert-lr-nan", ["invert", "PHOTO", "--lr", "nan"], "lr"),
    ("invert-lr-inf", ["invert", "PHOTO", "--lr", "inf"], "lr"),
    ("invert-lr-negative", ["invert", "PHOTO", "--lr", "-0.1"], "lr"),
    ("invert-lr-zero", ["invert", "PHOTO", "--lr", "0"], "lr"),
    ("invert-lr-absurd", ["invert", "PHOTO", "--lr", "1e300"], "lr"),
    ("invert-noise-nan", ["invert", "PHOTO", "--noise", "nan"], "noise"),
    ("invert-noise-absurd", ["invert", "PHOTO", "--noise", "1e300"], "noise"),
    ("invert-warmup-steps-huge", ["invert", "PHOTO", "--warmup-steps", HUGE], "warmup_steps"),
    ("invert-warmup-step-inf", ["invert", "PHOTO", "--warmup-step", "inf"], "warmup_step"),
    ("invert-coarse-steps-negative", ["invert", "PHOTO", "--coarse-steps", "-1"], "coarse_steps"),
    ("invert-pixel-nan", ["invert", "PHOTO", "--pixel", "nan"], "pixel"),
    ("invert-pixel-negative", ["invert", "PHOTO", "--pixel", "-1"], "pixel"),
    ("invert-pixel-absurd", ["invert", "PHOTO", "--pixel", "1e300"], "pixel"),
    ("invert-lpips-inf", ["invert", "PHOTO", "--lpips", "inf"], "lpips"),
    ("invert-identity-nan", ["invert", "PHOTO", "--identity", "nan"], "identity"),
    ("invert-prior-negative", ["invert", "PHOTO", "--prior", "-1"], "prior"),
    ("invert-no-loss-at-all", ["invert", "PHOTO", "--pixel", "0", "--lpips", "0"], "pixel"),
    ("invert-consistency-nan", ["invert", "PHOTO", "--consistency", "nan"], "consistency"),
    ("invert-tune-steps-huge", ["invert", "PHOTO", "--tune-steps", HUGE], "tune_steps"),
    ("invert-tune-lr-inf", ["invert", "PHOTO", "--tune-lr", "inf"], "tune_lr"),
    # invert: where the square lies and how it is pasted back
    ("invert-crop-huge", ["invert", "PHOTO", "--crop", f"0,0,{HUGE}"], "crop"),
    ("invert-crop-negative", ["invert", "PHOTO", "--crop", "-5,0,10"], "crop"),
    ("invert-crop-zero-size", ["invert", "PHOTO", "--crop", "0,0,0"], "crop"),
    ("invert-crop-float", ["invert", "PHOTO", "--crop", "0,0,1e3"], "crop"),
    ("invert-crop-overflowing-sum", ["invert", "PHOTO", "--crop", f"{2**63},{2**63},{2**63}"], "crop"),
    ("invert-feather-negative", ["invert", "PHOTO", "--feather", "-0.1"], "feather"),
    ("invert-feather-nan", ["invert", "PHOTO", "--feather", "nan"], "feather"),
    ("invert-feather-too-wide", ["invert", "PHOTO", "--feather", "0.9"], "feather"),
    ("invert-face-negative", ["invert", "PHOTO", "--align", "--face", "-1"], "face"),
    ("invert-face-huge", ["invert", "PHOTO", "--align", "--face", HUGE], "face"),
    # inpaint
    ("inpaint-candidates-zero", ["inpaint", "PHOTO", "--mask", "MASK", "--candidates", "0"], "candidates"),
    ("inpaint-candidates-huge", ["inpaint", "PHOTO", "--mask", "MASK", "--candidates", HUGE], "candidates"),
    ("inpaint-seed-over-int64", ["inpaint", "PHOTO", "--mask", "MASK", "--seed", OVER_INT64], "seed"),
    ("inpaint-steps-huge", ["inpaint", "PHOTO", "--mask", "MASK", "--steps", HUGE], "steps"),
    ("inpaint-prior-nan", ["inpaint", "PHOTO", "--mask", "MASK", "--prior", "nan"], "prior"),
    ("inpaint-feather-negative", ["inpaint", "PHOTO", "--mask", "MASK", "--feather", "-1"], "feather"),
    # restore
    ("restore-steps-huge", ["restore", "PHOTO", "--op", "grayscale", "--steps", HUGE], "steps"),
    ("restore-seed-over-int64", ["restore", "PHOTO", "--op", "grayscale", "--seed", OVER_INT64], "seed"),
    ("restore-starts-zero", ["restore", "PHOTO", "--op", "grayscale", "--starts", "0"], "starts"),
    ("restore-feather-nan", ["restore", "PHOTO", "--op", "grayscale", "--feather", "nan"], "feather"),
    # edit and render
    ("edit-amount-absurd", ["edit", "PHOTO", "--latent", "LATENT", "--dir", "smile=1e300"], "amount"),
    ("edit-amount-inf", ["edit", "PHOTO", "--latent", "LATENT", "--dir", "smile=inf"], "smile"),
    ("edit-feather-negative", ["edit", "PHOTO", "--latent", "LATENT", "--feather", "-0.5"], "feather"),
    ("edit-face-negative", ["edit", "PHOTO", "--latent", "LATENT", "--align", "--face", "-1"], "face"),
    ("render-truncation-nan", ["render", "--latent", "LATENT", "--truncation", "nan"], "truncation"),
    ("render-truncation-absurd", ["render", "--latent", "LATENT", "--truncation", "1e300"], "truncation"),
    # sample
    ("sample-n-zero", ["sample", "--n", "0"], "--n"),
    ("sample-n-huge", ["sample", "--n", HUGE], "--n"),
    ("sample-seed-over-int64", ["sample", "--seed", OVER_INT64], "seed"),
    ("sample-seed-negative", ["sample", "--seed", "-3"], "seed"),
    # slice
    ("slice-grid-huge", ["slice", "PHOTO", "--grid", HUGE], "grid"),
    ("slice-span-nan", ["slice", "PHOTO", "--span", "nan"], "span"),
    ("slice-span-absurd", ["slice", "PHOTO", "--span", "1e300"], "span"),
    ("slice-axes-seed-over-int64", ["slice", "PHOTO", "--axes-seed", OVER_INT64], "seed"),
    ("slice-target-seed-over-int64", ["slice", "--seed", OVER_INT64], "seed"),
    ("slice-steps-negative", ["slice", "PHOTO", "--steps", "-1"], "steps"),
    # training
    ("train-landscape-width-huge", ["train-landscape", "--iterations", "1", "--width", str(10**9)], "width"),
    ("train-landscape-depth-huge", ["train-landscape", "--iterations", "1", "--depth", str(10**7)], "depth"),
    ("train-landscape-iterations-negative", ["train-landscape", "--iterations", "-1"], "iterations"),
    ("train-landscape-minutes-nan", ["train-landscape", "--minutes", "nan"], "minutes"),
    ("train-landscape-seed-over-int64", ["train-landscape", "--iterations", "1", "--seed", OVER_INT64], "seed"),
    ("train-landscape-gate-faces-zero", ["train-landscape", "--iterations", "1", "--gate-faces", "0"], "gate"),
    ("train-landscape-gate-budgets-zero", ["train-landscape", "--iterations", "1", "--gate-budgets", "10,0"],
     "gate budget"),
    ("train-landscape-gate-budgets-text", ["train-landscape", "--iterations", "1", "--gate-budgets", "ten"], "ten"),
    ("train-landscape-coarse-image-without-one", ["train-landscape", "--iterations", "1", "--coarse-image"],
     "no coarse image"),
    ("train-landscape-draws-zero", ["train-landscape", "--iterations", "1", "--precondition-draws", "0"],
     "precondition_draws"),
    ("train-encoder-iterations-zero", ["train-encoder", "--iterations", "0"], "iterations"),
    ("train-encoder-lr-absurd", ["train-encoder", "--iterations", "1", "--lr", "1e300"], "lr"),
    ("train-encoder-weight-inf", ["train-encoder", "--iterations", "1", "--image-weight", "inf"], "image_weight"),
    ("train-encoder-minutes-negative", ["train-encoder", "--iterations", "1", "--minutes", "-1"], "minutes"),
    ("train-encoder-seed-over-int64", ["train-encoder", "--iterations", "1", "--seed", OVER_INT64], "seed"),
    # directions
    ("directions-count-huge", ["directions", "discover", "--count", HUGE], "count"),
    ("directions-samples-huge", ["directions", "discover", "--method", "pca", "--samples", HUGE], "samples"),
    ("directions-seed-over-int64", ["directions", "discover", "--method", "pca", "--seed", OVER_INT64], "seed"),
]
OUT_FILE = {"edit", "render", "sample"}  # these write one image; the others a folder


def _fill(args: list[str], folder: Path) -> tuple[list[str], Path]:
    photo = kit.write(folder / "photo.png", kit.encoded(kit.noise(96, 80), "PNG"))
    names = {"PHOTO": photo, "LATENT": kit.valid_latent(folder / "latent.npy"), "MASK": folder / "mask.png"}
    from PIL import Image

    mask = Image.new("L", (96, 80), 0)
    mask.paste(255, (30, 30, 60, 60))
    mask.save(names["MASK"])
    filled = [str(names.get(a, a)) for a in args]
    out = folder / ("out.png" if args[0] in OUT_FILE else "run")
    quiet = ["--quiet"] if args[0] in ("invert", "inpaint") else []
    return [*filled, *quiet, "--out", str(out)], out


@pytest.mark.parametrize(("args", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_flag_is_one_error_and_nothing_written(cli, tmp_path, canary, args, words):
    argv, out = _fill(args, tmp_path)
    before = digest([tmp_path])
    cli(*argv).assert_one_error(words)
    assert not out.exists()
    assert digest([tmp_path]) == before


def _refuse(constant: str) -> None:
    raise AssertionError(f"the JSON holds the non-standard constant {constant}")


def test_report_is_strict_json(cli, tmp_path):
    """report.json parses with a strict reader (no bare NaN/Infinity), the diverging-lr bound notwithstanding."""
    argv, out = _fill(["invert", "PHOTO", "--steps", "2", "--lr", "1000", "--lpips", "0"], tmp_path)
    assert cli(*argv).code == 0
    report = json.loads((out / "report.json").read_text(), parse_constant=_refuse)
    assert report["settings"]["lr"] == 1000


def test_non_finite_values_in_reports_are_written_as_null():
    import numpy as np

    from core.json_text import strict_dumps

    text = strict_dumps({"psnr": float("nan"), "history": [1.0, float("inf"), np.float32("-inf")],
                         "per_start": np.array([np.nan, 2.0])})
    assert json.loads(text, parse_constant=_refuse) == {"psnr": None, "history": [1.0, None, None],
                                                        "per_start": [None, 2.0]}
