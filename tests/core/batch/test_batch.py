"""Batches on the embedded model, with real files: recipes (strict, versioned, hashed), a folder of photos in and
composited exports, latents, manifest.jsonl and summary.csv out; resuming, stopping, bad photos, duplicates, and
folders that are not ours."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.batch import Recipe, load_recipe, save_recipe
from core.batch.folder import MANIFEST, SUMMARY
from core.batch.local import WarmModel, run_batch
from core.batch.recipe import FORMAT, VERSION
from core.cli import main
from core.errors import InvalidInputError
from core.resources import sample_photos

FAST = {"method": "direct", "steps": 3, "warmup_steps": 0, "loss": {"lpips": 0.0}}


def recipe(**changes) -> Recipe:
    """A fast recipe (3 direct steps, no alignment) with ``changes``, read as a file's JSON would be."""
    return Recipe.from_dict({"format": FORMAT, "version": VERSION, "align": False, "inversion": FAST} | changes)


@pytest.fixture(scope="module")
def model():
    return WarmModel.load(recipe())


@pytest.fixture
def photos(tmp_path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for path in sample_photos():
        shutil.copyfile(path, folder / path.name)
    return folder


def rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / MANIFEST).read_text().splitlines()]


def test_a_recipe_round_trips_and_its_hash_follows_its_content(tmp_path):
    r = recipe(edits={"smile": 1.5}, export={"format": "jpg", "quality": 90})
    path = save_recipe(r, tmp_path / "r.json")
    again = load_recipe(path)
    assert again == r and again.digest() == r.digest()
    assert again.export.suffix == ".jpg" and again.output_name("face", 3) == "face_edited.jpg"
    assert recipe(edits={"smile": 1.0}).digest() != recipe(edits={"smile": 1.5}).digest()
    assert recipe().config().steps == 3 and recipe().config().loss.lpips == 0.0
    assert recipe(restore="downsample4", inversion={}).config().starts == 4  # a restoration's defaults


@pytest.mark.parametrize(("change", "message"), [
    ({"version": 2}, "version 2; this version reads recipe version 1"),
    ({"format": "other"}, "not a Landscape Studio recipe"),
    ({"smiel": 1}, "unknown keys: smiel"),
    ({"inversion": {"stpes": 10}}, "Unknown inversion settings: stpes"),
    ({"inversion": {"steps": -1}}, "inversion"),
    ({"edits": {"smile": "lots"}}, "edit 'smile'"),
    ({"composite": "blend"}, "composite"),
    ({"export": {"format": "gif"}}, "export format 'gif'"),
    ({"export": {"quality": 0}}, "quality"),
    ({"naming": "same"}, "naming"),
    ({"naming": "../{stem}"}, "not a path"),
    ({"align": "yes"}, "\"align\" has the wrong type"),
    ({"restore": "blur"}, "blur"),
])
def test_a_bad_recipe_names_what_is_wrong(tmp_path, change, message):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(recipe().to_dict() | change))
    with pytest.raises(InvalidInputError, match=message):
        load_recipe(path)


def test_a_folder_in_exports_latents_manifest_and_summary_out(photos, tmp_path, model):
    (photos / "copy.png").write_bytes((photos / "astronaut.png").read_bytes())  # the same photo twice
    (photos / "broken.jpg").write_bytes(b"not an image")
    out = tmp_path / "out"
    report = run_batch([str(photos)], recipe(), out, model=model)
    assert [d.name for d, _ in report.inputs.duplicates] == ["copy.png"]
    done = [r for r in report.rows if r["status"] == "done"]
    failed = [r for r in report.rows if r["status"] == "failed"]
    assert sorted(Path(r["photo"]).name for r in done) == ["astronaut.png", "grace_hopper.jpg"]
    assert [Path(r["photo"]).name for r in failed] == ["broken.jpg"] and "broken.jpg" in failed[0]["error"]
    for row in done:
        exported = np.asarray(Image.open(out / row["output"]))
        original = np.asarray(Image.open(row["photo"]).convert("RGB"))
        assert exported.shape == original.shape  # at the photo's own resolution
        assert np.load(out / row["latent"]).shape == model.G.space().shape
        assert row["psnr"] > 10 and row["seconds"] >= 0
    with (out / SUMMARY).open() as fh:
        summary = list(csv.DictReader(fh))
    assert [(Path(s["photo"]).name, s["status"]) for s in summary] == [  # in batch order
        ("astronaut.png", "done"), ("broken.jpg", "failed"), ("grace_hopper.jpg", "done")]
    assert len(rows(out)) == 3


