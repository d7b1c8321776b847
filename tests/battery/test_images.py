"""Bad and unusual photos and masks through the CLI: each bad file ends in one ``error:`` line (exit 2) before any
output exists, each unusual but valid one is edited (exit 0); the files themselves are never changed.

Photos go through ``invert`` (the photo is read before the model loads, so a refusal is fast) and the accepted ones
through ``edit`` with a zero latent (no optimisation: a render and a paste). Masks go through ``inpaint``, which
reads the mask before the model too.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from core.imageio import MAX_PIXELS
from tests.battery import input_kit as kit
from tests.battery.conftest import digest

CHUNK = PngImagePlugin.MAX_TEXT_CHUNK
TOO_LARGE = f"larger than {MAX_PIXELS / 1e6:g} megapixels"
Builder = Callable[[Path], Path]


def _file(name: str, data: Callable[[], bytes]) -> Builder:
    return lambda folder: kit.write(folder / name, data())


def _missing(folder: Path) -> Path:
    return folder / "missing.png"


def _directory(folder: Path) -> Path:
    (folder / "photo.png").mkdir()
    return folder / "photo.png"


def _fifo(folder: Path) -> Path:
    os.mkfifo(folder / "pipe.png")  # opening it for reading would block forever: it must be refused first
    return folder / "pipe.png"


def _symlink_loop(folder: Path) -> Path:
    (folder / "loop.png").symlink_to(folder / "loop.png")
    return folder / "loop.png"


def _truncated(fmt: str, keep: float) -> Callable[[], bytes]:
    def data() -> bytes:
        full = kit.sample_bytes(fmt)
        return full[: int(len(full) * keep)]
    return data


def _bad_crc() -> bytes:
    data = bytearray(kit.small_png())
    data[29] ^= 0xFF  # the IHDR chunk's CRC
    return bytes(data)


def _text_chunks(count: int) -> bytes:
    return kit.small_png(8, before=b"".join(kit.ztxt(CHUNK // 2, f"k{i}".encode()) for i in range(count)))


BAD_PHOTOS: list[tuple[str, Builder, str]] = [
    ("missing", _missing, "does not exist"),
    ("zero-bytes", _file("empty.png", lambda: b""), "empty"),
    ("directory", _directory, "folder"),
    ("fifo", _fifo, "empty"),
    ("symlink-loop", _symlink_loop, "does not exist"),
    ("text-file", _file("notes.png", lambda: b"just some text, not pixels\n" * 20), "not an image"),
    ("html-as-jpeg", _file("page.jpg", lambda: b"<!doctype html><html><body>404</body></html>"), "not an image"),
    ("random-bytes", _file("noise.jpg", lambda: bytes(range(256)) * 8), "not an image"),
    ("svg", _file("vector.svg", lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>'),
     "not an image"),
    ("truncated-png", _file("half.png", _truncated("PNG", 0.5)), "damaged"),
    ("truncated-jpeg", _file("half.jpg", _truncated("JPEG", 0.3)), "damaged"),
    ("png-signature-only", _file("sig.png", lambda: b"\x89PNG\r\n\x1a\n"), "not an image"),
    ("png-no-image-data", _file("noidat.png", lambda: kit.png(8, 8)[:33] + kit.png_chunk(b"IEND", b"")), "damaged"),
    ("png-bad-crc", _file("crc.png", _bad_crc), "not an image"),
    ("png-zero-width", _file("zero.png", lambda: kit.png(0, 8)), "not an image"),
    ("png-huge-dimensions", _file("huge.png", lambda: kit.png(100_000, 100_000)), TOO_LARGE),
    ("png-max-dimensions", _file("max.png", lambda: kit.png(2**31 - 1, 2**31 - 1)), TOO_LARGE),
    ("png-just-over-limit", _file("over.png", lambda: kit.png(20_000, MAX_PIXELS // 20_000 + 1, color=0)),
     TOO_LARGE),
    # just under our limit (above Pillow's own 179 MP check): refused only because its data is missing
    ("png-just-under-limit", _file("under.png", lambda: kit.png(20_000, MAX_PIXELS // 20_000 - 1, color=0)),
     "damaged"),
    ("jpeg-huge-dimensions", _file("huge.jpg", lambda: kit.jpeg_with_size(65_000, 65_000)), TOO_LARGE),
    ("gif-huge-dimensions", _file("huge.gif", lambda: kit.gif_with_size(65_535, 65_535)), TOO_LARGE),
    ("bmp-huge-dimensions", _file("huge.bmp", lambda: kit.bmp_with_size(1_000_000, 1_000_000)), TOO_LARGE),
    ("tiff-huge-dimensions", _file("huge.tif", lambda: kit.tiff_with_size(100_000, 100_000)), TOO_LARGE),
    ("ztxt-over-chunk-limit", _file("ztxt.png", lambda: kit.small_png(8, before=kit.ztxt(CHUNK + 1))), "metadata"),
    ("ztxt-after-image-data", _file("ztxt2.png", lambda: kit.small_png(8, after=kit.ztxt(CHUNK + 1))), "metadata"),
    ("itxt-over-chunk-limit", _file("itxt.png", lambda: kit.small_png(8, before=kit.itxt(CHUNK + 1))), "metadata"),
    ("iccp-over-chunk-limit", _file("iccp.png", lambda: kit.small_png(8, before=kit.iccp(CHUNK + 1))), "metadata"),
    ("text-over-memory-limit", _file("many.png", lambda: _text_chunks(130)), "metadata"),
]


@pytest.mark.parametrize(("build", "words"), [c[1:] for c in BAD_PHOTOS], ids=[c[0] for c in BAD_PHOTOS])
def test_bad_photo_is_one_error_and_nothing_written(cli, tmp_path, canary, build, words):
    photo = build(tmp_path)
    before = digest([tmp_path])
    out = tmp_path / "run"
    cli("invert", photo, "--steps", "1", "--quiet", "--out", out).assert_one_error(words)
    assert not out.exists()
    assert digest([tmp_path]) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file: an unreadable file cannot be made")
def test_unreadable_photo(cli, tmp_path):
    photo = kit.write(tmp_path / "secret.png", kit.small_png())
    photo.chmod(0)
    cli("invert", photo, "--steps", "1", "--quiet", "--out", tmp_path / "run").assert_one_error("permission")


def _mode(mode: str, fmt: str = "PNG", **options: object) -> Callable[[], bytes]:
    return lambda: kit.encoded(kit.noise(48, 40, mode), fmt, **options)


def _sixteen_bit() -> bytes:
    import numpy as np

    return kit.encoded(Image.fromarray(np.arange(48 * 40, dtype=np.uint16).reshape(40, 48) * 30), "PNG")


def _float_tiff() -> bytes:
    import numpy as np

    values = np.linspace(-1, 3, 48 * 40, dtype=np.float32).reshape(40, 48)
    values[0, 0] = np.nan
    return kit.encoded(Image.fromarray(values, "F"), "TIFF")


def _palette_transparent() -> bytes:
    image = kit.noise(48, 40, "P")
    return kit.encoded(image, "PNG", transparency=0)


GOOD_PHOTOS: list[tuple[str, Builder]] = [
    ("cmyk-jpeg", _file("cmyk.jpg", _mode("CMYK", "JPEG"))),
    ("sixteen-bit-png", _file("deep.png", _sixteen_bit)),
    ("float-tiff-with-nan", _file("float.tif", _float_tiff)),
    ("palette-png", _file("palette.png", _mode("P"))),
    ("palette-transparent", _file("ptrans.png", _palette_transparent)),
    ("grey-alpha-png", _file("la.png", _mode("LA"))),
    ("rgba-png", _file("rgba.png", _mode("RGBA"))),
    ("one-bit-png", _file("bw.png", _mode("1"))),
    ("animated-gif", _file("anim.gif", lambda: kit.animated("GIF"))),
    ("animated-png", _file("anim.png", lambda: kit.animated("PNG"))),
    ("one-pixel", _file("dot.png", lambda: kit.small_png(1))),
    ("one-by-two", _file("thin.png", lambda: kit.encoded(kit.noise(1, 2), "PNG"))),
    ("jpeg-named-png", _file("actually_jpeg.png", kit.sample_bytes)),
    ("exif-orientation-out-of-range", _file("o9.jpg", lambda: kit.exif_orientation(9))),
    ("exif-orientation-zero", _file("o0.jpg", lambda: kit.exif_orientation(0))),
    ("exif-orientation-rotated", _file("o6.jpg", lambda: kit.exif_orientation(6))),
    ("exif-garbage", _file("junk.jpg", lambda: kit.jpeg_with_app1(b"Exif\0\0" + b"\xff" * 64))),
    ("exif-truncated-ifd", _file("ifd.jpg", lambda: kit.jpeg_with_app1(b"Exif\0\0II*\0\x08\0\0\0\xff\xff"))),
    ("small-text-chunks", _file("text.png", lambda: kit.small_png(8, before=kit.ztxt(1000) + kit.iccp(100)))),
]


@pytest.mark.parametrize("build", [c[1] for c in GOOD_PHOTOS], ids=[c[0] for c in GOOD_PHOTOS])
def test_unusual_photo_is_edited(cli, tmp_path, canary, build):
    photo = build(tmp_path)
    latent = kit.valid_latent(tmp_path / "latent.npy")
    before = digest([tmp_path])
    out = tmp_path / "edited.png"
    outcome = cli("edit", photo, "--latent", latent, "--out", out)
    assert outcome.code == 0, outcome.err
    assert "Traceback" not in outcome.err
    with Image.open(photo) as original, Image.open(out) as edited:
        assert edited.mode == "RGB" and sorted(edited.size) == sorted(original.size)
    assert digest([photo, latent]) == {k: v for k, v in before.items() if k in (str(photo), str(latent))}


def _mask(size: tuple[int, int], mode: str = "L", fill: int = 0) -> Callable[[], bytes]:
    def data() -> bytes:
        image = Image.new(mode, size, fill)
        if mode == "L" and fill == 0:
            image.paste(255, (10, 10, 30, 30))
        return kit.encoded(image, "PNG")
    return data


PHOTO_SIZE = (96, 80)
def _mask_directory(folder: Path) -> Path:
    (folder / "mask.png").mkdir()
    return folder / "mask.png"


BAD_MASKS: list[tuple[str, Builder, str]] = [
    ("missing", _missing, "does not exist"),
    ("zero-bytes", _file("mask.png", lambda: b""), "empty"),
    ("directory", _mask_directory, "folder"),
    ("text-file", _file("mask.png", lambda: b"not a mask\n"), "not an image"),
    ("truncated", _file("mask.png", lambda: _mask(PHOTO_SIZE)()[:60]), "damaged"),
    ("wrong-size", _file("mask.png", _mask((95, 80))), "same size"),
    ("transposed", _file("mask.png", _mask((80, 96))), "same size"),
    ("huge-dimensions", _file("mask.png", lambda: kit.png(100_000, 100_000)), TOO_LARGE),
    ("ztxt-over-chunk-limit", _file("mask.png", lambda: kit.png(96, 80, before=kit.ztxt(CHUNK + 1))), "metadata"),
    ("marks-nothing", _file("mask.png", lambda: kit.encoded(Image.new("L", PHOTO_SIZE, 0), "PNG")), "marks nothing"),
    ("transparent-marks-nothing", _file("mask.png", lambda: kit.encoded(Image.new("RGBA", PHOTO_SIZE, (255, 0, 0, 0)),
                                                                         "PNG")), "marks nothing"),
]


@pytest.mark.parametrize(("build", "words"), [c[1:] for c in BAD_MASKS], ids=[c[0] for c in BAD_MASKS])
def test_bad_mask_is_one_error_and_nothing_written(cli, tmp_path, canary, build, words):
    photo = kit.write(tmp_path / "photo.png", kit.encoded(kit.noise(*PHOTO_SIZE), "PNG"))
    mask = build(tmp_path)
    before = digest([tmp_path])
    out = tmp_path / "run"
    cli("inpaint", photo, "--mask", mask, "--steps", "1", "--candidates", "1", "--quiet",
        "--out", out).assert_one_error(words)
    assert not out.exists()
    assert digest([tmp_path]) == before


def test_mask_covering_everything_is_refused_for_invert(cli, tmp_path):
    """A mask that hides every pixel of the square leaves the loss nothing to match."""
    photo = kit.write(tmp_path / "photo.png", kit.encoded(kit.noise(*PHOTO_SIZE), "PNG"))
    mask = kit.write(tmp_path / "mask.png", kit.encoded(Image.new("L", PHOTO_SIZE, 255), "PNG"))
    out = tmp_path / "run"
    cli("invert", photo, "--mask", mask, "--steps", "1", "--quiet", "--out", out).assert_one_error("mask")
    assert not out.exists()


@pytest.mark.parametrize("scale", [5e-4, 1e-9])
def test_alignment_with_a_tiny_scale_is_refused_before_allocating(scale):
    """Pasting back through an alignment whose square spans 10⁵ photo pixels would upscale it to gigabytes."""
    import numpy as np

    from core.alignment.align import unwarp_and_paste
    from core.errors import InvalidInputError

    photo = np.zeros((90, 120, 3), np.uint8)
    generated = np.full((64, 64, 3), 200, np.uint8)
    transform = np.array([[scale, 0.0, 0.0], [0.0, scale, 0.0]])
    with pytest.raises(InvalidInputError, match="again"):
        unwarp_and_paste(photo, generated, transform)
