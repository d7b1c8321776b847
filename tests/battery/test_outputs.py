"""Battery: result folders (``--out``) always hold exactly one complete run — never two runs mixed, never a
half-written one, never the user's own files overwritten — and leave nothing of ours behind them."""

from __future__ import annotations

import json
import os
import time

import pytest

from core.cli import main
from tests.battery.conftest import digest
from tests.battery.fault_kit import (
    FOLDER_COMMANDS,
    assert_complete,
    assert_one_complete_run,
    folder_command,
    leftovers,
    listing,
    noise_photo,
)


@pytest.fixture
def photo(tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    return noise_photo(inputs / "photo.png")


@pytest.mark.parametrize("kind", FOLDER_COMMANDS)
def test_fresh_run_is_one_complete_folder(cli, tmp_path, photo, kind):
    out = tmp_path / "results" / "run"
    assert cli(*folder_command(kind, photo, out)).code == 0
    assert_complete(kind, out)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("kind", FOLDER_COMMANDS)
def test_rerun_replaces_the_previous_run_whole(cli, tmp_path, photo, kind):
    out = tmp_path / "run"
    assert cli(*folder_command(kind, photo, out)).code == 0
    before = digest([out])
    assert cli(*folder_command(kind, photo, out, "--seed", "7")).code == 0
    assert_complete(kind, out)
    assert digest([out]) != before
    assert leftovers(tmp_path) == []


def test_rerun_with_fewer_starts_keeps_none_of_the_old_files(cli, tmp_path, photo):
    out = tmp_path / "run"
    assert cli(*folder_command("invert", photo, out, "--starts", "3")).code == 0
    assert "reconstruction_start02.png" in listing(out)
    assert cli(*folder_command("invert", photo, out, "--starts", "1")).code == 0
    report = assert_one_complete_run(out)
    assert report["settings"]["starts"] == 1 and "reconstruction_start02.png" not in listing(out)


def test_rerun_with_fewer_candidates_keeps_none_of_the_old_files(cli, tmp_path, photo):
    out = tmp_path / "run"
    assert cli(*folder_command("inpaint", photo, out)[:-2], "--candidates", "3", "--out", out).code == 0
    assert cli(*folder_command("inpaint", photo, out)).code == 0
    assert_one_complete_run(out)
    assert "candidate_02.png" not in listing(out)


@pytest.mark.parametrize("kind", FOLDER_COMMANDS)
def test_out_that_is_a_file_is_refused(cli, tmp_path, photo, kind):
    out = tmp_path / "run"
    out.write_text("mine")
    cli(*folder_command(kind, photo, out)).assert_one_error("run")
    assert out.read_text() == "mine" and leftovers(tmp_path) == []


@pytest.mark.parametrize("kind", FOLDER_COMMANDS)
def test_someone_elses_files_in_the_folder_are_kept(cli, tmp_path, photo, kind):
    """The user's own files in --out survive a run and a rerun, byte for byte; the run's files are one run."""
    out = tmp_path / "thesis"
    (out / "figures").mkdir(parents=True)
    (out / "chapter1.tex").write_text("years of work")
    (out / "figures" / "plot.pdf").write_bytes(b"%PDF")
    before = digest([out])
    for seed in ("1", "2"):
        assert cli(*folder_command(kind, photo, out, "--seed", seed)).code == 0
        assert {k: v for k, v in digest([out]).items() if k in before} == before
    mine = {"chapter1.tex", "figures"}
    assert mine <= listing(out)
    if kind != "slice":
        report = json.loads((out / "report.json").read_text())
        assert listing(out) - mine == set(report["outputs"])
    assert leftovers(tmp_path) == []


def test_empty_existing_folder_is_used(cli, tmp_path, photo):
    out = tmp_path / "run"
    out.mkdir()
    assert cli(*folder_command("invert", photo, out)).code == 0
    assert_one_complete_run(out)


def test_stale_staging_and_temp_files_of_killed_runs_are_cleaned(cli, tmp_path, photo):
    """What a SIGKILL-ed run leaves (staging folder, replaced folder, temp files with a dead pid or old) goes on
    the next run into the same place; a live process's temp file stays."""
    out = tmp_path / "run"
    dead = 2**22 + 12345  # above any pid_max default: no process has it
    (tmp_path / f".run.staging-{dead}-0a1b2c3d").mkdir()
    (tmp_path / f".run.staging-{dead}-0a1b2c3d" / "target.png").write_bytes(b"half")
    (tmp_path / f".run.old-{dead}-0a1b2c3d").mkdir()
    (tmp_path / f".grid.png.{dead}-0a1b2c3d.tmp").write_bytes(b"half")
    old_style = tmp_path / ".grid.png.0a1b2c3d.tmp"
    old_style.write_bytes(b"half")
    week_ago = time.time() - 7 * 86400
    os.utime(old_style, (week_ago, week_ago))
    live = tmp_path / f".grid.png.{os.getpid()}-0a1b2c3d.tmp"
    live.write_bytes(b"being written")
    assert cli(*folder_command("invert", photo, out)).code == 0
    assert cli("sample", "--n", "1", "--out", tmp_path / "grid.png").code == 0
    assert_one_complete_run(out)
    assert sorted(leftovers(tmp_path)) == [live.name]


def test_interrupted_swap_is_repaired_before_the_next_run(cli, tmp_path, photo):
    """Killed between moving the old run aside and moving the new one in: the old complete run comes back."""
    out = tmp_path / "run"
    assert cli(*folder_command("invert", photo, out)).code == 0
    before = {k.replace("/run/", "/X/"): v for k, v in digest([out]).items()}
    aside = tmp_path / f".run.old-{2**22 + 7}-0a1b2c3d"
    out.rename(aside)
    cli(*folder_command("invert", photo, out, "--steps", "-1")).assert_one_error("steps")
    assert cli("invert", tmp_path / "missing.png", "--out", out).code == 2
    assert cli(*folder_command("invert", photo, out, "--feather", "9")).code == 2  # fails after the model loads
    assert {k.replace("/run/", "/X/"): v for k, v in digest([out]).items()} == before
    assert leftovers(tmp_path) == []


def test_report_lists_exactly_the_folder(cli, tmp_path, photo):
    out = tmp_path / "run"
    assert cli(*folder_command("invert", photo, out, "--starts", "2")).code == 0
    report = json.loads((out / "report.json").read_text())
    assert sorted(report["outputs"]) == sorted(listing(out))


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_file_output_overwritten_whole_and_no_temp_files(cli, tmp_path, suffix):
    out = tmp_path / f"grid{suffix}"
    assert cli("sample", "--n", "1", "--out", out).code == 0
    assert cli("sample", "--n", "4", "--seed", "3", "--out", out).code == 0
    assert listing(tmp_path) == {out.name}


def test_direction_library_rerun_without_replace_is_refused_and_kept(cli, tmp_path):
    out = tmp_path / "lib"
    assert cli("directions", "discover", "--count", "2", "--out", out).code == 0
    before = digest([out])
    cli("directions", "discover", "--count", "3", "--out", out).assert_one_error("--replace")
    assert digest([out]) == before
    assert main(["directions", "discover", "--count", "3", "--replace", "--out", str(out)]) == 0
    assert len(json.loads((out / "library.json").read_text())["directions"]) == 3
    assert leftovers(tmp_path) == []


def test_stale_staging_beside_a_folder_not_yet_made_is_cleaned(cli, tmp_path, photo):
    stale = tmp_path / f".run.staging-{2**22 + 9}-0a1b2c3d"
    stale.mkdir()
    (stale / "composite.png").write_bytes(b"half")
    cli(*folder_command("invert", tmp_path / "missing.png", tmp_path / "run")).assert_one_error("missing.png")
    assert leftovers(tmp_path) == [] and not (tmp_path / "run").exists()
