"""Motion supervision and point tracking on feature maps whose answer is known: a shifted copy of a map."""

from __future__ import annotations

import torch

from core.drag.motion import (
    GRID,
    disc_offsets,
    grid_distances,
    keep_weights,
    patch_templates,
    sample_features,
    template_loss,
    track_patches,
)


def _features(seed: int = 0, side: int = GRID) -> torch.Tensor:
    """Smooth random features [1, 8, side, side] (blurred noise: distinct patches, no flat regions)."""
    g = torch.Generator().manual_seed(seed)
    noise = torch.randn(1, 8, side, side, generator=g)
    return torch.nn.functional.avg_pool2d(noise, 5, stride=1, padding=2)


def _shifted(features: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """The content moved by (dx, dy) pixels (right, down)."""
    return torch.roll(features, shifts=(dy, dx), dims=(2, 3))


def test_sampling_at_pixel_centres_reads_the_pixel():
    features = _features()
    points = torch.tensor([[(10 + 0.5) / GRID, (20 + 0.5) / GRID], [(200 + 0.5) / GRID, (3 + 0.5) / GRID]])
    torch.testing.assert_close(sample_features(features, points), features[0, :, [20, 3], [10, 200]].T)


def test_disc_holds_the_offsets_within_the_radius():
    disc = disc_offsets(3.0) * GRID
    assert len(disc) == 29 and float(disc.norm(dim=1).max()) <= 3.0  # 29 integer points lie within radius 3
    assert {(0.0, 0.0), (3.0, 0.0), (0.0, -3.0)} <= {tuple(p) for p in disc.tolist()}


def test_tracking_finds_where_the_content_moved():
    start = _features()
    handles = torch.tensor([[100.5, 120.5], [60.5, 30.5]]) / GRID
    templates = patch_templates(start, handles, radius=3.0)
    moved = track_patches(_shifted(start, 3, -2), handles, templates, radius=3.0, search=4.0)
    torch.testing.assert_close(moved * GRID, handles * GRID + torch.tensor([3.0, -2.0]))
    # beyond the search window it cannot follow: the answer stays inside the window
    far = track_patches(_shifted(start, 9, 0), handles, templates, radius=3.0, search=4.0)
    assert float((far - handles).mul(GRID).abs().max()) <= 4.0


def test_the_loss_is_zero_once_the_content_is_stride_ahead_and_pulls_towards_it():
    start = _features()
    handle = torch.tensor([[100.5, 100.5]]) / GRID
    target = torch.tensor([[120.5, 100.5]]) / GRID  # 20 px to the right
    templates = patch_templates(start, handle, radius=3.0)
    moving = torch.tensor([True])
    arrived = template_loss(_shifted(start, 3, 0), handle, target, templates, radius=3.0, stride=3.0, moving=moving)
    unmoved = template_loss(start, handle, target, templates, radius=3.0, stride=3.0, moving=moving)
    assert float(arrived) < 1e-6 < float(unmoved)
    assert float(template_loss(start, handle, target, templates, radius=3.0, stride=3.0,
                               moving=torch.tensor([False]))) == 0.0
    features = start.clone().requires_grad_(True)
    template_loss(features, handle, target, templates, radius=3.0, stride=3.0, moving=moving).backward()
    assert features.grad is not None and float(features.grad.abs().sum()) > 0


def test_distances_and_keep_weights():
    handles = torch.tensor([[0.5, 0.5], [0.0, 0.0]])
    targets = torch.tensor([[0.5, 0.5 + 10 / GRID], [3 / GRID, 4 / GRID]])
    torch.testing.assert_close(grid_distances(handles, targets), torch.tensor([10.0, 5.0]))
    may_move = torch.zeros(64, 64)
    may_move[:, :32] = 1.0  # the left half may move
    keep = keep_weights(may_move, 16)
    assert keep.shape == (16, 16) and float(keep[:, :8].max()) == 0.0 and float(keep[:, 8:].min()) == 1.0
