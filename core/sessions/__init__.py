"""Sessions: the editable document and its versioned project file (``.lsproj``), saved atomically."""

from core.sessions.document import Document, EditedDirection, sha256_hex
from core.sessions.fill_layers import Fill
from core.sessions.migrations import CURRENT_SCHEMA, migrate
from core.sessions.store import PROJECT_SUFFIX, load_project, save_project

__all__ = ["CURRENT_SCHEMA", "PROJECT_SUFFIX", "Document", "EditedDirection", "Fill", "load_project", "migrate",
           "save_project", "sha256_hex"]
