"""The PyInstaller spec is valid Python and every file it names exists (PyInstaller itself is not run here)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC_DIR = ROOT / "packaging" / "pyinstaller"
SPEC = SPEC_DIR / "landscape_studio.spec"
HOOK = SPEC_DIR / "rthook_torchvision_cpu.py"


def joined_paths(tree: ast.AST) -> list[Path]:
    """Every ``os.path.join(SPECPATH | ROOT, "literal", …)`` in the spec, resolved against this checkout."""
    bases = {"SPECPATH": SPEC_DIR, "ROOT": ROOT}
    paths = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and ast.unparse(node.func) == "os.path.join" and node.args
                and isinstance(node.args[0], ast.Name) and node.args[0].id in bases
                and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args[1:])):
            paths.append(bases[node.args[0].id].joinpath(*(a.value for a in node.args[1:])).resolve())
    return paths


def assigned(tree: ast.Module, name: str) -> ast.expr:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return node.value
    raise AssertionError(f"the spec assigns no {name}")


def test_spec_parses_and_every_path_it_names_exists():
    tree = ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))
    paths = joined_paths(tree)
    assert ROOT.resolve() in paths  # ROOT = SPECPATH/../.. is the repository
    named = {p.relative_to(ROOT.resolve()).as_posix() for p in paths if p != ROOT.resolve()}
    assert {"packaging/pyinstaller/launch.py", "packaging/pyinstaller/rthook_torchvision_cpu.py", "resources",
            "resources/icons/landscape-studio.png"} <= named
    missing = [p for p in paths if not p.exists()]
    assert not missing, missing


def test_spec_builds_one_folder_without_gpu_or_unused_qt_parts():
    tree = ast.parse(SPEC.read_text(encoding="utf-8"))
    excludes = ast.literal_eval(assigned(tree, "EXCLUDES"))
    assert {"triton", "nvidia", "PySide6.QtWebEngineCore", "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtDesigner",
            "PySide6.QtNetwork"} <= set(excludes)
    dropped = ast.literal_eval(assigned(tree, "DROPPED_PREFIXES"))
    assert {"torch/test", "torch/include", "torch/share/cmake", "PySide6/Qt/translations"} <= set(dropped)
    assert "torch/bin" not in dropped  # import torch fails without torch/bin/torch_shm_manager
    plugins = ast.literal_eval(assigned(tree, "PLATFORM_PLUGINS"))
    assert {"libqxcb", "libqwayland", "libqoffscreen"} <= set(plugins)
    calls = {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert {"Analysis", "PYZ", "EXE", "COLLECT"} <= calls  # COLLECT: a one-folder bundle


def test_spec_filter_keeps_only_whitelisted_platform_plugins():
    tree = ast.parse(SPEC.read_text(encoding="utf-8"))
    wanted = {"DROPPED_PREFIXES", "PLATFORM_PLUGINS", "kept"}
    body = [n for n in tree.body if (isinstance(n, ast.FunctionDef) and n.name in wanted)
            or (isinstance(n, ast.Assign) and any(getattr(t, "id", None) in wanted for t in n.targets))]
    space: dict = {"os": __import__("os")}
    exec(compile(ast.Module(body=body, type_ignores=[]), str(SPEC), "exec"), space)
    kept = space["kept"]
    assert kept("PySide6/Qt/plugins/platforms/libqxcb.so") and kept("PySide6/Qt/plugins/platforms/libqoffscreen.so")
    assert kept("PySide6/Qt/plugins/platforms/libqwayland-egl.so")
    assert not kept("PySide6/Qt/plugins/platforms/libqvnc.so") and not kept("PySide6/Qt/plugins/platforms/libqeglfs.so")
    assert kept("torch/bin/torch_shm_manager") and not kept("PySide6/Qt/translations/qt_de.qm")
    assert kept("torch/lib/libtorch_cpu.so") and kept("resources/models/dcgan_digiface/model.safetensors")


def test_runtime_hook_defines_both_torchvision_schemas():
    source = HOOK.read_text(encoding="utf-8")
    ast.parse(source)
    assert 'Library("torchvision", "DEF")' in source
    for op in ("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
               "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor"):
        assert f'define("{op}")' in source
