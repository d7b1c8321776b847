"""widgets of the desktop editor."""
