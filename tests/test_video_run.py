"""corrkin run on a folder of rendered videos with one corrupt file."""

import csv
import json

import numpy as np
import pytest
from hydra.errors import ConfigCompositionException

from corrkin.commands.run import run_video
from corrkin.io.keypoints import load_clip
from corrkin.synth import SwingSpec
from corrkin.synth_video import tip_error, write_rendered
from tests.helpers.config import compose_config


def run_cfg(overrides):
    """``corrkin run`` with the body pose from files (the default backend is MediaPipe)."""
    return compose_config("run", ["pose=file", *overrides])


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    videos, poses = root / "videos", root / "poses"
    specs = [SwingSpec(fps=25, duration_s=1.6, swing_at_s=0.8), SwingSpec(fps=30, duration_s=1.4, swing_at_s=0.6)]
    for i, spec in enumerate(specs):
        video, truth = write_rendered(videos, spec, seed=10 + i, name=f"swing{i}")
        poses.mkdir(exist_ok=True)
        truth.rename(poses / truth.name)  # the body pose comes from a file; the bat must be found
    (videos / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(500))
    return videos, poses


def test_run_on_videos_with_a_corrupt_file(library, tmp_path):
    videos, poses = library
    out = tmp_path / "out"
    impacts = tmp_path / "impacts.csv"  # the moment of impact known for one video, in its time
    impacts.write_text("clip,impact_s\nswing1,0.62\n")
    code = run_video(run_cfg([f"input={videos}", f"output={out}", f"pose.keypoints={poses}", "plots=false",
                              "progress=false", f"impacts={impacts}"]))
    assert code == 1
    rows = {r["clip"]: r for r in csv.DictReader(open(out / "summary.csv"))}
    assert set(rows) == {"swing0", "swing1", "broken"}
    assert rows["broken"]["status"] == "failed" and "not a readable video" in rows["broken"]["error"]
    for name in ("swing0", "swing1"):
        assert rows[name]["status"] == "ok", rows[name]
        res = json.loads((out / name / "result.json").read_text())
        tracking = res["quality"]["batter_tracking"]  # one person per frame: followed, and said so
        assert tracking["selection"] == "single person followed" and tracking["switches"] == 0
        assert "a bystander may have been followed" in res["quality"]["notes"][0]
        assert res["frames"] > 0 and (out / name / "series.npz").is_file()
        found = load_clip(out / name / "keypoints.npz")
        truth = load_clip(poses / f"{name}.npz")
        seen = found.bat_scores >= 0.5  # elsewhere the bat is absent (NaN in the file) or bridged
        raw = np.load(out / name / "keypoints.npz")
        assert np.isnan(raw["bat"][raw["bat_scores"] == 0]).all()
        err = tip_error(found.bat, truth)
        assert seen.mean() >= 0.5 and np.median(err[seen]) <= 0.1 and found.fps == truth.fps
        np.testing.assert_array_equal(found.keypoints, truth.keypoints)
    # one metrics row per clip analysed, the failed file left out (issue 15)
    metrics = {r["clip"]: r for r in csv.DictReader(open(out / "metrics.csv"))}
    assert set(metrics) == {"swing0", "swing1"} and all(float(r["fps"]) > 0 for r in metrics.values())
    assert metrics["swing1"]["reference_event"] == "ball_contact"
    assert float(metrics["swing1"]["reference_clip_ms"]) == pytest.approx(620.0)
    assert metrics["swing0"]["reference_event"] != "ball_contact"


def test_missing_pose_file_is_reported(library, tmp_path):
    videos, _ = library
    empty = tmp_path / "no_poses"
    empty.mkdir()
    out = tmp_path / "out"
    assert run_video(run_cfg([f"input={videos / 'swing0.mp4'}", f"output={out}", f"pose.keypoints={empty}",
                              "plots=false", "progress=false"])) == 1
    row = next(csv.DictReader(open(out / "summary.csv")))
    assert "no keypoint file swing0.npz or .json" in row["error"]


