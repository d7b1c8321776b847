"""The "detail" composite: results enter the photo as the model's change, so the photo keeps its own detail."""

from __future__ import annotations

import numpy as np
import pytest

from core.alignment import Alignment
from core.directions import Direction
from core.errors import InvalidInputError
from core.generators import load_generator
from core.imageio import CropBox, load_photo
from core.inversion import InversionConfig, restoration_config
from core.jobs import run_job
from core.photo_jobs import edit_photo, invert_photo, restore_photo
from core.placement import Placement, detail_kept, high_frequency_energy
from core.resources import sample_photos

FAST = InversionConfig(steps=4, preview_every=10_000).with_changes(loss_lpips=0.0)


@pytest.fixture(scope="module")
def G():
    return load_generator("default", "cpu")


@pytest.fixture(scope="module")
def photo():
    return load_photo(sample_photos()[0])


def _aligned(photo) -> Placement:
    angle, scale = np.radians(12.0), 64 / 150
    c, s = scale * np.cos(angle), scale * np.sin(angle)
    alignment = Alignment(((c, -s, -60.0), (s, c, -40.0)), 64, 0, ((200.0, 120.0), (260.0, 125.0), (230.0, 190.0)))
    return Placement.default_for(photo).aligned(alignment)


@pytest.mark.parametrize("aligned", [False, True])
def test_an_unedited_inversion_leaves_the_photo_exactly_as_it_was(G, photo, aligned):
    placement = _aligned(photo) if aligned else Placement.default_for(photo)
    done = run_job(invert_photo(G, photo, placement=placement, config=FAST))
    assert done.photo.tobytes() == photo.pixels.tobytes()
    replaced = run_job(invert_photo(G, photo, placement=placement, config=FAST, composite="replace"))
    assert not np.array_equal(replaced.photo, photo.pixels)  # the old paste changes the face


def _smile(G) -> Direction:
    vector = np.zeros(G.sample_latent(1, 0).shape[1:], np.float32)
    vector[3] = 1.0
    return Direction(name="axis3", vector=vector, space=G.default_space, model_id=G.model_id, method="test")


def test_an_edit_adds_only_its_change_and_keeps_the_photos_detail(G, photo):
    placement = Placement.default_for(photo)
    latent = run_job(invert_photo(G, photo, placement=placement, config=FAST)).result.best_latent
    edits = [(_smile(G), 2.0)]
    detail = run_job(edit_photo(G, photo, placement=placement, latent=latent, edits=edits))
    replaced = run_job(edit_photo(G, photo, placement=placement, latent=latent, edits=edits, composite="replace"))
    assert detail.reference is not None and replaced.reference is None
    # the change itself: what the edit moved, upscaled, is exactly what the photo gained
    change = placement.composite(np.full_like(photo.pixels, 128), detail.image, reference=detail.reference)
    gained = detail.photo.astype(np.int16) - photo.pixels.astype(np.int16)
    unclipped = (detail.photo > 0) & (detail.photo < 255) & (change > 0) & (change < 255)
    assert unclipped.mean() > 0.5 and np.abs(gained)[unclipped].max() > 10  # the edit did change the face
    assert np.abs(gained - (change.astype(np.int16) - 128))[unclipped].max() <= 1
    box = placement.crop
    assert detail_kept(photo.pixels, detail.photo, box) >= 0.9
    assert detail_kept(photo.pixels, replaced.photo, box) < 0.6  # the 64-px face pasted over blurs it
    # no edit: nothing changes at all
    still = run_job(edit_photo(G, photo, placement=placement, latent=latent, edits=[]))
    assert still.photo.tobytes() == photo.pixels.tobytes()


def test_a_colorization_keeps_the_photos_own_luminance(G, photo):
    grey = photo.pixels.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    grey_photo = type(photo)(np.repeat(np.rint(grey).astype(np.uint8)[:, :, None], 3, 2), None, None, "L", ())
    placement = Placement.default_for(grey_photo)
    config = restoration_config("grayscale", steps=4, starts=1, preview_every=10_000)
    detail = run_job(restore_photo(G, grey_photo, placement=placement, config=config))
    replaced = run_job(restore_photo(G, grey_photo, placement=placement, config=config, composite="replace"))
    box = placement.crop
    rows, cols = slice(box.y + 10, box.y + box.size - 10), slice(box.x + 10, box.x + box.size - 10)

    def luma_error(pixels: np.ndarray) -> float:
        return float(np.abs(pixels[rows, cols].astype(np.float32) @ np.array([0.299, 0.587, 0.114]) -
                            grey[rows, cols]).mean())

    assert luma_error(detail.photo) < 2.0 < luma_error(replaced.photo)  # only colour was added
    chroma = detail.photo[rows, cols].astype(np.float32).std(axis=2).mean()
    assert chroma > 1.0  # and colour was added


def test_the_detail_measure_sees_a_blur():
    rng = np.random.default_rng(0)
    sharp = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    blurred = ((sharp[:-1].astype(np.uint16) + sharp[1:]) // 2).astype(np.uint8)
    box = CropBox(0, 0, 60)
    assert detail_kept(sharp, sharp, box) == 1.0
    assert high_frequency_energy(blurred, box) < 0.6 * high_frequency_energy(sharp, box)
    with pytest.raises(InvalidInputError, match="flat"):
        detail_kept(np.zeros_like(sharp), sharp, box)


def test_a_reference_of_another_shape_is_refused(photo):
    image = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(InvalidInputError, match="reference"):
        Placement.default_for(photo).composite(photo.pixels, image, reference=np.zeros((32, 32, 3), np.uint8))
