"""The anti-diagonal layout that the DTW tensor wavefront computes on (:mod:`corrkin.ops.dtw`).

Cell ``(i, j)`` of a pair's grid lies on diagonal ``d = i + j``; a diagonal's cells depend only
on the two diagonals before it. :class:`Wavefront` lays out only the cells of the batch's band,
diagonal after diagonal, so each step of the recurrence is a few elementwise ops on slices.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

INF = float("inf")


def band_limits(n: torch.Tensor, m: torch.Tensor, radius: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per pair, the allowed range ``lo <= j - i <= hi`` of the Sakoe–Chiba band ``(B,)`` each."""
    return -radius - (n - m).clamp_min(0), radius + (m - n).clamp_min(0)


def pair_band(n: torch.Tensor, m: torch.Tensor, radius) -> tuple[torch.Tensor, torch.Tensor]:
    """Each pair's band ``lo <= j - i <= hi`` ``(B,)``, clipped to its grid (``radius=None``:
    the whole grid). Both codes of :mod:`corrkin.ops.dtw` compute inside it."""
    if radius is None:
        return -(n - 1), m - 1
    lo, hi = band_limits(n, m, torch.as_tensor(radius, device=n.device).long().expand(len(n)))
    return torch.maximum(lo, -(n - 1)), torch.minimum(hi, m - 1)


def _floor_half(v: torch.Tensor) -> torch.Tensor:
    return torch.div(v, 2, rounding_mode="floor")


@dataclass
class Wavefront:
    """The anti-diagonal layout of a batch of banded ``(N, M)`` grids.

    Diagonal ``d`` holds rows ``first[d] .. first[d] + count[d] - 1`` of the batch's band (the
    union of the pairs' bands, clipped to the grid), stored as columns ``start[d] + 1 ..
    start[d] + count[d]`` of a ``(B, size)`` buffer with one padding column on each side, so
    the neighbours of a diagonal's cells are plain slices of the two diagonals before it.
    ``valid (B, size)``: the column is a cell of the pair's own band and lengths; ``end (B,)``:
    the column of each pair's end cell.
    """

    first: list[int]
    count: list[int]
    start: list[int]
    size: int
    row: torch.Tensor  # (size,) the row i of every column (0 on padding)
    col: torch.Tensor  # (size,) the column j of every column (0 on padding)
    valid: torch.Tensor  # (B, size) the cell lies in the pair's own band and lengths
    end: torch.Tensor  # (B,) the column of each pair's end cell (n - 1, m - 1)

    @classmethod
    def build(cls, n: torch.Tensor, m: torch.Tensor, lo_b: torch.Tensor, hi_b: torch.Tensor, n_max: int,
              m_max: int) -> "Wavefront":
        """The layout of pairs of lengths ``n``, ``m`` with bands ``lo_b``, ``hi_b`` (:func:`pair_band`)."""
        dev = n.device
        lo_all = max(int(lo_b.min()), -(n_max - 1))
        hi_all = min(int(hi_b.max()), m_max - 1)
        steps = int((n + m).max()) - 1  # diagonals up to the furthest end cell
        d = torch.arange(steps, device=dev)

        def rows(dd, n_, m_, lo, hi):  # first and last row of diagonal dd inside the band
            first = torch.maximum((dd - (m_ - 1)).clamp_min(0), -_floor_half(hi - dd))
            last = torch.minimum(torch.clamp(dd, max=n_ - 1), _floor_half(dd - lo))
            return first, last

        first, last = rows(d, n_max, m_max, lo_all, hi_all)
        count = last - first + 1
        start = torch.cumsum(count + 2, 0) - (count + 2)
        size = int(start[-1] + count[-1] + 2)
        # every column's diagonal, row and column in the grid
        which = torch.repeat_interleave(d, count + 2)
        slot = torch.arange(size, device=dev) - start[which] - 1
        pad = (slot < 0) | (slot >= count[which])
        row = torch.where(pad, 0, first[which] + slot)
        col = torch.where(pad, 0, which - row)
        p_first, p_last = rows(which[None], n[:, None], m[:, None], lo_b[:, None], hi_b[:, None])
        valid = ~pad[None] & (row[None] >= p_first) & (row[None] <= p_last)
        de = n + m - 2
        end = start[de] + 1 + (n - 1) - first[de]
        return cls(first.tolist(), count.tolist(), start.tolist(), size, row, col, valid, end)

    def cells(self, d: int) -> slice:
        """Columns of diagonal ``d``'s cells."""
        return self.span(d, 0, self.count[d])

    def span(self, d: int, shift: int, k: int) -> slice:
        """``k`` columns of diagonal ``d`` from slot ``shift`` (``-1`` and ``count[d]`` are its
        padding)."""
        s = self.start[d] + 1 + shift
        return slice(s, s + k)

    def costs(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Squared distances of every laid-out cell ``(B, size)``, ``inf`` outside each pair's
        band and lengths (and on padding); differentiable in ``x`` and ``y``."""
        diff = x.index_select(1, self.row) - y.index_select(1, self.col)
        return torch.where(self.valid, (diff * diff).sum(-1), INF)

    def before(self, d: int):
        """Columns of the neighbours of diagonal ``d``'s cells ``(i, j)``: ``(i - 1, j - 1)``
        (``None`` on diagonal 1), ``(i - 1, j)`` and ``(i, j - 1)``. A neighbour outside the band
        falls on a padding column (the first row moves by at most one a diagonal)."""
        k, f = self.count[d], self.first[d]
        up = f - 1 - self.first[d - 1]
        diag = None if d < 2 else self.span(d - 2, f - 1 - self.first[d - 2], k)
        return diag, self.span(d - 1, up, k), self.span(d - 1, up + 1, k)

    def after(self, d: int):
        """Columns of the cells that step from diagonal ``d``'s cells ``(i, j)``: ``(i + 1, j)``
        and ``(i, j + 1)`` on ``d + 1``, ``(i + 1, j + 1)`` on ``d + 2`` (``None`` past the last)."""
        k, f = self.count[d], self.first[d]
        down = f + 1 - self.first[d + 1]
        diag = None if d + 2 >= len(self.count) else self.span(d + 2, f + 1 - self.first[d + 2], k)
        return self.span(d + 1, down, k), self.span(d + 1, down - 1, k), diag


