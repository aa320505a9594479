"""Tables out (CSV always, Parquet too where asked, each written atomically), and the CSV files
people give in (manifests, labels, impact times) read as people write them."""

from __future__ import annotations

import csv
import io
import math
import os
import stat
from collections.abc import Callable
from pathlib import Path

from corrkin.io.results import atomic_write

FORMATS = ("csv", "parquet")


def csv_text(rows: list[dict], columns: list[str]) -> str:
    """``rows`` as the CSV text :func:`write_table` writes (header first, ``\\n`` line ends)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


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
        path = stem.with_suffix(".csv")
        with atomic_write(path, "w") as f:
            f.write(csv_text(rows, columns))
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


def _decoded(path: Path, what: str) -> str:
    """The file's text: UTF-8 (a byte-order mark, as Excel writes, dropped), else Windows-1252
    (Excel's "CSV (Comma delimited)"); a FIFO, a device or a folder is refused, not waited on."""
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        raise ValueError(f"{what}={path}: cannot be read ({e.strerror or e})") from None
    if not stat.S_ISREG(mode):
        raise ValueError(f"{what}={path}: not a regular file")
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ValueError(f"{what}={path}: cannot be read ({e.strerror or e})") from None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError(f"{what}={path}: not text in UTF-8 or Windows-1252 (save it as CSV UTF-8)")


def read_csv(path: str | Path, what: str, needs: tuple[tuple[str, ...], ...], key: Callable[[dict], object] | None = None
             ) -> list[tuple[int, dict[str, str]]]:
    """The rows of a CSV file as people write it: ``[(line, {column: value})]``, blank rows left
    out, column names stripped and lower-cased, values stripped.

    Read as UTF-8 with or without Excel's byte-order mark (else Windows-1252), any line ending,
    quoted fields, and comma, semicolon or tab as the separator: the one whose header holds
    every group in ``needs`` (each a tuple of alternatives: ``(("clip", "path"), ("impact_s",))``).
    A row with more fields than the header, a field running over lines (an unclosed quote), or
    an unreadable file is a ``ValueError`` naming ``what``, the file and the line; with ``key``,
    two rows of one key are too (naming both lines)."""
    path = Path(path)
    text = _decoded(path, what)
    head = next((ln for ln in text.splitlines() if ln.strip()), "")
    names = " and ".join(" or ".join(group) for group in needs)
    delimiter = None
    for d in (",", ";", "\t"):
        fields = {f.strip().lower() for f in next(csv.reader([head], delimiter=d), [])}
        if all(fields & set(group) for group in needs):
            delimiter = d
            break
    if delimiter is None:
        raise ValueError(f"{what}={path}: needs the columns {names} (its first line: {head[:80]!r})")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows, seen = [], {}
    try:
        header = [h.strip().lower() for h in next(reader)]
        while header and not any(header):  # blank lines before the header
            header = [h.strip().lower() for h in next(reader)]
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(header):
                raise ValueError(f"{what}={path}, line {line}: {len(values)} fields, the header has {len(header)} "
                                 f"(a separator inside an unquoted value?)")
            if any("\n" in v or "\r" in v for v in values):
                raise ValueError(f"{what}={path}, line {line}: a value runs over several lines (an unclosed quote?)")
            row = {h: v.strip() for h, v in zip(header, values)}
            if key is not None and (k := key(row)) is not None:
                if k in seen:
                    raise ValueError(f"{what}={path}, lines {seen[k]} and {line}: the same {k!r} twice")
                seen[k] = line
            rows.append((line, row))
    except csv.Error as e:
        raise ValueError(f"{what}={path}, line {reader.line_num}: not valid CSV ({e})") from None
    return rows


def read_impacts(path: str | Path) -> dict[str, float]:
    """``{clip: impact_s}`` from a CSV with a ``clip`` (or ``path``: the clip is the file's stem)
    and an ``impact_s`` column: the moment of impact, seconds into the clip's file (from the
    sound of the ball, a frame picked by hand), read by :func:`read_csv`. A row without a time is
    skipped; anything else wrong (a clip twice included) is one error naming the file and the line."""
    path = Path(path)

    def clip_of(row: dict) -> str | None:
        clip = row.get("clip") or (Path(row["path"]).stem if row.get("path") else "")
        return clip if clip and row.get("impact_s") else None

    out = {}
    for line, row in read_csv(path, "impacts", (("clip", "path"), ("impact_s",)), key=clip_of):
        clip = clip_of(row)
        if clip is None:
            continue
        value = row["impact_s"]
        try:
            seconds = float(value)
        except ValueError:
            raise ValueError(f"impacts={path}, line {line}: impact_s '{value}' is not a number") from None
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"impacts={path}, line {line}: impact_s {value} is not a time in the clip (>= 0 s)")
        out[clip] = seconds
    return out