def test_a_rerun_skips_what_is_done_and_redoes_the_rest(photos, tmp_path, model):
    out = tmp_path / "out"
    first = run_batch([str(photos)], recipe(), out, model=model)
    assert len(first.rows) == 2
    again = run_batch([str(photos)], recipe(), out, model=model)
    assert again.skipped == 2 and again.rows == []
    missing = first.rows[0]["output"]
    (out / missing).unlink()  # a result the user deleted is made again
    with (out / MANIFEST).open("a") as fh:
        fh.write('{"torn line')  # a crash mid-append
    third = run_batch([str(photos)], recipe(), out, model=model)
    assert [r["output"] for r in third.rows] == [missing] and (out / missing).is_file()


def test_stopping_between_photos_leaves_a_consistent_folder(photos, tmp_path, model):
    out = tmp_path / "out"
    asked: list[int] = []
    report = run_batch([str(photos)], recipe(), out, model=model, stop=lambda: len(asked) > 0,
                       on_row=lambda row, i, n: asked.append(i), group=1)
    assert report.stopped and len(report.rows) == 1
    assert len(rows(out)) == 1 and (out / SUMMARY).is_file()
    assert sorted(p.name for p in out.iterdir() if p.suffix in (".png", ".npy")) == sorted(
        [report.rows[0]["output"], report.rows[0]["latent"]])
    rest = run_batch([str(photos)], recipe(), out, model=model)
    assert rest.skipped == 1 and len(rest.rows) == 1


def test_photos_inverted_together_get_what_they_get_one_at_a_time(photos, tmp_path, model):
    together = run_batch([str(photos)], recipe(), tmp_path / "together", model=model)
    alone = run_batch([str(photos)], recipe(), tmp_path / "alone", model=model, group=1)
    assert [r["group"] for r in together.rows] == [2, 2] and all("group" not in r for r in alone.rows)
    for grouped, single in zip(together.rows, alone.rows, strict=True):
        assert grouped["photo"] == single["photo"] and grouped["status"] == single["status"] == "done"
        np.testing.assert_allclose(np.load(tmp_path / "together" / grouped["latent"]),
                                   np.load(tmp_path / "alone" / single["latent"]), atol=1e-4)
        assert abs(grouped["psnr"] - single["psnr"]) < 0.01
    stopped = run_batch([str(photos)], recipe(), tmp_path / "stopped", model=model, stop=lambda: True)
    assert stopped.stopped and stopped.rows == []  # asked before the first group: nothing started


def test_folders_that_are_not_this_batchs_are_left_alone(photos, tmp_path, model):
    with pytest.raises(InvalidInputError, match="inside the input folder"):
        run_batch([str(photos)], recipe(), photos / "out", model=model)
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"keep me")
    with pytest.raises(InvalidInputError, match="not empty and holds no batch"):
        run_batch([str(photos)], recipe(), foreign, model=model)
    assert (foreign / "holiday.jpg").read_bytes() == b"keep me"
    out = tmp_path / "out"
    run_batch([str(photos / "astronaut.png")], recipe(), out, model=model)
    other = recipe(naming="{stem}_v2")
    with pytest.raises(InvalidInputError, match="another recipe"):
        run_batch([str(photos / "astronaut.png")], other, out, model=model)
    assert (out / "astronaut_edited.png").is_file()
    replaced = run_batch([str(photos / "astronaut.png")], other, out, overwrite=True, model=model)
    assert [r["output"] for r in replaced.rows] == ["astronaut_v2.png"]
    assert not (out / "astronaut_edited.png").exists() and len(rows(out)) == 1


def test_edits_by_name_change_the_export(photos, tmp_path):
    plain = run_batch([str(photos / "astronaut.png")], recipe(composite="replace"), tmp_path / "plain")
    edited = run_batch([str(photos / "astronaut.png")], recipe(composite="replace", edits={"age": 2.0}),
                       tmp_path / "edited")
    a = np.asarray(Image.open(tmp_path / "plain" / plain.rows[0]["output"]), dtype=int)
    b = np.asarray(Image.open(tmp_path / "edited" / edited.rows[0]["output"]), dtype=int)
    assert np.abs(a - b).max() > 20
    with pytest.raises(InvalidInputError, match="smiel"):
        WarmModel.load(recipe(edits={"smiel": 1.0}))


def test_the_command_reports_and_exits_by_outcome(photos, tmp_path, capsys):
    path = save_recipe(recipe(export={"format": "jpg", "quality": 80}), tmp_path / "r.json")
    (photos / "broken.png").write_bytes(b"nope")
    out = tmp_path / "out"
    assert main(["batch", str(photos / "*.*"), "--recipe", str(path), "--out", str(out), "--quiet"]) == 1
    text = capsys.readouterr()
    assert "2 done, 0 already done, 1 failed" in text.out and "broken.png" in text.err
    assert sorted(p.name for p in out.glob("*.jpg")) == ["astronaut_edited.jpg", "grace_hopper_edited.jpg"]
    assert main(["batch", str(photos), "--recipe", str(tmp_path / "missing.json"), "--out", str(out)]) == 2
