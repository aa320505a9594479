"""The Python API (:mod:`corrkin.api`): what a notebook calls gives what the command gives,
with the same checks (issue 16)."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

import corrkin
from corrkin.cli import main
from corrkin.synth import make_library
from tests.helpers.data import SEED_DIR


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("api") / "clips"
    make_library(folder, 3, seed=11)
    return folder


def test_analyse_equals_the_command(clips, tmp_path):
    """``corrkin.analyse`` on a folder writes what ``corrkin analyse`` writes; its DataFrame
    is the command's metrics.csv."""
    res = corrkin.analyse(clips, tmp_path / "api", max_lag_s=0.3)
    assert res.exit_code == 0 and len(res) == 3
    assert main(["analyse", f"input={clips}", f"output={tmp_path / 'cli'}", "plots=false", "progress=false",
                 "analysis.max_lag_s=0.3"]) == 0
    api = res.to_pandas()  # the command's metrics.csv as pandas reads it: types and NaN alike
    pd.testing.assert_frame_equal(api, pd.read_csv(tmp_path / "cli" / "metrics.csv"))
    assert api["batter"].isna().all()  # not given: NaN, as from the CSV, never ''
    cli = pd.read_parquet(tmp_path / "cli" / "metrics.parquet")
    assert list(api.columns) == list(cli.columns) and len(api) == len(cli)
    name = api["clip"][0]
    assert res[name]["clip"] == name and res[name]["kinematic_sequence"]
    assert res.summary()["status"].eq("ok").all()
    pd.testing.assert_frame_equal(corrkin.load_results(tmp_path / "cli"), corrkin.load_results(tmp_path / "api"))


def test_clip_objects_and_a_list_of_files(clips, tmp_path):
    from corrkin.io.keypoints import load_clip

    files = sorted(clips.glob("*.npz"))[:2]
    by_path = corrkin.analyse(files, tmp_path / "a")
    objects = corrkin.analyse([load_clip(f) for f in files], tmp_path / "b")
    assert by_path.to_pandas()["clip"].tolist() == objects.to_pandas()["clip"].tolist() == [f.stem for f in files]
    assert by_path.to_pandas()["path_weight"].tolist() == objects.to_pandas()["path_weight"].tolist()


def test_impact_times_from_python(clips, tmp_path):
    """``impacts={clip: s}`` gives that clip's events their reference (the ball's contact), as
    ``impacts=<csv>`` does for the command; the others are measured from the bat's peak speed."""
    first = sorted(clips.glob("*.npz"))[0].stem
    table = corrkin.analyse(clips, tmp_path / "given", impacts={first: 1.0}).to_pandas().set_index("clip")
    assert table.loc[first, "reference_event"] == "ball_contact"
    assert table.loc[first, "reference_clip_ms"] == pytest.approx(1000.0)
    assert (table.drop(first)["reference_event"] != "ball_contact").all()


@pytest.mark.parametrize("settings, message", [
    ({"max_lag_seconds": 0.3}, "max_lag_seconds"),  # a misspelt key
    ({"theta": 2.0}, "analysis.theta"),  # out of range
    ({"units": {"calibration": "stature"}}, "analysis.units.stature_m"),  # a calibration without its input
])
def test_bad_settings_raise_naming_the_key(clips, tmp_path, settings, message):
    with pytest.raises(ValueError, match=message):
        corrkin.analyse(clips, tmp_path / "x", **settings)


def test_the_seed_preset_from_python(tmp_path):
    if not SEED_DIR.is_dir():
        pytest.skip(f"{SEED_DIR} not present (the shared seed keypoints)")
    res = corrkin.analyse(SEED_DIR, tmp_path / "seed", fps=25, preset="seed")
    assert len(res) == 7 and res.to_pandas()["fps"].eq(25).all()


def test_import_corrkin_does_not_load_torch():
    code = "import sys, corrkin; corrkin.__version__; print('torch' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_run_from_python(tmp_path):
    """``corrkin.run`` on a rendered video (pose from its truth file, the bat from the pixels)."""
    from corrkin.synth import SwingSpec
    from corrkin.synth_video import write_rendered

    videos, poses = tmp_path / "v", tmp_path / "p"
    poses.mkdir()
    _, truth = write_rendered(videos, SwingSpec(fps=25, duration_s=1.2, swing_at_s=0.6), seed=4, name="swing")
    truth.rename(poses / truth.name)
    res = corrkin.run(videos, tmp_path / "out", pose="file", pose_keypoints=poses)
    assert res.exit_code == 0 and res.to_pandas()["clip"].tolist() == ["swing"]
    assert (tmp_path / "out" / "swing" / "keypoints.npz").is_file()


def test_results_from_a_string_is_a_mapping_of_clips(tmp_path):
    from corrkin import Results, analyse
    from corrkin.synth import make_library

    make_library(tmp_path / "clips", 2, seed=0)
    done = analyse(tmp_path / "clips", output=tmp_path / "out", plots=False)
    res = Results(str(tmp_path / "out"))
    assert res.clips == sorted(done.clips) == list(res) == ["synthetic_0000", "synthetic_0001"]
    assert "synthetic_0000" in res and "nosuch" not in res and len(res) == 2
    assert res["synthetic_0001"]["clip"] == "synthetic_0001"
    with pytest.raises(TypeError, match="folder must be a path or a string"):
        Results(3)


def test_a_call_that_cannot_run_raises(seed_dir, tmp_path):
    from corrkin import analyse

    with pytest.raises(ValueError, match=r"every clip \(7\) failed: no frame rate .* pass fps="):
        analyse(seed_dir, output=tmp_path / "out")
    assert analyse(seed_dir, output=tmp_path / "out", fps=25, preset="seed").exit_code == 0
