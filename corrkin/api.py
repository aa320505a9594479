"""corrkin from Python (a notebook, a script), beside the command line: the same configs, the
same checks, the same code. ::

    import corrkin

    res = corrkin.analyse("clips/", fps=25, max_lag_s=0.3, units={"calibration": "stature", "stature_m": 1.82})
    res.to_pandas()              # one row per swing (the metrics.csv columns)
    res["cover_drive"]           # a clip's result.json, as a dict
    corrkin.run("videos/", pose="mediapipe", output="runs/")   # videos in
    corrkin.load_results("runs/")                               # any output folder -> a DataFrame

Settings are the fields of :class:`corrkin.config.AnalysisConfig` (``analysis.*`` on the command
line) as keyword arguments, nested ones as dicts; they are merged into the command's composed
config, so a misspelt key or a bad value raises ``ValueError`` naming it, as the command does.
Each call runs the command's own function (:func:`corrkin.commands.analyse.run_analyse`,
:func:`corrkin.commands.run.run_video`) on a folder: results are files first (resumable,
inspectable), read back as :class:`Results`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Results:
    """An output folder of ``analyse``, ``run`` or ``library`` (a path or a string), read
    lazily; a mapping from clip name to its ``result.json``: ``len``, ``in``, iteration over
    the names (:attr:`clips`) and ``results[name]``."""

    folder: Path
    exit_code: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.folder, (str, os.PathLike)):
            raise TypeError(f"Results: folder must be a path or a string, got {type(self.folder).__name__}")
        self.folder = Path(self.folder)

    @property
    def clips(self) -> list[str]:
        """Every readable clip's name, in the order the folder lists them."""
        return [rec["clip"] for rec in self.records()]

    def __iter__(self):
        return iter(self.clips)

    def __contains__(self, clip: object) -> bool:
        return clip in self.clips

    def paths(self) -> list[Path]:
        """Every clip's ``result.json`` (hidden folders, such as Hydra's, left out)."""
        from corrkin.io.results import result_folders

        return [d / "result.json" for d in result_folders(self.folder)]

    def records(self) -> list[dict]:
        """Every clip's ``result.json`` as a dict, by clip name (each file read once). A result
        that cannot be read (cut off, damaged, not corrkin's) is left out with a warning naming
        the file; :meth:`unreadable` lists them."""
        import warnings

        from corrkin.io.results import read_results

        good, bad = read_results(self.folder)
        for _, why in bad:
            warnings.warn(f"left out: {why}", stacklevel=2)
        return [rec for _, rec, _ in good]

    def unreadable(self) -> list[tuple[str, str]]:
        """``(clip folder, why)`` for every result under the folder that cannot be read."""
        from corrkin.io.results import read_results

        return [(str(d), why) for d, why in read_results(self.folder)[1]]

    def __len__(self) -> int:
        return len(self.paths())

    def __getitem__(self, clip: str) -> dict:
        from corrkin.io.results import read_result

        direct = self.folder / clip / "result.json"  # analyse and run: <clip>/result.json
        if direct.is_file() and (rec := read_result(direct.parent)[0])["clip"] == clip:
            return rec
        for rec in self.records():  # a library: clips/<key>/result.json
            if rec["clip"] == clip:
                return rec
        raise KeyError(f"{clip}: no such clip in {self.folder}")

    def to_pandas(self):
        """One row per clip: the ``metrics.csv`` columns (:mod:`corrkin.analysis.metrics`), in
        clip order, with the types and missing values ``pd.read_csv("metrics.csv")`` gives (a
        value not there is NaN, never ``''``)."""
        import io

        import pandas as pd

        from corrkin.analysis.metrics import COLUMNS, metrics_row
        from corrkin.io.tables import csv_text

        return pd.read_csv(io.StringIO(csv_text([metrics_row(r) for r in self.records()], list(COLUMNS))))

    def summary(self):
        """``summary.csv`` (every clip, failed ones with the reason) as a DataFrame."""
        import pandas as pd

        return pd.read_csv(self.folder / "summary.csv")


