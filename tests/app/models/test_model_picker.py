"""Choosing a model: File → Choose Model… lists the embedded and the FFHQ model (resolution, speed here, licence,
status), switches to FFHQ, remembers the choice for the next start, offers FFHQ once at the first start, and keeps
the embedded model when the FFHQ install is damaged. On FFHQ a photo inverts and exports at its own size with the
face rendered at 1024 px."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QLabel

from app.document.controller import DocumentController
from app.document.projects import check_project_model
from app.inversion.panel import FFHQ_DEFAULTS
from app.main_window import MainWindow
from app.models.picker import row_texts
from app.models.presenter import CHOICE_KEY, OFFERED_KEY
from core.errors import InvalidInputError
from core.generators import DEFAULT_MODEL
from core.generators.ffhq_install import DATA_FILES, FFHQ_MODEL, find_data, user_install_dir
from core.inversion import InversionConfig
from core.resources import resources_dir

WAIT_MS = 600_000  # generous: waits end on the work's own signal; this only ends a hang
INSTALLED = find_data()
needs_ffhq = pytest.mark.skipif(INSTALLED is None, reason="the FFHQ model (random-face) is not installed here")


def open_picker(qtbot, win):
    action = next(a for a in win.all_actions() if a.text().replace("&", "") == "Choose Model…")
    with qtbot.waitSignal(win.controller.engine.job_ended, timeout=WAIT_MS,
                          check_params_cb=lambda job: job == "model-catalog"):
        action.trigger()
    return win.models.picker


def rows(picker):
    return {e.key: e for e in picker.entries}


def test_the_picker_lists_both_models_with_their_licences(window, qtbot):
    picker = open_picker(qtbot, window)
    entries = rows(picker)
    assert list(entries) == [DEFAULT_MODEL, FFHQ_MODEL]
    texts = row_texts(entries[DEFAULT_MODEL], picker.current)
    assert "(in use)" in texts[0] and texts[1] == "64 px" and texts[4] == "commercial"
    ffhq = row_texts(entries[FFHQ_MODEL], picker.current)
    assert ffhq[1] == "1024 px" and ffhq[2] == "256 px" and ffhq[4] == "non-commercial"
    assert entries[FFHQ_MODEL].ready == (INSTALLED is not None)
    picker.table.selectRow(1)
    assert "Non-commercial" in picker.licence.text() or "non-commercial" in picker.licence.text()
    assert picker.use_button.isEnabled() == (INSTALLED is not None)
    picker.table.selectRow(0)
    assert not picker.use_button.isEnabled()  # the model in use


@needs_ffhq
def test_loading_ffhq_by_its_short_name_gives_its_defaults_too(window, qtbot):
    """"ffhq" (the command line's name for it) is the same catalog model: its defaults and the remembered choice;
    its coarse steps are offered (the embedded model has no coarse image, so the row is hidden there)."""
    panel = window.inversion_panel
    assert not panel.form.isRowVisible(panel.coarse_steps)
    with qtbot.waitSignal(window.models.models.model_loaded, timeout=WAIT_MS):
        window.models.load("ffhq")
    assert window.models.current_key() == FFHQ_MODEL
    config = panel.config()
    assert (config.steps, config.tune_steps, config.pivot) == (FFHQ_DEFAULTS.steps, FFHQ_DEFAULTS.tune_steps, "direct")
    assert config.coarse_steps == FFHQ_DEFAULTS.coarse_steps > 0 and panel.form.isRowVisible(panel.coarse_steps)
    assert window.settings.value(CHOICE_KEY) == FFHQ_MODEL


@needs_ffhq
def test_choosing_ffhq_switches_and_is_remembered(window, qtbot, tmp_path):
    picker = open_picker(qtbot, window)
    picker.table.selectRow(1)
    with qtbot.waitSignal(window.models.models.model_loaded, timeout=WAIT_MS) as loaded:
        picker.use_button.click()
    info = loaded.args[0]
    assert info.architecture == "MobileStyleGAN" and info.resolution == 256 and "w+" in info.spaces
    assert window.settings.value(CHOICE_KEY) == FFHQ_MODEL
    config = window.inversion_panel.config()  # FFHQ's own defaults: a pivot from direct steps (no encoder yet)
    assert (config.method, config.pivot, config.steps) == ("pivotal", "direct", FFHQ_DEFAULTS.steps)
    assert "ffhq" in window.models.label.text().lower()
    # the next start loads it again, once the start photo is open
    controller = DocumentController()
    win = MainWindow(controller, QSettings(window.settings.fileName(), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.models.models.model_loaded, timeout=WAIT_MS):
        win.models.start(win.canvas.viewport())
    assert win.controller.model_name == FFHQ_MODEL
    controller.shutdown()


@needs_ffhq
def test_the_first_start_offers_ffhq_once(window, qtbot):
    assert not window.settings.contains(CHOICE_KEY)
    with qtbot.waitSignal(window.controller.engine.job_ended, timeout=WAIT_MS,
                          check_params_cb=lambda job: job == "ffhq-offer"):
        window.models.start(window.canvas.viewport())
    offer = window.models.offer
    assert offer is not None and offer.isVisible() and window.settings.value(OFFERED_KEY, False, bool)
    assert any("non-commercial" in label.text() for label in offer.findChildren(QLabel))
    with qtbot.waitSignal(window.models.models.model_loaded, timeout=WAIT_MS):
        offer.use_button.click()
    assert not offer.isVisible() and window.controller.model_name == FFHQ_MODEL
    window.models.offer = None
    window.models.start(window.canvas.viewport())  # a later start: chosen, so no second offer
    assert window.models.offer is None


@needs_ffhq
def test_a_damaged_install_is_a_message_and_the_embedded_model_stays(window, qtbot):
    folder = user_install_dir()  # the user's own install comes first: damage that one
    folder.mkdir(parents=True)
    assert INSTALLED is not None
    for name in DATA_FILES:
        shutil.copyfile(INSTALLED / name, folder / name)
    data = (folder / "SynthesisNetwork.bin").read_bytes()
    (folder / "SynthesisNetwork.bin").write_bytes(data[: len(data) // 3])
    picker = open_picker(qtbot, window)
    assert not rows(picker)[FFHQ_MODEL].ready and "damaged" in rows(picker)[FFHQ_MODEL].status
    with qtbot.waitSignal(window.controller.error_raised, timeout=WAIT_MS) as blocker:
        window.models.load(FFHQ_MODEL)  # what a remembered choice does at start
    message = blocker.args[0]
    assert "SynthesisNetwork.bin" in message and "damaged" in message and "stays in use" in message
    assert window.controller.model_name == "default"


@needs_ffhq
def test_a_photo_inverts_and_exports_at_full_resolution_on_ffhq(window, qtbot, tmp_path):
    big = tmp_path / "astronaut_2048.png"  # a photo whose face square is larger than the 256-px working image
    Image.open(resources_dir() / "samples" / "astronaut.png").convert("RGB").resize((2048, 2048)).save(big)
    with qtbot.waitSignal(window.controller.photo_opened, timeout=WAIT_MS):
        window.open_path(big)
    with qtbot.waitSignal(window.models.models.model_loaded, timeout=WAIT_MS):
        window.models.load(FFHQ_MODEL)
    # the first step on the coarse image (its layer fitted now, ≈ 10 s), the last on the exact one
    window.inversion_panel.set_config(InversionConfig(method="direct", steps=2, starts=1, coarse_steps=1)
                                      .with_changes(loss_lpips=0))
    with qtbot.waitSignal(window.controller.result_applied, timeout=WAIT_MS):
        window.inversion_panel.run_button.click()
    adopted = window.controller.adopted
    assert adopted is not None and adopted.image.shape[:2] == (256, 256)
    assert window.progress_panel.plot.phases() == [(0.0, "coarse image →"), (1.0, "exact image →")]
    with qtbot.waitSignal(window.controller.engine.job_ended, timeout=WAIT_MS,
                          check_params_cb=lambda job: job == "composite"):
        assert window.controller.set_composite("replace")  # the model's face itself (detail mode adds only edits)
    out = tmp_path / "export.png"
    with qtbot.waitSignal(window.controller.engine.job_ended, timeout=WAIT_MS,
                          check_params_cb=lambda job: job == "export"):
        assert window.controller.export(out)
    photo = np.asarray(Image.open(big))
    exported = np.asarray(Image.open(out).convert("RGB"))
    assert exported.shape == photo.shape
    assert np.abs(exported.astype(int) - photo.astype(int)).max() > 8  # the model's face replaced the photo's
    # the export is the composite of the 1024-px render, not of the 256-px working image scaled up
    full, working = window.controller.composite_photo(full=True), window.controller.composite_photo()
    assert full is not None and working is not None
    full_pixels, working_pixels = full(), working()
    assert np.abs(exported.astype(int) - full_pixels.astype(int)).max() <= 1
    assert np.abs(full_pixels.astype(int) - working_pixels.astype(int)).max() > 8


def test_a_project_of_the_other_catalog_model_says_which_to_choose():
    check_project_model("", "dcgan-digiface@a917c98bc5d0138f")  # no result yet: any model opens it
    check_project_model("dcgan-digiface@a917c98bc5d0138f", "dcgan-digiface@a917c98bc5d0138f")
    check_project_model("ffhq-mobilestylegan@c7da15fa22d508c8", "ffhq-mobilestylegan@0123456789abcdef")  # reinstalled
    check_project_model("tiny@0123", "dcgan-digiface@a917c98bc5d0138f")  # a user's own file keeps today's rule
    with pytest.raises(InvalidInputError, match=r"photoreal FFHQ model, but the embedded \(DCGAN\) model is in use"):
        check_project_model("ffhq-mobilestylegan@c7da15fa22d508c8", "dcgan-digiface@a917c98bc5d0138f")
    with pytest.raises(InvalidInputError, match=r"embedded \(DCGAN\) model, but the photoreal FFHQ"):
        check_project_model("dcgan-digiface@a917c98bc5d0138f", "ffhq-mobilestylegan@c7da15fa22d508c8")


@needs_ffhq
def test_switching_model_aligns_the_photo_to_the_new_models_framing(window, qtbot):
    window.settings.setValue("prefs/align_on_open", True)
    with qtbot.waitSignal(window.controller.alignment_changed, timeout=WAIT_MS,
                          check_params_cb=lambda alignment: alignment is not None):
        window.models.load(FFHQ_MODEL)
    assert window.controller.alignment.resolution == 256
