"""Library alignment on a labelled synthetic library with known chains and lags."""

import csv
import json

import numpy as np
import pytest
import torch

from corrkin.cli import main
from corrkin.library.alignment import frame_map, medoid, procrustes_templates
from corrkin.ops.dtw import dtw
from corrkin.synth import SHOTS, load_truth, truth_path
from tests.helpers.data import analysed_shot_library


@pytest.fixture(scope="module")
def aligned(tmp_path_factory):
    root = tmp_path_factory.mktemp("library")
    manifest = analysed_shot_library(root, per_group=4, seed=3)
    assert main(["align", f"input={root / 'res'}", f"output={root / 'align'}", f"labels={manifest}"]) == 0
    return root


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_a_linear_warp_maps_exactly_smoothed_or_not():
    # clip frames 0..19 paired with reference frames 2 * i (every other frame), window at 5
    path = np.array([[i, 2 * i] for i in range(20)] + [[-1, -1]] * 3)
    for smooth in (0, 3):
        f = frame_map(path, start=5, length=40, rate=2.0, smooth=smooth)
        np.testing.assert_allclose(f, 2.0 * (np.arange(40) - 5), atol=1e-12)


def test_medoid_is_the_least_summed_dtw_cost():
    rng = np.random.default_rng(0)
    series = [np.cumsum(rng.normal(size=rng.integers(15, 30))) for _ in range(7)]
    total = np.zeros(7)
    for a in range(7):
        for b in range(7):
            if a != b:
                x = torch.from_numpy(series[a])[None, :, None]
                y = torch.from_numpy(series[b])[None, :, None]
                total[a] += dtw(x, y, radius=3).item()
    assert medoid(series, 3) == int(np.argmin(total))


def test_procrustes_templates_undo_similarity_transforms():
    rng = np.random.default_rng(1)
    base = rng.normal(size=(12, 14, 2))
    trajs = []
    for _ in range(6):
        a, s, t = rng.uniform(-1, 1), rng.uniform(0.7, 1.4), rng.normal(size=2)
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        trajs.append(s * base @ rot.T + t + rng.normal(scale=1e-3, size=base.shape))
    trajs = np.stack(trajs)
    trajs[2, 3, 5] = np.nan  # a missing point is left out, not counted as zero
    _, _, dist = procrustes_templates(trajs, ["g"] * 6)
    assert (dist < 5e-3).all(), dist


def test_every_clip_is_nearest_its_own_shot_template(aligned):
    for r in rows(aligned / "align" / "clips.csv"):
        assert r["nearest_template"] == r["shot"], r["clip"]


def test_the_most_frequent_path_is_the_true_chain(aligned):
    truth = load_truth(truth_path(aligned / "kp"))
    chain = " > ".join(next(iter(truth.values()))["chain"])
    for key in ("shot", "batter"):
        top = [r for r in rows(aligned / "align" / f"paths_by_{key}.csv") if r["rank"] == "1"]
        assert len(top) == 2 and all(r["path"] == chain for r in top), top


def test_lags_on_the_common_timeline(aligned):
    """Raw lags (sub-frame) within 5 ms of the truth, inside their mean 95 % interval; on the
    common timeline the reference's own shot keeps its lags (within a frame), the other shot's
    are expressed in the reference's time."""
    info = json.loads((aligned / "align" / "alignment.json").read_text())
    ref_shot = info["reference"].split("_")[0]
    edges = {(r["shot"], r["src"], r["dst"]): r for r in rows(aligned / "align" / "edges_by_shot.csv")}
    for shot, spec in SHOTS.items():
        lag = spec["delay_frames"] * 40.0  # ms at 25 fps
        e = edges[(shot, "l_wrist", "bat")]
        assert float(e["frequency"]) == 1.0
        assert float(e["raw_lag_ms_mean"]) == pytest.approx(lag, abs=5.0)
        assert 0 < float(e["raw_lag_ci_halfwidth_ms_mean"]) < 20
        assert float(e["lag_ms_mean_ci_low"]) <= float(e["lag_ms_mean"]) <= float(e["lag_ms_mean_ci_high"])
        if shot == ref_shot:
            assert float(e["lag_ms_mean"]) == pytest.approx(lag, abs=40.0)


def test_activation_times_line_up_on_the_common_timeline(aligned):
    """Swings happen at random moments of each clip; on the common timeline the bat's
    activation lines up near the reference's peak."""
    clips = rows(aligned / "align" / "clips.csv")
    res = aligned / "res"
    raw = [json.loads((res / c["clip"] / "result.json").read_text())["activation_ms"]["bat"] for c in clips]
    common = [float(c["activation_ms_bat"]) for c in clips]
    for c in clips:  # the interval, mapped through the warp too, holds the time
        assert float(c["activation_ci_low_ms_bat"]) < float(c["activation_ms_bat"]) < float(c["activation_ci_high_ms_bat"])
    assert np.std(raw) > 200 and np.std(common) < 60, (np.std(raw), np.std(common))


