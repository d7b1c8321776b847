"""The training dialogs' questions: "Stop training?" before closing on a running training (θ's and the encoder's,
with :class:`AsksBeforeClosing`), and "Use this θ?" once θ finishes (a θ never replaces the session's without the
user's yes).

Each is a real QMessageBox, built here and opened by the dialog, which emits it first (``asking``) so a scripted
session or a test can answer it the way ``app.document.unsaved`` does.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

from core.landscape import TrainingOutcome
from core.resources import resources_dir

Button = QMessageBox.StandardButton
STOP_AND_CLOSE = "Stop and close"
KEEP_TRAINING = "Keep training"


def theta_name(folder: str | None) -> str:
    """How the dialog names the θ in use (``TrainingController.in_use``): the shipped one, its folder, or none."""
    if folder is None:
        return "no θ (the landscape method falls back to the direct method)"
    return "the shipped θ" if Path(folder).resolve().is_relative_to(resources_dir().resolve()) else str(folder)


def gate_summary(gate: dict) -> str:
    """"θ 20.50 dB at 10 steps, +2.28 ± 0.09 over the closest baseline; …; training learned +0.02 ± 0.04 dB at 10
    steps" from the gate's paired figures (the baselines it must beat: the identity mapping, and the direct
    method for a θ that descends its own way); a verdict saved before paired figures existed shows its means."""
    figures = gate.get("psnr", {})
    theta = figures.get("theta", {})
    pairs = gate.get("paired", {})
    parts = []
    for budget, value in theta.items():
        if pairs:
            closest = min((d[budget] for d in pairs.values()), key=lambda d: d["mean"])
            parts.append(f"θ {value:.2f} dB at {budget} steps, {closest['mean']:+.2f} ± {closest['se']:.2f} over the "
                         "closest baseline")
        else:
            baseline = max(v[budget] for k, v in figures.items() if k != "theta")
            parts.append(f"θ {value:.2f} vs baseline {baseline:.2f} dB at {budget} steps")
    learned = gate.get("learned_gain", {})
    if learned:
        parts.append("training learned " + ", ".join(f"{d['mean']:+.2f} ± {d['se']:.2f} dB at {b} steps"
                                                    for b, d in learned.items()))
    return "; ".join(parts)


THETA_STOP = ("θ is still training.", "Stop it and close? Training stops after the current iteration; its checkpoint "
              "is kept (Resume continues it), no θ is written and the θ in use stays as it is.")


def stop_question(parent: QWidget, words: tuple[str, str] = THETA_STOP) -> QMessageBox:
    """Closing while something trains: stop it and close, or keep training (the default, and what Escape answers).
    ``words``: what is training, and what stopping keeps."""
    box = QMessageBox(QMessageBox.Icon.Question, "Stop training?", words[0], parent=parent)
    box.setInformativeText(words[1])
    box.addButton(STOP_AND_CLOSE, QMessageBox.ButtonRole.AcceptRole)
    keep = box.addButton(KEEP_TRAINING, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(keep)
    box.setEscapeButton(keep)
    return box


class AsksBeforeClosing:
    """For a training dialog (a QDialog with an ``asking`` signal, a ``training`` controller and ``stop()``):
    Escape and closing the window ask first while it trains — stop and close, or keep training with the dialog open
    — rather than close on a training that goes on unseen. ``stop_words`` is the question's wording."""

    stop_words: tuple[str, str] = THETA_STOP

    def reject(self) -> None:
        if self.training.running:  # type: ignore[attr-defined]
            box = stop_question(self, self.stop_words)  # type: ignore[arg-type]
            self.ask(box)
            clicked = box.clickedButton()
            if clicked is None or clicked.text() != STOP_AND_CLOSE:
                return
            self.stop()  # type: ignore[attr-defined]
        super().reject()  # type: ignore[misc]

    def ask(self, box: QMessageBox) -> int:
        """Open ``box`` (modal) after announcing it on ``asking``; its answer (``exec``'s value)."""
        self.asking.emit(box)  # type: ignore[attr-defined]
        return box.exec()


def use_question(parent: QWidget, outcome: TrainingOutcome, in_use: str | None) -> QMessageBox:
    """A finished run: "Use this θ?" (Yes / No) when it passed the gate; else a notice that it cannot be used
    (``find_mapping`` refuses a θ that did not pass), with the gate's reason."""
    summary, now = gate_summary(outcome.gate), theta_name(in_use)
    if outcome.ready:
        box = QMessageBox(QMessageBox.Icon.Question, "Use this θ?",
                          f"The new θ passed the gate ({summary}).", Button.Yes | Button.No, parent)
        instead = f", instead of {now}" if in_use is not None else ""
        keeps = now if in_use is not None else "the direct fallback"
        box.setInformativeText(f"Use it from now on for every method that descends through θ{instead}? "
                               f"It is saved in {outcome.folder}; No keeps {keeps} (Use this θ applies it later).")
        box.setDefaultButton(Button.Yes)
        box.setEscapeButton(Button.No)
        return box
    box = QMessageBox(QMessageBox.Icon.Warning, "θ did not pass the gate",
                      f"The new θ did not pass the gate ({summary}): {outcome.gate.get('reason', '')}.",
                      Button.Ok, parent)
    box.setInformativeText(f"It is saved in {outcome.folder} but cannot be used: only a θ that passes is. "
                           f"The θ in use stays {now}.")
    return box
