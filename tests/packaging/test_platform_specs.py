"""The Windows and macOS PyInstaller specs and the CI workflow that builds them (.github/workflows/package.yml).

Neither spec can be built on Linux: these tests run each spec's own code with recording stand-ins for PyInstaller
(``spec_helpers.run_spec``) and check what it would pass to PyInstaller, and they read the workflow as data.
"""

from __future__ import annotations

import configparser
import plistlib
import re
import xml.etree.ElementTree as ET

import pytest
import yaml

from core.sessions import PROJECT_SUFFIX
from tests.packaging.spec_helpers import (
    MACOS_SPEC,
    ROOT,
    WINDOWS_SPEC,
    load_common,
    named_paths,
    run_spec,
    toc,
)

WORKFLOW = ROOT / ".github" / "workflows" / "package.yml"
ICON = "resources/icons/landscape-studio.png"
PHOTO_UTIS = {"image/png": "public.png", "image/jpeg": "public.jpeg", "image/tiff": "public.tiff",
              "image/bmp": "com.microsoft.bmp", "image/webp": "org.webmproject.webp", "image/gif": "com.compuserve.gif"}


@pytest.fixture(scope="module")
def common():
    return load_common()


@pytest.mark.parametrize("spec", [WINDOWS_SPEC, MACOS_SPEC], ids=["windows", "macos"])
def test_spec_names_only_existing_files_and_shares_the_linux_choices(spec, common):
    assert {"packaging/pyinstaller/launch.py", "packaging/pyinstaller/bundle_common.py", "resources", ICON} \
        <= named_paths(spec)
    run = run_spec(spec)
    analysis = run.one("Analysis")
    assert [p.rsplit("/", 1)[-1] for p in analysis.args[0]] == ["launch.py"]
    assert analysis.kwargs["excludes"] == common.EXCLUDES
    assert {"triton", "nvidia", "PySide6.QtWebEngineCore", "PySide6.QtQml", "PySide6.QtNetwork"} \
        <= set(analysis.kwargs["excludes"])
    assert analysis.kwargs["hiddenimports"] == common.HIDDEN_IMPORTS
    # PyPI's Windows/macOS torchvision loads its compiled ops; the Linux hook would define torchvision::nms first and
    # the library's own registration of it then aborts the process.
    assert analysis.kwargs["runtime_hooks"] == []
    dropped = run.namespace["DROPPED_PREFIXES"]
    assert set(common.COMMON_DROPPED_PREFIXES) <= set(dropped) and "torch/bin" not in dropped
    for exe in run.of("EXE"):
        assert exe.kwargs["exclude_binaries"] is True  # one folder, not one file
        assert exe.kwargs["icon"].replace("\\", "/").endswith(ICON)  # a PNG: PyInstaller converts it with Pillow
        assert exe.kwargs["strip"] is False and exe.kwargs["upx"] is False


def test_windows_spec_builds_a_windowed_and_a_console_exe_in_one_folder(common):
    run = run_spec(WINDOWS_SPEC)
    exes = {e.kwargs["name"]: e for e in run.of("EXE")}
    assert set(exes) == {common.NAME, common.CLI_NAME} == {"landscape-studio", "landscape-studio-cli"}
    assert exes["landscape-studio"].kwargs["console"] is False  # the editor: no console window
    assert exes["landscape-studio-cli"].kwargs["console"] is True  # --self-test and commands report on the terminal
    for exe in exes.values():
        assert ("X utf8_mode=1", None, "OPTION") in exe.args[2]
    collect = run.one("COLLECT")
    assert collect.kwargs["name"] == common.NAME
    assert [a for a in collect.args if a in exes.values()] == list(exes.values())  # both in the same folder
    assert not run.of("BUNDLE")


