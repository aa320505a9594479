"""The Python API checks its inputs: a TypeError or ValueError naming the argument, clip names
made one path component, and each call's inputs its own."""

from __future__ import annotations

from pathlib import Path

import pytest

import corrkin
from corrkin.io.keypoints import load_clip
from tests.adversarial.test_bad_input import GOOD, good  # noqa: F401  (the fixture)


@pytest.fixture
def paths(good):  # noqa: F811
    return [good / "clips" / f"{n}.npz" for n in GOOD]


def test_a_frame_of_paths_is_a_type_error_that_says_what_to_pass(paths, tmp_path):
    pd = pytest.importorskip("pandas")
    with pytest.raises(TypeError, match=r"inputs: .*DataFrame.*frame\['path'\]"):
        corrkin.analyse(pd.DataFrame({"path": [str(p) for p in paths]}), tmp_path / "o")


@pytest.mark.parametrize("bad, error", [("", ValueError), (b"clips", TypeError), (3, TypeError), ([], ValueError),
                                        ([None], TypeError), ({"a": 1}, TypeError)])
def test_bad_inputs_name_the_argument(bad, error, tmp_path):
    with pytest.raises(error, match="^inputs"):
        corrkin.analyse(bad, tmp_path / "o")


@pytest.mark.parametrize("output", ["", "  "])
def test_an_empty_output_is_refused(paths, output, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="^output"):
        corrkin.analyse(paths, output)
    assert list(tmp_path.iterdir()) == []


def test_unknown_presets_and_pose_backends_are_value_errors(paths, tmp_path):
    with pytest.raises(ValueError, match=r"preset='nosuch': expected one of \['default', 'seed'\]"):
        corrkin.analyse(paths, tmp_path / "o", preset="nosuch")
    with pytest.raises(ValueError, match=r"pose='nosuch': expected one of"):
        corrkin.run(tmp_path, tmp_path / "o", pose="nosuch")


def test_a_wrong_type_names_the_setting(paths, tmp_path):
    with pytest.raises(ValueError, match=r"analysis\.max_lag_s"):
        corrkin.analyse(paths, tmp_path / "o", max_lag_s="soon")


def test_two_clips_of_one_name_are_refused_not_merged(paths, tmp_path):
    a, b = load_clip(paths[0]), load_clip(paths[1])
    b.name = a.name
    with pytest.raises(ValueError, match="share the name"):
        corrkin.analyse([a, b], tmp_path / "o")


def test_a_clip_name_stays_one_path_component(paths, tmp_path):
    clip = load_clip(paths[0])
    clip.name = "../../escaped"
    out = tmp_path / "deep" / "o"
    res = corrkin.analyse([clip], out)
    assert res.exit_code == 0 and len(res) == 1
    assert not list(tmp_path.rglob("escaped*.npz")) or all(p.is_relative_to(out) for p in tmp_path.rglob("*escaped*"))
    assert all(p.is_relative_to(out) for p in tmp_path.rglob("result.json"))


def test_each_call_s_inputs_are_its_own(paths, tmp_path):
    out = tmp_path / "o"
    first = corrkin.analyse([paths[0]], out)
    second = corrkin.analyse([paths[0]], out)  # the same file again, into the same folder
    assert first.exit_code == second.exit_code == 0
    assert [r["clip"] for r in second.records()] == [GOOD[0]]
    assert not [p for p in Path(out).iterdir() if p.name.startswith(".inputs")]  # nothing of the call left behind
