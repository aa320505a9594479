"""Sampling the frames along rays from the hands: the work image (shrunk, luma and chroma), the
ray points and their side samples, and the ridge (bar) contrast between them."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from corrkin.bat.body import person_size
from corrkin.bat.settings import BatSettings


def grey(frames: torch.Tensor) -> torch.Tensor:
    """``(T, 3, H, W)`` RGB (or already grey ``(T, 1, H, W)``) in [0, 255] to ``(T, 1, H, W)``
    float luma (ITU-R 601, kornia)."""
    from kornia.color import rgb_to_grayscale

    return rgb_to_grayscale(frames.float()) if frames.shape[1] == 3 else frames.float()


def ray_points(hands: torch.Tensor, angles: torch.Tensor, radii: torch.Tensor) -> torch.Tensor:
    """Points ``(T, K, R, 2)`` at ``radii`` along rays from ``hands (T, 2)`` at ``angles (K,)``."""
    u = torch.stack([angles.cos(), angles.sin()], -1)
    return hands[:, None, None] + radii[None, None, :, None] * u[None, :, None]


def side_points(pts: torch.Tensor, angles: torch.Tensor, width: torch.Tensor) -> torch.Tensor:
    """``(T, 3, K, R, 2)``: each ray point and its two neighbours ``width (T,)`` pixels to the sides."""
    n = torch.stack([-angles.sin(), angles.cos()], -1)
    off = width[:, None, None, None] * n[None, :, None]
    return torch.stack([pts, pts + off, pts - off], 1)


def bar_contrast(image: torch.Tensor, trio: torch.Tensor) -> torch.Tensor:
    """Ridge contrast ``D`` ``(T, C, K, R)`` at each ray point, per channel of ``image (T, C, H,
    W)``: the smaller of its differences from its two side points when both have the same sign
    (a bar, lighter or darker than both sides), else 0. An edge beside the ray (one side
    differs) or a line crossing it near one side sample is no bar."""
    return ridge(sample_trio(image, trio))


def ridge(v: torch.Tensor) -> torch.Tensor:
    """:func:`bar_contrast` from the samples ``v (T, C, 3, K, R)`` (centre, sides)."""
    a, b = v[:, :, 0] - v[:, :, 1], v[:, :, 0] - v[:, :, 2]
    return torch.where(a * b > 0, torch.sign(a) * torch.minimum(a.abs(), b.abs()), torch.zeros_like(a))


def sample_trio(image: torch.Tensor, trio: torch.Tensor) -> torch.Tensor:
    """``image (T, C, H, W)`` at the points ``trio (T, 3, K, R, 2)`` (pixels): ``(T, C, 3, K, R)``."""
    t, c, h, w = image.shape
    scale = torch.tensor([2.0 / w, 2.0 / h], device=image.device)
    grid = (trio * scale - 1).reshape(t, 3, -1, 2)
    return F.grid_sample(image, grid, align_corners=False, padding_mode="border").reshape(t, c, *trio.shape[1:4])



def ray_angles(s: BatSettings, device) -> torch.Tensor:
    """``(K,)`` the ``s.angles`` directions searched, radians, evenly around the circle from 0."""
    return torch.arange(s.angles, device=device) * (2 * math.pi / s.angles)


def work_factor(keypoints: torch.Tensor, s: BatSettings) -> int:
    """How much the frames are shrunk (average-pooled) for the bat stage: the whole number that
    brings the clip's median size (:func:`~corrkin.bat.body.person_size`) nearest ``s.work_shoulder_px`` pixels, never
    enlarging. Evidence is a sum along rays sampled every ``step_px``, so its cost grows with the
    batter's size in pixels, not with the frame's: a 1080p batter is worked on at the size a
    360p one is."""
    sw = float(person_size(keypoints.float(), s.tuning).median())
    return max(1, int(round(sw / s.work_shoulder_px)))


YCC = torch.tensor([[0.299, 0.587, 0.114], [-0.1687, -0.3313, 0.5], [0.5, -0.4187, -0.0813]])  # JPEG Y, Cb, Cr


def work_image(frames: torch.Tensor, factor: int) -> torch.Tensor:
    """``(T, C, H // factor, W // factor)`` float channels of ``frames`` in [0, 255]: luma and
    the two chroma differences (JPEG's Y, Cb, Cr, without the offset) of RGB ``(T, 3, H, W)``,
    or the grey level alone of grey ``(T, 1, H, W)``; each output pixel the mean of a
    ``factor`` x ``factor`` block (the last partial row and column of blocks dropped), so a
    point ``p`` of the frame is at ``p / factor`` in the result. A bat darker than the pitch in
    red but as bright overall (dark willow on grass) differs in the chroma.

    On the CPU, uint8 frames are shrunk (``resize`` with ``INTER_AREA``: the same block means)
    and converted (``cvtColor`` to YCrCb: the same matrix) by OpenCV, each rounded to whole
    levels: several times faster there than converting a frame to float first; elsewhere
    ``avg_pool2d`` and one matrix product per pixel."""
    t, c, h, w = frames.shape
    h2, w2 = h // factor * factor, w // factor * factor
    frames = frames[..., :h2, :w2]
    if frames.device.type == "cpu" and frames.dtype == torch.uint8:
        import cv2

        size = (w2 // factor, h2 // factor)
        small = np.empty((t, size[1], size[0], c), np.uint8)
        for i, frame in enumerate(frames.permute(0, 2, 3, 1).numpy()):
            if factor > 1 and c == 3 and not frame.flags.c_contiguous:  # planar: shrink each plane
                for j in range(3):
                    small[i, ..., j] = cv2.resize(np.ascontiguousarray(frames[i, j].numpy()), size,
                                                  interpolation=cv2.INTER_AREA)
            elif factor > 1:
                small[i] = cv2.resize(frame, size, interpolation=cv2.INTER_AREA).reshape(size[1], size[0], c)
            else:
                small[i] = frame
            if c == 3:
                small[i] = cv2.cvtColor(small[i], cv2.COLOR_RGB2YCrCb)
        x = torch.from_numpy(small).permute(0, 3, 1, 2)
        if c == 1:
            return x.float()
        return x[:, [0, 2, 1]].float() - torch.tensor([0.0, 128.0, 128.0])[:, None, None]  # Y, Cb, Cr
    x = F.avg_pool2d(frames.float(), factor) if factor > 1 else frames.float()
    if c == 1:
        return x
    return torch.einsum("oc,tchw->tohw", YCC.to(x.device, x.dtype), x)  # per pixel: YCC @ rgb