def test_windows_filter_keeps_only_the_windows_platform_plugins():
    kept = run_spec(WINDOWS_SPEC).namespace["kept"]
    for plugin in ("qwindows.dll", "qoffscreen.dll", "qminimal.dll"):
        assert kept(f"PySide6/plugins/platforms/{plugin}"), plugin
    for plugin in ("qdirect2d.dll", "qvnc.dll", "libqxcb.so", "libqcocoa.dylib"):
        assert not kept(f"PySide6/plugins/platforms/{plugin}"), plugin
    assert kept("PySide6/Qt6Widgets.dll") and kept("torch/lib/torch_cpu.dll") and kept("torch/bin/protoc.exe")
    assert not kept("PySide6/Qt6Network.dll") and not kept("PySide6/Qt6Quick.dll")
    assert not kept("PySide6/translations/qt_de.qm") and not kept("torch/include/ATen/ATen.h")
    collect = run_spec(WINDOWS_SPEC, toc("PySide6/plugins/platforms/qwindows.dll",
                                         "PySide6/plugins/platforms/qdirect2d.dll")).one("COLLECT")
    assert [e[0] for e in collect.args[2]] == ["PySide6/plugins/platforms/qwindows.dll"]


def test_macos_spec_wraps_the_folder_in_an_app_bundle(common):
    run = run_spec(MACOS_SPEC)
    exe = run.one("EXE")
    assert exe.kwargs["name"] == common.NAME and exe.kwargs["console"] is False
    assert exe.kwargs["argv_emulation"] is False  # Qt receives Finder's open-document events itself
    collect = run.one("COLLECT")
    assert collect.args[0] is exe
    bundle = run.one("BUNDLE")
    assert bundle.args == (collect,)
    assert bundle.kwargs["name"] == "Landscape Studio.app"
    assert bundle.kwargs["bundle_identifier"] == "org.landscapestudio.LandscapeStudio"
    assert bundle.kwargs["icon"].endswith(ICON)
    assert bundle.kwargs["version"] == common.project_version(str(ROOT)) != ""
    assert bundle.kwargs["info_plist"] == common.macos_info_plist(bundle.kwargs["version"])


def test_macos_filter_keeps_only_the_macos_platform_plugins():
    kept = run_spec(MACOS_SPEC).namespace["kept"]
    for plugin in ("libqcocoa.dylib", "libqoffscreen.dylib", "libqminimal.dylib"):
        assert kept(f"PySide6/Qt/plugins/platforms/{plugin}"), plugin
    for plugin in ("libqwebgl.dylib", "libqvnc.dylib", "qwindows.dll"):
        assert not kept(f"PySide6/Qt/plugins/platforms/{plugin}"), plugin
    assert kept("PySide6/Qt/lib/QtWidgets.framework/Versions/A/QtWidgets") and kept("torch/lib/libtorch_cpu.dylib")
    assert not kept("PySide6/Qt/lib/QtNetwork.framework/Versions/A/QtNetwork")
    assert not kept("PySide6/Qt/lib/QtQml.framework/Versions/A/QtQml") and not kept("PySide6/Qt/translations/qt_de.qm")


def test_macos_info_plist_declares_projects_and_photos(common):
    info = run_spec(MACOS_SPEC).one("BUNDLE").kwargs["info_plist"]
    assert plistlib.loads(plistlib.dumps(info)) == info  # serialisable as Info.plist
    assert info["NSHighResolutionCapable"] is True
    exported = {t["UTTypeIdentifier"]: t for t in info["UTExportedTypeDeclarations"]}
    project = exported[common.PROJECT_UTI]
    tags = project["UTTypeTagSpecification"]
    assert tags["public.filename-extension"] == [PROJECT_SUFFIX.lstrip(".")] == ["lsproj"]
    mime_xml = ET.parse(ROOT / "packaging" / "linux" / "landscape-studio-mime.xml").getroot()
    linux_mime = mime_xml.find("{http://www.freedesktop.org/standards/shared-mime-info}mime-type").get("type")
    assert tags["public.mime-type"] == [linux_mime] == ["application/x-landscape-studio-project"]
    handled = {uti: doc for doc in info["CFBundleDocumentTypes"] for uti in doc["LSItemContentTypes"]}
    assert handled[common.PROJECT_UTI]["LSHandlerRank"] == "Owner"
    assert handled[common.PROJECT_UTI]["CFBundleTypeRole"] == "Editor"
    # the same photo formats as the Linux desktop entry's MimeType
    desktop = configparser.ConfigParser(interpolation=None)
    desktop.read(ROOT / "packaging" / "linux" / "landscape-studio.desktop", encoding="utf-8")
    photo_mimes = [m for m in desktop["Desktop Entry"]["MimeType"].split(";") if m.startswith("image/")]
    assert photo_mimes and {PHOTO_UTIS[m] for m in photo_mimes} <= set(handled)
    assert {"public.png", "public.jpeg"} <= set(handled)


