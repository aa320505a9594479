"""Centred differences with the seed analysis's end rule."""

from __future__ import annotations

import torch

from corrkin.ops._checks import check_shape


def central_difference(x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
    """Per-frame derivative of ``x (B, ..., T)``: ``(x[t+1] - x[t-1]) / 2``.

    The first and last valid frames copy their neighbour's value (``v[0] = v[1]``,
    ``v[n-1] = v[n-2]``), as the original analysis did. Frames past ``lengths (B,)`` are 0.
    Multiply by fps for units per second. Every length must be >= 3. Differentiable.
    """
    check_shape(x, "*,B,T" if x.ndim >= 2 else "B,T", "central_difference: x")
    bsz, t = x.shape[0], x.shape[-1]
    if t < 3:
        raise ValueError(f"central_difference: needs at least 3 frames, got {t}")
    if lengths is None:
        lengths = torch.full((bsz,), t, device=x.device, dtype=torch.long)
    mid = (1,) * (x.ndim - 2)
    d = torch.zeros_like(x)
    d[..., 1:-1] = (x[..., 2:] - x[..., :-2]) / 2
    d[..., 0] = d[..., 1]
    last = (lengths - 1).view(bsz, *mid, 1).expand(*x.shape[:-1], 1)
    d = d.scatter(-1, last, torch.gather(d, -1, last - 1))
    frames = torch.arange(t, device=x.device)
    return torch.where(frames <= last, d, 0.0)
