"""Reading a written MP4 back, with the same FFmpeg libraries (PyAV) that wrote it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np


@dataclass(frozen=True)
class Video:
    fps: float
    codec: str
    size: tuple[int, int]
    frames: list[np.ndarray]  # uint8 [h, w, 3] each


def read_mp4(path: Path) -> Video:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
        return Video(float(stream.average_rate or 0), stream.codec_context.name, (stream.width, stream.height),
                     frames)
