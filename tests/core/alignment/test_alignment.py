"""Face finding and alignment on the real sample photos, with the shipped MediaPipe models and the default model."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PIL import Image

from core.alignment import (
    Alignment,
    Framing,
    align_faces,
    find_faces,
    framing_for,
    geometry,
    measure_framing,
    unwarp_and_paste,
    warp_to_model,
)
from core.alignment.faces import anchors
from core.alignment.framing import framing_file, shipped_framing_dir
from core.cli import main
from core.errors import InvalidInputError, NoFaceFoundError
from core.imageio import load_photo
from core.resources import resources_dir, sample_face_crop, sample_photos

R = 64


@pytest.fixture(scope="module")
def framing(G) -> Framing:
    return framing_for(G, measure=False)  # the shipped record: no measurement at run time


def _rotated(pixels: np.ndarray, degrees: float, shift: tuple[int, int]) -> np.ndarray:
    return np.asarray(Image.fromarray(pixels).rotate(degrees, Image.Resampling.BICUBIC, translate=shift,
                                                     fillcolor=(128, 128, 128)))


def test_anchor_layout_matches_blazeface_short_range():
    a = anchors()
    assert a.shape == (896, 2)  # 16×16×2 + 8×8×6
    assert np.allclose(a[0], [0.5 / 16, 0.5 / 16]) and np.allclose(a[511], [15.5 / 16, 15.5 / 16])
    assert np.allclose(a[512:518], [0.5 / 8, 0.5 / 8]) and np.allclose(a[-1], [7.5 / 8, 7.5 / 8])


@pytest.mark.parametrize("path", sample_photos(), ids=lambda p: p.name)
def test_each_sample_has_one_face_with_eyes_inside_its_recorded_crop(path):
    faces = find_faces(load_photo(path).pixels)
    assert len(faces) == 1
    face, crop = faces[0], sample_face_crop(path)
    assert face.score > 0.8 and face.presence > 0.9 and face.landmarks.shape == (468, 3)
    for point in face.key_points():
        assert crop["x"] < point[0] < crop["x"] + crop["size"] and crop["y"] < point[1] < crop["y"] + crop["size"]
    left, right, mouth = face.key_points()
    assert left[0] < mouth[0] < right[0] and mouth[1] > max(left[1], right[1])  # upright: mouth below the eyes
    assert 0.2 * crop["size"] < right[0] - left[0] < 0.6 * crop["size"]


@pytest.mark.parametrize("path", sample_photos(), ids=lambda p: p.name)
def test_a_rotated_shifted_face_comes_back_level_at_the_models_framing(path, framing):
    pixels = _rotated(load_photo(path).pixels, 15.0, (30, -20))
    faces, alignments = align_faces(pixels, framing, R)
    assert len(alignments) == 1
    warped = warp_to_model(pixels, alignments[0].transform, R)
    assert warped.shape == (R, R, 3)
    # Landmarks found again on the warped square (upscaled, with a border, as the framing was measured).
    up = np.pad(np.asarray(Image.fromarray(warped).resize((4 * R, 4 * R), Image.Resampling.LANCZOS)),
                ((R, R), (R, R), (0, 0)), mode="edge")
    again = (find_faces(up)[0].key_points() - R) / 4  # [3, 2] model pixels
    eye_line = math.degrees(math.atan2(*(again[1] - again[0])[::-1]))
    assert abs(eye_line) < 2.0
    assert np.abs(again - framing.points(R)).max() < 3.0
    # The photo's own points land on the framing up to the 3-point fit's residual.
    assert np.abs(geometry.apply(alignments[0].transform, faces[0].key_points()) - framing.points(R)).max() < 2.5


@pytest.mark.parametrize("kind", ["gradient", "texture"])
def test_a_photo_without_a_face_is_refused_clearly(kind):
    if kind == "gradient":
        pixels = np.zeros((300, 400, 3), np.uint8)
        pixels[..., 0] = np.linspace(0, 255, 400, dtype=np.uint8)[None]
    else:  # the detector fires on this noise (score ~0.6); Face Mesh's presence score must reject it
        rng = np.random.default_rng(0)
        pixels = np.asarray(Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).resize(
            (320, 320), Image.Resampling.BICUBIC))
    with pytest.raises(NoFaceFoundError, match="No face was found"):
        find_faces(pixels)


def test_warp_and_unwarp_round_trip_touches_only_the_face_square(framing):
    photo = load_photo(sample_photos()[0]).pixels
    _, (alignment,) = align_faces(photo, framing, R)
    back = unwarp_and_paste(photo, warp_to_model(photo, alignment.transform, R), alignment.transform, 0.08)
    # Outside the warped square (model coordinates outside [0, R]) every byte is the photo's.
    ys, xs = np.mgrid[0:photo.shape[0], 0:photo.shape[1]]
    uv = geometry.apply(alignment.transform, np.stack([xs.ravel() + 0.5, ys.ravel() + 0.5], 1))
    outside = ((uv < 0) | (uv > R)).any(1).reshape(photo.shape[:2])
    assert np.array_equal(back[outside], photo[outside]) and (back != photo).any()
    # Inside, a smooth image survives the trip through 64 pixels almost exactly.
    smooth = np.asarray(Image.fromarray(photo).resize((16, 16), Image.Resampling.BOX).resize(
        photo.shape[1::-1], Image.Resampling.BICUBIC))
    again = unwarp_and_paste(smooth, warp_to_model(smooth, alignment.transform, R), alignment.transform, 0.0)
    inner = ((uv > 4) & (uv < R - 4)).all(1).reshape(photo.shape[:2])
    assert np.abs(again[inner].astype(int) - smooth[inner]).mean() < 1.5


def test_unwarp_refuses_bad_input(framing):
    photo = np.zeros((50, 50, 3), np.uint8)
    with pytest.raises(InvalidInputError):
        unwarp_and_paste(photo, np.zeros((8, 9, 3), np.uint8), np.eye(2, 3))
    with pytest.raises(InvalidInputError):
        unwarp_and_paste(photo, np.zeros((8, 8, 3), np.uint8), np.eye(2, 3), feather=0.7)
    with pytest.raises(InvalidInputError, match="degenerate"):
        warp_to_model(photo, np.zeros((2, 3)), 8)


def test_umeyama_recovers_a_similarity_and_never_reflects():
    angle, scale = math.radians(20), 0.4
    truth = np.array([[scale * math.cos(angle), -scale * math.sin(angle), 5.0],
                      [scale * math.sin(angle), scale * math.cos(angle), -3.0]])
    src = np.array([[10.0, 20.0], [60.0, 22.0], [35.0, 70.0]])
    assert np.allclose(geometry.umeyama(src, geometry.apply(truth, src)), truth)
    mirrored = geometry.umeyama(src, src * [-1, 1])
    assert np.linalg.det(mirrored[:, :2]) > 0


def test_alignment_dict_round_trip(framing):
    _, (alignment,) = align_faces(load_photo(sample_photos()[1]).pixels, framing, R)
    again = Alignment.from_dict(json.loads(json.dumps(alignment.to_dict())))
    assert again == alignment and abs(again.angle - alignment.angle) < 1e-9
    with pytest.raises(InvalidInputError):
        Alignment.from_dict({"matrix": [[1, 0]], "resolution": 64, "face_index": 0, "points": []})


def test_shipped_framing_matches_a_fresh_measurement(G, framing):
    assert framing_file(G.model_id, shipped_framing_dir()).is_file()
    assert framing.samples >= 200 and framing.found > 0.8 * framing.samples
    fresh = measure_framing(G, 32, seed=0)
    assert fresh.found >= 24
    assert np.abs(fresh.points(R) - framing.points(R)).max() < 1.0  # pixels at 64
    assert Framing.from_dict(fresh.to_dict()) == fresh


def test_unmeasured_models_are_measured_once_and_cached(G, tmp_path, monkeypatch):
    monkeypatch.setenv("LANDSCAPE_STUDIO_RESOURCES", str(tmp_path / "no_resources"))
    monkeypatch.setenv("LANDSCAPE_STUDIO_DATA", str(tmp_path / "data"))
    with pytest.raises(InvalidInputError, match="not been measured"):
        framing_for(G, measure=False)
    measured = framing_for(G, n=16)
    assert framing_file(G.model_id, tmp_path / "data" / "framing").is_file()
    assert framing_for(G, measure=False) == measured


def test_shipped_face_models_match_their_provenance():
    import hashlib

    folder = resources_dir() / "face"
    record = json.loads((folder / "provenance.json").read_text())
    assert record["license"].startswith("Apache-2.0") and "Apache License" in (folder / "LICENSE").read_text()[:200]
    for name, entry in record["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == entry["sha256"]


def test_cli_align_writes_the_aligned_face_and_counts_faces(tmp_path, capsys):
    out = tmp_path / "aligned.png"
    assert main(["align", str(sample_photos()[0]), "--out", str(out)]) == 0
    assert "1 face found" in capsys.readouterr().out
    assert Image.open(out).size == (R, R)
    assert main(["align", str(sample_photos()[0]), "--out", str(out), "--face", "1"]) == 2
    assert "has 1 face" in capsys.readouterr().err


def test_cli_invert_align_pastes_back_into_the_photo(tmp_path, capsys):
    out = tmp_path / "run"
    photo = sample_photos()[1]
    assert main(["invert", str(photo), "--align", "--steps", "3", "--starts", "1", "--lpips", "0", "--quiet",
                 "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["alignment"]["resolution"] == R and report["crop"] is None and "align" in report["timings"]
    assert {"psnr", "ssim", "lpips", "identity"} == set(report["metrics"]) and "composite.png" in report["outputs"]
    assert Image.open(out / "composite.png").size == Image.open(photo).size


def test_cli_edit_align_pastes_the_edit_through_the_alignment(tmp_path, capsys):
    photo = sample_photos()[0]
    run = tmp_path / "run"
    assert main(["invert", str(photo), "--align", "--steps", "2", "--starts", "1", "--lpips", "0", "--quiet",
                 "--out", str(run)]) == 0
    out = tmp_path / "edited.png"
    assert main(["edit", str(photo), "--latent", str(run / "latent.npy"), "--dir", "smile=1", "--align",
                 "--out", str(out)]) == 0
    assert "aligned face 0" in capsys.readouterr().out
    edited, original = np.asarray(Image.open(out)), load_photo(photo).pixels
    assert edited.shape == original.shape and (edited != original).any()
    assert np.array_equal(edited[:20], original[:20])  # far from the face: untouched
