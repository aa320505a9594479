"""Tables out: CSV always, Parquet too where asked, each written atomically."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from corrkin.io.results import atomic_write

FORMATS = ("csv", "parquet")


def write_table(path_stem: str | Path, rows: list[dict], formats=("csv",), columns: list[str] | None = None) -> list[Path]:
    """Write ``rows`` as ``<path_stem>.csv`` and/or ``.parquet``; returns the files written.

    ``columns`` fixes the order (and the header of an empty table); by default the keys of the
    rows in first-seen order."""
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"table formats: unknown {sorted(unknown)}; choose from {list(FORMATS)}")
    if columns is None:
        columns = list(dict.fromkeys(k for r in rows for k in r))
    stem = Path(path_stem)
    written = []
    if "csv" in formats:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        path = stem.with_suffix(".csv")
        with atomic_write(path, "w") as f:
            f.write(buf.getvalue())
        written.append(path)
    if "parquet" in formats:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist([{c: _utf8(r.get(c)) for c in columns} for r in rows],
                                     schema=None) if rows else pa.table({c: pa.array([], pa.string()) for c in columns})
        path = stem.with_suffix(".parquet")
        with atomic_write(path) as f:
            pq.write_table(table, f)
        written.append(path)
    return written


def _utf8(value):
    """A string Arrow can store: a file name that is not UTF-8 (its bytes held as surrogates) gets
    them as escapes, as in the CSV."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def read_impacts(path: str | Path) -> dict[str, float]:
    """``{clip: impact_s}`` from a CSV with a ``clip`` (or ``path``: the clip is the file's stem)
    and an ``impact_s`` column: the moment of impact, seconds into the clip's file (from the
    sound of the ball, a frame picked by hand). A row without a time is skipped; anything else
    wrong is one error naming the file and the row."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            rows, fields = list(reader), reader.fieldnames or []
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ValueError(f"impacts={path}: cannot be read as CSV ({e})") from None
    if "impact_s" not in fields or not ({"clip", "path"} & set(fields)):
        raise ValueError(f"impacts={path}: needs the columns clip (or path) and impact_s")
    out = {}
    for n, row in enumerate(rows, start=2):  # the header is line 1
        clip = (row.get("clip") or "").strip() or (Path(row["path"]).stem if (row.get("path") or "").strip() else "")
        value = (row.get("impact_s") or "").strip()
        if not clip or not value:
            continue
        try:
            seconds = float(value)
        except ValueError:
            raise ValueError(f"impacts={path}, line {n}: impact_s '{value}' is not a number") from None
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"impacts={path}, line {n}: impact_s {value} is not a time in the clip (>= 0 s)")
        out[clip] = seconds
    return out
