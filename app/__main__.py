"""``landscape-studio [PHOTO]`` opens the editor; ``landscape-studio COMMAND …`` runs a headless command;
``landscape-studio --self-test [--out DIR]`` checks an installation (see ``app.self_test``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from core import cli  # light: the commands (and torch) load on first use, inside main()
from core.cli.exit_codes import settled

NO_DISPLAY = ("No display found, so the editor cannot open here. The same engine runs headless, e.g.:\n"
              "  landscape-studio invert PHOTO --out DIR\n"
              "(see landscape-studio --help; for a virtual screen, run under xvfb-run).")


def has_display() -> bool:
    """True where Qt can show a window: an X11/Wayland display, a chosen QPA platform, or a non-Linux desktop."""
    if not sys.platform.startswith("linux"):
        return True
    return any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def run_gui(argv: Sequence[str]) -> int:
    from PySide6.QtCore import QCoreApplication, QTimer
    from PySide6.QtWidgets import QApplication

    from app.document.controller import DocumentController
    from app.engine import configure_interpreter
    from app.file_open import FileOpenRelay
    from app.main_window import MainWindow
    from core.resources import sample_photos

    configure_interpreter()
    QCoreApplication.setOrganizationName("Landscape Studio")
    QCoreApplication.setApplicationName("Landscape Studio")
    app = QApplication.instance() or QApplication([sys.argv[0]])
    controller = DocumentController()
    window = MainWindow(controller)
    relay = FileOpenRelay(window.open_path, app)  # macOS hands documents over as events (app.file_open)
    app.installEventFilter(relay)
    window.show()
    # unsaved work of an editor that did not exit cleanly is offered first; recovered, it replaces the start photo
    if argv:
        QTimer.singleShot(0, lambda: window.recovery.offer(lambda: window.open_path(argv[0])))
    else:  # the sample, unless the desktop handed over a file meanwhile (macOS sends it just after start-up)
        sample = str(sample_photos()[0])
        delay_ms = 300 if sys.platform == "darwin" else 0

        def open_sample() -> None:
            if not relay.received:
                window.open_path(sample)

        QTimer.singleShot(delay_ms, lambda: window.recovery.offer(open_sample))
    # the model chosen last time (or the offer of the photoreal one) once the start photo is open
    QTimer.singleShot(100, lambda: window.models.start(window.canvas.viewport()))
    return app.exec()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        commands = cli.COMMANDS  # imports the engine (torch): most of the start-up time
    except KeyboardInterrupt:  # Ctrl-C while starting: one line, like Ctrl-C during a command
        print("interrupted", file=sys.stderr)
        return settled(cli.EXIT_INTERRUPTED)
    if "--self-test" in args:
        from app import self_test

        return self_test.main(args)
    if args and (args[0] in commands or args[0].startswith("-")):
        return settled(cli.main(args))
    if len(args) > 1:
        print("error: give at most one photo to open (or a command: see landscape-studio --help)", file=sys.stderr)
        return cli.EXIT_BAD_INPUT
    if not has_display():
        print(NO_DISPLAY, file=sys.stderr)
        return cli.EXIT_BAD_INPUT
    return run_gui(args)


if __name__ == "__main__":
    sys.exit(main())
