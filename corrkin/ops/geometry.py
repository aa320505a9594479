"""Plane geometry shared by drawing and detection."""

from __future__ import annotations

import torch


def point_segment_distance(p: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Distance from points ``p (..., 2)`` to segments ``a -> b (..., 2)`` (all broadcast).

    A degenerate segment (``a == b``) is a point. Differentiable except where the closest point
    is an end of the segment exactly.
    """
    ab, ap = b - a, p - a
    h = ((ap * ab).sum(-1) / (ab * ab).sum(-1).clamp_min(1e-9)).clamp(0, 1)
    return torch.linalg.vector_norm(ap - h[..., None] * ab, dim=-1)
