"""Drag editing's two steps as tensor functions: *motion supervision* (a loss that pulls the features a little
past each handle towards its target) and *point tracking* (find where each handle went after the latent moved).

DragGAN (Pan et al., SIGGRAPH 2023) pulls the features ahead of a handle to the features *at* the handle and tracks
one feature vector. On the FFHQ model that loss is cheapest to satisfy by flattening the features, and faces
dissolved into blur on 4 of 4 test drags (nose 20 px to the side, 120 steps). Here, as in FreeDrag (Ling et al.,
CVPR 2024), the patch ahead is pulled to the handle's *original* patch, a template that blur cannot match, and
tracking compares whole patches: the same drags kept sharp faces and 3 of 4 arrived.

Points are (x, y) fractions of the model's square, 0 at its top-left corner and 1 at the bottom-right, so the
same numbers serve a 128-px feature map, the 256-px working image and the 1024-px render. Distances and radii are
in pixels of a fixed 256-px *drag grid*: one push moves a handle's features by one grid pixel (1/256 of the face),
whatever the model's resolution.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

GRID = 256  # pixels across the square in which radii, pushes and distances are counted


def sample_features(features: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """features [1, C, h, w] read at ``points`` [P, 2] (fractions, bilinear) → [P, C]."""
    grid = (points * 2 - 1).reshape(1, 1, -1, 2).to(features)
    values = F.grid_sample(features, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return values[0, :, 0].T  # [P, C]


def disc_offsets(radius: float, device: torch.device | str = "cpu") -> torch.Tensor:
    """Integer grid offsets within ``radius`` grid pixels of the centre, as fractions [Q, 2]."""
    r = int(radius)
    axis = torch.arange(-r, r + 1, dtype=torch.float32)
    dy, dx = torch.meshgrid(axis, axis, indexing="ij")
    inside = dx.square() + dy.square() <= radius * radius
    return torch.stack([dx[inside], dy[inside]], 1).to(device) / GRID


def square_offsets(radius: float, device: torch.device | str = "cpu") -> torch.Tensor:
    """Every integer grid offset within ``radius`` along each axis, as fractions [Q, 2] (the tracking window)."""
    r = int(radius)
    axis = torch.arange(-r, r + 1, dtype=torch.float32)
    dy, dx = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([dx.reshape(-1), dy.reshape(-1)], 1).to(device) / GRID


def grid_distances(handles: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Handle-to-target distances [K] in grid pixels."""
    return (targets - handles).mul(GRID).norm(dim=1)


def mask_loss(features: torch.Tensor, start: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """How far the features moved where they must stay: mean |F − F₀| weighted by ``keep`` [h, w] (1 = fixed)."""
    return ((features - start).abs() * keep).mean()


def keep_weights(mask: torch.Tensor, side: int) -> torch.Tensor:
    """A may-move mask [R, R] in [0, 1] (1 = may move) → the weights [side, side] of what must stay."""
    small = F.interpolate(mask[None, None].float(), size=(side, side), mode="area")[0, 0]
    return 1.0 - small.clamp(0, 1)


def template_loss(features: torch.Tensor, handles: torch.Tensor, targets: torch.Tensor, templates: torch.Tensor, *,
                  radius: float, stride: float, moving: torch.Tensor) -> torch.Tensor:
    """Template supervision: the patch ``stride`` grid pixels ahead of each moving handle is pulled to that
    handle's *original* patch (``templates`` [K, Q, C]), so blurring the features cannot satisfy it — only moving
    the content can. A scalar (0 when none moves)."""
    disc = disc_offsets(radius, features.device)
    loss = features.new_zeros(())
    for handle, target, template, live in zip(handles, targets, templates, moving, strict=True):
        if not live:
            continue
        delta = target - handle
        push = delta * (stride / delta.mul(GRID).norm().clamp_min(stride))
        loss = loss + (sample_features(features, handle + push + disc) - template).abs().mean()
    return loss


def patch_templates(features: torch.Tensor, handles: torch.Tensor, *, radius: float) -> torch.Tensor:
    """Each handle's patch of features [K, Q, C] (the disc of ``radius`` grid pixels around it)."""
    disc = disc_offsets(radius, features.device)
    return torch.stack([sample_features(features, handle + disc) for handle in handles])


@torch.no_grad()
def track_patches(features: torch.Tensor, handles: torch.Tensor, templates: torch.Tensor, *, radius: float,
                  search: float) -> torch.Tensor:
    """Point tracking by patch: each handle moves to the grid position within ``search`` whose disc of features
    is nearest (mean L1) to its original patch — steadier than one feature vector, which flat skin repeats."""
    window = square_offsets(search, features.device)
    disc = disc_offsets(radius, features.device)
    moved = []
    for handle, template in zip(handles, templates, strict=True):
        candidates = (handle + window).clamp(0.0, 1.0)  # [M, 2]
        points = (candidates[:, None] + disc[None]).reshape(-1, 2)
        values = sample_features(features, points).reshape(len(candidates), len(disc), -1)
        distance = (values - template).abs().mean(dim=(1, 2))
        moved.append(candidates[int(distance.argmin())])
    return torch.stack(moved)
