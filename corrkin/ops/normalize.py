"""Root-centring and median-shoulder-width scaling."""

from __future__ import annotations

import torch

from corrkin.ops._checks import check_shape


def masked_median(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Median of ``x (..., T)`` over frames where ``mask`` holds, as :func:`numpy.median`.

    An even count averages the two middle values. An empty mask gives NaN. Not differentiable
    through the selection (the gradient flows to the selected values only).
    """
    check_shape(x, "*,T", "masked_median: x")
    mask = mask.expand(x.shape)
    big = torch.finfo(x.dtype).max
    srt = torch.where(mask, x, big).sort(-1).values
    n = mask.sum(-1, keepdim=True)
    lo = ((n - 1) // 2).clamp_min(0)
    hi = (n // 2).clamp_max(x.shape[-1] - 1)
    med = (torch.gather(srt, -1, lo) + torch.gather(srt, -1, hi)) / 2
    return torch.where(n > 0, med, torch.nan).squeeze(-1)


def median_scale(width: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """The scale of a clip: median of ``width (B, T)`` over ``valid (B, T)`` frames, ``(B,)``.
    NaN where no frame is valid or the median is 0, so that the caller reports the clip."""
    scale = masked_median(width, valid)
    return torch.where(scale > 0, scale, torch.nan)


def normalize_pose(
    pose: torch.Tensor,
    valid: torch.Tensor,
    root: int,
    shoulders: tuple[int, int],
) -> tuple[torch.Tensor, torch.Tensor]:
    """Centre ``pose (B, T, J, 2)`` on joint ``root`` and divide by the median shoulder width.

    Args:
        pose: positions in pixels.
        valid: ``(B, T, J)`` joint validity; the width is the median over frames where both
            shoulders are valid.
        root: index of the root joint (the pelvis).
        shoulders: indices of the two shoulders.

    Returns:
        ``(normalised (B, T, J, 2), scale (B,))``. A clip with no frame where both shoulders
        are valid, or a zero width, gets scale NaN: the caller reports it.
    """
    check_shape(pose, "B,T,J,2", "normalize_pose: pose")
    check_shape(valid, "B,T,J", "normalize_pose: valid")
    a, b = shoulders
    width = torch.linalg.vector_norm(pose[:, :, a] - pose[:, :, b], dim=-1)
    scale = median_scale(width, valid[:, :, a] & valid[:, :, b])
    out = (pose - pose[:, :, root: root + 1]) / scale[:, None, None, None]
    return out, scale
