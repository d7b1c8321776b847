import numpy as np
import pytest
from PIL import Image

from core.cli import main
from core.directions import DirectionLibrary, sefa_directions
from core.resources import resources_dir

SAMPLE = resources_dir() / "samples" / "astronaut.png"
FACE = (162, 42, 126)  # the sample's recorded face crop: x, y, size


@pytest.fixture
def setup(G, tmp_path):
    """A library with two SeFa directions and a latent of G (as ``invert`` writes it, [1, D] here)."""
    DirectionLibrary(sefa_directions(G, 2)[0]).save(tmp_path / "lib")
    np.save(tmp_path / "latent.npy", G.sample_latent(1, 3).numpy())
    return tmp_path


def edit(tmp, *extra: str, out: str = "out.png") -> int:
    return main(["edit", str(SAMPLE), "--latent", str(tmp / "latent.npy"), "--library", str(tmp / "lib"),
                 "--out", str(tmp / out), *extra])


def outside_crop(pixels: np.ndarray, x: int, y: int, size: int) -> np.ndarray:
    keep = np.ones(pixels.shape[:2], dtype=bool)
    keep[y:y + size, x:x + size] = False
    return pixels[keep]


def test_edit_changes_only_the_crop_at_full_resolution(setup, capsys):
    assert edit(setup, "--dir", "sefa-00=2.5", "--dir", "sefa-01=-1") == 0
    assert "sefa-00 +2.5, sefa-01 -1" in capsys.readouterr().out
    assert edit(setup, out="plain.png") == 0  # no --dir: the latent's own face
    photo = np.asarray(Image.open(SAMPLE).convert("RGB"))
    edited = np.asarray(Image.open(setup / "out.png"))
    plain = np.asarray(Image.open(setup / "plain.png"))
    assert edited.shape == photo.shape
    assert np.array_equal(outside_crop(edited, *FACE), outside_crop(photo, *FACE))
    x, y, size = FACE
    crop = (slice(y, y + size), slice(x, x + size))
    assert np.abs(edited[crop].astype(int) - plain[crop]).mean() > 2  # the edit moved the face


def test_edit_with_an_npy_direction_and_a_manual_crop(setup, G):
    np.save(setup / "boundary.npy", sefa_directions(G, 1)[0][0].vector[None])
    assert edit(setup, "--dir", f"{setup / 'boundary.npy'}=1", "--crop", "0,0,100", "--feather", "0") == 0
    edited, photo = np.asarray(Image.open(setup / "out.png")), np.asarray(Image.open(SAMPLE).convert("RGB"))
    assert np.array_equal(outside_crop(edited, 0, 0, 100), outside_crop(photo, 0, 0, 100))
    assert not np.array_equal(edited[:100, :100], photo[:100, :100])


@pytest.mark.parametrize(("extra", "latent", "message"), [
    (["--dir", "smiel=1"], None, "known directions:"),
    ([], np.zeros(7, np.float32), "(7,)"),
    ([], np.full((1, 100), np.nan, np.float32), "nan"),
    ([], np.array([{"x": 1}], dtype=object), "numeric"),
    (["--feather", "0.9"], None, "feather"),
    (["--crop", "500,500,100"], None, "crop"),
])
def test_edit_errors_are_one_line_and_exit_2(setup, capsys, extra, latent, message):
    if latent is not None:
        np.save(setup / "latent.npy", latent, allow_pickle=True)
    assert edit(setup, *extra) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and message in err.lower()
    if "known" in message:
        assert "sefa-00" in err and "sefa-01" in err
    assert not (setup / "out.png").exists()


def test_edit_missing_latent_and_bad_dir_syntax(setup, capsys):
    assert main(["edit", str(SAMPLE), "--latent", str(setup / "none.npy"), "--out", str(setup / "o.png")]) == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        edit(setup, "--dir", "smile")
    assert stop.value.code == 2 and "NAME=AMOUNT" in capsys.readouterr().err


def test_directions_discover_writes_a_loadable_library_and_sheet(tmp_path, capsys):
    out = tmp_path / "lib"
    code = main(["directions", "discover", "--method", "pca", "--count", "3", "--samples", "150",
                 "--out", str(out), "--sheet", str(tmp_path / "sheet.png")])
    assert code == 0
    library = DirectionLibrary.load(out)
    assert library.names() == ["pca-00", "pca-01", "pca-02"]
    assert all(d.method == "pca" and d.vector.shape == (100,) for d in library)
    sheet = Image.open(tmp_path / "sheet.png")
    assert sheet.width > 7 * 64 and sheet.height > 3 * 3 * 64
    assert "explained variance" in capsys.readouterr().out
    assert main(["directions", "discover", "--out", str(out)]) == 2  # refuses to overwrite
    assert "--replace" in capsys.readouterr().err
    assert main(["directions", "discover", "--count", "2", "--out", str(out), "--replace"]) == 0
    assert DirectionLibrary.load(out).names() == ["sefa-00", "sefa-01"]
    assert sorted(p.name for p in out.glob("*.npy")) == ["sefa-00.npy", "sefa-01.npy"]


def test_directions_list_prints_names_method_and_range(setup, capsys):
    assert main(["directions", "list", "--library", str(setup / "lib")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "method", "range", "space", "layers"]
    assert lines[1].split() == ["sefa-00", "sefa", "-3…+3", "z", "all"]
    assert main(["directions", "list", "--library", str(setup / "missing")]) == 2
    assert "no direction library" in capsys.readouterr().err.lower()
