"""Battery: faults while a command writes its results — a full disk, a read-only drive, two runs into one folder,
SIGINT and SIGKILL at each stage, Ctrl-C while the program is still starting. After each: one ``error:`` line (or
the documented exit 130), the folder holds the old complete run or the new complete run and nothing else, and
nothing of ours is left behind once the next run is done."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.battery.conftest import ROOT, digest
from tests.battery.fault_kit import (
    FOLDER_COMMANDS,
    CliProcess,
    assert_complete,
    assert_one_complete_run,
    fill_disk,
    folder_command,
    leftovers,
    listing,
    mounted,
    noise_photo,
    remount_read_only,
    snapshot,
    wait_for_new_file,
)


@pytest.fixture
def photo(tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    return noise_photo(inputs / "photo.png", side=256)


@pytest.fixture
def disk(tmp_path):
    """A real 1 MiB file system (tmpfs), unmounted after the case."""
    with mounted(tmp_path / "disk", "1m") as path:
        yield path


# ------------------------------------------------------------------------------------------------- disk full


@pytest.mark.parametrize("kind", FOLDER_COMMANDS)
def test_disk_full_leaves_no_folder_and_no_staging(cli, disk, photo, kind):
    fill_disk(disk, 4 * 1024)
    out = disk / "run"
    cli(*folder_command(kind, photo, out)).assert_one_error("disk is full")
    assert not out.exists() and leftovers(disk) == []


@pytest.mark.parametrize("kind", ["invert", "inpaint", "restore"])
def test_disk_full_midway_keeps_the_previous_complete_run(cli, disk, photo, kind):
    out = disk / "run"
    assert cli(*folder_command(kind, photo, out)).code == 0
    before = digest([out])
    fill_disk(disk, 48 * 1024)  # room for the small files of a new run, not for its 256 px composite
    cli(*folder_command(kind, photo, out, "--seed", "5")).assert_one_error("disk is full")
    assert digest([out]) == before and leftovers(disk) == []
    assert_complete(kind, out)


@pytest.mark.parametrize("args", [["sample", "--n", "64"], ["render", "--latent", "LATENT"]])
def test_disk_full_keeps_the_previous_file(cli, disk, tmp_path, args):
    latent = tmp_path / "latent.npy"
    np.save(latent, np.zeros((64, 100), np.float32))
    args = [str(latent) if a == "LATENT" else a for a in args]
    out = disk / ("grid.png" if args[0] == "sample" else "images.npy")
    out.write_bytes(b"previous")
    fill_disk(disk, 8 * 1024)
    cli(*args, "--out", out).assert_one_error("disk is full")
    assert out.read_bytes() == b"previous" and leftovers(disk) == []


@pytest.mark.parametrize("name", ["walk.mp4", "walk.gif"])
def test_disk_full_during_a_clip_keeps_the_previous_clip(cli, disk, name):
    out = disk / name
    out.write_bytes(b"previous")
    fill_disk(disk, 8 * 1024)  # room for the clip's first frames, not for the clip
    cli("animate", "walk", "--seed", "1", "--seed", "2", "--seconds", "2", "--size", "512", "--quiet",
        "--out", out).assert_one_error("disk is full")
    assert out.read_bytes() == b"previous" and leftovers(disk) == []


# --------------------------------------------------------------------------------------------- read-only drive


def _read_only_case(kind: str, photo: Path, disk: Path, tmp_path: Path) -> list[str]:
    latent = tmp_path / "latent.npy"
    np.save(latent, np.zeros(100, np.float32))
    if kind in FOLDER_COMMANDS:
        return folder_command(kind, photo, disk / "run")
    return {
        "sample": ["sample", "--n", "1", "--out", str(disk / "grid.png")],
        "render-npy": ["render", "--latent", str(latent), "--out", str(disk / "image.npy")],
        "render-png": ["render", "--latent", str(latent), "--out", str(disk / "image.png")],
        "edit": ["edit", str(photo), "--latent", str(latent), "--out", str(disk / "edited.png")],
        "animate": ["animate", "edit", str(photo), "--latent", str(latent), "--dir", "age=1", "--seconds", "0.5",
                    "--quiet", "--out", str(disk / "clip.mp4")],
        "directions": ["directions", "discover", "--count", "2", "--out", str(disk / "lib")],
        "sheet": ["directions", "discover", "--count", "2", "--out", str(tmp_path / "lib"), "--sheet",
                  str(disk / "sheet.png")],
        "new subfolder": folder_command("invert", photo, disk / "a" / "b" / "run"),
    }[kind]


@pytest.mark.parametrize("kind", [*FOLDER_COMMANDS, "sample", "render-npy", "render-png", "edit", "animate",
                                  "directions", "sheet", "new subfolder"])
def test_read_only_drive_is_one_error(cli, disk, photo, tmp_path, kind):
    remount_read_only(disk)
    cli(*_read_only_case(kind, photo, disk, tmp_path)).assert_one_error("read-only")
    assert listing(disk) == set()


def test_read_only_drive_with_a_previous_run_and_stale_staging(cli, disk, photo):
    """Cleaning up a killed run's staging folder fails on a read-only drive: still one error, nothing changed."""
    out = disk / "run"
    assert cli(*folder_command("invert", photo, out)).code == 0
    stale = disk / f".run.staging-{2**22 + 3}-0a1b2c3d"
    stale.mkdir()
    (stale / "target.png").write_bytes(b"half")
    (disk / f".x.png.{2**22 + 3}-0a1b2c3d.tmp").write_bytes(b"half")
    before = digest([disk])
    remount_read_only(disk)
    cli(*folder_command("invert", photo, out)).assert_one_error("read-only")
    cli("sample", "--n", "1", "--out", disk / "x.png").assert_one_error("read-only")
    assert digest([disk]) == before


