"""The GUI benchmarks (``python -m bench gui|sliders``) end with a report on a photo the editor aligns after
opening (they once waited forever for a Run the editor had refused as busy). Tiny settings: a smoke test."""

import json

from bench.__main__ import main


def test_the_sliders_benchmark_drags_after_the_alignment_and_reports(qapp, tmp_path):
    out = tmp_path / "sliders.json"
    assert main(["sliders", "--steps", "2", "--moves", "6", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["moves"] == 6 and 1 <= report["shown"] <= 6 and 0 < report["p50_ms"] <= report["max_ms"]


def test_the_gui_benchmark_reports_stalls_and_speeds(qapp, tmp_path):
    out = tmp_path / "gui.json"
    assert main(["gui", "--steps", "3", "--repeats", "1", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert len(report["runs"]) == 2 and report["steps_per_s_gui"] > 0 and report["steps_per_s_headless"] > 0
    assert report["longest_stall_ms"] >= 0 and report["qt_platform"] == "offscreen"