def test_run_config_needs_its_keys(capsys, tmp_path):
    with pytest.raises(ConfigCompositionException):
        run_cfg(["input=a", "output=b", "bat.tauu=3"])
    cfg = run_cfg(["input=a", "output=b", "pose.keypoints=k", "stride=2"])
    assert cfg.pose._target_ == "corrkin.pose.file.FilePose" and cfg.stride == 2
    # the default backend runs offline on any machine; what is missing is said in one line
    assert compose_config("run", ["input=a", "output=b"]).pose._target_ == "corrkin.pose.mediapipe.MediaPipePose"
    from corrkin.cli import main

    assert main(["run", f"output={tmp_path / 'o'}"]) == 2
    assert capsys.readouterr().err.strip() == "corrkin run: missing input; pass input=<file or folder>"
    assert main(["run", "input=v", f"output={tmp_path / 'o'}", "pose=file"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing pose.keypoints; pass pose.keypoints=<folder" in err[0]


def test_batter_not_the_larger_person_walking_past(tmp_path):
    """A rendered batter and a larger person walking across the frame, both in an mmpose file
    with no bat keypoint: the batter is the one holding the bat, found on the pixels."""
    videos, poses, out = tmp_path / "videos", tmp_path / "poses", tmp_path / "out"
    spec = SwingSpec(fps=25, duration_s=1.6, swing_at_s=0.8)
    video, truth = write_rendered(videos, spec, seed=3, name="passer", passer=True)
    poses.mkdir()
    (videos / "passer.json").rename(poses / "passer.json")
    doc = json.loads((poses / "passer.json").read_text())
    for frame in doc["instance_info"]:  # a model lists people in no particular order
        frame["instances"].reverse()
    (poses / "passer.json").write_text(json.dumps(doc))
    code = run_video(run_cfg([f"input={videos}", f"output={out}", f"pose.keypoints={poses}", "plots=false",
                              "progress=false"]))
    assert code == 0
    found, batter = load_clip(out / "passer" / "keypoints.npz"), load_clip(truth)
    np.testing.assert_allclose(found.keypoints, batter.keypoints, atol=0.01)  # the batter in every frame
    tracking = json.loads((out / "passer" / "result.json").read_text())["quality"]["batter_tracking"]
    assert tracking["most_in_a_frame"] == 2 and tracking["selection"].startswith("chosen by the evidence")
    assert tracking["switches"] == 0 and tracking["frames_without_batter"] == 0
    seen = found.bat_scores >= 0.5
    assert seen.mean() >= 0.4 and np.median(tip_error(found.bat, batter)[seen]) <= 0.1
    # told to, it follows the other person instead
    other = np.reshape(doc["instance_info"][0]["instances"][0]["bbox"], -1).tolist()
    code = run_video(run_cfg([f"input={videos}", f"output={tmp_path / 'out2'}", f"pose.keypoints={poses}",
                              "plots=false", "progress=false", f"batter.box={other}"]))
    chosen = load_clip(tmp_path / "out2" / "passer" / "keypoints.npz")
    assert np.abs(chosen.keypoints - batter.keypoints).max() > 50


def test_malformed_pose_file_fails_that_video_only(library, tmp_path):
    """A pose file in mmpose form whose people are not people: that video fails with the reason,
    the other is analysed (issue 14)."""
    import shutil

    videos, poses = library
    bad_poses = tmp_path / "poses"
    shutil.copytree(poses, bad_poses)
    (bad_poses / "swing1.npz").unlink()
    (bad_poses / "swing1.json").write_text('[{"frame_id": 0, "instances": [5]}]')
    vids = tmp_path / "videos"
    vids.mkdir()
    for name in ("swing0.mp4", "swing1.mp4"):
        (vids / name).symlink_to(videos / name)
    out = tmp_path / "out"
    assert run_video(run_cfg([f"input={vids}", f"output={out}", f"pose.keypoints={bad_poses}", "plots=false",
                              "progress=false"])) == 1
    rows = {r["clip"]: r for r in csv.DictReader(open(out / "summary.csv"))}
    assert rows["swing0"]["status"] == "ok"
    assert rows["swing1"]["status"] == "failed" and "'instances' is not a list of people" in rows["swing1"]["error"]
