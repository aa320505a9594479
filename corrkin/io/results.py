"""Results out: atomic writes, per-clip result folders, the run summary."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[io.IOBase]:
    """Write to a temporary file beside ``path`` and rename it over ``path`` on success.

    A crash or an exception leaves any previous ``path`` untouched and no partial file behind.
    """
    path = Path(path)
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
    # unique per process and thread, so concurrent writers never share a temporary
    tmp = path.parent / f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        with open(tmp, mode) as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json(path: str | os.PathLike, obj) -> None:
    """Compact JSON (Python's C encoder runs only without ``indent``: pretty-printing made
    writing results the slowest step of a run); ``python -m json.tool`` shows it indented."""
    text = json.dumps(obj, allow_nan=False, separators=(",", ":"))
    with atomic_write(path, "w") as f:
        f.write(text + "\n")


def write_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    """Uncompressed ``.npz``, built in memory and written in one go (zipfile's seeks on a real
    file cost more than the arrays)."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    with atomic_write(path) as f:
        f.write(buf.getbuffer())


SUMMARY_FIELDS = (
    "clip", "status", "error", "source", "fps", "frames", "edges", "path", "path_weight",
    "reaches_bat", "reliable", "quality_reasons", "path_lags_ms", "path_activation_ms", "frame_interval_ms",
    "timing_warnings", "bat_peak_speed", "bat_peak_frame", "omega_peak",
)


def write_summary(path: str | os.PathLike, rows: list[dict]) -> None:
    """One row per clip, failed clips included (status ``failed`` and the reason)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=SUMMARY_FIELDS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for row in sorted(rows, key=lambda r: r["clip"]):
        w.writerow(row)
    with atomic_write(path, "w") as f:
        f.write(buf.getvalue())
