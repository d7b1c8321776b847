"""File → Export Animation…: the dialog and the presenter that runs the export on the engine thread."""
