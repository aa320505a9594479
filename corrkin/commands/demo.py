"""``corrkin demo``: build the synthetic library (:mod:`corrkin.synth`) and analyse it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from corrkin.commands.analyse import run_analyse
from corrkin.config import AnalyseConfig
from corrkin.synth import chain_truth, load_truth, make_library, truth_path

log = logging.getLogger(__name__)


def run_demo(cfg: DictConfig) -> int:
    out = Path(cfg.output).resolve()
    kp_dir, res_dir = out / "keypoints", out / "results"
    make_library(kp_dir, cfg.clips, seed=cfg.seed)
    acfg = OmegaConf.structured(AnalyseConfig(input=str(kp_dir), output=str(res_dir)))
    acfg.device, acfg.plots, acfg.progress, acfg.analysis = cfg.device, cfg.plots, cfg.progress, cfg.analysis
    code = run_analyse(acfg)
    truth = load_truth(truth_path(kp_dir))
    lines = ["", f"corrkin demo: {cfg.clips} synthetic clips with known kinetic chains", ""]
    for name, t in sorted(truth.items()):
        res = json.loads((res_dir / name / "result.json").read_text())
        want = " > ".join(a for a, _, _ in chain_truth(t)) + f" > {t['chain'][-1]}"
        got = " > ".join(res["path"]) or "(no path to the bat)"
        lags = {(e["src"], e["dst"]): e["lag_frames"] for e in res.get("pairs") or res["edges"]}
        found = [lags.get((a, b)) for a, b, _ in chain_truth(t)]
        lines.append(f"  {name}  {t['fps']:g} fps  true chain {want}, lags {t['lag_frames']}")
        lines.append(f"  {'':14} found      {got}, lags {found}")
    lines += ["", f"keypoints : {kp_dir}", f"results   : {res_dir}/<clip>/result.json, series.npz, corrpath.png",
              f"summary   : {res_dir / 'summary.csv'}", ""]
    if cfg.shot_library > 0:
        code = max(code, _library_demo(cfg, out, lines))
    if cfg.videos > 0:
        code = max(code, _video_demo(cfg, out, lines))
    from corrkin.commands.report import run_report
    from corrkin.config import ReportConfig

    report = out / "report"
    run_report(ReportConfig(input=str(out), output=str(report), videos=str(out / "videos"),
                            align=str(out / "library" / "align") if cfg.shot_library > 0 else None))
    lines += [f"report    : {report / 'index.html'}  (open it in a browser; Play all starts every video)", ""]
    print("\n".join(lines))
    return code


def _library_demo(cfg: DictConfig, out: Path, lines: list[str]) -> int:
    """A labelled library (two shot types, two batters) through ``corrkin library``, aligned."""
    import csv

    from corrkin.commands.library import run_library
    from corrkin.config import LibraryConfig
    from corrkin.synth import SHOTS, make_shot_library

    manifest = make_shot_library(out / "shots", cfg.shot_library, seed=cfg.seed)
    lcfg = OmegaConf.structured(LibraryConfig(input=str(manifest), output=str(out / "library")))
    lcfg.device, lcfg.progress, lcfg.analysis = cfg.device, cfg.progress, cfg.analysis
    code = run_library(lcfg)
    align = out / "library" / "align"
    with open(align / "paths_by_shot.csv", newline="") as f:
        top = {r["shot"]: r for r in csv.DictReader(f) if r["rank"] == "1"}
    with open(align / "edges_by_shot.csv", newline="") as f:
        wrist = {r["shot"]: r for r in csv.DictReader(f) if (r["src"], r["dst"]) == ("l_wrist", "bat")}
    lines += [f"corrkin library: {cfg.shot_library} clips of each shot type by each batter, aligned", ""]
    for shot, spec in SHOTS.items():
        t, w = top[shot], wrist.get(shot)
        lag = f"{float(w['raw_lag_ms_mean']):.0f} ms (true {spec['delay_frames'] * 40} ms)" if w else "not found"
        lines.append(f"  {shot:<6} most frequent path {t['path']} ({t['count']} of {t['clips']}); l_wrist > bat {lag}")
    lines += ["", f"library   : {out / 'library' / 'library.csv'} (re-run it: finished clips are skipped)",
              f"alignment : {align}/ (clips, edges_by_shot|batter, paths_by_shot|batter, .csv and .parquet; figures)",
              ""]
    return code


def _video_demo(cfg: DictConfig, out: Path, lines: list[str]) -> int:
    """Render clips, then run the video pipeline on them: the body from the ground truth
    (``pose=file``), the bat tip found on the pixels, then the analysis."""
    import numpy as np

    from corrkin.commands.run import run_video
    from corrkin.config import RunConfig
    from corrkin.io.keypoints import load_clip
    from corrkin.synth import random_spec
    from corrkin.synth_video import tip_error, write_rendered

    video_dir, pose_dir, res_dir = out / "videos", out / "video_poses", out / "video_results"
    rng = np.random.default_rng(cfg.seed + 1)
    pose_dir.mkdir(parents=True, exist_ok=True)
    for i in range(cfg.videos):
        spec = random_spec(rng)
        spec.duration_s, spec.swing_at_s = 2.0, 1.0
        _, truth = write_rendered(video_dir, spec, seed=cfg.seed * 100 + i, name=f"rendered_{i:02d}")
        truth.replace(pose_dir / truth.name)
    rcfg = OmegaConf.structured(RunConfig(input=str(video_dir), output=str(res_dir)))
    rcfg.pose = {"_target_": "corrkin.pose.file.FilePose", "keypoints": str(pose_dir)}
    rcfg.device, rcfg.plots, rcfg.progress, rcfg.analysis = cfg.device, cfg.plots, cfg.progress, cfg.analysis
    code = run_video(rcfg)
    lines += [f"corrkin run: {cfg.videos} rendered videos (body from the ground truth, bat tip found on the pixels)", ""]
    for truth_file in sorted(pose_dir.glob("*.npz")):
        name = truth_file.stem
        truth, found = load_clip(truth_file), load_clip(res_dir / name / "keypoints.npz")
        err = tip_error(found.bat, truth)
        res = json.loads((res_dir / name / "result.json").read_text())
        lines.append(f"  {name}  bat-tip error median {np.median(err):.3f} shoulder widths, "
                     f"{(err <= 0.25).mean():.0%} of frames within 0.25; path: {' > '.join(res['path']) or '(none)'}")
    lines += ["", f"videos    : {video_dir}", f"results   : {res_dir}/<clip>/keypoints.npz, result.json, corrpath.png", ""]
    if cfg.mediapipe:
        code = max(code, _mediapipe_demo(cfg, out, rng, lines))
    return code


def _mediapipe_demo(cfg: DictConfig, out: Path, rng, lines: list[str]) -> int:
    """One rendered clip with nothing given but the video: MediaPipe finds the body, the
    detector the bat, then the analysis; errors against the renderer's ground truth."""
    import numpy as np

    from corrkin.commands.run import run_video
    from corrkin.config import RunConfig
    from corrkin.io.keypoints import load_clip
    from corrkin.skeleton import shoulder_width
    from corrkin.synth import random_spec
    from corrkin.synth_video import mirror_name, tip_error, write_rendered

    video_dir, res_dir = out / "video_mediapipe", out / "video_mediapipe_results"
    spec = random_spec(rng, shoulder_px=100.0)  # a figure MediaPipe's detector sees well at 640 x 360
    spec.duration_s, spec.swing_at_s = 2.0, 1.0
    _, truth_file = write_rendered(video_dir, spec, seed=cfg.seed * 100 + 99, name="rendered_mediapipe")
    truth_file = truth_file.replace(out / "video_mediapipe_truth.npz")
    rcfg = OmegaConf.structured(RunConfig(input=str(video_dir), output=str(res_dir)))
    rcfg.pose = {"_target_": "corrkin.pose.mediapipe.MediaPipePose"}
    rcfg.device, rcfg.plots, rcfg.progress, rcfg.analysis = cfg.device, cfg.plots, cfg.progress, cfg.analysis
    code = run_video(rcfg)
    truth = load_clip(truth_file)
    found = load_clip(res_dir / "rendered_mediapipe" / "keypoints.npz")
    sw = shoulder_width(truth.keypoints)
    seen = found.scores > 0
    joint_err = np.linalg.norm(found.keypoints - truth.keypoints, axis=-1) / sw[:, None]
    res = json.loads((res_dir / "rendered_mediapipe" / "result.json").read_text()) if code == 0 else {}
    lines += ["corrkin run pose=mediapipe: 1 rendered video, nothing given but the pixels", "",
              f"  rendered_mediapipe  person found in {seen.any(1).mean():.0%} of frames; body joints median error "
              f"{np.median(joint_err[seen]):.2f} shoulder widths; bat-tip error median "
              f"{np.median(tip_error(found.bat, truth)):.3f}; path: {' > '.join(res.get('path', [])) or '(none)'}",
              f"  {'':18} true chain {' > '.join(mirror_name(n) for n in spec.chain)} (joint names as the person's own: "
              "the figure faces the camera)", "",
              f"results   : {res_dir}", ""]
    return code
