"""OpenSim .trc files: Sports2D's 2-D and Pose2Sim's 3-D read to the right joints (against the
numbers written here), written and read back, and every malformed file one ClipError naming it."""

import numpy as np
import pytest

from corrkin.io.keypoints import ClipError, find_inputs, load_clip
from corrkin.io.trc import MARKERS, read_trc, write_trc
from corrkin.skeleton import JOINTS, NODES

J = JOINTS.index
HEADER = "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames"


def trc_text(markers, rows, rate="30", units="px", frames=None, blank=False):
    """A TRC as Sports2D / Pose2Sim write it: ``rows`` are lists of cells (strings) after Frame#, Time."""
    n = len(rows) if frames is None else frames
    lines = ["PathFileType\t4\t(X/Y/Z)\tclip.trc", HEADER,
             f"{rate}\t{rate}\t{n}\t{len(markers)}\t{units}\t{rate}\t0\t{n}",
             "Frame#\tTime\t" + "\t\t\t".join(markers) + "\t\t",
             "\t\t" + "\t".join(f"X{i}\tY{i}\tZ{i}" for i in range(1, len(markers) + 1))]
    lines += [""] if blank else []
    lines += [f"{f}\t{f / 30:.6f}\t" + "\t".join(cells) for f, cells in enumerate(rows)]
    return "\n".join(lines) + "\n"


# Sports2D's HALPE-26 markers (a subset, in its order), Y up in pixels (image y negated), Z = 0
SPORTS2D = ["Hip", "RHip", "RKnee", "RAnkle", "RBigToe", "LHip", "LKnee", "LAnkle", "Neck", "Head", "Nose",
            "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist"]


def sports2d_row(dx, hip="400.0\t-500.0\t0.0", l_wrist="330.0\t-300.0\t0.0"):
    pts = {"Hip": hip, "RHip": f"{380 + dx}\t-500.0\t0.0", "RKnee": "385.0\t-600.0\t0.0",
           "RAnkle": "390.0\t-700.0\t0.0", "RBigToe": "395.0\t-710.0\t0.0", "LHip": f"{420 + dx}\t-502.0\t0.0",
           "LKnee": "415.0\t-600.0\t0.0", "LAnkle": "410.0\t-700.0\t0.0", "Neck": "400.0\t-320.0\t0.0",
           "Head": "400.0\t-280.0\t0.0", "Nose": "402.0\t-290.0\t0.0", "RShoulder": "370.0\t-330.0\t0.0",
           "RElbow": "350.0\t-380.0\t0.0", "RWrist": f"{340 + dx}\t-420.0\t0.0", "LShoulder": "430.0\t-330.0\t0.0",
           "LElbow": "440.0\t-380.0\t0.0", "LWrist": l_wrist}
    return [pts[m] for m in SPORTS2D]


def test_a_sports2d_trc_reads_to_the_right_joints(tmp_path):
    rows = [sports2d_row(0), sports2d_row(2, l_wrist="\t\t"), sports2d_row(4, hip="nan\tnan\tnan"), sports2d_row(6)]
    path = tmp_path / "swing_Sports2D_px.trc"
    path.write_text(trc_text(SPORTS2D, rows, blank=True))
    clip = load_clip(path)
    assert (clip.source, clip.fps, clip.frames, clip.units, clip.name) == ("trc", 30.0, 4, "px", "swing_Sports2D_px")
    np.testing.assert_array_equal(clip.keypoints[0, J("r_wrist")], [340.0, 420.0])  # y = -Y: image pixels
    np.testing.assert_array_equal(clip.keypoints[3, J("r_wrist")], [346.0, 420.0])
    np.testing.assert_array_equal(clip.keypoints[0, J("l_ankle")], [410.0, 700.0])
    np.testing.assert_array_equal(clip.keypoints[0, J("r_shoulder")], [370.0, 330.0])
    np.testing.assert_array_equal(clip.keypoints[0, J("pelvis")], [400.0, 500.0])  # the Hip marker
    np.testing.assert_array_equal(clip.keypoints[2, J("pelvis")], [404.0, 501.0])  # no Hip: the hips' midpoint
    assert clip.scores[1, J("l_wrist")] == 0 and (clip.keypoints[1, J("l_wrist")] == 0).all()  # empty cells: missing
    assert clip.scores.sum() == 4 * 13 - 1
    assert (clip.bat_scores == 0).all()  # no bat marker


