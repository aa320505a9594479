"""Elementary functions whose last bit does not depend on where an element sits in a tensor.

On CPU, ``torch.atan2`` and ``torch.atanh`` take a SIMD path for most elements and a scalar path
for the tail, and the two can differ in the last bit, so padding a clip into a longer batch can
change its results. These forms use only functions that agree on both paths (``atan``,
``log1p``), which keeps a clip's results bit-identical alone and in any batch.
"""

from __future__ import annotations

import math

import torch


def atan2(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``atan2(y, x)`` in ``(-pi, pi]`` from ``atan(y / x)`` and the quadrant; 0 at the origin."""
    base = torch.atan(y / torch.where(x == 0, torch.ones_like(x), x))
    out = torch.where(x < 0, torch.where(y >= 0, base + math.pi, base - math.pi), base)
    axis = torch.where(y > 0, math.pi / 2, torch.where(y < 0, -math.pi / 2, 0.0)).to(out.dtype)
    return torch.where(x == 0, axis, out)


def atanh(r: torch.Tensor) -> torch.Tensor:
    """``atanh(r) = log1p(2 r / (1 - r)) / 2`` for ``|r| < 1``."""
    return 0.5 * torch.log1p(2 * r / (1 - r))
