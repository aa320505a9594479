"""The commands: config composition, a folder with a bad clip, batched vs alone, the demo."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from corrkin.cli import CONFIG_DIR, main
from corrkin.commands.analyse import run_analyse
from corrkin.commands.demo import run_demo
from corrkin.commands.export import run_export
from corrkin.config import register_configs
from corrkin.io.keypoints import save_clip
from corrkin.skeleton import JOINTS
from corrkin.synth import SwingSpec, make_clip

CONFIGS = Path(CONFIG_DIR)


def compose_cfg(name, overrides=()):
    register_configs()
    with initialize_config_dir(CONFIG_DIR, version_base="1.3"):
        return compose(name, overrides=list(overrides))


@pytest.mark.parametrize("preset", sorted(p.stem for p in (CONFIGS / "analysis").glob("*.yaml")))
def test_every_analysis_preset_composes(preset):
    cfg = compose_cfg("analyse", ["input=a", "output=b", f"analysis={preset}"])
    assert cfg.analysis.name == preset
    OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)


@pytest.mark.parametrize("name", sorted(p.stem for p in CONFIGS.glob("*.yaml")))
def test_every_command_config_composes(name):
    cfg = compose_cfg(name)
    if "analysis" in cfg:
        assert cfg.analysis.name == "default"


def _leaves(node, prefix=""):
    for key, value in node.items():
        if isinstance(value, dict) and value:
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


@pytest.mark.parametrize("path", sorted(str(p.relative_to(CONFIGS)) for p in
                                        [*CONFIGS.glob("*.yaml"), *(CONFIGS / "analysis").glob("*.yaml")]))
def test_defaults_live_in_the_schema_alone(path):
    """A yaml file sets only what differs from its schema's default (a preset, a run block):
    a default written twice drifts apart the day one of them changes."""
    from hydra.core.config_store import ConfigStore

    register_configs()
    raw = OmegaConf.to_container(OmegaConf.load(CONFIGS / path))
    schema = "analysis/schema.yaml" if path.startswith("analysis") else f"{raw['defaults'][0]}.yaml"
    defaults = OmegaConf.to_container(ConfigStore.instance().load(schema).node, enum_to_str=True)
    repeated = []
    for key, value in _leaves({k: v for k, v in raw.items() if k not in ("defaults", "hydra")}):
        node = defaults
        for part in key.split("."):
            node = node[part]
        if node == value:
            repeated.append(key)
    assert not repeated, f"{path} repeats the schema's defaults: {repeated}"


def test_typos_fail_when_composing():
    with pytest.raises(ConfigCompositionException):
        compose_cfg("analyse", ["input=a", "output=b", "analysis.thetta=0.3"])
    with pytest.raises(ConfigCompositionException):
        compose_cfg("analyse", ["input=a", "output=b", "analysis.theta=high"])


def test_window_override_syntax():
    cfg = compose_cfg("analyse", ["input=a", "output=b", "analysis.window.before_s=1.0"])
    assert cfg.analysis.window.before_s == 1.0 and cfg.analysis.window.after_s == 0.2  # the default after_s
    cfg = compose_cfg("analyse", ["input=a", "output=b", "analysis.window.after_s=null"])
    assert cfg.analysis.window.before_s == 0.6 and cfg.analysis.window.after_s is None


@pytest.fixture
def folder(tmp_path):
    """Three good clips of different lengths and frame rates, and one corrupt file."""
    src = tmp_path / "clips"
    specs = [SwingSpec(fps=25, duration_s=2.2), SwingSpec(fps=30, duration_s=3.1, swing_at_s=2.0),
             SwingSpec(fps=25, duration_s=1.6, swing_at_s=0.8, delay_s=0.12)]
    for i, spec in enumerate(specs):
        clip, _ = make_clip(spec, seed=i, name=f"clip{i}")
        save_clip(src / f"clip{i}.npz", clip)
    (src / "broken.npz").write_bytes(b"PK\x03\x04 truncated")
    return src


def analyse_cfg(inp, out, *extra):
    return compose_cfg("analyse", [f"input={inp}", f"output={out}", "progress=false", *extra])


def test_folder_with_a_corrupt_clip(folder, tmp_path):
    out = tmp_path / "out"
    code = run_analyse(analyse_cfg(folder, out, "plots=true"))
    assert code == 1
    rows = {r["clip"]: r for r in csv.DictReader(open(out / "summary.csv"))}
    assert set(rows) == {"clip0", "clip1", "clip2", "broken"}
    assert rows["broken"]["status"] == "failed" and "not a readable .npz" in rows["broken"]["error"]
    for name in ("clip0", "clip1", "clip2"):
        assert rows[name]["status"] == "ok" and rows[name]["reaches_bat"] == "True"
        assert rows[name]["reliable"] == "True" and rows[name]["quality_reasons"] == ""
        res = json.loads((out / name / "result.json").read_text())
        for key in ("clip", "fps", "frames", "swing_axis", "activation_frames", "edges", "pairs", "coupling_test",
                    "path", "path_weight", "reaches_bat", "bat"):
            assert key in res
        assert res["edges"] == [] and res["coupling_test"]["p_floor"] > 0.05  # one swing claims no coupling
        assert {"src", "dst", "correlation", "lag_frames", "lag_ms", "lag_ci_ms", "ordered", "p_value",
                "q_value"} <= set(res["pairs"][0])
        # the timing said plainly: each path link's lag and each path node's time with its interval
        assert res["timing"]["frame_interval_ms"] == pytest.approx(1000 / res["fps"], abs=1e-3)
        links, nodes = rows[name]["path_lags_ms"].split("; "), rows[name]["path_activation_ms"].split("; ")
        assert len(links) == len(res["path"]) - 1 and len(nodes) == len(res["path"])
        edges = {(e["src"], e["dst"]): e for e in res["pairs"]}
        for (a, b), text in zip(zip(res["path"], res["path"][1:]), links):
            lo, hi = edges[(a, b)]["lag_ci_ms"]
            assert text == f"{edges[(a, b)]['lag_ms']:.1f} [{lo:.1f}, {hi:.1f}]"
        for node, text in zip(res["path"], nodes):
            lo, hi = res["activation_ci_ms"][node]
            assert text == f"{node} {res['activation_ms'][node]:.1f} [{lo:.1f}, {hi:.1f}]" and lo < hi
        assert (out / name / "corrpath.png").read_bytes()[:4] == b"\x89PNG"
        import numpy as np

        with np.load(out / name / "series.npz", allow_pickle=False) as s:
            assert s["series"].shape == (res["frames"], 14)
    assert not list(out.rglob("*.tmp"))


def test_clip_alone_equals_clip_in_folder(folder, tmp_path):
    (folder / "broken.npz").unlink()
    run_analyse(analyse_cfg(folder, tmp_path / "all", "plots=false", "batch_size=8"))
    for name in ("clip0", "clip1", "clip2"):
        run_analyse(analyse_cfg(folder / f"{name}.npz", tmp_path / name, "plots=false"))
        alone = json.loads((tmp_path / name / name / "result.json").read_text())
        together = json.loads((tmp_path / "all" / name / "result.json").read_text())
        assert alone == together


def test_rerun_keeps_results_whole(folder, tmp_path):
    out = tmp_path / "out"
    run_analyse(analyse_cfg(folder, out, "plots=false"))
    first = (out / "clip0" / "result.json").read_text()
    run_analyse(analyse_cfg(folder, out, "plots=false"))
    assert (out / "clip0" / "result.json").read_text() == first


def test_console_script(folder, tmp_path):
    (folder / "broken.npz").unlink()
    out = tmp_path / "cli"
    proc = subprocess.run([sys.executable, "-m", "corrkin", "analyse", f"input={folder}", f"output={out}",
                           "plots=false", "progress=false", "analysis.max_lag_s=0.3"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    res = json.loads((out / "clip0" / "result.json").read_text())
    assert res["max_lag_frames"] == 8  # 0.3 s at 25 fps
    assert main(["nonsense"]) == 2
    assert main(["--help"]) == 0


def test_seed_folder_without_fps_fails_each_clip_with_the_reason(seed_dir, tmp_path, caplog):
    out = tmp_path / "seed"
    with caplog.at_level("ERROR", logger="corrkin.runtime"):
        assert run_analyse(analyse_cfg(seed_dir, out, "plots=false", "analysis=seed")) == 1
    rows = list(csv.DictReader(open(out / "summary.csv")))
    assert len(rows) == 7 and all("pass fps=" in r["error"] for r in rows)
    said = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]  # the shared reason, once
    assert len(said) == 1 and said[0].startswith("every clip (7): ") and "pass fps=" in said[0], said
    assert run_analyse(analyse_cfg(seed_dir, out, "plots=false", "analysis=seed", "fps=25")) == 0


def test_demo(tmp_path, capsys):
    cfg = compose_cfg("demo", [f"output={tmp_path / 'demo'}", "clips=2", "videos=1", "plots=false", "progress=false"])
    assert run_demo(cfg) == 0
    printed = capsys.readouterr().out
    assert "summary" in printed and str(tmp_path / "demo" / "results") in printed
    assert (tmp_path / "demo" / "results" / "synthetic_0001" / "result.json").is_file()
    assert "bat-tip error median" in printed
    assert (tmp_path / "demo" / "video_results" / "rendered_00" / "keypoints.npz").is_file()


def test_batter_override_composes():
    cfg = compose_cfg("analyse", ["input=a", "output=b", "batter.box=[10,20,110,220]"])
    assert list(cfg.batter.box) == [10, 20, 110, 220] and cfg.batter.index is None
    with pytest.raises(ConfigCompositionException):
        compose_cfg("analyse", ["input=a", "output=b", "batter.idx=1"])


def test_a_path_or_setting_error_is_one_line(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    assert main(["analyse", f"input={missing}", f"output={tmp_path / 'out'}"]) == 2
    assert capsys.readouterr().err.strip() == f"corrkin analyse: {missing}: no such file or folder"
    with pytest.raises(SystemExit):  # --verbose: Hydra reports the whole error
        main(["analyse", f"input={missing}", f"output={tmp_path / 'out'}", "--verbose"])


@pytest.mark.parametrize("command, override, choices", [
    ("analyse", "analysis.test=fisher", "[shift, acf, lag1]"),
    ("analyse", "analysis.pelvis_signal=hips", "[ankles, root]"),
    ("analyse", "analysis.top_hand=both", "[auto, left, right]"),
    ("analyse", "analysis.dtype=int8", "[float16, bfloat16, float32, float64]"),
    ("align", "min_quality=good", "[any, reliable]"),
    ("render", "format=avi", "[mp4, webm]"),
])
def test_a_value_outside_a_settings_choices_fails_at_composition(tmp_path, capsys, command, override, choices):
    assert main([command, f"input={tmp_path}", f"output={tmp_path / 'o'}", override]) == 2
    assert f"expected one of {choices}" in capsys.readouterr().err


def test_a_choice_is_its_value_wherever_it_goes():
    """Choices reach file names, JSON, tables and the library's keys: as their plain value."""
    import dataclasses

    from corrkin.config import AnalysisConfig, Test

    cfg = AnalysisConfig(test="lag1")  # a config built in code gives the plain string
    assert cfg.test is Test.lag1 and cfg.test == "lag1"
    assert (str(cfg.test), f"{cfg.test}", f"{cfg.test:>5}", "%s" % cfg.test) == ("lag1", "lag1", " lag1", "lag1")
    assert json.loads(json.dumps(dataclasses.asdict(cfg)))["test"] == "lag1"
    assert json.dumps(dataclasses.asdict(cfg), sort_keys=True) == json.dumps(
        dataclasses.asdict(cfg) | {"test": "lag1", "pelvis_signal": "ankles", "top_hand": "auto", "dtype": "float32",
                                   "units": dataclasses.asdict(cfg.units) | {"calibration": "bat"}}, sort_keys=True)
    with pytest.raises(ValueError, match=r"analysis.test='fisher': must be one of \['shift', 'acf', 'lag1'\]"):
        AnalysisConfig(test="fisher")


