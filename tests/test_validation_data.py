"""The validation-data generator's own invariants (benchmarks/validation_data.py), fixed seeds."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from benchmarks import validation_data as vd

ROOT = Path(__file__).resolve().parents[1]


def _clips(kind, **kw):
    if kind == "library":
        return [sw for lib in vd.make_suite("library", 1, 50, 3, n_swings=2, duration=2.5, **kw) for sw in lib["swings"]]
    return vd.make_suite(kind, 2, 50, 3, duration=2.0, **kw)


def test_joint_names_are_the_skeletons():
    # read corrkin/skeleton.py on its own (not the package): the generator shares only the names
    spec = importlib.util.spec_from_file_location("_skeleton", ROOT / "corrkin" / "skeleton.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert vd.JOINTS == mod.JOINTS and vd.NODES == mod.NODES


@pytest.mark.parametrize("kind", vd.KINDS)
def test_shapes_dtypes_and_no_nan(kind):
    for c in _clips(kind):
        T = c["truth"]["n_frames"]
        assert T == round(c["truth"]["duration_s"] * c["fps"]) + 1
        assert c["keypoints"].shape == (T, 13, 2) and c["keypoints"].dtype == np.float32
        assert c["scores"].shape == (T, 13) and c["scores"].dtype == np.float32
        assert c["bat"].shape == (T, 2) and c["bat"].dtype == np.float32
        assert c["bat_scores"].shape == (T,) and c["bat_scores"].dtype == np.float32
        assert isinstance(c["fps"], float) and isinstance(c["name"], str)
        for a in ("keypoints", "scores", "bat", "bat_scores"):
            assert np.isfinite(c[a]).all()
        assert (c["scores"] >= 0).all() and (c["scores"] <= 1).all()
        assert (c["bat_scores"] >= 0).all() and (c["bat_scores"] <= 1).all()
        tr = c["truth"]
        assert set(tr["activation_s"]) == set(vd.NODES)
        assert all(0 <= t <= tr["duration_s"] + 1e-9 for t in tr["activation_s"].values())
        assert 0 <= tr["impact_s"] <= tr["duration_s"] + 1e-9
        assert tr["handedness"] in ("right", "left")
        # scores are high wherever no error was planted: 0.6-1.0
        planted = tr["dropout"][:, :13] | tr["glitch"][:, :13]
        for g, pairs in vd.SWAP_GROUPS.items():
            for a, b in pairs:
                planted[:, [vd.JOINTS.index(a), vd.JOINTS.index(b)]] |= tr["swapped"][g][:, None]
        assert (c["scores"][~planted] >= 0.6).all()
        assert (c["scores"][tr["dropout"][:, :13]] <= 0.05).all()
        if kind in ("chain", "library"):
            lead = tr["lead"]
            assert tr["chain"] == ["pelvis", f"{lead}_shoulder", f"{lead}_elbow", f"{lead}_wrist", "bat"]
            assert len(tr["delays_s"]) == 4
        else:
            assert tr["chain"] == [] and tr["delays_s"] == {}


def test_noise_free_clip_is_the_projection():
    c = vd.make_suite("chain", 1, 120, 5, errors=False, duration=2.0)[0]
    assert np.array_equal(c["keypoints"], c["truth"]["clean_keypoints"])
    assert np.array_equal(c["bat"], c["truth"]["clean_bat"])
    # noise only: the motion and the camera do not depend on the errors switched on
    d = vd.make_suite("chain", 1, 120, 5, errors=True, duration=2.0)[0]
    assert np.array_equal(d["truth"]["clean_keypoints"], c["truth"]["clean_keypoints"])
    assert d["truth"]["activation_s"] == c["truth"]["activation_s"]


def test_activation_follows_the_designed_delays_when_pulses_are_separated():
    clips = vd.make_suite("chain", 4, 240, 21, delay_range=(0.2, 0.25), dur_scale=0.3, amp_scale=0.3, others=False,
                          p_reversal=0.0, errors=False, duration=3.0, p_pan=0.0, p_zoom=0.0)
    for c in clips:
        tr = c["truth"]
        ch, act = tr["chain"], tr["activation_s"]
        for a, b in zip(ch[:-1], ch[1:]):
            assert abs((act[b] - act[a]) - tr["delays_s"][f"{a}->{b}"]) < 0.005, (c["name"], a, b)
        for n in ch:
            assert abs(act[n] - tr["designed_peak_s"][n]) < 0.005
        assert abs(tr["impact_s"] - tr["designed_peak_s"]["bat"]) < 0.005


def test_realistic_chains_are_mostly_proximal_to_distal():
    clips = vd.make_suite("chain", 8, 120, 8, errors=False, duration=3.0, delay_range=(0.06, 0.12))
    ordered = [np.all(np.diff([c["truth"]["activation_s"][n] for n in c["truth"]["chain"]]) > 0) for c in clips]
    assert np.mean(ordered) >= 0.6
    for c in clips:
        assert 15.0 < c["truth"]["impact_speed_m_s"] < 50.0  # m/s at the bat tip


def test_swaps_happen_where_the_truth_says():
    share = {"wrists": 0.2, "elbows": 0.1, "legs": 0.1}
    clean = vd.make_suite("chain", 1, 50, 9, errors=False, duration=3.0)[0]
    c = vd.make_suite("chain", 1, 50, 9, errors={"swap": share}, duration=3.0)[0]
    kp, ck = c["keypoints"], clean["keypoints"]
    seen = np.zeros(len(kp), bool)
    for g, pairs in vd.SWAP_GROUPS.items():
        m = c["truth"]["swapped"][g]
        assert m.dtype == bool and m.shape == (len(kp),) and 0 < m.mean() < 2 * share[g]
        for a, b in pairs:
            ia, ib = vd.JOINTS.index(a), vd.JOINTS.index(b)
            assert np.array_equal(kp[m, ia], ck[m, ib]) and np.array_equal(kp[m, ib], ck[m, ia])
            assert np.array_equal(c["scores"][m, ia], clean["scores"][m, ib])
            assert np.array_equal(kp[~m, ia], ck[~m, ia])
            seen[m] = True
    # nothing else moved
    others = [vd.JOINTS.index(j) for j in ("pelvis", "l_hip", "r_hip", "l_shoulder", "r_shoulder")]
    assert np.array_equal(kp[:, others], ck[:, others]) and np.array_equal(c["bat"], clean["bat"])
    assert seen.any()


def test_dropouts_and_glitches_are_as_masked():
    c = vd.make_suite("chain", 1, 120, 4, errors={"dropout": 0.5, "glitch": 0.02}, duration=3.0)[0]
    tr = c["truth"]
    drop, gl = tr["dropout"], tr["glitch"]
    assert drop.any() and gl.any() and not (drop & gl).any()
    scores = np.concatenate([c["scores"], c["bat_scores"][:, None]], 1)
    assert (scores[drop] <= 0.05).all()
    assert ((scores[gl] >= 0.3) & (scores[gl] <= 0.9)).all()
    kp = np.concatenate([c["keypoints"], c["bat"][:, None]], 1)
    ck = np.concatenate([tr["clean_keypoints"], tr["clean_bat"][:, None]], 1)
    jump = np.linalg.norm(kp - ck, axis=-1)
    assert ((jump[gl] >= 19.9) & (jump[gl] <= 150.1)).all()
    assert np.allclose(jump[~(drop | gl)], 0.0, atol=1e-3)


def test_cotimed_nulls_pulse_near_the_swing():
    for c in vd.make_suite("null_cotimed", 3, 50, 6, duration=3.0):
        tr = c["truth"]
        assert all(abs(p["peak_s"] - tr["swing_s"]) <= 0.3 + 1e-6 for p in tr["pulses"])
        assert len({p["driver"] for p in tr["pulses"]}) == len(vd.DRIVERS)


def test_library_truth():
    lib = vd.make_suite("library", 1, 50, 2, n_swings=(10, 12), duration=2.5, errors=False)[0]
    tr, swings = lib["truth"], lib["swings"]
    assert 10 <= len(swings) == tr["n_swings"] <= 12
    assert tr["coupled_pairs"] == [list(p) for p in zip(tr["chain"][:-1], tr["chain"][1:])]
    rear, lead = ("r", "l") if tr["handedness"] == "right" else ("l", "r")
    assert tr["uncoupled_cotimed_pairs"] == [[f"{rear}_knee", f"{lead}_ankle"]]
    per = np.array([[d[k] for k in tr["delays_s"]] for d in tr["per_swing_delays_s"]])
    own = np.array(list(tr["delays_s"].values()))
    assert np.all(np.abs(per - own) < 0.05) and np.all(per.std(0) < 0.03)
    offs = np.array([[o[n] for n in tr["uncoupled_cotimed_pairs"][0]] for o in tr["uncoupled_offsets_s"]])
    assert np.all(np.abs(offs) <= 0.3) and offs.std(0).min() > 0.05
    assert len({sw["truth"]["body"]["H"] for sw in swings}) == 1  # one batter
    assert len({sw["truth"]["handedness"] for sw in swings}) == 1


def test_determinism():
    a = vd.make_suite("null_uniform", 2, None, 11, duration=2.0)
    b = vd.make_suite("null_uniform", 2, None, 11, duration=2.0)
    c = vd.make_suite("null_uniform", 2, None, 12, duration=2.0)
    for x, y in zip(a, b):
        for k in ("keypoints", "scores", "bat", "bat_scores"):
            assert np.array_equal(x[k], y[k])
        assert x["fps"] == y["fps"] and x["truth"]["activation_s"] == y["truth"]["activation_s"]
    assert not np.array_equal(a[0]["keypoints"], c[0]["keypoints"])


def test_write_npz(tmp_path):
    c = vd.make_suite("chain", 1, 25, 1, duration=2.0)[0]
    path = tmp_path / "clip.npz"
    vd.write_npz(c, path)
    with np.load(path) as z:
        assert set(z.files) == {"keypoints", "scores", "bat", "bat_scores", "fps", "joints"}
        assert list(z["joints"]) == list(vd.JOINTS) and float(z["fps"]) == 25.0
        assert np.array_equal(z["keypoints"], c["keypoints"]) and z["keypoints"].dtype == np.float32