def load_results(folder: str | os.PathLike):
    """The per-clip metrics of any output folder (``analyse``, ``run``, ``library``) as a
    pandas DataFrame."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    return Results(folder).to_pandas()


def _compose(command: str, overrides: list[str], analysis: dict[str, Any]):
    """The command's config as the command line composes it, with ``analysis`` merged into its
    ``analysis`` node (typed: an unknown key or a wrong type raises) and every range checked."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from corrkin.cli import CONFIG_DIR, checked
    from corrkin.config import register_configs

    register_configs()
    with initialize_config_dir(CONFIG_DIR, version_base="1.3"):
        cfg = compose(command, overrides=overrides)
    try:
        cfg = OmegaConf.merge(cfg, {"analysis": analysis}) if analysis else cfg
    except OmegaConfBaseException as e:
        key = getattr(e, "full_key", None)
        raise ValueError(f"analysis settings{f' ({key})' if key else ''}: {str(e).splitlines()[0]}") from None
    checked(cfg)
    return cfg


def _value(v) -> str:
    """A command-line override's value."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return "'" + str(v).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _safe_name(name: str) -> str:
    """A clip's name as one file name: path separators and a leading dot replaced, never empty."""
    out = "".join("_" if ch in "/\\\0" else ch for ch in str(name)).strip()
    out = "_" + out[1:] if out.startswith(".") else out
    return out or "_"


def _input_folder(inputs, scratch: Path) -> str:
    """``inputs`` as one path the command reads: a file or folder as given; several files (or
    :class:`corrkin.io.keypoints.Clip` objects, saved as ``.npz`` under their names made one
    file name each) linked into ``scratch``, a folder of this call's own."""
    from corrkin.io.keypoints import Clip, save_clip

    if isinstance(inputs, (str, os.PathLike)):
        if not str(inputs).strip():
            raise ValueError("inputs: an empty path (name a keypoint file or folder)")
        return str(inputs)
    if isinstance(inputs, (bytes, dict)) or not isinstance(inputs, (Iterable, Clip)) or hasattr(inputs, "columns"):
        raise TypeError(f"inputs: a keypoint file or folder, a list of them, or Clip objects; got {type(inputs).__name__}"
                        + (" (pass its column of paths, e.g. frame['path'])" if hasattr(inputs, "columns") else ""))
    items = [inputs] if isinstance(inputs, Clip) else list(inputs)
    if not items:
        raise ValueError("inputs: an empty list")
    scratch.mkdir(parents=True, exist_ok=True)
    taken: dict[str, str] = {}
    for item in items:
        if isinstance(item, Clip):
            name, what = _safe_name(item.name) + ".npz", f"the clip {item.name!r}"
        elif isinstance(item, (str, os.PathLike)) and str(item).strip():
            src = Path(item).resolve()
            if not src.is_file():
                raise FileNotFoundError(f"inputs: {src}: no such file")
            name, what = src.name, str(src)
        else:
            raise TypeError(f"inputs: each item a keypoint file's path or a Clip; got {type(item).__name__} {item!r}")
        if name in taken:
            raise ValueError(f"inputs: {taken[name]} and {what} share the name {Path(name).stem!r}: their results "
                             "would share a folder; rename one")
        taken[name] = what
        if isinstance(item, Clip):
            save_clip(scratch / name, item)
        else:
            (scratch / name).symlink_to(src)
    return str(scratch)


def _checked_output(output) -> Path:
    if output is None:
        return Path(tempfile.mkdtemp(prefix="corrkin_"))
    if not isinstance(output, (str, os.PathLike)) or not str(output).strip():
        raise ValueError(f"output: a folder's path, not {output!r}")
    return Path(output)


def _choices(group: str) -> list[str]:
    from corrkin.cli import CONFIG_DIR

    return sorted(p.stem for p in (Path(CONFIG_DIR) / group).glob("*.yaml"))


def _check_choice(group: str, key: str, value) -> None:
    if not isinstance(value, str) or value not in _choices(group):
        raise ValueError(f"{key}={value!r}: expected one of {_choices(group)}")


