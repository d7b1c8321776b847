"""Clip files: real H.264 MP4s (read back through the same FFmpeg libraries) and GIFs, written all or nothing."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.animation import ClipWriter, frame_size
from core.errors import ImageSaveError, InvalidInputError
from tests.core.animation.video import read_mp4


def frames(n: int, size: tuple[int, int]) -> list[np.ndarray]:
    w, h = size
    ramp = np.linspace(0, 1, w)[None, :, None]
    return [np.broadcast_to((ramp * np.array([255, 40 + 20 * i, 255 - 25 * i])).astype(np.uint8), (h, w, 3)).copy()
            for i in range(n)]


def test_an_mp4_holds_every_frame_at_its_size_and_rate(tmp_path):
    shown = frames(8, (48, 32))
    with ClipWriter(tmp_path / "clip.mp4", fps=12, size=(48, 32)) as writer:
        for frame in shown:
            writer.add(frame)
        path = writer.finish()
    video = read_mp4(path)
    assert video.fps == 12 and video.size == (48, 32) and video.codec == "h264"
    back = video.frames
    assert len(back) == 8
    for a, b in zip(shown, back, strict=True):
        assert np.abs(a.astype(int) - b).mean() < 4  # x264 at crf 18
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


def test_a_gif_loops_at_its_frame_rate(tmp_path):
    with ClipWriter(tmp_path / "clip.gif", fps=25, size=(40, 30)) as writer:
        for frame in frames(5, (40, 30)):
            writer.add(frame)
        writer.finish()
    with Image.open(tmp_path / "clip.gif") as gif:
        assert gif.n_frames == 5 and gif.size == (40, 30)
        assert gif.info["duration"] == 40 and gif.info["loop"] == 0


@pytest.mark.parametrize("name", ["clip.mp4", "clip.gif"])
def test_a_clip_left_unfinished_leaves_the_old_file_and_nothing_else(tmp_path, name):
    target = tmp_path / name
    target.write_bytes(b"the previous clip")
    with pytest.raises(RuntimeError), ClipWriter(target, fps=10, size=(16, 16)) as writer:
        writer.add(frames(1, (16, 16))[0])
        raise RuntimeError("a frame failed to render")
    assert target.read_bytes() == b"the previous clip"
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_bad_targets_and_frames_are_refused_clearly(tmp_path):
    with pytest.raises(InvalidInputError, match=r"\.mp4 or \.gif"):
        ClipWriter(tmp_path / "clip.avi", fps=10, size=(16, 16))
    with pytest.raises(ImageSaveError, match="does not exist"):
        ClipWriter(tmp_path / "missing" / "clip.mp4", fps=10, size=(16, 16))
    with ClipWriter(tmp_path / "clip.mp4", fps=10, size=(16, 16)) as writer:
        with pytest.raises(InvalidInputError, match="uint8"):
            writer.add(np.zeros((16, 18, 3), np.uint8))
        with pytest.raises(InvalidInputError, match="at least one frame"):
            writer.finish()
    assert list(tmp_path.iterdir()) == []


def test_sizes_keep_the_aspect_and_are_even_for_h264():
    assert frame_size(4032, 3024, max_side=None, even=True) == (4032, 3024)
    assert frame_size(1001, 667, max_side=None, even=True) == (1000, 666)
    assert frame_size(1001, 667, max_side=None, even=False) == (1001, 667)
    assert frame_size(64, 64, max_side=512, even=True) == (512, 512)
    assert frame_size(8000, 6000, max_side=None, even=True) == (4096, 3072)  # H.264's largest frame
    with pytest.raises(InvalidInputError, match="between 16 and 4096"):
        frame_size(64, 64, max_side=8, even=True)
