"""views of the desktop editor."""
