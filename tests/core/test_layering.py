"""core never imports the GUI stack: checked statically (every import statement) and at run time."""

import ast
import os
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "core"
FORBIDDEN = {"PySide6", "shiboken6", "pyqtgraph", "app"}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_core_module_imports_qt_or_app():
    offenders = {str(p.relative_to(CORE)): sorted(_imported_roots(p) & FORBIDDEN) for p in CORE.rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_every_core_module_imports_with_qt_blocked():
    modules = [".".join(p.relative_to(CORE.parent).with_suffix("").parts) for p in CORE.rglob("*.py")]
    modules = [m.removesuffix(".__init__") for m in modules]
    script = (
        "import importlib, importlib.abc, sys\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {sorted(FORBIDDEN)!r}: raise ImportError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print('ok')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(CORE.parent)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=CORE.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_core_packages_keep_their_layers():
    """pyproject's layers contract (import-linter): no core package imports one above it (under a second)."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint_imports), "--no-cache", "--no-logo", "--contract", "core-layers"],
                          capture_output=True, text=True, cwd=CORE.parent, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