def test_names_match_whatever_their_case_and_separators_and_the_bat_tip_is_read(tmp_path):
    markers = ["r_ankle", "L_ANKLE", "right_knee", "LKnee", "Right.Hip", "left-hip", "RShoulder", "LShoulder",
               "RElbow", "LElbow", "RWrist", "LWrist", "bat"]
    rows = [[f"{10 * m + f}\t{-(100 + m)}\t0" for m in range(len(markers))] for f in range(3)]
    rows[1][-1] = "NaN\tNaN\tNaN"
    (tmp_path / "b.trc").write_text(trc_text(markers, rows))
    clip = load_clip(tmp_path / "b.trc")
    np.testing.assert_array_equal(clip.keypoints[2, J("l_ankle")], [12.0, 101.0])
    np.testing.assert_array_equal(clip.keypoints[0, J("r_knee")], [20.0, 102.0])
    np.testing.assert_array_equal(clip.keypoints[0, J("l_hip")], [50.0, 105.0])
    np.testing.assert_array_equal(clip.keypoints[0, J("pelvis")], [45.0, 104.5])
    np.testing.assert_array_equal(clip.bat[2], [122.0, 112.0])
    np.testing.assert_array_equal(clip.bat_scores, [1.0, 0.0, 1.0])
    rows[0][-1] = "1\t1\t0"
    (tmp_path / "c.trc").write_text(trc_text(markers[:-1] + ["BatTip"], rows))
    assert load_clip(tmp_path / "c.trc").bat_scores[0] == 1


POSE2SIM = ["Hip", "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "RShoulder", "RElbow", "RWrist",
            "LShoulder", "LElbow", "LWrist"]


def pose2sim_rows(swing_axis):
    """Metres, Y up; the wrists swing 0.4 m along ``swing_axis`` (0: X, 2: Z) and 0.02 m along the other."""
    rows = []
    for f in range(4):
        pts = {m: [0.1 * k, 1.0 - 0.05 * k, 0.2 + 0.01 * k] for k, m in enumerate(POSE2SIM)}
        for w in ("RWrist", "LWrist"):
            pts[w][swing_axis] += 0.4 * f / 3
            pts[w][2 - swing_axis] += 0.02 * f / 3
        rows.append(["\t".join(f"{v:.4f}" for v in pts[m]) for m in POSE2SIM])
    return rows


@pytest.mark.parametrize("swing_axis", [0, 2])
def test_a_pose2sim_3d_trc_is_seen_square_on_to_the_swing(tmp_path, swing_axis):
    path = tmp_path / "p.trc"
    path.write_text(trc_text(POSE2SIM, pose2sim_rows(swing_axis), rate="60", units="m"))
    clip = load_clip(path)
    assert clip.units == "m" and clip.fps == 60.0
    k = POSE2SIM.index("RWrist")
    x0 = 0.1 * k if swing_axis == 0 else 0.2 + 0.01 * k  # the axis the wrists move in is kept
    np.testing.assert_allclose(clip.keypoints[3, J("r_wrist")], [x0 + 0.4, -(1.0 - 0.05 * k)], atol=1e-6)
    k = POSE2SIM.index("LAnkle")
    x0 = 0.1 * k if swing_axis == 0 else 0.2 + 0.01 * k
    np.testing.assert_allclose(clip.keypoints[0, J("l_ankle")], [x0, -(1.0 - 0.05 * k)], atol=1e-6)
    np.testing.assert_allclose(clip.keypoints[0, J("pelvis")], [0.0 if swing_axis == 0 else 0.2, -1.0], atol=1e-6)


def test_millimetres_are_read_as_metres(tmp_path):
    rows = [["\t".join(f"{1000 * float(v):.1f}" for v in cell.split("\t")) for cell in row] for row in pose2sim_rows(0)]
    (tmp_path / "mm.trc").write_text(trc_text(POSE2SIM, rows, units="mm"))
    clip = load_clip(tmp_path / "mm.trc")
    assert clip.units == "m"
    np.testing.assert_allclose(clip.keypoints[0, J("l_ankle")], [0.6, -0.7], atol=1e-6)


def test_the_frame_rate_comes_from_data_rate_or_fps(tmp_path):
    rows = [sports2d_row(f) for f in range(3)]
    for rate, message in [("", "no DataRate in the header: pass fps="), ("abc", "DataRate 'abc' is not a frame rate"),
                          ("0", "DataRate '0' is not a frame rate: pass fps="), ("nan", "is not a frame rate")]:
        text = trc_text(SPORTS2D, rows, rate=rate)
        if not rate:  # the header without DataRate at all
            lines = text.split("\n")
            lines[1], lines[2] = lines[1].split("\t", 1)[1], lines[2].split("\t", 1)[1]
            text = "\n".join(lines)
        path = tmp_path / f"r{rate}.trc"
        path.write_text(text)
        with pytest.raises(ClipError, match=message) as err:
            load_clip(path)
        assert str(err.value).startswith(str(path))
        assert load_clip(path, fps=25).fps == 25.0  # fps= stands in
    path = tmp_path / "fast.trc"
    path.write_text(trc_text(SPORTS2D, rows, rate="50000"))
    with pytest.raises(ClipError, match="not a video's"):
        load_clip(path)


GOOD = trc_text(SPORTS2D, [sports2d_row(f) for f in range(4)])


