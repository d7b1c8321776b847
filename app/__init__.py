"""Landscape Studio's desktop GUI (PySide6 + pyqtgraph). Imports core, never the reverse."""