def test_an_unknown_command_is_named_with_the_nearest(capsys):
    assert main(["anlyse", "input=x"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[0] == "corrkin: unknown command 'anlyse'; did you mean 'analyse'?"
    assert main(["frobnicate"]) == 2
    assert capsys.readouterr().err.splitlines()[0] == "corrkin: unknown command 'frobnicate'"


@pytest.mark.parametrize("override, hint", [
    ("theta=0.3", "theta: no such setting; did you mean analysis.theta?"),  # a setting one level down
    ("analysis.thetaa=0.3", "analysis.thetaa: no such setting; did you mean analysis.theta?"),
    ("min_fps=3", "min_fps: no such setting; did you mean analysis.quality.min_fps?"),
    ("plotz=false", "plotz: no such setting; did you mean plots?"),
    ("zzzz=1", "zzzz: no such setting"),
])
def test_a_misspelt_setting_suggests_the_nearest(folder, tmp_path, capsys, override, hint):
    out = tmp_path / "out"
    assert main(["analyse", f"input={folder}", f"output={out}", override]) == 2
    assert capsys.readouterr().err.strip() == f"corrkin analyse: {hint}"
    assert not out.exists()  # refused before anything was made


def test_a_refused_run_leaves_nothing(folder, tmp_path, capsys):
    """Refused inside the run (a value out of range, a setting missing): Hydra's record of it is
    removed, and the output folder too where the command made it; a folder that was there stays."""
    made, there = tmp_path / "made", tmp_path / "there"
    there.mkdir()
    for out in (made, there):
        assert main(["analyse", f"input={folder}", f"output={out}", "analysis.theta=7"]) == 2
        assert "must be >= 0 and < 1" in capsys.readouterr().err
    assert main(["run", f"input={folder}", f"output={made}", "pose=file"]) == 2
    assert "missing pose.keypoints" in capsys.readouterr().err
    assert not made.exists() and there.is_dir() and list(there.iterdir()) == []


@pytest.mark.parametrize("name", ["analyse", "run", "align", "library", "report", "render", "demo", "sample", "export"])
def test_help_lists_every_setting_with_its_default_and_meaning(name, capsys):
    from corrkin import config as schemas
    from corrkin.cli import command_help
    from corrkin.config import described

    assert main([name, "--help"]) == 0
    text = capsys.readouterr().out
    assert text == command_help(name) + "\n" and text.startswith(f"corrkin {name}: ")
    keys = [line.split()[0] for line in text.splitlines() if line.startswith("  ") and not line.startswith("      ")]
    assert len(keys) > 3
    if name == "analyse":
        rows = dict(described(schemas.AnalyseConfig))
        assert keys[: len(rows)] == list(rows)  # every setting, in the schema's order
        assert "  analysis.theta = 0.4\n      least peak correlation for an edge" in text
        assert "  input (required)\n" in text and "  analysis.sources = [\"l_ankle\", \"r_ankle\", \"pelvis\"]" in text
        assert "analysis=default|seed" in text


def test_described_reads_the_schemas_comments():
    """Against the schema's source, by hand: a comment after the field, and a block above it."""
    from corrkin.config import AnalysisConfig, described

    rows = dict(described(AnalysisConfig))
    assert rows["max_lag_s"] == "lags searched: +-round(max_lag_s * fps) frames"
    assert rows["robust"].startswith("before smoothing: left/right swaps of the wrists")
    assert rows["quality.min_fps"] == "below it, no timing is claimed to the precision of a swing"
    assert rows["smooth_order"] == ""


@pytest.fixture
def swings(tmp_path):
    """Two synthetic swings as corrkin .npz files, and the clips themselves."""
    src = tmp_path / "swings"
    clips = {}
    for i in range(2):
        clips[f"s{i}"], _ = make_clip(SwingSpec(fps=25, duration_s=2.0), seed=10 + i, name=f"s{i}")
        save_clip(src / f"s{i}.npz", clips[f"s{i}"])
    return src, clips


def _openpose_folder(folder, clip):
    """``clip`` as OpenPose BODY_25 frame files (the points corrkin has no joint for: missing)."""
    from corrkin.skeleton import OPENPOSE_BODY25

    folder.mkdir(parents=True)
    for f in range(clip.frames):
        flat = []
        for name in OPENPOSE_BODY25:
            at = JOINTS.index(name) if name in JOINTS else None
            flat += [0.0, 0.0, 0.0] if at is None else [*map(float, clip.keypoints[f, at]), 0.9]
        doc = {"version": 1.3, "people": [{"person_id": [-1], "pose_keypoints_2d": flat}]}
        (folder / f"{clip.name}_{f:012d}_keypoints.json").write_text(json.dumps(doc))


def test_analyse_reads_trc_files_and_openpose_folders(swings, tmp_path):
    """Sports2D's .trc and OpenPose's frame folders, from the command line, as the .npz they came from."""
    from corrkin.io.trc import MARKERS, write_trc
    from corrkin.skeleton import NODES

    src, clips = swings
    mixed = tmp_path / "mixed"
    c = clips["s0"]
    xy = np.concatenate([c.keypoints, c.bat[:, None]], 1)
    write_trc(mixed / "s0_Sports2D_px.trc", xy, np.ones(xy.shape[:2], bool), [MARKERS[n] for n in NODES], 25.0)
    _openpose_folder(mixed / "s1_json", clips["s1"])
    assert main(["analyse", f"input={mixed}", f"output={tmp_path / 'out'}", "fps=25", "plots=false",
                 "progress=false"]) == 0
    assert main(["analyse", f"input={src}", f"output={tmp_path / 'ref'}", "plots=false", "progress=false"]) == 0
    got = json.loads((tmp_path / "out" / "s0_Sports2D_px" / "result.json").read_text())
    ref = json.loads((tmp_path / "ref" / "s0" / "result.json").read_text())
    assert got["frames"] == ref["frames"] == 50 and got["bat"]["peak_frame"] == ref["bat"]["peak_frame"]
    assert got["path"] == ref["path"] and got["shoulder_width_px"] == pytest.approx(ref["shoulder_width_px"], rel=1e-3)
    got = json.loads((tmp_path / "out" / "s1_json" / "result.json").read_text())
    assert got["frames"] == 50 and got["bat"]["found"] is False  # OpenPose has no bat
    assert got["provenance"]["input"]["path"] == str(mixed / "s1_json")
    assert main(["analyse", f"input={mixed / 's1_json'}", f"output={tmp_path / 'one'}", "plots=false",
                 "progress=false"]) == 1  # no fps: that clip's error, in the summary
    row = next(csv.DictReader(open(tmp_path / "one" / "summary.csv")))
    assert row["clip"] == "s1_json" and "no frame rate in OpenPose output: pass fps=" in row["error"]


def test_export_writes_trc_that_reads_back_the_same_keypoints(swings, tmp_path):
    """px from keypoint files, m from calibrated results (origin: the median pelvis); a result
    whose input is gone fails alone; corrkin run's keypoints.npz is used where it is there."""
    from corrkin.io.keypoints import load_clip

    src, clips = swings
    assert main(["export", f"input={src}", f"output={tmp_path / 'px'}", "progress=false"]) == 0
    for name, c in clips.items():
        back = load_clip(tmp_path / "px" / f"{name}.trc")
        assert back.units == "px" and back.fps == 25.0 and back.frames == c.frames
        np.testing.assert_allclose(back.keypoints, c.keypoints, atol=1e-5)
        np.testing.assert_allclose(back.bat, c.bat, atol=1e-5)
        assert (back.scores == 1).all() and (back.bat_scores == 1).all()
    res = tmp_path / "res"
    assert main(["analyse", f"input={src}", f"output={res}", "plots=false", "progress=false"]) == 0
    assert main(["export", f"input={res}", f"output={tmp_path / 'm'}", "progress=false"]) == 0
    for name, c in clips.items():
        rec = json.loads((res / name / "result.json").read_text())
        scale = rec["calibration"]["m_per_shoulder_width"] / rec["shoulder_width_px"]
        origin = np.median(c.keypoints[:, JOINTS.index("pelvis")], 0)
        back = load_clip(tmp_path / "m" / f"{name}.trc")
        text = (tmp_path / "m" / f"{name}.trc").read_text().splitlines()
        assert back.units == "m" and text[2].split("\t")[4] == "m" and back.fps == rec["fps"]
        np.testing.assert_allclose(back.keypoints, (c.keypoints - origin) * scale, atol=1e-5)
        np.testing.assert_allclose(back.bat, (c.bat - origin) * scale, atol=1e-5)
        assert 0.3 < np.linalg.norm(back.keypoints[0, JOINTS.index("l_shoulder")] - back.keypoints[0, JOINTS.index(
            "r_shoulder")]) < 0.7  # a batter's shoulders, in metres
    (res / "s1" / "keypoints.npz").write_bytes((src / "s1.npz").read_bytes())  # as corrkin run leaves it
    (src / "s0.npz").unlink()
    (src / "s1.npz").unlink()
    assert main(["export", f"input={res}", f"output={tmp_path / 'again'}", "progress=false"]) == 1
    assert not (tmp_path / "again" / "s0.trc").exists()
    back = load_clip(tmp_path / "again" / "s1.trc")
    np.testing.assert_array_equal(back.keypoints, load_clip(tmp_path / "m" / "s1.trc").keypoints)


def test_export_reports_a_result_whose_input_changed(swings, tmp_path, caplog):
    src, _ = swings
    res = tmp_path / "res"
    assert run_analyse(analyse_cfg(src, res, "plots=false")) == 0  # not main(): Hydra's logging would take caplog's place
    with open(src / "s0.npz", "ab") as f:
        f.write(b"more")
    with caplog.at_level("ERROR", logger="corrkin.commands.export"):
        assert run_export(compose_cfg("export", [f"input={res}", f"output={tmp_path / 'x'}", "progress=false"])) == 1
    said = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(said) == 1 and said[0].startswith(str(src / "s0.npz")) and "changed since it was analysed" in said[0]
    assert (tmp_path / "x" / "s1.trc").is_file() and not (tmp_path / "x" / "s0.trc").exists()
    assert main(["export", f"input={tmp_path / 'nothing'}", f"output={tmp_path / 'y'}"]) == 2


def test_export_units_and_missing_points_rule():
    """px without a usable calibration; m = m_per_shoulder_width / shoulder_width_px about the
    median pelvis; a point scored 0 or below min_score is missing; a clip in metres stays as is."""
    import dataclasses

    from corrkin.commands.export import metres_per_pixel, trc_markers

    clip, _ = make_clip(SwingSpec(fps=25, duration_s=1.0), seed=3, name="u")
    clip.scores[4, JOINTS.index("l_wrist")] = 0.0
    clip.scores[5, JOINTS.index("l_wrist")] = 0.3
    rec = {"calibration": {"m_per_shoulder_width": 0.5}, "shoulder_width_px": 50.0}
    assert metres_per_pixel(rec) == 0.01
    for bad in (None, {}, {"calibration": {"method": "bat", "unavailable": "no bat"}, "shoulder_width_px": 50.0},
                {"calibration": {"m_per_shoulder_width": 0.5}, "shoulder_width_px": 0.0},
                {"calibration": {"m_per_shoulder_width": "x"}, "shoulder_width_px": 50.0}):
        assert metres_per_pixel(bad) is None
    xy, seen, units = trc_markers(clip, None, min_score=0.5)
    assert units == "px" and xy.shape == (25, 14, 2) and not seen[4, JOINTS.index("l_wrist")]
    assert not seen[5, JOINTS.index("l_wrist")] and seen[6, JOINTS.index("l_wrist")]
    np.testing.assert_array_equal(xy[:, :13], clip.keypoints)
    xy, seen, units = trc_markers(clip, rec)
    origin = np.median(clip.keypoints[:, JOINTS.index("pelvis")], 0)
    assert units == "m" and seen[5, JOINTS.index("l_wrist")]
    np.testing.assert_allclose(xy[:, 13], (clip.bat - origin) * 0.01, rtol=1e-6)
    xy, _, units = trc_markers(dataclasses.replace(clip, units="m"), rec)
    assert units == "m"
    np.testing.assert_array_equal(xy[:, :13], clip.keypoints)


def test_export_as_c3d_holds_what_the_trc_holds(swings, tmp_path):
    """format=c3d: the same markers, labels and rate as the TRC export, read back with py-c3d
    (metres as millimetres); a point not seen is C3D's invalid point (residual -1)."""
    c3d = pytest.importorskip("c3d", reason="the c3d extra")
    import warnings

    from corrkin.io.keypoints import load_clip
    from corrkin.io.trc import MARKERS
    from corrkin.skeleton import NODES

    src, clips = swings
    res = tmp_path / "res"
    assert main(["analyse", f"input={src}", f"output={res}", "plots=false", "progress=false"]) == 0
    for fmt in ("trc", "c3d"):
        assert main(["export", f"input={res}", f"output={tmp_path / fmt}", f"format={fmt}", "progress=false"]) == 0
    for name in clips:
        trc = load_clip(tmp_path / "trc" / f"{name}.trc")
        with open(tmp_path / "c3d" / f"{name}.c3d", "rb") as f, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "no analog data": there is none
            reader = c3d.Reader(f)
            assert [str(s).strip() for s in reader.point_labels] == [MARKERS[n] for n in NODES]
            assert reader.point_rate == pytest.approx(trc.fps)
            assert reader.get("POINT:UNITS").string_value.strip() == "mm"
            frames = [p for _, p, _ in reader.read_frames()]
        pts = np.stack(frames)  # (T, 14, 5): x, y, z, residual, cameras
        assert len(pts) == trc.frames
        xy = np.concatenate([trc.keypoints, trc.bat[:, None]], 1)  # the TRC's markers, read as image x, y in m
        seen = np.concatenate([trc.scores, trc.bat_scores[:, None]], 1) > 0
        np.testing.assert_allclose(pts[..., 0][seen], 1000 * xy[..., 0][seen], atol=1e-2)
        np.testing.assert_allclose(pts[..., 1][seen], -1000 * xy[..., 1][seen], atol=1e-2)
        assert (pts[..., 3][~seen] == -1).all() and (pts[..., 3][seen] >= 0).all()
