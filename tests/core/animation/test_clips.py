"""Edit, walk and progress clips of the embedded model, rendered, composited into a real photo and written."""

from __future__ import annotations

import numpy as np
import pytest

from core.animation import ClipTiming, Sweep, backdrop_for, progress_latents, sweep_latents, walk_latents
from core.animation import write_animation as write
from core.directions.recipes import standard_libraries
from core.errors import InvalidInputError
from core.generators import load_generator
from core.imageio import load_photo
from core.jobs import CancelToken, run_job
from core.photo_jobs import edited_latent, placement_for
from core.resources import resources_dir
from tests.core.animation.video import read_mp4

SAMPLE = resources_dir() / "samples" / "astronaut.png"


@pytest.fixture(scope="module")
def G():
    return load_generator("default", "cpu")


def test_an_edit_clip_starts_on_the_photo_and_changes_only_the_face(G, tmp_path):
    photo = load_photo(SAMPLE)
    placement = placement_for(photo, G)
    latent = G.sample_latent(1, 3)[0].numpy()
    age = standard_libraries(G, None)[0].get("age")
    timing = ClipTiming(fps=10, seconds=0.6, easing="linear")
    latents, space = sweep_latents(G, latent, None, [Sweep(age, 0.0, 3.0)], timing)
    np.testing.assert_allclose(latents[-1], edited_latent(G, latent, [(age, 3.0)])[0], atol=1e-6)  # the sliders' rule
    backdrop = backdrop_for(G, photo.pixels, placement, latent=latent, space=space, composite="detail", feather=0.08)
    result = run_job(write(G, latents, space, path=tmp_path / "age.mp4", fps=timing.fps, compose=backdrop.compose,
                           source_size=backdrop.size))
    assert result.frames == 6 and result.size == (photo.width, photo.height) and not result.cancelled
    shown = read_mp4(tmp_path / "age.mp4").frames
    assert len(shown) == 6
    assert np.abs(shown[0].astype(int) - photo.pixels).mean() < 2.5  # amount 0: the photo itself (codec noise)
    x, y, side = placement.crop.x, placement.crop.y, placement.crop.size
    outside = np.ones(photo.pixels.shape[:2], bool)
    outside[y:y + side, x:x + side] = False
    change = np.abs(shown[-1].astype(int) - photo.pixels).mean(axis=2)
    assert change[~outside].mean() > 3 * change[outside].mean()  # the face aged; the rest is the photo


def test_a_walk_passes_through_its_keyframes(G):
    keys = [G.sample_latent(1, s)[0].numpy() for s in (0, 1, 2)]
    walk = walk_latents(G, keys, None, ClipTiming(fps=10, seconds=2))
    np.testing.assert_allclose(walk[0], keys[0], atol=1e-5)
    np.testing.assert_allclose(walk[-1], keys[2], atol=1e-5)
    assert min(np.abs(w - keys[1]).max() for w in walk) < 1e-5  # the middle keyframe is a frame of its own
    with pytest.raises(InvalidInputError, match="Keyframe 2"):
        walk_latents(G, [keys[0], keys[1][:50]], None, ClipTiming())


def test_progress_plays_the_path_in_order():
    path = [np.full(3, float(i), np.float32) for i in range(11)]
    frames = progress_latents(path, ClipTiming(fps=10, seconds=2, easing="linear"))
    steps = [int(f[0]) for f in frames]
    assert steps[0] == 0 and steps[-1] == 10 and steps == sorted(steps)
    with pytest.raises(InvalidInputError, match="2 recorded steps"):
        progress_latents(path[:1], ClipTiming())


def test_a_cancelled_clip_writes_nothing(G, tmp_path):
    token = CancelToken()
    latents = [G.sample_latent(1, s)[0].numpy() for s in range(20)]
    job = write(G, latents, None, path=tmp_path / "walk.gif", fps=10, cancel=token)
    assert next(job).frame == 0
    assert next(job).frame == 8
    token.cancel()
    result = run_job(job)
    assert result.cancelled and result.path is None and result.frames == 8
    assert list(tmp_path.iterdir()) == []
