"""What the three PyInstaller specs share: the modules left out, the files dropped after the analysis, the Qt
platform plugins kept on each system, the packages whose libraries and data are collected, the hidden imports, the
version and the macOS ``Info.plist``.

The specs (``landscape_studio.spec`` for Linux, ``landscape_studio_windows.spec``, ``landscape_studio_macos.spec``)
load this file by its path; it is plain Python without PyInstaller's names, so the tests import it directly.
"""

from __future__ import annotations

import os
import tomllib

NAME = "landscape-studio"  # the executable and the one-folder bundle
CLI_NAME = "landscape-studio-cli"  # Windows only: the console executable beside the windowed one
APP_NAME = "Landscape Studio"  # macOS: "Landscape Studio.app"
BUNDLE_IDENTIFIER = "org.landscapestudio.LandscapeStudio"
PROJECT_UTI = "org.landscapestudio.project"  # macOS type of a .lsproj file
PROJECT_MIME = "application/x-landscape-studio-project"  # as in packaging/linux/landscape-studio-mime.xml
PROJECT_SUFFIX = "lsproj"

EXCLUDES = [
    # Qt parts the editor does not use (each pulls large libraries)
    "PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets", "PySide6.QtWebEngineQuick", "PySide6.QtWebChannel",
    "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtQuickWidgets", "PySide6.QtQuick3D", "PySide6.QtDesigner",
    "PySide6.QtNetwork", "PySide6.QtUiTools", "PySide6.QtMultimedia", "PySide6.QtPdf", "PySide6.QtCharts",
    "PySide6.Qt3DCore", "PySide6.QtBluetooth", "PySide6.QtSql", "PySide6.QtTest",
    # GPU-only and development-only parts of torch, and tools never used at run time (scipy stays: lpips imports it)
    "triton", "nvidia", "torch.utils.tensorboard", "torch._inductor.codegen.cuda",
    "tkinter", "matplotlib", "IPython", "pandas", "skimage", "pytest", "pytestqt", "ruff", "importlinter",
    "PyInstaller",
]
HIDDEN_IMPORTS = ["app.self_test", "core.cli", "torchvision", "lpips"]
BINARIES_OF = ("torchvision", "ai_edge_litert")  # collect_dynamic_libs of each, in this order
DATA_OF = ("lpips", "ai_edge_litert")  # collect_data_files of each, in this order (lpips: its weights)

# Paths (inside the bundle, "/"-separated) that are dropped from the analysed binaries and data on every system.
# torch/bin and torch/testing stay: `import torch` needs them.
COMMON_DROPPED_PREFIXES = (
    "torch/test", "torch/include", "torch/share/cmake",
    "triton", "nvidia",
    "PySide6/Qt/translations", "PySide6/translations", "PySide6/Qt/qml", "PySide6/qml",
)
# The Qt libraries of the excluded modules, by each system's layout of the PySide6 wheel, in case a dependency
# scan pulls one in anyway: Linux PySide6/Qt/lib/libQt6*.so.6, Windows PySide6/Qt6*.dll, macOS
# PySide6/Qt/lib/Qt*.framework; plus WebEngine's helper process (Linux libexec, Windows .exe).
LINUX_DROPPED_PREFIXES = (
    "PySide6/Qt/lib/libQt6WebEngine", "PySide6/Qt/lib/libQt6Quick", "PySide6/Qt/lib/libQt6Qml",
    "PySide6/Qt/lib/libQt6Designer", "PySide6/Qt/lib/libQt6Network", "PySide6/Qt/libexec",
)
WINDOWS_DROPPED_PREFIXES = (
    "PySide6/Qt6WebEngine", "PySide6/QtWebEngineProcess", "PySide6/Qt6Quick", "PySide6/Qt6Qml",
    "PySide6/Qt6Designer", "PySide6/Qt6Network",
)
MACOS_DROPPED_PREFIXES = (
    "PySide6/Qt/lib/QtWebEngine", "PySide6/Qt/lib/QtQuick", "PySide6/Qt/lib/QtQml", "PySide6/Qt/lib/QtDesigner",
    "PySide6/Qt/lib/QtNetwork",
)

# Qt platform plugins kept (file-name prefixes); the others (eglfs, vnc, linuxfb, direct2d…) are dropped.
# offscreen runs the self-test without a display, minimal is Qt's smallest fallback.
LINUX_PLATFORM_PLUGINS = ("libqxcb", "libqwayland", "libqoffscreen", "libqminimal")  # X11, Wayland
WINDOWS_PLATFORM_PLUGINS = ("qwindows", "qoffscreen", "qminimal")  # qwindows.dll, qoffscreen.dll, qminimal.dll
MACOS_PLATFORM_PLUGINS = ("libqcocoa", "libqoffscreen", "libqminimal")  # libqcocoa.dylib…


def kept(dest: str, dropped_prefixes: tuple[str, ...], platform_plugins: tuple[str, ...]) -> bool:
    """False for a file the bundle must not carry: ``dest`` (its path inside the bundle) starts with one of
    ``dropped_prefixes``, or it is a Qt platform plugin whose name does not start with one of ``platform_plugins``."""
    dest = dest.replace(os.sep, "/")
    if dest.startswith(dropped_prefixes):
        return False
    if "/plugins/platforms/" in dest:
        return os.path.basename(dest).startswith(platform_plugins)
    return True


def project_version(root: str) -> str:
    """The version in ``pyproject.toml`` under ``root``."""
    with open(os.path.join(root, "pyproject.toml"), "rb") as f:
        return str(tomllib.load(f)["project"]["version"])


def macos_info_plist(version: str) -> dict:
    """``Info.plist`` entries of ``Landscape Studio.app`` beyond PyInstaller's own: the version, Retina drawing,
    and the files it opens: ``.lsproj`` projects (a type the app declares, owner) and photos (the same formats as the
    Linux desktop entry, as an alternative editor)."""
    return {
        "CFBundleName": APP_NAME,
        "CFBundleDisplayName": APP_NAME,
        "CFBundleShortVersionString": version,
        "CFBundleVersion": version,
        "NSHighResolutionCapable": True,
        "NSRequiresAquaSystemAppearance": False,  # follows the system's dark mode
        "LSMinimumSystemVersion": "14.0",  # PyPI's torch 2.14 wheel for Apple silicon is tagged macosx_14_0_arm64
        "LSApplicationCategoryType": "public.app-category.photography",
        "CFBundleDocumentTypes": [
            {
                "CFBundleTypeName": "Landscape Studio project",
                "CFBundleTypeRole": "Editor",
                "LSHandlerRank": "Owner",
                "LSItemContentTypes": [PROJECT_UTI],
            },
            {
                "CFBundleTypeName": "Photo",
                "CFBundleTypeRole": "Editor",
                "LSHandlerRank": "Alternate",
                "LSItemContentTypes": ["public.png", "public.jpeg", "public.tiff", "com.microsoft.bmp",
                                       "org.webmproject.webp", "com.compuserve.gif"],
            },
        ],
        "UTExportedTypeDeclarations": [
            {
                "UTTypeIdentifier": PROJECT_UTI,
                "UTTypeDescription": "Landscape Studio project",
                "UTTypeConformsTo": ["public.data", "public.content"],
                "UTTypeTagSpecification": {
                    "public.filename-extension": [PROJECT_SUFFIX],
                    "public.mime-type": [PROJECT_MIME],
                },
            },
        ],
    }
