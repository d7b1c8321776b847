"""Typed errors raised by the engine.

Every error carries a plain-language message meant to be shown to a person as is (the CLI prints it on one
line, the GUI in a dialog), so messages say what went wrong and what to do, never a stack trace.
"""

from __future__ import annotations


class CoreError(Exception):
    """Base of every error the engine raises on purpose."""


class ImageLoadError(CoreError):
    """A photo or mask could not be read (missing, not an image, corrupt, too large)."""


class ImageSaveError(CoreError):
    """An image or file could not be written (no permission, disk full, unsupported format)."""


class ModelLoadError(CoreError):
    """A generator checkpoint is missing, malformed, unsafe or of an unknown architecture."""


class PerceptualUnavailableError(CoreError):
    """LPIPS cannot run because its shipped weights file is missing or damaged (the message names the file and how
    to restore it)."""


class InvalidInputError(CoreError):
    """An argument or setting is out of range or inconsistent (bad crop box, mask size, NaN in a latent, …)."""


class CancelledError(CoreError):
    """A job was cancelled before it produced anything worth keeping."""


class NoFaceFoundError(CoreError):
    """Automatic alignment found no face in the photo (or not the one asked for)."""


class IdentityUnavailableError(CoreError):
    """The face-identity network's weights are missing or damaged (the message names the file and the fix)."""