def test_parquet_tables_equal_the_csv(aligned):
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow writes the Parquet tables")
    for name in ("clips", "edges_by_shot", "paths_by_batter"):
        table = pq.read_table(aligned / "align" / f"{name}.parquet").to_pylist()
        csv_rows = rows(aligned / "align" / f"{name}.csv")
        assert len(table) == len(csv_rows) > 0
        assert [str(r["path" if "path" in r else "src"]) for r in table] == \
               [r["path" if "path" in r else "src"] for r in csv_rows]


def test_an_unreadable_result_is_reported_and_the_rest_aligned(aligned, tmp_path):
    import shutil

    res = tmp_path / "res"
    shutil.copytree(aligned / "res", res)
    done = sorted(p.parent for p in res.glob("*/result.json"))
    victim = done[0]
    (victim / "series.npz").write_bytes(b"not a zip file")
    assert main(["align", f"input={res}", f"output={tmp_path / 'align'}", "plots=false", "formats=[csv]",
                 f"labels={aligned / 'kp' / 'manifest.csv'}"]) == 1
    info = json.loads((tmp_path / "align" / "alignment.json").read_text())
    assert [f["clip"] for f in info["failed"]] == [victim.name]
    assert info["clips"] == len(done) - 1


def test_min_quality_leaves_out_unreliable_clips(aligned, tmp_path):
    import shutil

    res = tmp_path / "res"
    shutil.copytree(aligned / "res", res)
    victim = sorted(p for p in res.iterdir() if (p / "result.json").is_file())[0]
    rec = json.loads((victim / "result.json").read_text())
    assert rec["quality"]["reliable"]  # the synthetic clips are clean
    rec["quality"] |= {"reliable": False, "reasons": ["bat seen in 10% of the swing window"]}
    (victim / "result.json").write_text(json.dumps(rec))
    assert main(["align", f"input={res}", f"output={tmp_path / 'all'}", "plots=false"]) == 0
    assert main(["align", f"input={res}", f"output={tmp_path / 'good'}", "plots=false", "min_quality=reliable"]) == 0
    every = {r["clip"] for r in rows(tmp_path / "all" / "clips.csv")}
    good = {r["clip"] for r in rows(tmp_path / "good" / "clips.csv")}
    assert every - good == {rec["clip"]}
    info = json.loads((tmp_path / "good" / "alignment.json").read_text())
    assert info["left_out_unreliable"] == [{"clip": rec["clip"], "reasons": rec["quality"]["reasons"]}]


def test_links_per_batter_and_shot(aligned):
    """links.csv: every tested pair of each batter's shot, once, with its pooled lag, the share of
    swings ordered its way and the test across swings; the chain drawn from the claimed links."""
    links = rows(aligned / "align" / "links.csv")
    info = json.loads((aligned / "align" / "alignment.json").read_text())
    groups = {(r["batter"], r["shot"]) for r in links}
    assert groups == {(c["batter"], c["shot"]) for c in info["chains"]} and len(groups) >= 2
    for g in groups:
        mine = [r for r in links if (r["batter"], r["shot"]) == g]
        assert len(mine) == 91 - 3  # every pair but the hips and the pelvis with an ankle
        assert {frozenset((r["src"], r["dst"])) for r in mine}.isdisjoint(
            {frozenset(("l_hip", "r_hip")), frozenset(("pelvis", "l_ankle"))})
        for r in mine:
            lo, lag, hi = float(r["lag_ci_low_ms"]), float(r["lag_ms"]), float(r["lag_ci_high_ms"])
            assert lag >= 0 and lo <= lag <= hi
            assert (r["claimed"] == "True") == (float(r["p_holm"]) < 0.05 and (lo > 0 or hi < 0))
            assert float(r["p_value"]) >= 1 / 5000
    for c in info["chains"]:  # a chain runs over claimed links only
        claimed = {(r["src"], r["dst"]) for r in links if (r["batter"], r["shot"]) == (c["batter"], c["shot"])
                   and r["claimed"] == "True"}
        assert all(link in claimed for link in zip(c["chain"], c["chain"][1:]))


def test_align_shows_its_progress_on_a_terminal_only(tmp_path):
    """A first alignment of a large library is not silent: a bar over the clips read where
    standard error is a terminal, none in a log or a pipe."""
    import os
    import pty
    import subprocess
    import sys

    from tests.helpers.data import analysed_shot_library

    lib = tmp_path / "lib"
    analysed_shot_library(lib, per_group=1, seed=2)
    args = [sys.executable, "-m", "corrkin", "align", f"input={lib / 'res'}", "formats=[csv]", "plots=false"]
    leader, follower = pty.openpty()
    import fcntl
    import struct
    import termios

    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # a terminal 120 columns wide
    try:
        done = subprocess.run([*args, f"output={tmp_path / 'tty'}"], stderr=follower, stdout=subprocess.DEVNULL,
                              timeout=600)
        os.close(follower)
        seen = b""
        while True:
            try:
                part = os.read(leader, 65536)
            except OSError:
                break
            if not part:
                break
            seen += part
    finally:
        os.close(leader)
    assert done.returncode == 0 and b"align: reading" in seen, seen[-2000:]
    piped = subprocess.run([*args, f"output={tmp_path / 'pipe'}"], capture_output=True, text=True, timeout=600)
    assert piped.returncode == 0 and "align: reading" not in piped.stderr
