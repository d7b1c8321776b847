"""Photo-level jobs: each returns the photo with its result composited, and the rules every caller shares (which θ
a run uses, where a slice is centred) hold through the job itself and through the CLI that runs it."""

import json

import numpy as np
import pytest

from core.cli import main
from core.directions import Direction
from core.generators import load_generator
from core.imageio import load_photo
from core.inpainting import InpaintConfig
from core.inversion import InversionConfig, restoration_config
from core.jobs import run_job
from core.landscape import SliceConfig
from core.photo_jobs import (
    edit_photo,
    edited_latent,
    inpaint_photo,
    invert_photo,
    restore_photo,
    slice_photo,
    with_session_theta,
)
from core.placement import Placement
from core.resources import sample_photos
from core.theta import shipped_mapping_dir

SAMPLE = sample_photos()[0]
FAST = InversionConfig(steps=3, preview_every=10_000).with_changes(loss_lpips=0.0)


@pytest.fixture(scope="module")
def G():
    return load_generator("default", "cpu")


@pytest.fixture(scope="module")
def photo():
    return load_photo(SAMPLE)


def _outside(pixels: np.ndarray, box) -> np.ndarray:
    keep = np.ones(pixels.shape[:2], bool)
    keep[box.y:box.y + box.size, box.x:box.x + box.size] = False
    return pixels[keep]


def test_invert_photo_returns_the_photo_with_the_result_composited(G, photo):
    placement = Placement.default_for(photo)
    done = run_job(invert_photo(G, photo, placement=placement, config=FAST, feather=0.05, composite="replace"))
    assert done.photo.shape == photo.pixels.shape and done.target.shape == (G.resolution, G.resolution, 3)
    assert np.array_equal(done.photo, placement.composite(photo.pixels, done.result.best_image, feather=0.05))
    assert np.array_equal(_outside(done.photo, placement.crop), _outside(photo.pixels, placement.crop))
    assert done.masked_fraction == 0.0


def test_the_session_theta_applies_to_every_method_unless_the_run_names_one():
    assert with_session_theta(FAST, None) is FAST
    assert with_session_theta(FAST, "/a").landscape == "/a"
    assert with_session_theta(FAST.with_changes(method="hybrid"), "/a").landscape == "/a"
    assert with_session_theta(FAST.with_changes(landscape="/own"), "/a").landscape == "/own"


def test_invert_photo_descends_through_the_session_theta(G, photo, tmp_path):
    placement = Placement.default_for(photo)
    shipped = str(shipped_mapping_dir(G))
    done = run_job(invert_photo(G, photo, placement=placement, config=FAST.with_changes(method="landscape"),
                                theta=shipped))
    assert done.result.config.landscape == shipped
    missing = str(tmp_path / "no-theta")  # a θ that is not there is really looked for, whatever the method
    hybrid = run_job(invert_photo(G, photo, placement=placement, config=FAST.with_changes(method="hybrid",
                                                                                          refine="landscape"),
                                  theta=missing))
    assert hybrid.result.config.refine == "direct" and any(missing in w for w in hybrid.result.warnings)
    landscape = run_job(invert_photo(G, photo, placement=placement, config=FAST.with_changes(method="landscape"),
                                     theta=missing))
    assert any(missing in w for w in landscape.result.warnings)  # said so, and inverted directly


