"""core.imageio on real files written with Pillow: every mode, every refusal, crops, masks and atomic saves."""

from __future__ import annotations

import contextlib
import struct
import subprocess
import sys
import textwrap
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.errors import ImageLoadError, ImageSaveError, InvalidInputError
from core.imageio import (
    CropBox,
    Photo,
    atomic_write_bytes,
    crop_and_resize,
    crop_and_resize_mask,
    display_pixels,
    load_mask,
    load_photo,
    save_image,
)

ORIENTATION, ARTIST = 0x0112, 0x013B


def _noise(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _exif(**tags: int | str) -> Image.Exif:
    exif = Image.Exif()
    for name, value in tags.items():
        exif[{"orientation": ORIENTATION, "artist": ARTIST}[name]] = value
    return exif


def _read_exif(data: bytes | None) -> Image.Exif:
    exif = Image.Exif()
    exif.load(data)
    return exif


def _load_error(path: Path, chained: bool = False, **kwargs) -> str:
    """The message of the ImageLoadError that loading ``path`` raises; ``chained``: it must wrap the cause."""
    with pytest.raises(ImageLoadError) as info:
        load_photo(path, **kwargs)
    assert info.value.__cause__ is not None or not chained
    return str(info.value)


# ---- orientation ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("orientation", "turns"), [(6, -1), (8, 1)])
def test_exif_orientation_makes_pixels_upright(tmp_path: Path, orientation: int, turns: int) -> None:
    stored = _noise(20, 40)
    path = tmp_path / "turned.png"
    Image.fromarray(stored).save(path, exif=_exif(orientation=orientation, artist="Ada"))
    photo = load_photo(path)
    assert (photo.width, photo.height) == (20, 40)
    np.testing.assert_array_equal(photo.pixels, np.rot90(stored, k=turns))
    exif = _read_exif(photo.exif)
    assert exif[ORIENTATION] == 1
    assert exif[ARTIST] == "Ada"


def test_jpeg_orientation_and_read_only_pixels(tmp_path: Path) -> None:
    path = tmp_path / "camera.jpg"
    Image.new("RGB", (40, 20), (200, 30, 30)).save(path, exif=_exif(orientation=6))
    photo = load_photo(path)
    assert photo.pixels.shape == (40, 20, 3) and photo.pixels.dtype == np.uint8
    assert photo.source == path and photo.original_mode == "RGB" and photo.notes == ()
    assert not photo.pixels.flags.writeable
    assert _read_exif(photo.exif)[ORIENTATION] == 1


def test_photo_without_exif_has_none(tmp_path: Path) -> None:
    path = tmp_path / "plain.png"
    Image.new("RGB", (4, 3)).save(path)
    assert load_photo(path).exif is None


# ---- colour modes -----------------------------------------------------------------------------------------


def test_grayscale_and_bilevel(tmp_path: Path) -> None:
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    Image.fromarray(gray).save(tmp_path / "l.png")
    photo = load_photo(tmp_path / "l.png")
    np.testing.assert_array_equal(photo.pixels, np.repeat(gray[:, :, None], 3, axis=2))
    assert photo.original_mode == "L" and "grayscale" in photo.notes[0]

    bilevel = Image.new("1", (4, 2), 0)
    bilevel.putpixel((1, 0), 1)
    bilevel.save(tmp_path / "one.png")
    pixels = load_photo(tmp_path / "one.png").pixels
    assert pixels[0, 1].tolist() == [255, 255, 255] and pixels[1, 1].tolist() == [0, 0, 0]


def test_gray_with_alpha_is_flattened_onto_white(tmp_path: Path) -> None:
    la = Image.new("LA", (2, 1))
    la.putpixel((0, 0), (0, 0))
    la.putpixel((1, 0), (40, 255))
    la.save(tmp_path / "la.png")
    photo = load_photo(tmp_path / "la.png")
    assert photo.pixels[0].tolist() == [[255, 255, 255], [40, 40, 40]]
    assert "transparency flattened onto white" in photo.notes


def test_palette_with_transparency(tmp_path: Path) -> None:
    pal = Image.new("P", (2, 1))
    pal.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    pal.putpixel((1, 0), 1)
    pal.save(tmp_path / "p.png", transparency=0)
    photo = load_photo(tmp_path / "p.png")
    assert photo.original_mode == "P"
    assert photo.pixels[0].tolist() == [[255, 255, 255], [10, 200, 30]]


def test_palette_without_transparency(tmp_path: Path) -> None:
    pal = Image.new("P", (1, 1))
    pal.putpalette([10, 200, 30] + [0] * 765)
    pal.save(tmp_path / "p.gif")
    photo = load_photo(tmp_path / "p.gif")
    assert photo.pixels[0, 0].tolist() == [10, 200, 30]


def test_rgba_flattened_onto_white(tmp_path: Path) -> None:
    rgba = np.array([[[255, 0, 0, 0], [10, 20, 30, 255], [0, 0, 0, 128]]], dtype=np.uint8)
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    photo = load_photo(tmp_path / "rgba.png")
    assert photo.pixels[0, :2].tolist() == [[255, 255, 255], [10, 20, 30]]
    assert np.all(np.abs(photo.pixels[0, 2].astype(int) - 127) <= 1)
    assert photo.original_mode == "RGBA"


def test_cmyk_jpeg(tmp_path: Path) -> None:
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg", quality=95)
    photo = load_photo(tmp_path / "cmyk.jpg")
    assert photo.original_mode == "CMYK" and "CMYK" in photo.notes[0]
    assert np.abs(photo.pixels.astype(int) - [255, 0, 0]).max() <= 6


SIXTEEN_IN = [0, 128, 129, 257, 32768, 65535]
SIXTEEN_OUT = [0, 0, 1, 1, 128, 255]


def test_sixteen_bit_png_scales_rather_than_clips(tmp_path: Path) -> None:
    Image.fromarray(np.array([SIXTEEN_IN], dtype=np.uint16)).save(tmp_path / "deep.png")
    photo = load_photo(tmp_path / "deep.png")
    assert photo.original_mode == "I;16" and "16-bit" in photo.notes[0]
    assert photo.pixels[0, :, 0].tolist() == SIXTEEN_OUT
    assert np.all(photo.pixels == photo.pixels[:, :, :1])


def test_sixteen_bit_big_endian_and_32_bit_int_tiff(tmp_path: Path) -> None:
    big = Image.new("I;16B", (len(SIXTEEN_IN), 1))
    big.putdata(SIXTEEN_IN)
    big.save(tmp_path / "big.tif")
    photo = load_photo(tmp_path / "big.tif")
    assert photo.original_mode == "I;16B" and photo.pixels[0, :, 0].tolist() == SIXTEEN_OUT

    Image.fromarray(np.array([SIXTEEN_IN], dtype=np.int32)).save(tmp_path / "int16range.tif")
    assert load_photo(tmp_path / "int16range.tif").pixels[0, :, 0].tolist() == SIXTEEN_OUT
    Image.fromarray(np.array([[-5, 0, 500_000, 1_000_000]], dtype=np.int32)).save(tmp_path / "wide.tif")
    assert load_photo(tmp_path / "wide.tif").pixels[0, :, 0].tolist() == [0, 0, 128, 255]


def test_float_tiff_in_unit_range_and_beyond(tmp_path: Path) -> None:
    Image.fromarray(np.array([[0.0, 0.5, 1.0, -0.2]], dtype=np.float32)).save(tmp_path / "unit.tif")
    photo = load_photo(tmp_path / "unit.tif")
    assert photo.original_mode == "F" and photo.pixels[0, :, 0].tolist() == [0, 128, 255, 0]
    Image.fromarray(np.array([[0.0, 2.0, 4.0, np.nan]], dtype=np.float32)).save(tmp_path / "hdr.tif")
    assert load_photo(tmp_path / "hdr.tif").pixels[0, :, 1].tolist() == [0, 128, 255, 0]


def test_animated_gif_uses_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (4, 4), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    photo = load_photo(tmp_path / "anim.gif")
    assert photo.pixels[0, 0].tolist() == [255, 0, 0]
    assert any("first frame" in note for note in photo.notes)


# ---- refusals ---------------------------------------------------------------------------------------------


def test_truncated_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "cut.jpg"
    Image.fromarray(_noise(64, 64)).save(path, quality=95)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert "damaged or incomplete" in _load_error(path, chained=True)


def test_random_bytes_named_jpg(tmp_path: Path) -> None:
    path = tmp_path / "noise.jpg"
    path.write_bytes(b"not an image at all " + np.random.default_rng(1).bytes(500))
    assert "not an image" in _load_error(path, chained=True)


def test_empty_missing_and_folder(tmp_path: Path) -> None:
    (tmp_path / "empty.png").touch()
    assert "empty (0 bytes)" in _load_error(tmp_path / "empty.png")
    assert "does not exist" in _load_error(tmp_path / "nowhere.png")
    assert "is a folder" in _load_error(tmp_path)


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.png"
    Image.new("RGB", (2, 2)).save(path)
    path.chmod(0)
    try:
        with contextlib.suppress(PermissionError), path.open("rb"):
            pytest.skip("file modes are not enforced here (root, or Windows ACLs)")
        assert "no permission" in _load_error(path, chained=True)
    finally:
        path.chmod(0o600)


def test_too_large_by_our_limit(tmp_path: Path) -> None:
    Image.new("RGB", (20, 10)).save(tmp_path / "big.png")
    message = _load_error(tmp_path / "big.png", max_pixels=199)
    assert "20x10" in message and "larger than" in message
    assert load_photo(tmp_path / "big.png", max_pixels=200).width == 20


def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that claims ``width`` x ``height`` 8-bit gray pixels but holds no pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")))
    return path


def test_decompression_bomb_header_is_refused_without_decoding(tmp_path: Path) -> None:
    # 201 MP: over our 200 MP limit, refused from the header with our limit in the message.
    message = _load_error(_png_header_only(tmp_path / "bomb.png", 14000, 14358))
    assert "(14000x14358) is larger than 200 megapixels" in message


def test_photo_under_our_limit_is_not_refused_by_pillows_own_check(tmp_path: Path) -> None:
    # 182 MP: under our 200 MP limit but over Pillow's default hard limit (2 x ~89.5 MP): opened, then it fails
    # as the empty fake it is; our limit, not Pillow's, decides.
    assert "damaged or incomplete" in _load_error(_png_header_only(tmp_path / "bomb.png", 13000, 14000), chained=True)


def test_our_limit_not_pillows_warning_decides(tmp_path: Path) -> None:
    # 100 MP: Pillow only warns; below our limit the file is opened (then fails as the empty fake it is).
    path = _png_header_only(tmp_path / "hundred.png", 10000, 10000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "damaged or incomplete" in _load_error(path, chained=True)
    assert "(10000x10000) is larger than 50 megapixels" in _load_error(path, max_pixels=50_000_000)


# ---- crop box ---------------------------------------------------------------------------------------------


def test_crop_box_centered() -> None:
    assert CropBox.centered(640, 480) == CropBox(80, 0, 480)
    assert CropBox.centered(480, 641) == CropBox(0, 80, 480)
    assert CropBox.centered(7, 7) == CropBox(0, 0, 7)
    with pytest.raises(InvalidInputError):
        CropBox.centered(0, 10)


def test_crop_box_parse() -> None:
    assert CropBox.parse("10, 20,30") == CropBox(10, 20, 30)
    for junk in ("", "1,2", "1,2,3,4", "a,b,c", "1.5,2,3"):
        with pytest.raises(InvalidInputError, match="X,Y,SIZE") as info:
            CropBox.parse(junk)
        assert info.value.__cause__ is not None


@pytest.mark.parametrize("box", [CropBox(-1, 0, 10), CropBox(0, 0, 11), CropBox(6, 0, 10), CropBox(0, 1, 10)])
def test_crop_box_outside_is_refused(box: CropBox) -> None:
    with pytest.raises(InvalidInputError, match="does not fit inside the 15x10 photo"):
        box.validate(15, 10)


def test_crop_box_validate_and_dict_round_trip() -> None:
    CropBox(5, 0, 10).validate(15, 10)
    with pytest.raises(InvalidInputError, match="at least 1 pixel"):
        CropBox(0, 0, 0).validate(15, 10)
    box = CropBox(3, 4, 5)
    assert box.to_dict() == {"x": 3, "y": 4, "size": 5}
    assert CropBox.from_dict(box.to_dict()) == box
    for bad in ({"x": 1, "y": 2}, {"x": 1, "y": 2, "size": "3"}, {"x": 1.0, "y": 2, "size": 3}, None):
        with pytest.raises(InvalidInputError):
            CropBox.from_dict(bad)  # type: ignore[arg-type]


# ---- crop and resize --------------------------------------------------------------------------------------


def test_crop_and_resize_solid_colour_stays_that_colour() -> None:
    pixels = np.zeros((300, 400, 3), dtype=np.uint8)
    pixels[:] = (12, 200, 77)
    out = crop_and_resize(pixels, CropBox(30, 20, 250), 64)
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    assert np.all(out == [12, 200, 77])


@pytest.mark.parametrize(
    ("box", "resolution"), [(CropBox(40, 30, 150), 32), (CropBox(0, 0, 200), 48), (CropBox(90, 5, 20), 64)]
)
def test_crop_and_resize_matches_resizing_the_whole_image(box: CropBox, resolution: int) -> None:
    pixels = _noise(210, 260, seed=3)
    region = (box.x, box.y, box.x + box.size, box.y + box.size)
    whole = Image.fromarray(pixels).resize(
        (resolution, resolution), Image.Resampling.LANCZOS, box=region, reducing_gap=3.0
    )
    np.testing.assert_array_equal(crop_and_resize(pixels, box, resolution), np.asarray(whole))


def test_crop_and_resize_refuses_bad_input() -> None:
    with pytest.raises(InvalidInputError, match="does not fit"):
        crop_and_resize(_noise(10, 10), CropBox(5, 5, 10), 8)
    with pytest.raises(InvalidInputError, match="uint8 RGB"):
        crop_and_resize(np.zeros((10, 10), np.uint8), CropBox(0, 0, 10), 8)
    with pytest.raises(InvalidInputError, match="resolution"):
        crop_and_resize(_noise(10, 10), CropBox(0, 0, 10), 0)


def test_display_pixels() -> None:
    small = Photo(_noise(30, 40), None, None, "RGB")
    assert display_pixels(small, max_side=40) is small.pixels
    wide = Photo(_noise(50, 1000), None, None, "RGB")
    assert display_pixels(wide, max_side=100).shape == (5, 100, 3)


# ---- masks ------------------------------------------------------------------------------------------------


def test_grayscale_mask(tmp_path: Path) -> None:
    marks = np.zeros((8, 10), dtype=np.uint8)
    marks[2:5, 3:7] = 255
    marks[0, 0] = 1
    Image.fromarray(marks).save(tmp_path / "mask.png")
    mask = load_mask(tmp_path / "mask.png", 10, 8)
    assert mask.dtype == np.float32 and mask.shape == (8, 10)
    np.testing.assert_array_equal(mask, (marks != 0).astype(np.float32))


def test_rgba_masks(tmp_path: Path) -> None:
    strokes = np.zeros((4, 4, 4), dtype=np.uint8)  # black strokes painted on a transparent layer
    strokes[1, :, 3] = 255
    Image.fromarray(strokes).save(tmp_path / "layer.png")
    np.testing.assert_array_equal(load_mask(tmp_path / "layer.png", 4, 4), strokes[:, :, 3] > 0)

    opaque = np.zeros((4, 4, 4), dtype=np.uint8)  # an ordinary mask that merely has an all-opaque alpha channel
    opaque[:, :, 3] = 255
    opaque[2, 2, :3] = 255
    Image.fromarray(opaque).save(tmp_path / "opaque.png")
    assert load_mask(tmp_path / "opaque.png", 4, 4).sum() == 1.0


def test_mask_size_mismatch(tmp_path: Path) -> None:
    Image.new("L", (10, 8)).save(tmp_path / "mask.png")
    with pytest.raises(InvalidInputError, match="mask is 10x8 pixels but the photo is 20x16"):
        load_mask(tmp_path / "mask.png", 20, 16)
    with pytest.raises(ImageLoadError, match="does not exist"):
        load_mask(tmp_path / "none.png", 10, 8)


def test_crop_and_resize_mask_area_averages() -> None:
    mask = np.zeros((20, 30), dtype=np.float32)
    mask[:, 5:15] = 1.0  # left half of the box below is marked
    out = crop_and_resize_mask(mask, CropBox(5, 0, 20), 2)
    assert out.dtype == np.float32 and out.shape == (2, 2)
    np.testing.assert_allclose(out, [[1.0, 0.0], [1.0, 0.0]], atol=1e-6)
    np.testing.assert_allclose(crop_and_resize_mask(mask, CropBox(0, 0, 20), 1), [[0.5]], atol=1e-6)


# ---- saving -----------------------------------------------------------------------------------------------


def test_png_round_trip_keeps_pixels_and_exif(tmp_path: Path) -> None:
    pixels = _noise(12, 16)
    exif = _exif(artist="Ada", orientation=1).tobytes()
    written = save_image(pixels, tmp_path / "out.png", exif=exif)
    assert written == tmp_path / "out.png"
    photo = load_photo(written)
    np.testing.assert_array_equal(photo.pixels, pixels)
    assert _read_exif(photo.exif)[ARTIST] == "Ada"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_jpeg_round_trip_keeps_exif(tmp_path: Path) -> None:
    pixels = np.full((16, 16, 3), (90, 140, 210), dtype=np.uint8)
    save_image(pixels, tmp_path / "out.JPEG", exif=_exif(artist="Ada").tobytes(), quality=90)
    photo = load_photo(tmp_path / "out.JPEG")
    assert np.abs(photo.pixels.astype(int) - pixels).max() <= 3
    assert _read_exif(photo.exif)[ARTIST] == "Ada"
    with Image.open(tmp_path / "out.JPEG") as im:
        assert im.format == "JPEG"


def test_overwrite_is_atomic_and_keeps_permissions(tmp_path: Path) -> None:
    target = tmp_path / "same.png"
    save_image(_noise(4, 4, seed=1), target)
    target.chmod(0o640)
    save_image(_noise(4, 4, seed=2), target)
    np.testing.assert_array_equal(load_photo(target).pixels, _noise(4, 4, seed=2))
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["same.png"]


def test_new_files_get_ordinary_permissions(tmp_path: Path) -> None:
    plain = tmp_path / "plain.bin"
    plain.write_bytes(b"x")
    atomic_write_bytes(tmp_path / "atomic.bin", b"y")
    assert (tmp_path / "atomic.bin").read_bytes() == b"y"
    assert (tmp_path / "atomic.bin").stat().st_mode == plain.stat().st_mode


def test_unsupported_suffix(tmp_path: Path) -> None:
    with pytest.raises(ImageSaveError, match=r"\.png, \.jpg or \.jpeg"):
        save_image(_noise(4, 4), tmp_path / "out.bmp")
    assert list(tmp_path.iterdir()) == []


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageSaveError, match="does not exist") as info:
        save_image(_noise(4, 4), tmp_path / "nope" / "out.png")
    assert isinstance(info.value.__cause__, FileNotFoundError)
    assert list(tmp_path.iterdir()) == []


def test_target_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "taken.png").mkdir()
    with pytest.raises(ImageSaveError, match="a folder already has that name"):
        save_image(_noise(4, 4), tmp_path / "taken.png")
    assert [p.name for p in tmp_path.iterdir()] == ["taken.png"]