# ------------------------------------------------------------------------------------- processes and signals


def _long_invert(photo: Path, out: Path, steps: int = 100000, *extra: str) -> CliProcess:
    return CliProcess("invert", photo, "--steps", str(steps), "--lpips", "0", "--out", out, *extra)


def test_two_runs_into_one_folder_the_second_fails_at_once(tmp_path, photo):
    out = tmp_path / "run"
    first = _long_invert(photo, out)
    first.wait_for_stderr("inverting")
    second = CliProcess("invert", photo, "--steps", "3", "--lpips", "0", "--quiet", "--out", out)
    code2, _, err2 = second.finish()
    first.signal(signal.SIGINT)  # the first run stops at its next step and writes what it has
    code1, _, err1 = first.finish()
    assert code2 == 2, err2
    lines = [line for line in err2.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "another" in lines[0].lower(), err2
    assert code1 == 130, err1
    report = assert_one_complete_run(out)
    assert report["cancelled"] is True and report["settings"]["steps"] == 100000
    assert leftovers(tmp_path) == []


def test_sigint_while_optimising_writes_the_best_so_far(tmp_path, photo):
    out = tmp_path / "run"
    proc = _long_invert(photo, out)
    proc.wait_for_stderr("inverting")
    time.sleep(0.5)
    proc.signal(signal.SIGINT)
    code, _, err = proc.finish()
    assert code == 130 and "Traceback" not in err, err
    assert assert_one_complete_run(out)["cancelled"] is True
    assert leftovers(tmp_path) == []


def _previous_run(photo: Path, out: Path) -> dict[str, str]:
    from core.cli import main

    assert main(folder_command("invert", photo, out, "--starts", "3")) == 0
    return digest([out])


def _next_run_is_clean(tmp_path: Path, photo: Path, out: Path) -> None:
    from core.cli import main

    assert main(folder_command("invert", photo, out)) == 0
    assert_one_complete_run(out)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGINT])
