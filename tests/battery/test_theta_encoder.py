"""Damaged θ (landscape) and encoder folders: as documented (core/theta/registry.py, core/inversion/encoder_methods.py),
a run that cannot use them falls back to the direct method with one ``warning:`` line, exits 0 and writes a strict
JSON report; the folder is never changed, nothing in it is executed, nothing is allocated from its claims.

Each case copies the shipped folder and damages one thing: its JSON (syntax, types, nesting, sizes), its tensors
(garbage, truncated, wrong sizes, NaN) or what it claims (another model, an impossible shape).
"""

from __future__ import annotations

import json
import shutil
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from core.errors import ModelLoadError
from core.generators import load_generator
from core.inversion.encoder import find_encoder
from core.resources import resources_dir
from core.theta import find_mapping
from tests.battery import input_kit as kit
from tests.battery.conftest import digest

THETA = resources_dir() / "landscape" / "dcgan-digiface"
ENCODER = resources_dir() / "encoders" / "dcgan-digiface"
Damage = Callable[[Path, str], None]  # (the copied folder, its stem "theta" | "encoder")


def _json(change: Callable[[dict], object]) -> Damage:
    def damage(folder: Path, stem: str) -> None:
        path = folder / f"{stem}.json"
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data))
    return damage


def _raw_json(data: bytes) -> Damage:
    return lambda folder, stem: kit.write(folder / f"{stem}.json", data)


def _section(stem: str) -> str:
    return "mapping" if stem == "theta" else "encoder"


def _setting(key: str, value: object) -> Damage:
    def damage(folder: Path, stem: str) -> None:
        _json(lambda d: d[_section(stem)].__setitem__(key, value))(folder, stem)
    return damage


def _top(key: str, value: object) -> Damage:
    return _json(lambda d: d.__setitem__(key, value))


def _drop(name: str) -> Damage:
    return lambda folder, stem: (folder / f"{stem}.{name}").unlink()


def _tensors(change: Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]]) -> Damage:
    def damage(folder: Path, stem: str) -> None:
        path = folder / f"{stem}.safetensors"
        save_file(change(load_file(str(path))), str(path))
    return damage


