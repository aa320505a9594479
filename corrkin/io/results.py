"""Results out: atomic writes, per-clip result folders, the run summary."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[io.IOBase]:
    """Write to a temporary file beside ``path`` and rename it over ``path`` on success.

    A crash or an exception leaves any previous ``path`` untouched and no partial file behind.
    """
    path = Path(path)
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
    # unique per process and thread, so concurrent writers never share a temporary
    tmp = _temporary(path)
    try:
        # text as UTF-8 whatever the locale; a file name that is not UTF-8 (its undecodable
        # bytes held as surrogates) is written with those bytes as \x escapes, not lost
        text = {} if "b" in mode else {"encoding": "utf-8", "errors": "backslashreplace"}
        with open(tmp, mode, **text) as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def fitting_name(stem: str, suffix: str = "", limit: int = 255) -> str:
    """``stem + suffix`` as a file name within the file system's limit (``limit`` bytes): as it
    is where it fits, else the stem's start and a hash of the whole stem, then ``suffix`` (a
    250-character clip name still gets its ``_skeleton.mp4``, and two long names that share a
    start stay apart)."""
    import hashlib

    raw, room = os.fsencode(stem), limit - len(os.fsencode(suffix))
    if len(raw) <= room:
        return stem + suffix
    digest = hashlib.sha1(raw).hexdigest()[:12]
    return raw[: max(room - len(digest) - 1, 1)].decode("utf-8", "ignore") + "-" + digest + suffix


def _temporary(path: Path) -> Path:
    """A hidden name beside ``path``, unique per process and thread, within the file-name limit
    (a long clip name keeps its start and a hash of the whole: a temporary's name need not be exact)."""
    return path.parent / ("." + fitting_name(path.name, f".{os.getpid()}.{threading.get_ident()}.tmp", 254))


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike, keep: tuple[str, ...] = ()) -> Iterator[Path]:
    """Build a folder's files in a temporary folder beside ``path``, then put it in place of
    ``path`` as one unit: a reader sees the old folder or the new one, never a mix, and a failure
    (or a kill) while building leaves the old one as it was. Files named in ``keep`` are carried
    over from the old folder when the new one does not write them."""
    import shutil

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path)
    tmp.mkdir()
    try:
        yield tmp
        for name in keep:
            if (path / name).is_file() and not (tmp / name).exists():
                os.link(path / name, tmp / name) if _same_device(path, tmp) else shutil.copy2(path / name, tmp / name)
        old = None
        if path.exists():
            old = _temporary(path.with_name(path.name + ".old"))
            os.rename(path, old)
        os.rename(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _same_device(a: Path, b: Path) -> bool:
    return a.stat().st_dev == b.stat().st_dev


def finite_or_raise(arrays: dict[str, np.ndarray], record=None, nan_ok: tuple[str, ...] = ()) -> None:
    """Raise ``ValueError`` naming the arrays that hold inf (or NaN, except in ``nan_ok``) and
    the first field of ``record`` (nested dicts and lists) that is a non-finite number."""
    bad = []
    for key, a in arrays.items():
        if a.dtype.kind in "fc":
            x = np.nan_to_num(a, nan=0.0, posinf=np.inf, neginf=-np.inf) if key in nan_ok else a
            if not np.isfinite(x).all():
                bad.append(key)
    field = None
    if record is not None:
        try:  # JSON's C encoder checks every number at once; the walk only finds which one failed
            json.dumps(record, allow_nan=False)
        except ValueError:
            field = _non_finite(record) or "?"
    if field is not None:
        bad.append(f"result '{field}'")
    if bad:
        raise ValueError(f"the analysis gave non-finite values in {', '.join(bad)}; nothing written")


def _non_finite(obj, where: str = "") -> str | None:
    """The path (``a.b[2]``) of the first non-finite float in ``obj``, or None."""
    if isinstance(obj, float):
        return None if np.isfinite(obj) else where
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, (list, tuple)) else ()
    for k, v in items:
        found = _non_finite(v, f"{where}.{k}" if isinstance(k, str) else f"{where}[{k}]")
        if found is not None:
            return found.lstrip(".")
    return None


_TEMPORARY = re.compile(r"^\..*\.(\d+)\.(\d+)\.tmp$")


