"""Drag editing (DragGAN): move points of a generated or inverted face to where they should be."""

from core.drag.points import MAX_POINTS, DragPoint, check_points, parse_points, read_mask, read_points_file
from core.drag.session import DragProgress, DragResult, DragSettings, drag_job

__all__ = ["MAX_POINTS", "DragPoint", "DragProgress", "DragResult", "DragSettings", "check_points", "drag_job",
           "parse_points", "read_mask", "read_points_file"]