def _first(change: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[dict], dict]:
    def edit(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        key = sorted(k for k, v in tensors.items() if v.dim() == 2)[0]
        return tensors | {key: change(tensors[key])}
    return edit


def _raw_tensors(data: Callable[[bytes], bytes]) -> Damage:
    def damage(folder: Path, stem: str) -> None:
        path = folder / f"{stem}.safetensors"
        path.write_bytes(data(path.read_bytes()))
    return damage


def _huge_claim(original: bytes) -> bytes:
    """A safetensors header claiming one float32 tensor of 10¹² elements over a file of 8 data bytes."""
    header = json.dumps({"x": {"dtype": "F32", "shape": [10**6, 10**6], "data_offsets": [0, 4 * 10**12]}}).encode()
    return struct.pack("<Q", len(header)) + header + b"\0" * 8


def _folder_as_json(folder: Path, stem: str) -> None:
    (folder / f"{stem}.json").unlink()
    (folder / f"{stem}.json").mkdir()


COMMON: list[tuple[str, Damage]] = [
    ("missing-folder", lambda folder, stem: shutil.rmtree(folder)),
    ("empty-folder", lambda folder, stem: [p.unlink() for p in folder.iterdir()]),
    ("no-json", _drop("json")),
    ("no-tensors", _drop("safetensors")),
    ("json-is-a-folder", _folder_as_json),
    ("json-truncated", _raw_json(b'{"schema_version": 1, "mapping": {"z_dim": 10')),
    ("json-zero-bytes", _raw_json(b"")),
    ("json-not-utf8", _raw_json(b'{"schema_version": 1, "\xff\xfe": 1}')),
    ("json-nested-deep", _raw_json(kit.nested_json(200_000))),
    ("json-nested-in-settings", lambda folder, stem: kit.write(
        folder / f"{stem}.json", kit.nested_json(100_000, _section(stem)))),
    ("json-a-list", _raw_json(b"[1, 2, 3]")),
    ("json-a-number", _raw_json(b"1e999")),
    ("json-nan-literal", _setting("width", float("nan"))),
    ("json-over-size-limit", _raw_json(b'{"schema_version": 1, "pad": "' + b"a" * (20 * 2**20) + b'"}')),
    ("schema-from-the-future", _top("schema_version", 99)),
    ("schema-a-string", _top("schema_version", "1")),
    ("settings-missing", _json(lambda d: d.pop("mapping", None) or d.pop("encoder", None))),
    ("settings-a-list", lambda folder, stem: _top(_section(stem), [1, 2])(folder, stem)),
    ("settings-unknown-key", _setting("surprise", 1)),
    ("width-a-string", _setting("width", "wide")),
    ("width-a-bool", _setting("width", True)),
    ("width-negative", _setting("width", -4)),
    ("width-huge", _setting("width", 10**6)),
    ("width-float", _setting("width", 32.5)),
    ("generator-another-model", _top("generator_id", "stylegan2-ffhq@0000")),
    ("generator-a-list", _top("generator_id", ["dcgan-digiface"])),
    ("tensors-garbage", _raw_tensors(lambda data: b"\x93NUMPY garbage" * 100)),
    ("tensors-zero-bytes", _raw_tensors(lambda data: b"")),
    ("tensors-truncated", _raw_tensors(lambda data: data[: len(data) // 2])),
    ("tensors-huge-claim", _raw_tensors(_huge_claim)),
    ("tensors-pickle", lambda folder, stem: torch.save({"x": torch.zeros(1)}, folder / f"{stem}.safetensors")),
    ("tensors-wrong-size", _tensors(_first(lambda t: t[:, :-1].contiguous()))),
    ("tensors-wrong-dtype", _tensors(_first(lambda t: t.to(torch.int32)))),
    ("tensors-missing-one", _tensors(lambda ts: dict(sorted(ts.items())[1:]))),
    ("tensors-extra-one", _tensors(lambda ts: ts | {"extra.weight": torch.zeros(3)})),
    ("tensors-nan", _tensors(_first(lambda t: torch.full_like(t, float("nan"))))),
    ("tensors-inf", _tensors(_first(lambda t: torch.full_like(t, float("inf"))))),
]
THETA_ONLY: list[tuple[str, Damage]] = [
    ("z-dim-huge", _setting("z_dim", 10**9)),
    ("depth-huge", _setting("depth", 10**7)),
    ("step-a-string", _setting("step", "big")),
    ("step-nan", _setting("step", float("nan"))),
    ("horizon-huge", _setting("horizon", 10**12)),
    ("handover-lr-a-list", _setting("handover_lr", [0.1])),
    ("ready-a-string", _top("ready", "no")),
    ("not-ready-gate-a-list", lambda folder, stem: _json(lambda d: d.update(ready=False, gate=["x"]))(folder, stem)),
]
ENCODER_ONLY: list[tuple[str, Damage]] = [
    ("resolution-huge", _setting("resolution", 2**40)),
    ("resolution-not-power-of-two", _setting("resolution", 48)),
    ("latent-shape-huge", _setting("latent_shape", [10**6, 10**6])),
    ("latent-shape-a-number", _setting("latent_shape", 100)),
    ("latent-shape-strings", _setting("latent_shape", ["a"])),
    ("space-unknown", _top("space", "q")),
    ("space-a-dict", _top("space", {"z": 1})),
]


def _damaged(tmp_path: Path, shipped: Path, stem: str, damage: Damage) -> tuple[Path, dict[str, str]]:
    folder = tmp_path / stem
    shutil.copytree(shipped, folder)
    damage(folder, stem)
    return folder, digest([folder]) if folder.exists() else {}


@pytest.fixture(scope="module")
def G():
    return load_generator("default", "cpu")


@pytest.mark.parametrize("damage", [c[1] for c in COMMON + THETA_ONLY], ids=[c[0] for c in COMMON + THETA_ONLY])
def test_damaged_theta_is_a_model_load_error(G, tmp_path, canary, damage):
    """The typed error the landscape method falls back on, and nothing else (no other exception, no allocation)."""
    folder, before = _damaged(tmp_path, THETA, "theta", damage)
    with pytest.raises(ModelLoadError):
        find_mapping(G, folder)
    assert (digest([folder]) if folder.exists() else {}) == before


@pytest.mark.parametrize("damage", [c[1] for c in COMMON + ENCODER_ONLY], ids=[c[0] for c in COMMON + ENCODER_ONLY])
def test_damaged_encoder_is_a_model_load_error(G, tmp_path, canary, damage):
    folder, before = _damaged(tmp_path, ENCODER, "encoder", damage)
    with pytest.raises(ModelLoadError):
        find_encoder(G, folder)
    assert (digest([folder]) if folder.exists() else {}) == before


def _run_falls_back(cli, tmp_path: Path, shipped: Path, stem: str, damage: Damage, method: str, flag: str) -> None:
    folder, before = _damaged(tmp_path, shipped, stem, damage)
    out = tmp_path / "run"
    outcome = cli("invert", kit.write(tmp_path / "photo.png", kit.encoded(kit.noise(80, 72), "PNG")), "--method",
                  method, flag, folder, "--steps", "1", "--lpips", "0", "--quiet", "--out", out)
    assert outcome.code == 0, outcome.err
    assert "Traceback" not in outcome.err
    warnings = [line for line in outcome.err.splitlines() if line.startswith("warning: ")]
    assert any("direct method" in line for line in warnings), outcome.err
    report = json.loads((out / "report.json").read_text(), parse_constant=_refuse)
    assert report["settings"]["method"] == "direct" and any("direct method" in w for w in report["warnings"])
    assert (digest([folder]) if folder.exists() else {}) == before


def _refuse(constant: str) -> None:
    raise AssertionError(f"report.json holds the non-JSON constant {constant}")


# Through the whole CLI, a few of each kind: the run goes on with the direct method, says so once, reports it.
CLI_CASES = {"missing-folder", "json-nested-deep", "width-a-string", "tensors-garbage", "tensors-wrong-size",
             "tensors-nan", "not-ready-gate-a-list", "latent-shape-huge"}
THETA_CLI = [c for c in COMMON + THETA_ONLY if c[0] in CLI_CASES]
ENCODER_CLI = [c for c in COMMON + ENCODER_ONLY if c[0] in CLI_CASES]


@pytest.mark.parametrize("damage", [c[1] for c in THETA_CLI], ids=[c[0] for c in THETA_CLI])
def test_damaged_theta_falls_back_to_direct(cli, tmp_path, canary, damage):
    _run_falls_back(cli, tmp_path, THETA, "theta", damage, "landscape", "--landscape")


@pytest.mark.parametrize("damage", [c[1] for c in ENCODER_CLI], ids=[c[0] for c in ENCODER_CLI])
def test_damaged_encoder_falls_back_to_direct(cli, tmp_path, canary, damage):
    _run_falls_back(cli, tmp_path, ENCODER, "encoder", damage, "encoder", "--encoder")