# ----------------------------------------------------------------------------------------------- the CI workflow

@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def scripts(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def makefile_torch_pins() -> str:
    match = re.search(r"^TORCH_PINS\s*:=\s*(.+)$", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE)
    assert match, "the Makefile defines no TORCH_PINS"
    return match.group(1).strip()


def test_workflow_runs_by_hand_and_on_version_tags(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert "workflow_dispatch" in triggers
    assert triggers["push"]["tags"] == ["v*"]
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["defaults"]["run"]["shell"] == "bash"  # bash -eo pipefail on every runner, Windows too
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"actions/[a-z-]+@v\d+", step["uses"]), step["uses"]  # pinned major version


def test_workflow_pins_the_makefiles_torch(workflow):
    pins = workflow["env"]["TORCH_PINS"]
    assert pins == makefile_torch_pins()
    assert "torch==2.14.1" in pins.split() and "torchvision==0.29.1" in pins.split()


@pytest.mark.parametrize(("job_id", "runner", "spec", "self_test"), [
    ("windows", "windows-latest", WINDOWS_SPEC, "dist/landscape-studio/landscape-studio-cli.exe --self-test"),
    ("macos", "macos-14", MACOS_SPEC, '"$app/Contents/MacOS/landscape-studio" --self-test'),
])
def test_platform_job_builds_its_spec_self_tests_and_uploads(workflow, job_id, runner, spec, self_test):
    job = workflow["jobs"][job_id]
    assert job["runs-on"] == runner
    text = scripts(job)
    installs = [line for line in text.splitlines() if "pip install" in line]
    assert any("$TORCH_PINS" in line for line in installs) and any(" . " in f"{line} " for line in installs)
    specs = re.findall(r"pyinstaller\s[^\n]*?(packaging/pyinstaller/\S+\.spec)", " ".join(text.split()))
    assert specs == [spec.relative_to(ROOT).as_posix()] and (ROOT / specs[0]).is_file()
    checks = [s for s in job["steps"] if self_test in s.get("run", "") and "continue-on-error" not in s]
    assert len(checks) == 1 and checks[0]["env"]["QT_QPA_PLATFORM"] == "offscreen"
    uploads = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")
               and "if" not in s]
    assert len(uploads) == 1 and uploads[0]["uses"] == "actions/upload-artifact@v4"
    assert uploads[0]["with"]["if-no-files-found"] == "error"
    archive = {"windows": ".zip", "macos": ".dmg"}[job_id]
    assert uploads[0]["with"]["path"].endswith(archive) and archive in text


def test_windows_self_test_runs_the_console_exe_the_spec_builds(workflow, common):
    text = scripts(workflow["jobs"]["windows"])
    assert f"dist/{common.NAME}/{common.CLI_NAME}.exe --self-test" in text
    assert f"dist/{common.NAME}/{common.NAME}.exe" in text  # and the windowed one exists


def test_macos_job_self_tests_the_app_the_spec_builds_and_makes_a_dmg(workflow, common):
    text = scripts(workflow["jobs"]["macos"])
    assert f'app="dist/{common.APP_NAME}.app"' in text
    assert "hdiutil create" in text and "hdiutil verify" in text


def test_linux_job_runs_make_package_with_the_wheel_build_package_expects(workflow):
    job = workflow["jobs"]["linux"]
    text = scripts(job)
    assert "make package" in text
    script = (ROOT / "packaging" / "build_package.sh").read_text(encoding="utf-8")
    assert "packaging/pyinstaller/landscape_studio.spec" in script and "--self-test" in script
    default_wheel = re.search(r"TORCH_CPU_WHEEL:-[^}]*/(torch-([^-]+)-[^}]+\.whl)", script)
    assert default_wheel, "build_package.sh has no default CPU wheel"
    assert f'"torch=={default_wheel.group(2)}"' in text  # the same CPU torch as on a developer machine
    upload = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert len(upload) == 1 and upload[0]["with"]["path"].endswith("_amd64.deb")
