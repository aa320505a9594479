"""Batch-invariant reductions over time.

A library's reduction picks its summation order from the shape of the whole call (``torch.sum``
from the reduced length and the number of outputs, on CUDA its block layout too), so the same
clip padded into another batch could sum in another order and differ in the last bit. Here the
order is the code's: every sum over frames runs over fixed blocks of ``BLOCK`` (64) frames that
start at frame 0; inside a block the 64 terms are added as a fixed pairwise tree of elementwise
adds, and the block partials left to right, so trailing zero padding adds exact zeros. A clip's
sums are bit-identical alone or in any batch, on any device. (Matrix products, whose order no
caller controls, are made exact instead: see :func:`corrkin.ops.xcorr.lagged_xcorr`.)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

BLOCK = 64


def padded_length(t: int) -> int:
    """Smallest multiple of :data:`BLOCK` that holds ``t`` frames."""
    return -(-t // BLOCK) * BLOCK


def add_blocks(partials: torch.Tensor) -> torch.Tensor:
    """Add ``partials (..., n)`` left to right over the last axis (fixed order)."""
    acc = partials[..., 0]
    for k in range(1, partials.shape[-1]):
        acc = acc + partials[..., k]
    return acc


def tree_sum(x: torch.Tensor) -> torch.Tensor:
    """Sum ``x (..., 2**k)`` over its last axis as a fixed pairwise tree of elementwise adds.

    The order is set by the code, not by a reduction kernel's heuristics, so an element's sum
    is the same bits whatever the tensor around it and on every device.
    """
    n = x.shape[-1]
    if n & (n - 1):
        raise ValueError(f"tree_sum: the last axis must be a power of two, got {n}")
    while x.shape[-1] > 1:
        x = x[..., 0::2] + x[..., 1::2]
    return x[..., 0]


def blocked_sum(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Sum over ``dim`` in fixed 64-frame blocks; zero padding on the right changes nothing.

    Differentiable. ``x`` is any shape; ``dim`` is removed.
    """
    x = x.movedim(dim, -1)
    t = x.shape[-1]
    if t == 0:
        return x.sum(-1)
    if t % BLOCK:
        x = F.pad(x, (0, padded_length(t) - t))
    return add_blocks(tree_sum(x.reshape(*x.shape[:-1], -1, BLOCK)))


def masked_mean(x: torch.Tensor, mask: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Mean of ``x`` over ``dim`` where ``mask`` is true; 0 where the mask is empty."""
    count = blocked_sum(mask.to(x.dtype), dim)  # on the mask's own (broadcastable) shape
    return blocked_sum(torch.where(mask, x, 0.0), dim) / count.clamp_min(1)
