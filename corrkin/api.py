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
    """An output folder of ``analyse``, ``run`` or ``library``, read lazily."""

    folder: Path
    exit_code: int = 0

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
        clip order."""
        import pandas as pd

        from corrkin.analysis.metrics import COLUMNS, metrics_row

        return pd.DataFrame([metrics_row(r) for r in self.records()], columns=list(COLUMNS))

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
        raise ValueError(f"analysis settings: {str(e).splitlines()[0]}") from None
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


def _input_folder(inputs, scratch: Path) -> str:
    """``inputs`` as one path the command reads: a file or folder as given; several files (or
    :class:`corrkin.io.keypoints.Clip` objects, saved as ``.npz``) linked into ``scratch``."""
    from corrkin.io.keypoints import Clip, save_clip

    if isinstance(inputs, (str, os.PathLike)):
        return str(inputs)
    items = list(inputs) if isinstance(inputs, Iterable) else [inputs]
    if not items:
        raise ValueError("no inputs")
    scratch.mkdir(parents=True, exist_ok=True)
    for item in items:
        if isinstance(item, Clip):
            save_clip(scratch / f"{item.name}.npz", item)
        else:
            src = Path(item).resolve()
            if not src.is_file():
                raise FileNotFoundError(f"{src}: no such file")
            if (scratch / src.name).exists():
                raise ValueError(f"{src.name}: two inputs of one name")
            (scratch / src.name).symlink_to(src)
    return str(scratch)


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
    """
    from corrkin.commands.analyse import run_analyse

    out = Path(output) if output is not None else Path(tempfile.mkdtemp(prefix="corrkin_"))
    source = _input_folder(inputs, out / ".inputs")
    overrides = [f"input={_value(source)}", f"output={_value(str(out))}", f"analysis={preset}",
                 f"device={device}", f"plots={_value(plots)}", f"progress={_value(progress)}", "io_workers=0"]
    if fps is not None:
        overrides.append(f"fps={_value(float(fps))}")
    if isinstance(impacts, dict):
        import csv

        table = out / ".inputs" / "impacts.csv"
        table.parent.mkdir(parents=True, exist_ok=True)
        with open(table, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([("clip", "impact_s"), *((k, float(v)) for k, v in impacts.items())])
        impacts = table
    if impacts is not None:
        overrides.append(f"impacts={_value(str(impacts))}")
    code = run_analyse(_compose("analyse", overrides, analysis))
    return Results(out, code)


def run(videos, output: str | os.PathLike | None = None, *, pose: str = "mediapipe", fps: float | None = None,
        device: str = "cpu", plots: bool = False, progress: bool = False, pose_keypoints: str | None = None,
        **analysis) -> Results:
    """``corrkin run`` from Python: videos (a file or a folder) through pose (``mediapipe``,
    ``mmpose``, ``yolo``, or ``file`` with ``pose_keypoints`` = their keypoint files), the bat
    detector and the analysis; ``**analysis`` as for :func:`analyse`."""
    from corrkin.commands.run import run_video

    out = Path(output) if output is not None else Path(tempfile.mkdtemp(prefix="corrkin_"))
    overrides = [f"input={_value(str(videos))}", f"output={_value(str(out))}", f"pose={pose}", f"device={device}",
                 f"plots={_value(plots)}", f"progress={_value(progress)}"]
    if pose_keypoints is not None:
        overrides.append(f"pose.keypoints={_value(str(pose_keypoints))}")
    if fps is not None:
        overrides.append(f"fps={_value(float(fps))}")
    code = run_video(_compose("run", overrides, analysis))
    return Results(out, code)
