"""C3D marker files out (Mokka, Visual3D, OpenSim's C3D readers), through ``c3d`` (py-c3d: MIT,
pure Python; the optional extra ``corrkin[c3d]``).

:func:`write_c3d` writes the same markers as :func:`corrkin.io.trc.write_trc`, 2-D in the
C3D's X-Y plane (X = x, Y = -y, Z = 0), a point not seen as C3D's invalid point (residual -1).
Metres are written as millimetres, C3D's usual unit (``POINT:UNITS`` ``mm``); pixels as ``px``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np


def write_c3d(path: str | os.PathLike, xy: np.ndarray, seen: np.ndarray, names: Sequence[str], fps: float,
              units: str = "px") -> None:
    """Write markers ``xy (T, M, 2)`` (corrkin's image convention: y down) as a C3D file,
    atomically; ``seen (T, M)`` marks the points given, ``names`` the ``M`` labels, ``units``
    ``px`` or ``m`` (written as mm)."""
    try:
        import c3d
    except ImportError:
        raise ImportError("C3D export needs the c3d package (pip install 'corrkin[c3d]'); format=trc needs "
                          "nothing") from None
    from corrkin.io.results import atomic_write
    from corrkin.io.trc import checked_markers

    xy, seen = checked_markers("write_c3d", xy, seen, names, fps)
    t, m = seen.shape
    scale, label = (1000.0, "mm") if units == "m" else (1.0, units)
    writer = c3d.Writer(point_rate=float(fps), point_units=f"{label:<4}"[:4])
    writer.set_point_labels([str(n) for n in names])
    no_analog = np.zeros((0, 0), np.float32)
    for f in range(t):
        points = np.zeros((m, 5), np.float32)
        points[:, 0] = np.where(seen[f], xy[f, :, 0] * scale, 0.0)
        points[:, 1] = np.where(seen[f], -xy[f, :, 1] * scale, 0.0)
        points[:, 3] = np.where(seen[f], 0.0, -1.0)  # C3D's residual: -1 marks a point not given
        writer.add_frames([(points, no_analog)])
    with atomic_write(path) as out:
        writer.write(out)