def analyse(inputs, output: str | os.PathLike | None = None, *, fps: float | None = None, preset: str = "default",
            device: str = "cpu", plots: bool = False, progress: bool = False,
            impacts: str | os.PathLike | dict[str, float] | None = None, **analysis) -> Results:
    """``corrkin analyse`` from Python.

    Args:
        inputs: a keypoint file or folder, a list of files, or :class:`corrkin.io.keypoints.Clip`
            objects.
        output: the results folder (default: a new temporary folder).
        fps: every clip's frame rate (where the files do not carry it, or to override it).
        preset: the analysis preset (``corrkin/configs/analysis``): ``default`` or ``seed``.
        device: ``cpu`` or ``cuda``.
        plots: also draw each clip's figures.
        progress: a progress bar.
        impacts: the moment of impact per clip where known, ``{clip: seconds into it}`` or a CSV
            (``clip``, ``impact_s``): the events' reference instead of the peak bat speed.
        **analysis: settings of :class:`corrkin.config.AnalysisConfig`, e.g. ``max_lag_s=0.3``,
            ``units={"calibration": "points", "points_px": [[100, 600], [344, 600]]}``.

    Returns:
        :class:`Results` of the output folder (``exit_code`` 1 when a clip failed: see
        ``summary()``).

    Raises:
        ValueError: a setting out of range, or every clip failed for one reason (the call
            could not run: no frame rate in any file, say).
    """
    import shutil

    from corrkin.commands.analyse import run_analyse

    _check_choice("analysis", "preset", preset)
    out = _checked_output(output)
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".inputs-", dir=out))  # this call's own: two calls never share it
    try:
        return _analyse(inputs, out, scratch, fps, preset, device, plots, progress, impacts, analysis, run_analyse)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _analyse(inputs, out: Path, scratch: Path, fps, preset, device, plots, progress, impacts, analysis, run_analyse):
    source = _input_folder(inputs, scratch)
    overrides = [f"input={_value(source)}", f"output={_value(str(out))}", f"analysis={preset}",
                 f"device={device}", f"plots={_value(plots)}", f"progress={_value(progress)}", "io_workers=0"]
    if fps is not None:
        overrides.append(f"fps={_value(float(fps))}")
    if isinstance(impacts, dict):
        import csv

        table = scratch / "impacts.csv"
        with open(table, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([("clip", "impact_s"), *((k, float(v)) for k, v in impacts.items())])
        impacts = table
    if impacts is not None:
        overrides.append(f"impacts={_value(str(impacts))}")
    code = run_analyse(_compose("analyse", overrides, analysis))
    if code:
        _raise_if_nothing_ran(out, source)
    return Results(out, code)


def _raise_if_nothing_ran(out: Path, source: str) -> None:
    """A call in which every clip failed for one reason could not run at all (no frame rate in
    any file, say): ``ValueError`` with that reason, rather than a result with nothing in it."""
    import csv

    from corrkin.io.keypoints import find_inputs

    names = {name for name, _ in find_inputs(source, exclude=out)}
    with open(out / "summary.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["clip"] in names]
    reasons = {r["error"] for r in rows}
    if len(rows) > 1 and all(r["status"] == "failed" for r in rows) and len(reasons) == 1:
        raise ValueError(f"every clip ({len(rows)}) failed: {reasons.pop()}")


def run(videos, output: str | os.PathLike | None = None, *, pose: str = "mediapipe", fps: float | None = None,
        device: str = "cpu", plots: bool = False, progress: bool = False, pose_keypoints: str | None = None,
        **analysis) -> Results:
    """``corrkin run`` from Python: videos (a file or a folder) through pose (``mediapipe``,
    ``mmpose``, ``yolo``, or ``file`` with ``pose_keypoints`` = their keypoint files), the bat
    detector and the analysis; ``**analysis`` as for :func:`analyse`."""
    from corrkin.commands.run import run_video

    _check_choice("pose", "pose", pose)
    if not isinstance(videos, (str, os.PathLike)) or not str(videos).strip():
        raise ValueError(f"videos: a video file's or folder's path, not {videos!r}")
    out = _checked_output(output)
    overrides = [f"input={_value(str(videos))}", f"output={_value(str(out))}", f"pose={pose}", f"device={device}",
                 f"plots={_value(plots)}", f"progress={_value(progress)}"]
    if pose_keypoints is not None:
        overrides.append(f"pose.keypoints={_value(str(pose_keypoints))}")
    if fps is not None:
        overrides.append(f"fps={_value(float(fps))}")
    code = run_video(_compose("run", overrides, analysis))
    return Results(out, code)