def test_the_cli_applies_its_theta_to_hybrid_too(tmp_path):
    missing = str(tmp_path / "no-theta")
    assert main(["invert", str(SAMPLE), "--method", "hybrid", "--refine", "landscape", "--steps", "2",
                 "--landscape", missing, "--quiet", "--out", str(tmp_path / "out")]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["settings"]["landscape"] == missing and any(missing in w for w in report["warnings"])


def test_edit_photo_moves_the_latent_and_changes_only_the_square(G, photo):
    placement = Placement.default_for(photo)
    latent = G.sample_latent(1, 3)[0].numpy()
    vector = np.zeros(latent.shape, np.float32)
    vector[0] = 1.0
    smile = Direction(name="axis0", vector=vector, space=G.default_space, model_id=G.model_id, method="test")
    done = run_job(edit_photo(G, photo, placement=placement, latent=latent, edits=[(smile, 2.0)]))
    assert np.allclose(done.latent - latent, 2.0 * smile.scale * vector, atol=1e-6)
    assert np.array_equal(_outside(done.photo, placement.crop), _outside(photo.pixels, placement.crop))


def test_inpaint_photo_fills_only_the_mask_and_ranks_candidates(G, photo):
    placement = Placement.default_for(photo)
    box = placement.crop
    mask = np.zeros((photo.height, photo.width), np.uint8)
    mask[box.y + 40:box.y + 80, box.x + 30:box.x + 90] = 255
    done = run_job(inpaint_photo(G, photo, placement=placement, mask=mask,
                                 config=InpaintConfig(candidates=2, steps=3, preview_every=10_000)))
    assert np.array_equal(done.photo[mask == 0], photo.pixels[mask == 0])
    assert np.array_equal(done.filled(1)[mask == 0], photo.pixels[mask == 0])
    assert done.result.fit[0] <= done.result.fit[1] and done.warnings == list(done.result.warnings)
    outside = np.zeros_like(mask)
    outside[:5, :5] = 255  # far from the face box: nothing to fill there
    with pytest.raises(Exception, match="marks nothing"):
        run_job(inpaint_photo(G, photo, placement=placement, mask=outside, config=InpaintConfig(steps=1)))


def test_restore_photo_scores_the_observation(G, photo):
    placement = Placement.default_for(photo)
    config = restoration_config("grayscale", steps=3, starts=2, preview_every=10_000)
    done = run_job(restore_photo(G, photo, placement=placement, config=config))
    assert done.observation.shape[:2] == (G.resolution, G.resolution) and len(done.observation_psnr) == 2
    assert np.array_equal(_outside(done.photo, placement.crop), _outside(photo.pixels, placement.crop))


def test_a_slice_in_x_is_centred_on_the_runs_best_latent(G, photo):
    placement = Placement.default_for(photo)
    done = run_job(slice_photo(G, photo, placement=placement, inversion=FAST.with_changes(steps=4),
                               config=SliceConfig(grid=3, space="x")))
    assert np.array_equal(done.slice.center, done.inversion.best_latent)


def test_the_cli_slices_around_the_same_centre_as_the_job(G, photo, tmp_path):
    out = tmp_path / "slice"
    assert main(["slice", str(SAMPLE), "--grid", "3", "--steps", "4", "--lpips", "0", "--quiet",
                 "--out", str(out)]) == 0
    saved = np.load(out / "slice.npz")["center"]
    done = run_job(slice_photo(G, photo, placement=Placement.default_for(photo),
                               inversion=InversionConfig(steps=4).with_changes(loss_lpips=0.0),
                               config=SliceConfig(grid=3, space="x")))
    assert np.allclose(saved, done.inversion.best_latent, atol=1e-6)


def test_a_layer_limited_edit_of_a_w_code_moves_only_those_layers(tiny_stylegan2):
    """The rule the editor's sliders and the CLI's ``edit`` share: w becomes w+ first, only the chosen rows move."""
    G = tiny_stylegan2
    w = G.sample_latent(1, 0, "w")[0].numpy()  # [w_dim]
    vector = np.ones(w.shape, np.float32) / np.sqrt(w.size)
    coarse = Direction(name="coarse", vector=vector, space="w", model_id=G.model_id, method="test", layers=(0, 2))
    moved, space = edited_latent(G, w, [(coarse, 1.0)], "w")
    assert space == "w+" and moved.shape == (G.num_ws, w.size)
    assert not np.allclose(moved[:2], w) and np.allclose(moved[2:], w)
    same, same_space = edited_latent(G, w, [], "w")
    assert same_space == "w" and np.array_equal(same, w)
