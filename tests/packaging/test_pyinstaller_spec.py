"""The Linux PyInstaller spec is valid Python and every file it names exists (PyInstaller itself is not run here;
``run_spec`` runs the spec's own code with recording stand-ins, see ``spec_helpers``)."""

from __future__ import annotations

import ast

from tests.packaging.spec_helpers import LINUX_SPEC, SPEC_DIR, load_common, named_paths, run_spec, toc

HOOK = SPEC_DIR / "rthook_torchvision_cpu.py"


def test_spec_parses_and_every_path_it_names_exists():
    named = named_paths(LINUX_SPEC)
    assert {"packaging/pyinstaller/launch.py", "packaging/pyinstaller/rthook_torchvision_cpu.py",
            "packaging/pyinstaller/bundle_common.py", "resources", "resources/icons/landscape-studio.png"} <= named


def test_spec_builds_one_folder_without_gpu_or_unused_qt_parts():
    run = run_spec(LINUX_SPEC)
    analysis = run.one("Analysis")
    excludes = set(analysis.kwargs["excludes"])
    assert {"triton", "nvidia", "PySide6.QtWebEngineCore", "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtDesigner",
            "PySide6.QtNetwork"} <= excludes
    assert [p.rsplit("/", 1)[-1] for p in analysis.kwargs["runtime_hooks"]] == ["rthook_torchvision_cpu.py"]
    assert {"app.self_test", "core.cli"} <= set(analysis.kwargs["hiddenimports"])
    dropped = run.namespace["DROPPED_PREFIXES"]
    assert {"torch/test", "torch/include", "torch/share/cmake", "PySide6/Qt/translations"} <= set(dropped)
    assert "torch/bin" not in dropped  # import torch fails without torch/bin/torch_shm_manager
    assert {"libqxcb", "libqwayland", "libqoffscreen"} <= set(run.namespace["PLATFORM_PLUGINS"])
    exe = run.one("EXE")
    assert exe.kwargs["console"] is True and exe.kwargs["exclude_binaries"] is True
    assert run.one("COLLECT").args[0] is exe  # COLLECT: a one-folder bundle
    assert not run.of("BUNDLE")


def test_spec_filter_keeps_only_whitelisted_platform_plugins():
    kept = run_spec(LINUX_SPEC).namespace["kept"]
    assert kept("PySide6/Qt/plugins/platforms/libqxcb.so") and kept("PySide6/Qt/plugins/platforms/libqoffscreen.so")
    assert kept("PySide6/Qt/plugins/platforms/libqwayland-egl.so")
    assert not kept("PySide6/Qt/plugins/platforms/libqvnc.so") and not kept("PySide6/Qt/plugins/platforms/libqeglfs.so")
    assert kept("torch/bin/torch_shm_manager") and not kept("PySide6/Qt/translations/qt_de.qm")
    assert kept("torch/lib/libtorch_cpu.so") and kept("resources/models/dcgan_digiface/model.safetensors")
    assert not kept("PySide6/Qt/lib/libQt6Network.so.6") and not kept("nvidia/cublas/lib/libcublas.so.12")


def test_spec_applies_the_filter_to_what_the_analysis_found():
    binaries = toc("torch/lib/libtorch_cpu.so", "nvidia/cudnn/lib/libcudnn.so.9",
                   "PySide6/Qt/plugins/platforms/libqxcb.so", "PySide6/Qt/plugins/platforms/libqvnc.so")
    datas = toc("resources/samples/astronaut.png", "torch/include/ATen/ATen.h", "PySide6/Qt/translations/qt_fr.qm")
    collect = run_spec(LINUX_SPEC, binaries, datas).one("COLLECT")
    assert [e[0] for e in collect.args[1]] == ["torch/lib/libtorch_cpu.so", "PySide6/Qt/plugins/platforms/libqxcb.so"]
    assert [e[0] for e in collect.args[2]] == ["resources/samples/astronaut.png"]


def test_shared_excludes_are_the_ones_every_spec_passes():
    common = load_common()
    assert run_spec(LINUX_SPEC).one("Analysis").kwargs["excludes"] == common.EXCLUDES
    assert len(set(common.EXCLUDES)) == len(common.EXCLUDES)


def test_runtime_hook_defines_both_torchvision_schemas():
    source = HOOK.read_text(encoding="utf-8")
    ast.parse(source)
    assert 'Library("torchvision", "DEF")' in source
    for op in ("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
               "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor"):
        assert f'define("{op}")' in source
