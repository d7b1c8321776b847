"""The θ shipped for the default model: ready, and better than the direct method at 10 and 100 steps on held-out
faces."""

from core.device import from_uint8_hwc
from core.evaluation import held_out_faces
from core.inversion import InversionConfig, invert
from core.jobs import run_job
from core.metrics import psnr
from core.theta import find_mapping

MEASURED_AT_10 = 27.91  # dB, 32 held-out faces, shipped θ (trained from starts at the encoder's guess; direct
# default: 18.22)
MEASURED_AT_100 = 41.62  # dB, the first 16 of those faces (direct default: 27.15)


def _mean_psnr(G, targets, config):
    result = run_job(invert(G, targets, config))
    assert not result.warnings  # no fallback: the shipped θ was used
    return float(psnr(from_uint8_hwc(result.images), targets).mean())


def test_the_shipped_theta_is_ready_for_the_default_model(G):
    theta, meta = find_mapping(G)
    assert meta["ready"] and meta["gate"]["passed"] and meta["generator_id"] == G.model_id
    assert theta.config.horizon == meta["train"]["inner_steps"]
    assert theta.config.encoder_start > 0 and meta["gate"]["encoder_start_gain"]["10"]["mean"] > 0


def test_landscape_at_10_steps_beats_direct_at_10_steps(G):
    targets = held_out_faces(G, 32)
    base = InversionConfig(steps=10, starts=32, preview_every=1000).with_changes(loss_lpips=0.0)
    landscape = _mean_psnr(G, targets, base.with_changes(method="landscape"))
    direct = _mean_psnr(G, targets, base)
    assert landscape > direct
    assert landscape >= MEASURED_AT_10 - 0.05


def test_landscape_at_100_steps_beats_direct_at_100_steps(G):
    targets = held_out_faces(G, 16)  # the first 16 of the gate's 32
    base = InversionConfig(steps=100, starts=16, preview_every=1000).with_changes(loss_lpips=0.0)
    landscape = _mean_psnr(G, targets, base.with_changes(method="landscape"))
    direct = _mean_psnr(G, targets, base)
    assert landscape > direct + 4.0
    assert landscape >= MEASURED_AT_100 - 0.3
