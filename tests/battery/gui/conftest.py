"""GUI cases of the battery run on the same real main window as the app tests."""

from tests.app.conftest import window  # noqa: F401  (the fixture, shared)
