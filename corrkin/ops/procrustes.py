"""Batched similarity Procrustes in the plane: scale, SO(2) rotation, translation."""

from __future__ import annotations

import torch

from corrkin.ops._checks import check_same_leading, check_shape
from corrkin.ops.reduce import blocked_sum


def procrustes(
    x: torch.Tensor,
    y: torch.Tensor,
    mask: torch.Tensor | None = None,
    eps: float = 1e-12,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Align ``x`` to ``y``: minimise ``sum_p m_p |s R x_p + t - y_p|^2`` with ``R`` in SO(2).

    Args:
        x, y: ``(B, ..., 2)`` point sets; every axis between ``B`` and the last is flattened into
            one set of points, so a sequence ``(B, T, J, 2)`` is aligned with one similarity.
        mask: ``(B, ...)`` points that count (default all).
        eps: guards the divisions for an empty mask or a degenerate (single-point) ``x``.

    Returns:
        ``(aligned (like x), scale (B,), rotation (B, 2, 2), translation (B, 2))``.

    Closed form (Umeyama in 2-D, no reflection): with centred points, ``a = sum m x.y``,
    ``b = sum m x cross y``, the rotation is ``(a, b) / |(a, b)|`` and ``s = |(a, b)| / sum m |x|^2``.
    Differentiable wherever ``(a, b) != 0``.
    """
    check_shape(x, "*,B,2" if x.ndim >= 3 else "B,P,2", "procrustes: x")
    if x.shape != y.shape:
        raise ValueError(f"procrustes: x and y must have the same shape, got {tuple(x.shape)} and {tuple(y.shape)}")
    bsz = x.shape[0]
    xs, ys = x.reshape(bsz, -1, 2), y.reshape(bsz, -1, 2)
    if mask is None:
        m = torch.ones(xs.shape[:2], dtype=x.dtype, device=x.device)
    else:
        check_same_leading(mask, x, mask.ndim, "procrustes: mask and x")
        m = mask.reshape(bsz, -1).to(x.dtype)
    w = blocked_sum(m, -1).clamp_min(eps)
    mx = blocked_sum(xs * m[..., None], 1) / w[:, None]
    my = blocked_sum(ys * m[..., None], 1) / w[:, None]
    xc, yc = xs - mx[:, None], ys - my[:, None]
    a = blocked_sum(m * (xc * yc).sum(-1), -1)
    b = blocked_sum(m * (xc[..., 0] * yc[..., 1] - xc[..., 1] * yc[..., 0]), -1)
    norm = torch.sqrt(a * a + b * b).clamp_min(eps)
    cos, sin = a / norm, b / norm
    rot = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
    scale = norm / blocked_sum(m * (xc * xc).sum(-1), -1).clamp_min(eps)
    trans = my - scale[:, None] * (rot @ mx[..., None]).squeeze(-1)
    aligned = scale[:, None, None] * xs @ rot.transpose(-1, -2) + trans[:, None]
    return aligned.reshape(x.shape), scale, rot, trans
