"""The Linux desktop integration files: the .desktop entry, the shared-mime-info XML and the icon."""

from __future__ import annotations

import configparser
import fnmatch
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from core.sessions import PROJECT_SUFFIX

ROOT = Path(__file__).resolve().parents[2]
DESKTOP = ROOT / "packaging" / "linux" / "landscape-studio.desktop"
MIME_XML = ROOT / "packaging" / "linux" / "landscape-studio-mime.xml"
ICON = ROOT / "resources" / "icons" / "landscape-studio.png"
PROJECT_MIME = "application/x-landscape-studio-project"
NS = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}


def desktop_entry() -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive in desktop files
    parser.read_string(DESKTOP.read_text(encoding="utf-8"))
    assert parser.sections() == ["Desktop Entry"]
    return dict(parser["Desktop Entry"])


def test_desktop_entry_has_the_required_keys_and_opens_files():
    entry = desktop_entry()
    assert entry["Type"] == "Application" and entry["Name"] == "Landscape Studio"
    assert entry["Exec"] == "landscape-studio %F"
    assert entry["Icon"] == ICON.stem and entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";") and "Graphics" in entry["Categories"].split(";")
    mimes = entry["MimeType"].rstrip(";").split(";")
    assert PROJECT_MIME in mimes and {"image/png", "image/jpeg"} <= set(mimes)


def test_desktop_entry_passes_desktop_file_validate():
    validator = shutil.which("desktop-file-validate")
    if validator is None:
        pytest.skip("desktop-file-validate is not installed (Debian: desktop-file-utils)")
    done = subprocess.run([validator, str(DESKTOP)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_mime_xml_defines_the_project_type_for_lsproj():
    root = ET.parse(MIME_XML).getroot()
    assert root.tag == f"{{{NS['m']}}}mime-info"
    types = root.findall("m:mime-type", NS)
    assert [t.get("type") for t in types] == [PROJECT_MIME]
    globs = [g.get("pattern") for g in types[0].findall("m:glob", NS)]
    assert globs == ["*" + PROJECT_SUFFIX]
    assert fnmatch.fnmatch("holiday" + PROJECT_SUFFIX, globs[0]) and not fnmatch.fnmatch("holiday.png", globs[0])
    assert types[0].find("m:comment", NS).text


def test_icon_is_a_256px_rgba_png():
    with Image.open(ICON) as im:
        assert im.format == "PNG" and im.size == (256, 256) and im.mode == "RGBA"