@pytest.mark.parametrize("text, message", [
    ("hello\tworld\n" * 6, "not a TRC file"),
    (b"PK\x03\x04\x00\x00binary", "not a TRC file"),
    ("PathFileType\t4\t(X/Y/Z)\tx.trc\n" + HEADER + "\n", "cut off: 2 lines"),
    (GOOD.replace("\t0.0\n", "\n", 1), "line 6 has 52 cells, expected 53"),
    (GOOD.replace("\t0.0\n", "\t0.0\t7\n", 1), "line 6 has 54 cells, expected 53"),
    (GOOD.replace("385.0", "3,85", 1), r"line 6, column 9: '3,85' is not a number"),
    (GOOD.replace("-700.0", "inf", 1), "line 6: an infinite coordinate"),
    (trc_text(SPORTS2D, [sports2d_row(f) for f in range(2)]), "2 frames: a clip needs at least 3"),
    (trc_text(SPORTS2D, []), "0 frames"),
    (trc_text(SPORTS2D, [sports2d_row(f) for f in range(4)], frames=9), "NumFrames is 9 but the file holds 4 rows"),
    (GOOD.replace("\t17\tpx", "\t16\tpx"), "NumMarkers is 16 but line 4 names 17 markers"),
    (trc_text(["Nose", "Head", "Foo"], [["1\t1\t0"] * 3] * 4), "no body marker corrkin knows among Nose, Head, Foo"),
    (trc_text(["RHip", "r_hip", "LHip"], [["1\t1\t0"] * 3] * 4), "markers 'RHip' and 'r_hip' both name the r_hip"),
    (GOOD.replace("Frame#", "Time#"), "line 4 is not the marker line"),
])
def test_a_malformed_trc_is_one_clear_line_naming_it(tmp_path, text, message):
    path = tmp_path / "bad.trc"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ClipError, match=message) as err:
        load_clip(path)
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)


def test_fuzzed_trc_files_are_read_or_refused_never_a_crash(tmp_path):
    """Bytes deleted, doubled, replaced, lines cut: every file is a clip or a ClipError."""
    rng = np.random.default_rng(7)
    raw = GOOD.encode()
    outcomes = {"read": 0, "refused": 0}
    for k in range(300):
        data = bytearray(raw)
        for _ in range(int(rng.integers(1, 6))):
            i = int(rng.integers(0, len(data)))
            kind = int(rng.integers(0, 4))
            if kind == 0:
                del data[i: i + int(rng.integers(1, 40))]
            elif kind == 1:
                data[i:i] = bytes([int(rng.choice([9, 10, 13, 32, 45, 46, 48, 57, 78, 0, 255]))])
            elif kind == 2:
                data[i] = int(rng.integers(0, 256))
            else:
                data = data[:i]
        path = tmp_path / f"f{k}.trc"
        path.write_bytes(bytes(data))
        try:
            clip = load_clip(path, fps=30 if k % 2 else None)
            assert clip.keypoints.shape == (clip.frames, 13, 2) and np.isfinite(clip.keypoints).all()
            outcomes["read"] += 1
        except ClipError as e:  # said by a check of the reader's, not the last-resort catch-all
            assert str(e).startswith(str(path)) and "\n" not in str(e) and "cannot be read as" not in str(e), str(e)
            outcomes["refused"] += 1
    assert outcomes["read"] > 10 and outcomes["refused"] > 10, outcomes


def test_written_trc_reads_back_the_same_points(tmp_path):
    rng = np.random.default_rng(3)
    xy = rng.uniform(-500, 1500, (20, 14, 2)).astype(np.float32).astype(np.float64)
    seen = rng.random((20, 14)) > 0.1
    path = tmp_path / "out" / "w.trc"
    write_trc(path, xy, seen, [MARKERS[n] for n in NODES], 29.97, "px")
    d = read_trc(path)
    assert d["fps"] == 29.97 and d["units"] == "px"
    both = seen[:, :13].copy()
    both[:, J("pelvis")] |= seen[:, J("l_hip")] & seen[:, J("r_hip")]  # a missing pelvis: the hips' midpoint
    np.testing.assert_array_equal(d["scores"] > 0, both)
    want = xy[:, :13].copy()
    mid = ~seen[:, J("pelvis")] & both[:, J("pelvis")]
    want[mid, J("pelvis")] = xy[mid][:, [J("l_hip"), J("r_hip")]].mean(1)
    np.testing.assert_allclose(d["keypoints"][both], want[both], atol=1e-6)
    np.testing.assert_allclose(d["bat"][seen[:, 13]], xy[seen[:, 13], 13], atol=1e-6)
    lines = path.read_text().splitlines()
    assert lines[3].split("\t")[2:5] == ["LAnkle", "", ""] and lines[3].split("\t")[-3] == "BatTip"
    assert all(len(line.split("\t")) == 2 + 3 * 14 for line in lines[5:])
    assert not list((tmp_path / "out").glob(".*"))  # no temporary left


def test_write_trc_checks_its_shapes(tmp_path):
    with pytest.raises(ValueError, match=r"xy \(3, 2, 2\), seen \(3, 3\) and 2 names do not match"):
        write_trc(tmp_path / "x.trc", np.zeros((3, 2, 2)), np.ones((3, 3), bool), ["A", "B"], 30.0)


def test_find_inputs_finds_trc_files(tmp_path):
    (tmp_path / "a.trc").write_text(GOOD)
    (tmp_path / "a.npz").write_text("")
    (tmp_path / "B.TRC").write_text(GOOD)
    assert [n for n, _ in find_inputs(tmp_path)] == ["B", "a.npz", "a.trc"]