def test_signal_while_saving_leaves_the_old_or_the_new_run(tmp_path, photo, signum):
    """The moment the first result byte reaches the disk, the process is signalled: the folder then holds the
    previous complete run or the new complete one, never a mix."""
    big = noise_photo(tmp_path / "inputs" / "big.png", side=1600)  # its composite takes a while to encode
    out = tmp_path / "run"
    before = _previous_run(photo, out)
    seen = snapshot(tmp_path)
    proc = CliProcess("invert", big, "--steps", "1", "--lpips", "0", "--quiet", "--out", out)
    wait_for_new_file(tmp_path, seen, proc)
    proc.signal(signum)
    code, _, err = proc.finish()
    assert "Traceback" not in err, err
    if digest([out]) != before:
        assert_one_complete_run(out)
    elif signum == signal.SIGINT:
        assert code == 130 and err.strip().splitlines()[-1] == "interrupted", err
    _next_run_is_clean(tmp_path, photo, out)


def test_sigkill_while_optimising_keeps_the_previous_run(tmp_path, photo):
    out = tmp_path / "run"
    before = _previous_run(photo, out)
    proc = _long_invert(photo, out)
    proc.wait_for_stderr("inverting")
    proc.signal(signal.SIGKILL)
    proc.finish()
    assert digest([out]) == before
    _next_run_is_clean(tmp_path, photo, out)


@pytest.mark.parametrize("entry", ["python -m core.cli", "landscape-studio"])
def test_ctrl_c_while_starting_is_one_line(tmp_path, photo, entry):
    """SIGINT while the program is still importing torch: exit 130 and the one line 'interrupted'."""
    argv = ([sys.executable, "-m", "core.cli"] if entry.startswith("python")
            else [str(Path(sys.executable).with_name("landscape-studio"))])
    # Started as from a terminal, with Ctrl-C's default action: a test runner launched in the background (`cmd &`)
    # passes SIGINT on as ignored, and Python then installs no KeyboardInterrupt handler at all.
    proc = subprocess.Popen([*argv, "invert", str(photo), "--out", str(tmp_path / "run")], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(0.6)  # Python is up (its SIGINT handler installed), torch is not yet imported
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    # 130, or death by SIGINT itself (-2, which a shell also reports as 130) when the signal lands while Python
    # is already leaving: either way the one line and no traceback
    assert proc.returncode in (130, -signal.SIGINT) and err.strip() == "interrupted", (proc.returncode, err)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("call", ["core.cli.__main__.run()", "app.__main__.main(['models'])"])
def test_ctrl_c_after_the_command_is_over_keeps_its_exit_code(call):
    """A Ctrl-C that lands once the command is done (results written, summary printed), while the interpreter
    tears torch down, is ignored: the exit code stays the command's own, not a death by SIGINT (-2)."""
    module = call.split("(")[0].rsplit(".", 1)[0]
    script = (f"import os, signal, sys, {module}\n"
              f"code = {call}\n"
              "os.kill(os.getpid(), signal.SIGINT)\n"
              "sys.exit(code)\n")
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    expected = 2 if call.startswith("core") else 0  # no command: the help and exit 2; `models`: 0
    assert proc.returncode == expected and "Traceback" not in proc.stderr, (proc.returncode, proc.stderr[-2000:])


def test_a_ctrl_c_caught_inside_a_dataclass_definition_keeps_the_exit_code(tmp_path):
    """A Ctrl-C that lands while a module defines a dataclass (its ``__init__`` is made by ``exec`` of source) is
    caught and answered with 130 like any other; CPython still remembers it and, under ``python -m``, would end the
    process by SIGINT (-2) on exit unless the command settles it."""
    (tmp_path / "interrupted_module.py").write_text(
        "import sys\n"
        "from core.cli.exit_codes import EXIT_INTERRUPTED, settled\n"
        "try:\n"
        "    exec('raise KeyboardInterrupt', {})  # what the signal does inside a dataclass's generated code\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', file=sys.stderr)\n"
        "    sys.exit(settled(EXIT_INTERRUPTED))\n")
    proc = subprocess.run([sys.executable, "-m", "interrupted_module"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 130 and proc.stderr.strip() == "interrupted", (proc.returncode, proc.stderr)