def test_unwritable_folder(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with contextlib.suppress(PermissionError):
            (folder / "probe").touch()
            (folder / "probe").unlink()
            pytest.skip("folder modes are not enforced here (root, or Windows ACLs)")
        with pytest.raises(ImageSaveError, match="no permission") as info:
            save_image(_noise(4, 4), folder / "out.png")
        assert isinstance(info.value.__cause__, PermissionError)
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o700)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs RLIMIT_FSIZE and SIGXFSZ (Linux)")
def test_write_failure_midway_leaves_no_temp_file(tmp_path: Path) -> None:
    # A real mid-write failure: the file-size limit makes the write fail with EFBIG once 1 KiB is written.
    script = textwrap.dedent(
        f"""
        import resource, signal
        from core.errors import ImageSaveError
        from core.imageio import atomic_write_bytes
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, resource.RLIM_INFINITY))
        try:
            atomic_write_bytes({str(tmp_path / "big.bin")!r}, bytes(100_000))
        except ImageSaveError as exc:
            print(exc)
        """
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=60)
    assert "Cannot save 'big.bin'" in result.stdout, result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skip(reason="a real full disk (ENOSPC) needs a tiny filesystem, which tests cannot mount")
def test_disk_full() -> None:
    """Kept as a marker: ENOSPC maps to 'the disk is full' in _save_error."""
