"""The temporary disk: ``corrkin run`` keeps a copy of each video's frames in ``TMPDIR`` only where
it fits; a video whose copy does not (a long 1080p video, a nearly full disk) is decoded twice
instead, with the same results, and nothing is left behind."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import corrkin.io.video as video_mod
from corrkin.commands.run import run_video
from corrkin.synth import SwingSpec
from corrkin.synth_video import write_rendered
from tests.helpers.config import compose_config


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = tmp_path_factory.mktemp("tmpdisk")
    video, truth = write_rendered(root / "videos", SwingSpec(fps=25, duration_s=1.6, swing_at_s=0.8), seed=11,
                                  name="swing")
    (root / "poses").mkdir()
    truth.rename(root / "poses" / truth.name)
    return root


def _run(root, out) -> tuple[dict, dict]:
    cfg = compose_config("run", ["pose=file", f"input={root / 'videos'}", f"output={out}",
                                 f"pose.keypoints={root / 'poses'}", "plots=false", "progress=false"])
    assert run_video(cfg) == 0
    with np.load(out / "swing" / "keypoints.npz") as z:
        arrays = {k: z[k] for k in z.files}
    record = json.loads((out / "swing" / "result.json").read_text())
    record.pop("provenance")  # names the run's own output folder
    return record, arrays


@pytest.mark.parametrize("how", ["over_the_limit", "disk_nearly_full"])
def test_no_room_for_the_frame_copy_gives_the_same_results(how, rendered, tmp_path, monkeypatch):
    record, arrays = _run(rendered, tmp_path / "room")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(video_mod.tempfile, "tempdir", None)  # TMPDIR is read again
    seen = []
    real = video_mod.DecodedOnce._reserve
    monkeypatch.setattr(video_mod.DecodedOnce, "_reserve", lambda self, limit: seen.append(real(self, limit)) or seen[-1])
    if how == "over_the_limit":
        monkeypatch.setattr(video_mod, "KEEP_LIMIT_BYTES", 1000)
    else:
        usage = video_mod.shutil.disk_usage(tmp)._replace(free=video_mod.KEEP_MARGIN_BYTES + 1000)
        monkeypatch.setattr(video_mod.shutil, "disk_usage", lambda p: usage)
    again, arrays_again = _run(rendered, tmp_path / "no_room")
    assert seen == [None]  # no copy was made
    assert os.listdir(tmp) == []  # and nothing left in TMPDIR
    for key in arrays:
        np.testing.assert_array_equal(arrays_again[key], arrays[key])
    assert again == record
