"""The in-plane swing axis and the bat's angular velocity."""

from __future__ import annotations

import math

import torch

from corrkin.ops import _math
from corrkin.ops._checks import check_shape
from corrkin.ops.reduce import blocked_sum


def swing_axis(
    bat: torch.Tensor, mask: torch.Tensor, direction: torch.Tensor | None = None
) -> torch.Tensor:
    """First principal component of the bat trace ``bat (B, T, 2)`` over frames in ``mask (B, T)``.

    The sign is arbitrary in PCA; with ``direction (B, 2)`` (e.g. the bat's velocity at its
    fastest frame) the axis is flipped to point along it. Closed form for the 2x2 covariance
    (``theta = atan2(2 c_xy, c_xx - c_yy) / 2``). A bat that does not move (isotropic or constant
    trace) gives the x axis. Differentiable away from isotropy.
    """
    check_shape(bat, "B,T,2", "swing_axis: bat")
    check_shape(mask, "B,T", "swing_axis: mask")
    m = mask.to(bat.dtype)
    n = blocked_sum(m, -1).clamp_min(1)
    mean = blocked_sum(bat * m[..., None], 1) / n[:, None]
    c = (bat - mean[:, None]) * m[..., None]
    cxx = blocked_sum(c[..., 0] * c[..., 0], -1)
    cyy = blocked_sum(c[..., 1] * c[..., 1], -1)
    cxy = blocked_sum(c[..., 0] * c[..., 1], -1)
    theta = 0.5 * _math.atan2(2 * cxy, cxx - cyy)
    axis = torch.stack([torch.cos(theta), torch.sin(theta)], -1)
    if direction is not None:
        check_shape(direction, "B,2", "swing_axis: direction")
        flip = (axis * direction).sum(-1) < 0
        axis = torch.where(flip[:, None], -axis, axis)
    return axis


def wrap_angle(a: torch.Tensor) -> torch.Tensor:
    """Wrap angles to ``[-pi, pi)``."""
    return torch.remainder(a + math.pi, 2 * math.pi) - math.pi


def bat_angular_velocity(
    tip: torch.Tensor, hand: torch.Tensor, lengths: torch.Tensor, fps: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Angle of the bat (tip minus top hand) and its angular velocity omega_z.

    Args:
        tip, hand: ``(B, T, 2)`` in image axes (x right, y down).
        lengths: ``(B,)`` valid frames.
        fps: ``(B,)`` frame rates.

    Returns:
        ``(angle (B, T), omega (B, T))``: the unwrapped angle in radians, counter-clockwise as
        seen on screen (y flipped up, z out of the screen), and its centred-difference rate in
        rad/s (ends copied from their neighbours, as for velocities). Frames past a clip's
        length are 0.
    """
    check_shape(tip, "B,T,2", "bat_angular_velocity: tip")
    check_shape(hand, "B,T,2", "bat_angular_velocity: hand")
    d = tip - hand
    raw = _math.atan2(-d[..., 1], d[..., 0])
    step = wrap_angle(raw[:, 1:] - raw[:, :-1])
    angle = torch.cat([raw[:, :1], raw[:, :1] + torch.cumsum(step, 1)], 1)
    t = tip.shape[1]
    frames = torch.arange(t, device=tip.device)
    inside = frames[None] < lengths[:, None]
    half = torch.zeros_like(raw)
    half[:, 1:-1] = wrap_angle(raw[:, 2:] - raw[:, :-2]) / 2
    last = (lengths - 1)[:, None]
    omega = torch.where(frames[None] == 0, half[:, 1:2], half)
    omega = torch.where(frames[None] == last, torch.gather(half, 1, last - 1), omega)
    omega = omega * fps[:, None]
    zero = torch.zeros((), dtype=tip.dtype, device=tip.device)
    return torch.where(inside, angle, zero), torch.where(inside, omega, zero)
