import numpy as np
import pytest
import torch

from core.device import available_devices, from_uint8_hwc, pick_device, to_uint8_hwc
from core.errors import InvalidInputError


def test_auto_picks_the_best_available_device():
    assert available_devices()[-1] == "cpu"
    assert pick_device("auto").type == available_devices()[0]


def test_a_missing_device_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(InvalidInputError, match="not available here"):
        pick_device("cuda")


def test_uint8_round_trip_is_exact():
    pixels = np.random.default_rng(0).integers(0, 256, size=(2, 5, 7, 3), dtype=np.uint8)
    x = from_uint8_hwc(pixels)
    assert x.shape == (2, 3, 5, 7) and x.min() >= -1 and x.max() <= 1
    assert np.array_equal(to_uint8_hwc(x), pixels)
    assert to_uint8_hwc(x[0]).shape == (5, 7, 3)


def test_non_rgb_pixels_are_refused():
    with pytest.raises(InvalidInputError):
        from_uint8_hwc(np.zeros((4, 4), dtype=np.uint8))
