"""The Ray engine on a real local Ray cluster (2 CPUs, two actors with warm models): the same results as the local
engine, a worker killed mid-batch loses nothing and writes nothing twice, stopping lets the photos under way finish,
and a model the workers cannot load is said before any photo is sent."""

from __future__ import annotations

import builtins
import json
import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest
import ray
from PIL import Image

from core.batch import Recipe
from core.batch.folder import BATCH_FILE, MANIFEST, SUMMARY
from core.batch.local import run_batch
from core.batch.ray_engine import RaySettings, import_ray, run_batch_ray, worker_count
from core.batch.recipe import FORMAT, VERSION
from core.cli import main
from core.errors import CoreError, InvalidInputError
from core.resources import sample_photos

TWO = RaySettings(workers=2)


def recipe(**changes) -> Recipe:
    inversion = {"method": "direct", "steps": 12, "warmup_steps": 0, "loss": {"lpips": 0.0}}
    return Recipe.from_dict({"format": FORMAT, "version": VERSION, "align": False, "inversion": inversion} | changes)


@pytest.fixture(scope="module", autouse=True)
def cluster():
    printing = builtins.print  # Ray may swap it for its own; the rest of the test session gets it back
    import_ray()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield
    ray.shutdown()
    builtins.print = printing


@pytest.fixture
def photos(tmp_path) -> Path:
    """Four photos: the samples and their mirror images (other bytes, so four photos to do)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for path in sample_photos():
        with Image.open(path) as im:
            im.convert("RGB").save(folder / f"{path.stem}.png")
            im.convert("RGB").transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(folder / f"{path.stem}_mirror.png")
    return folder


def rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / MANIFEST).read_text().splitlines()]


def assert_each_photo_once(out: Path, count: int) -> list[dict]:
    written = rows(out)
    assert sorted(r["sha256"] for r in written) == sorted({r["sha256"] for r in written}) and len(written) == count
    made = {r["output"] for r in written} | {r["latent"] for r in written}
    assert {p.name for p in out.iterdir()} == made | {BATCH_FILE, MANIFEST, SUMMARY}
    return written


def test_two_workers_give_the_local_engines_results(photos, tmp_path):
    report = run_batch_ray([str(photos)], recipe(), tmp_path / "ray", settings=TWO)
    local = run_batch([str(photos)], recipe(), tmp_path / "local")
    assert report.retried == 0 and not report.stopped
    written = assert_each_photo_once(tmp_path / "ray", 4)
    assert all(r["status"] == "done" and r["retries"] == 0 for r in written)
    assert len({r["worker"] for r in written}) == 2  # both actors took photos
    assert all(r["worker"].endswith(f":{os.getpid()}") for r in local.rows)  # the local engine: this process
    by_photo = {r["photo"]: r for r in local.rows}
    for row in written:
        here = by_photo[row["photo"]]
        ours = np.load(tmp_path / "ray" / row["latent"])
        np.testing.assert_allclose(ours, np.load(tmp_path / "local" / here["latent"]), atol=1e-3)
        assert abs(row["psnr"] - here["psnr"]) < 0.05


def kill_the_first_rows_worker(killed: list[int]):
    """``on_row``: SIGKILL the worker that returned the first row; it has just been sent the next photo."""
    def on_row(row, finished, to_do):
        if not killed:
            pid = int(row["worker"].rsplit(":", 1)[1])
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
    return on_row


def test_a_worker_killed_mid_batch_loses_nothing_and_writes_nothing_twice(photos, tmp_path):
    killed: list[int] = []
    out = tmp_path / "out"
    report = run_batch_ray([str(photos)], recipe(), out, settings=TWO, on_row=kill_the_first_rows_worker(killed))
    assert killed and report.retried == 1
    written = assert_each_photo_once(out, 4)
    assert all(r["status"] == "done" for r in written)
    again = [r for r in written if r["retries"] == 1]
    assert len(again) == 1 and again[0]["worker"] != f"{written[0]['worker']}"  # done by the restarted actor
    assert all(not r["worker"].endswith(f":{killed[0]}") for r in written[1:])
    summary = (out / SUMMARY).read_text().splitlines()
    assert len(summary) == 5 and all(",done," in line for line in summary[1:])


def test_a_photo_whose_worker_dies_past_the_retries_fails_and_a_rerun_redoes_it(photos, tmp_path):
    killed: list[int] = []
    out = tmp_path / "out"
    report = run_batch_ray([str(photos)], recipe(), out, settings=RaySettings(workers=2, max_retries=0),
                           on_row=kill_the_first_rows_worker(killed))
    failed = [r for r in report.rows if r["status"] == "failed"]
    assert len(failed) == 1 and "worker died 1 times" in failed[0]["error"]
    again = run_batch_ray([str(photos)], recipe(), out, settings=TWO)
    assert again.skipped == 3 and [r["photo"] for r in again.rows] == [failed[0]["photo"]]
    assert again.rows[0]["status"] == "done"


def test_stopping_lets_the_photos_under_way_finish_and_sends_no_more(photos, tmp_path):
    out = tmp_path / "out"
    asked: list[bool] = []
    report = run_batch_ray([str(photos)], recipe(), out, settings=TWO, stop=lambda: bool(asked),
                           on_row=lambda row, finished, to_do: asked.append(True))
    # Asked while the first row was reported: the two first photos and the one just sent are under way.
    assert report.stopped and len(report.rows) == 3
    written = assert_each_photo_once(out, 3)
    assert all(r["status"] == "done" for r in written)
    rest = run_batch_ray([str(photos)], recipe(), out, settings=TWO)
    assert rest.skipped == 3 and len(rest.rows) == 1


def test_a_model_the_workers_cannot_load_is_said_before_any_photo(photos, tmp_path):
    with pytest.raises(CoreError, match="could not load the recipe's model"):
        run_batch_ray([str(photos)], recipe(model=str(tmp_path / "missing.pt")), tmp_path / "out", settings=TWO)
    assert not (tmp_path / "out" / MANIFEST).exists()


def test_the_command_runs_on_ray(photos, tmp_path, capsys):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(recipe().to_dict()))
    out = tmp_path / "out"
    assert main(["batch", str(photos), "--recipe", str(path), "--out", str(out), "--quiet",
                 "--engine", "ray", "--workers", "2"]) == 0
    assert "4 done, 0 already done, 0 failed" in capsys.readouterr().out
    assert_each_photo_once(out, 4)


def test_worker_counts_follow_the_cluster():
    assert worker_count({"CPU": 16.0}, RaySettings()) == 16
    assert worker_count({"CPU": 16.0}, RaySettings(cpus_per_worker=4)) == 4
    assert worker_count({"CPU": 16.0, "GPU": 4.0}, RaySettings(gpus_per_worker=0.5)) == 8
    assert worker_count({"CPU": 16.0}, RaySettings(workers=3)) == 3
    with pytest.raises(InvalidInputError, match="no GPU"):
        worker_count({"CPU": 16.0}, RaySettings(gpus_per_worker=1))
    with pytest.raises(InvalidInputError, match="at least 1"):
        worker_count({"CPU": 16.0}, RaySettings(workers=0))


def test_without_ray_installed_the_engine_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what Python does when the package is absent: ImportError
    with pytest.raises(InvalidInputError, match=r"landscape-studio\[scale\]"):
        import_ray()
