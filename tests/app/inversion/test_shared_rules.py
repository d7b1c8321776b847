"""The editor follows the photo jobs' rules, as the CLI does: a θ trained in this session serves every method that
descends through θ (Run and Compare Methods alike), and a loss slice in X is centred on the run's best latent."""

import numpy as np

from core.imageio import load_photo
from core.inversion import InversionConfig
from core.jobs import run_job
from core.landscape import SliceConfig
from core.photo_jobs import slice_photo
from core.theta import shipped_mapping_dir
from tests.app.conftest import SAMPLE

WAIT_MS = 600_000  # generous: waits end on the work's own signal; this only ends a hang


def _session_theta(window) -> str:
    folder = str(shipped_mapping_dir(window.controller.model("cpu")))
    window.controller.use_theta(folder)  # as a θ that passed the gate in the Train Landscape dialog
    return folder


def test_run_uses_the_session_theta_for_every_method(qtbot, window):
    folder = _session_theta(window)
    panel = window.inversion_panel
    panel.steps.setValue(2)
    panel.lpips.setValue(0.0)
    for method in ("direct", "hybrid"):
        panel.method.setCurrentText(method)
        with qtbot.waitSignal(window.controller.result_applied, timeout=WAIT_MS):
            window.run_inversion()
        assert window.controller.adopted.result.config.landscape == folder, method


def test_compare_methods_uses_the_same_theta(qtbot, window):
    from app.inversion.compare_controller import CompareController

    folder = _session_theta(window)
    compare = CompareController(window.controller)
    config = InversionConfig(steps=2, preview_every=10_000).with_changes(loss_lpips=0.0)
    with qtbot.waitSignal(compare.finished, timeout=WAIT_MS) as done:
        assert compare.compare(["direct"], config, "cpu")
    assert done.args[0].config.landscape == folder


def test_the_x_slice_is_centred_where_the_cli_centres_it(qtbot, window):
    landscape = window.landscape.landscape
    with qtbot.waitSignal(landscape.finished, timeout=WAIT_MS) as done:
        assert landscape.compute(SliceConfig(grid=3), steps=4, device="cpu")
    gui = done.args[0]["x"]
    photo = load_photo(SAMPLE)
    same = run_job(slice_photo(window.controller.model("cpu"), photo, placement=window.controller.placement,
                               inversion=InversionConfig(steps=4, starts=1).with_changes(loss_lpips=0.0),
                               config=SliceConfig(grid=3, space="x")))
    assert np.allclose(gui.center, same.inversion.best_latent, atol=1e-5)
