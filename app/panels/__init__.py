"""panels of the desktop editor."""
