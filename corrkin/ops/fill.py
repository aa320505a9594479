"""Gap filling over missing or low-confidence frames."""

from __future__ import annotations

import torch

from corrkin.ops._checks import check_shape


def fill_gaps(x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Linearly interpolate ``x (..., T)`` across frames where ``valid (..., T)`` is false.

    Frames before the first (after the last) valid frame hold the first (last) valid value.
    ``valid`` broadcasts against ``x``. A series with no valid frame is returned as 0: check
    ``valid.any(-1)`` to tell such series apart. Valid frames are returned unchanged, bit for
    bit. Differentiable in ``x``.
    """
    check_shape(x, "*,T", "fill_gaps: x")
    valid = valid.expand(x.shape)
    t = x.shape[-1]
    frames = torch.arange(t, device=x.device).expand(x.shape)
    prev = torch.where(valid, frames, -1).cummax(-1).values
    nxt = torch.where(valid, frames, t).flip(-1).cummin(-1).values.flip(-1)
    has_prev, has_next = prev >= 0, nxt < t
    prev_i = torch.where(has_prev, prev, nxt).clamp(0, t - 1)
    next_i = torch.where(has_next, nxt, prev).clamp(0, t - 1)
    x_prev, x_next = torch.gather(x, -1, prev_i), torch.gather(x, -1, next_i)
    span = (next_i - prev_i).clamp_min(1).to(x.dtype)
    frac = (frames - prev_i).to(x.dtype) / span
    frac = torch.where(next_i > prev_i, frac, 0.0)
    out = x_prev + frac * (x_next - x_prev)
    out = torch.where(valid, x, out)
    return torch.where(valid.any(-1, keepdim=True), out, 0.0)
