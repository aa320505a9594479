"""One small shape checker shared by every op."""

from __future__ import annotations

import torch


def check_shape(x: torch.Tensor, spec: str, name: str) -> None:
    """Raise ``ValueError`` unless ``x`` matches ``spec``.

    ``spec`` is comma-separated: a digit is an exact size, a letter any size, and a leading
    ``*`` any number of leading dims (``"*,T"``, ``"B,T,J,2"``).
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor of shape ({spec}), got {type(x).__name__}")
    dims = [d.strip() for d in spec.split(",")]
    star = dims[0] == "*"
    fixed = dims[1:] if star else dims
    ok = x.ndim >= len(fixed) if star else x.ndim == len(fixed)
    if ok:
        tail = x.shape[x.ndim - len(fixed):]
        ok = all(not d.isdigit() or int(d) == s for d, s in zip(fixed, tail))
    if not ok:
        raise ValueError(f"{name}: expected shape ({spec}), got {tuple(x.shape)}")


def check_same_leading(a: torch.Tensor, b: torch.Tensor, ndim: int, names: str) -> None:
    """Raise unless the first ``ndim`` sizes of ``a`` and ``b`` agree."""
    if a.shape[:ndim] != b.shape[:ndim]:
        raise ValueError(
            f"{names}: leading shapes differ, {tuple(a.shape[:ndim])} vs {tuple(b.shape[:ndim])}"
        )
