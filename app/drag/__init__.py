"""Drag editing (DragGAN) in the editor: points on the canvas, the Drag panel, the run on the engine."""