def remove_stale_temporaries(folder: str | os.PathLike) -> int:
    """Remove the temporaries (:func:`atomic_write`, :func:`atomic_folder`) in ``folder`` that
    a killed process left: those whose process is gone (a running writer's stay). Returns how
    many were removed."""
    import shutil

    folder = Path(folder)
    if not folder.is_dir():
        return 0
    removed = 0
    for entry in folder.iterdir():
        m = _TEMPORARY.match(entry.name)
        if m is None or _alive(int(m.group(1))):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed += 1
    return removed


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie, dead but not yet reaped, does not: in a
    container nobody may ever reap it)."""
    if pid == os.getpid():
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def write_json(path: str | os.PathLike, obj, atomic: bool = True) -> None:
    """Compact JSON (Python's C encoder runs only without ``indent``: pretty-printing made
    writing results the slowest step of a run); ``python -m json.tool`` shows it indented.
    ``atomic=False`` writes in place (inside an :func:`atomic_folder`, which is atomic already)."""
    text = json.dumps(obj, allow_nan=False, separators=(",", ":")) + "\n"
    if not atomic:
        Path(path).write_text(text, encoding="utf-8", errors="backslashreplace")
        return
    with atomic_write(path, "w") as f:
        f.write(text)


def write_npz(path: str | os.PathLike, atomic: bool = True, **arrays: np.ndarray) -> None:
    """Uncompressed ``.npz``, built in memory and written in one go (zipfile's seeks on a real
    file cost more than the arrays); ``atomic=False`` as for :func:`write_json`."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    if not atomic:
        Path(path).write_bytes(buf.getbuffer())
        return
    with atomic_write(path) as f:
        f.write(buf.getbuffer())


SUMMARY_FIELDS = (  # summary.csv's columns, in order: summary_row's keys (and failed_row's)
    "clip", "status", "error", "source", "fps", "frames", "edges", "ordered_pairs", "path", "path_weight",
    "reaches_bat", "reliable", "quality_reasons", "path_lags_ms", "path_activation_ms", "frame_interval_ms",
    "timing_warnings", "bat_peak_speed", "bat_peak_frame", "omega_peak", "settings_digest",
)


def summary_row(name: str, source: str, rec: dict) -> dict:
    """An analysed clip's ``summary.csv`` row (the :data:`SUMMARY_FIELDS`; the CSV orders them)
    from its ``result.json`` record; ``source`` is the format its keypoints were read from. The
    library keeps the row in ``done.json`` in this key order."""
    timing = rec.get("timing", {})
    return {
        "clip": name, "status": "ok", "error": "", "source": source, "fps": rec["fps"],
        "settings_digest": (rec.get("provenance") or {}).get("settings_digest", ""), "frames": rec["frames"],
        "edges": len(rec["edges"]), "ordered_pairs": len(timing_links(rec)), "path": " > ".join(rec["path"]),
        "path_weight": rec["path_weight"], "reaches_bat": rec["reaches_bat"],
        "reliable": rec["quality"]["reliable"], "quality_reasons": " | ".join(rec["quality"]["reasons"]),
        "path_lags_ms": _path_lags(rec), "path_activation_ms": _path_activations(rec),
        "frame_interval_ms": timing.get("frame_interval_ms"), "timing_warnings": " | ".join(timing.get("warnings", [])),
        # no bat through the swing: the speeds are left empty, the reason is in quality_reasons
        "bat_peak_speed": _blank(rec["bat"]["peak_speed"]), "bat_peak_frame": rec["bat"]["peak_frame"],
        "omega_peak": _blank(rec["bat"]["omega_peak"]),
    }


def _with_interval(value: float, ci: list[float] | None) -> str:
    """``value [low, high]`` in ms, one decimal; the value alone where there is no interval."""
    return f"{value:.1f} [{ci[0]:.1f}, {ci[1]:.1f}]" if ci else f"{value:.1f}"


def _path_lags(rec: dict) -> str:
    """Each link of the path: its lag in ms with the 95 % interval, ``;``-separated."""
    return "; ".join(_with_interval(e["lag_ms"], e.get("lag_ci_ms")) for e in path_links(rec))


def _path_activations(rec: dict) -> str:
    """Each node of the path: its activation time in ms with the 95 % interval, ``;``-separated."""
    cis = rec.get("activation_ci_ms", {})
    return "; ".join(f"{node} {_with_interval(rec['activation_ms'][node], cis.get(node))}" for node in rec["path"])


def _blank(x):
    return "" if x is None else x


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike) -> Iterator[None]:
    """An exclusive lock on ``folder`` (``flock`` on the folder itself: no lock file is left
    behind) while two runs into one output folder each update its summary; a no-op where
    ``fcntl`` is missing."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def merge_summary(path: str | os.PathLike, rows: list[dict]) -> list[dict]:
    """Write ``summary.csv`` for the whole output folder: this run's ``rows``, and the rows of an
    earlier run (into the same folder) for clips this run did not touch, where that clip's
    result folder is still there (failed rows are kept as they were). Under :func:`folder_lock`,
    so two runs finishing together both end up listed. Returns the rows written."""
    path = Path(path)
    with folder_lock(path.parent):
        earlier = []
        if path.is_file():
            with open(path, newline="", encoding="utf-8", errors="replace") as f:
                reader = csv.DictReader(f)
                earlier = list(reader)
                ours = {"clip", "status"} <= set(reader.fieldnames or ())
            if not ours:  # another program's file of that name: kept, under a name of its own
                aside = _free_name(path.with_name(path.name + ".not-corrkin"))
                os.replace(path, aside)
                log.warning("%s was not written by corrkin (no clip/status columns): moved to %s", path, aside.name)
                earlier = []
        now = {r["clip"] for r in rows}
        kept = [r for r in earlier if r.get("clip") and r["clip"] not in now
                and (r.get("status") != "ok" or (path.parent / r["clip"]).is_dir())]
        write_summary(path, kept + rows)
    return kept + rows


def _free_name(path: Path) -> Path:
    """``path``, or ``path`` with ``-2``, ``-3``... where that name is taken."""
    candidate, k = path, 1
    while candidate.exists():
        k += 1
        candidate = path.with_name(f"{path.name}-{k}")
    return candidate


def write_summary(path: str | os.PathLike, rows: list[dict]) -> None:
    """One row per clip, failed clips included (status ``failed`` and the reason)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=SUMMARY_FIELDS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for row in sorted(rows, key=lambda r: r["clip"]):
        w.writerow(row)
    with atomic_write(path, "w") as f:
        f.write(buf.getvalue())


