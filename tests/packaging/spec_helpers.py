"""Helpers of the PyInstaller spec tests: the spec files' named paths, and running a spec without PyInstaller.

``run_spec`` executes a spec as PyInstaller would (``SPECPATH`` set, ``Analysis``/``PYZ``/``EXE``/``COLLECT``/
``BUNDLE`` given), but with stand-ins that record their arguments, and with ``PyInstaller.utils.hooks`` replaced by
collectors that find nothing. So the spec's own code runs for real: its names, its filter, the arguments it passes.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[2]
SPEC_DIR = ROOT / "packaging" / "pyinstaller"
LINUX_SPEC = SPEC_DIR / "landscape_studio.spec"
WINDOWS_SPEC = SPEC_DIR / "landscape_studio_windows.spec"
MACOS_SPEC = SPEC_DIR / "landscape_studio_macos.spec"
COMMON = SPEC_DIR / "bundle_common.py"


def load_common() -> types.ModuleType:
    """``packaging/pyinstaller/bundle_common.py``, loaded by its path as the specs load it."""
    spec = importlib.util.spec_from_file_location("bundle_common_under_test", COMMON)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def joined_paths(tree: ast.AST) -> list[Path]:
    """Every ``os.path.join(SPECPATH | ROOT, "literal", …)`` in a spec, resolved against this checkout."""
    bases = {"SPECPATH": SPEC_DIR, "ROOT": ROOT}
    paths = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and ast.unparse(node.func) == "os.path.join" and node.args
                and isinstance(node.args[0], ast.Name) and node.args[0].id in bases
                and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args[1:])):
            paths.append(bases[node.args[0].id].joinpath(*(a.value for a in node.args[1:])).resolve())
    return paths


def named_paths(spec: Path) -> set[str]:
    """The repository paths a spec names (relative, "/"-separated); asserts that ROOT is the repository and that
    every one of them exists."""
    paths = joined_paths(ast.parse(spec.read_text(encoding="utf-8"), filename=str(spec)))
    root = ROOT.resolve()
    assert root in paths, f"{spec.name}: ROOT = SPECPATH/../.. is not the repository"
    missing = [p for p in paths if not p.exists()]
    assert not missing, f"{spec.name} names missing paths: {missing}"
    return {p.relative_to(root).as_posix() for p in paths if p != root}


@dataclass
class Call:
    kind: str  # "Analysis", "PYZ", "EXE", "COLLECT" or "BUNDLE"
    args: tuple
    kwargs: dict[str, Any]


@dataclass
class SpecRun:
    namespace: dict[str, Any]
    calls: list[Call] = field(default_factory=list)

    def of(self, kind: str) -> list[Call]:
        return [c for c in self.calls if c.kind == kind]

    def one(self, kind: str) -> Call:
        found = self.of(kind)
        assert len(found) == 1, f"expected one {kind}, got {len(found)}"
        return found[0]


def run_spec(spec: Path, binaries: list | None = None, datas: list | None = None) -> SpecRun:
    """Execute ``spec`` with recording stand-ins; the analysis "finds" ``binaries`` and ``datas`` (TOC tuples
    ``(dest, src, typecode)``), so the spec's filter runs on them and its COLLECT receives what it kept."""
    run = SpecRun(namespace={})

    class Analysis:
        def __init__(self, *args, **kwargs):
            run.calls.append(Call("Analysis", args, kwargs))
            self.binaries = list(binaries or [])
            self.datas = list(datas or [])
            self.pure = ["<pure modules>"]
            self.scripts = ["<scripts>"]

    def recorder(kind: str):
        def record(*args, **kwargs):
            call = Call(kind, args, kwargs)
            run.calls.append(call)
            return call
        return record

    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_dynamic_libs = lambda package, *a, **k: []
    hooks.collect_data_files = lambda package, *a, **k: []
    fakes = {"PyInstaller": types.ModuleType("PyInstaller"), "PyInstaller.utils": types.ModuleType("PyInstaller.utils"),
             "PyInstaller.utils.hooks": hooks}
    with mock.patch.dict(sys.modules, fakes):  # the real PyInstaller (if installed) is back afterwards
        run.namespace.update({"SPECPATH": str(SPEC_DIR), "SPEC": str(spec), "__name__": "__main__",
                              "Analysis": Analysis, "PYZ": recorder("PYZ"), "EXE": recorder("EXE"),
                              "COLLECT": recorder("COLLECT"), "BUNDLE": recorder("BUNDLE")})
        exec(compile(spec.read_text(encoding="utf-8"), str(spec), "exec"), run.namespace)
    return run


def toc(*dests: str) -> list[tuple[str, str, str]]:
    """TOC entries for the given bundle paths (the source path does not matter to the filter)."""
    return [(dest, f"/site-packages/{dest}", "BINARY") for dest in dests]
