"""Hydra sweeps: the joblib launcher runs every combination; sweep.csv compares the runs."""

import csv

import pytest

from corrkin.cli import main
from corrkin.sweep import summarise_run
from corrkin.synth import make_library
from tests.helpers.config import compose_config


def hydra_cfg(name, overrides):
    return compose_config(name, overrides, hydra=True)


def test_sweeps_run_on_joblib_and_the_table_compares_them(tmp_path):
    kp = tmp_path / "kp"
    make_library(kp, 4, seed=2)
    common = [f"input={kp}", "progress=false", "plots=false", "io_workers=0", "threads=1"]
    assert main(["analyse", "-m", *common, f"output={tmp_path / 'sweep'}",
                 "analysis.max_lag_s=0.2,0.4", "analysis.theta=0.35,0.5"]) == 0
    with open(tmp_path / "sweep" / "multirun" / "sweep.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["analysis.max_lag_s"], r["analysis.theta"]) for r in rows] == [
        ("0.2", "0.35"), ("0.2", "0.5"), ("0.4", "0.35"), ("0.4", "0.5")]
    assert "progress" not in rows[0]  # settings common to every run are not columns
    # a run of the sweep found what the same settings find on their own
    assert main(["analyse", *common, f"output={tmp_path / 'one'}", "analysis.max_lag_s=0.4",
                 "analysis.theta=0.5"]) == 0
    alone = summarise_run(tmp_path / "one")
    assert {k: str(v) for k, v in alone.items()} == {k: rows[3][k] for k in alone}
    assert rows[0]["mean_ordered_pairs"] != rows[3]["mean_ordered_pairs"]  # the settings matter


def test_the_launchers_compose():
    cfg = hydra_cfg("analyse", ["input=a", "output=b"])
    assert "JoblibLauncher" in cfg.hydra.launcher._target_
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="the [slurm] extra")
    cfg = hydra_cfg("analyse", ["input=a", "output=b", "hydra/launcher=slurm"])
    assert "SlurmLauncher" in cfg.hydra.launcher._target_ and cfg.hydra.launcher.timeout_min == 120


@pytest.mark.parametrize("name", ["analyse", "run", "library", "align", "render", "report", "sample", "demo", "export",
                                  "technique"])
def test_every_command_keeps_hydras_record_under_its_folder(name):
    """One run block (corrkin/configs/hydra_dirs) for every command and the training script:
    Hydra's record under the output (report: its page folder, output= or <input>/report), the
    working directory left alone."""
    given = {"sample": ["model=m", "output=b"], "technique": ["data=d", "output=b"], "demo": ["output=b"],
             "report": ["input=a"]}
    cfg = hydra_cfg(name, given.get(name, ["input=a", "output=b"]))
    folder = "a/report" if name == "report" else "b"
    assert cfg.hydra.run.dir.startswith(f"{folder}/.hydra/") and cfg.hydra.job.chdir is False
    if name == "report":
        assert hydra_cfg(name, ["input=a", "output=b"]).hydra.run.dir.startswith("b/.hydra/")