class ResultError(ValueError):
    """A result folder that cannot be read back: the message names the file and why, in one line."""


RESULT_KEYS = ("clip", "fps", "frames", "path", "bat")  # what every corrkin result.json carries


def read_result(clip_dir: str | os.PathLike, series: bool = False) -> tuple[dict, dict[str, np.ndarray] | None]:
    """A clip's ``result.json`` (and, with ``series``, its ``series.npz`` as arrays), checked to be
    whole and ours: a file cut off mid-write, another program's JSON, or a damaged ``series.npz``
    raises :class:`ResultError` naming the file, so a reader can report that clip and go on."""
    folder = Path(clip_dir)
    path = folder / "result.json"
    failed = folder / "failed.json"
    if failed.is_file():  # the clip's latest run failed: what is here is an earlier run's
        try:
            why = str(json.loads(failed.read_text(encoding="utf-8")).get("error", ""))
        except (OSError, ValueError, AttributeError):
            why = ""
        raise ResultError(f"{path}: an earlier run's; the clip's latest run failed" + (f" ({_one_line(why)})" if why else ""))
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultError(f"{path}: missing") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ResultError(f"{path}: not a readable result ({type(e).__name__}: {_first_line(e)})") from None
    missing = [k for k in RESULT_KEYS if k not in rec] if isinstance(rec, dict) else list(RESULT_KEYS)
    if missing or not isinstance(rec.get("clip"), str):
        raise ResultError(f"{path}: not a corrkin result (no {', '.join(missing) or 'clip name'})")
    if not series:
        return rec, None
    npz = folder / "series.npz"
    try:
        with np.load(npz, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise ResultError(f"{npz}: missing") from None
    except Exception as e:  # noqa: BLE001 - a damaged zip raises BadZipFile, EOFError, OSError, ValueError...
        raise ResultError(f"{npz}: not a readable series file ({type(e).__name__}: {_first_line(e)})") from None
    return rec, arrays


def _one_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0]


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else "no detail"


def result_folders(folder: str | os.PathLike) -> list[Path]:
    """Every folder under ``folder`` holding a ``result.json`` (hidden folders, such as Hydra's
    and temporaries, left out), sorted by path."""
    folder = Path(folder)
    return sorted(p.parent for p in folder.rglob("result.json")
                  if not any(s.startswith(".") for s in p.relative_to(folder).parts))


def read_results(folder: str | os.PathLike, series: bool = False
                 ) -> tuple[list[tuple[Path, dict, dict | None]], list[tuple[Path, str]]]:
    """Every result under ``folder``: ``(readable, unreadable)``, the readable as ``(clip folder,
    record, series or None)`` sorted by clip name, the unreadable as ``(clip folder, why)``."""
    good, bad = [], []
    for clip_dir in result_folders(folder):
        for attempt in range(3):  # a folder being replaced by a writer (renamed into place) is briefly gone
            try:
                rec, arrays = read_result(clip_dir, series)
            except ResultError as e:
                if attempt < 2 and not (clip_dir / "result.json").is_file():
                    time.sleep(0.05)
                    continue
                bad.append((clip_dir, str(e)))
                break
            good.append((clip_dir, rec, arrays))
            break
    good.sort(key=lambda g: (g[1]["clip"], str(g[0])))
    digests = {(g[1].get("provenance") or {}).get("settings_digest") for g in good} - {None}
    if len(digests) > 1:
        log.warning("%s holds results of %d different analysis settings (provenance.settings_digest): compare "
                    "within one", folder, len(digests))
    return good, bad


def timing_links(rec: dict) -> list[dict]:
    """A result's ordered links, each with ``weight`` (the pair's correlation): the measured pairs
    whose lag interval orders them (the timing path's graph), or, in a result without measured
    pairs, its edges."""
    if rec.get("pairs") is None:
        return rec["edges"]
    return [{**e, "weight": e["correlation"]} for e in rec["pairs"] if e["ordered"]]


def path_links(rec: dict) -> list[dict]:
    """The links of a result's path, source first, from its ordered links (:func:`timing_links`),
    each with ``src``, ``dst``, ``weight``, ``lag_ms`` and ``lag_ci_ms``."""
    links = {(e["src"], e["dst"]): e for e in timing_links(rec)}
    return [links[(a, b)] for a, b in zip(rec["path"], rec["path"][1:])]
