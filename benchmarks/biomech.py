"""Errors of the kinematic sequence and of the bat speed in m/s, by frame rate.

    python benchmarks/biomech.py            # 20 swings per rate, 25-240 fps
    python benchmarks/biomech.py --clips 50

Swings of known segment rotations (:func:`corrkin.synth.make_rotation_clip`: pelvis, trunk, lead
arm and bat turning in the image with Gaussian speed pulses 50-80 ms wide, 0.3 px of keypoint
jitter at 80 px shoulders; the hip and shoulder lines' on-screen turn is read as their tilt, the
pelvis's and trunk's axial turn being withheld from one camera) go through
:func:`corrkin.analysis.biomech.kinematic_sequence` and :func:`tip_peak_speed` with the bat's
length as the calibration. Printed per rate: the median |error| of the peak times (frames and
ms), the median error of the peak speeds (%), the share of clips whose order is proximal to
distal (the lead arm before the bat), and the bat tip's speed in m/s against the truth (the noise-free motion sampled at
2,400 fps). Targets (issue 15): peak times within 0.25 frame (median), peak speeds within 5 %,
bat speed in m/s within 5 % given the bat length.

The second table: whole strokes (:func:`corrkin.synth.stroke_spec`: backlift, stride, downswing,
follow-through) through :func:`corrkin.analysis.events.stroke_events`, each event's median
|error| in frames against :func:`corrkin.synth.stroke_truth` (the same definitions on the
noise-free motion at 2,400 fps), and the stride and backlift height's median error. Target:
events within one frame.
"""

from __future__ import annotations

import argparse

import numpy as np

from corrkin.analysis.biomech import LINES, MEASURED, SEGMENTS, kinematic_sequence, tip_peak_speed
from corrkin.analysis.events import EVENTS, stroke_events
from corrkin.analysis.units import bat_calibration
from corrkin.synth import RotationSpec, make_rotation_clip, rotation_truth, stroke_spec, stroke_truth
from corrkin.timing import savgol_window

RATES = (25, 30, 50, 60, 120, 240)


def true_tip_speed_m_s(spec: RotationSpec, bat_m: float) -> float:
    fine = RotationSpec(fps=2400.0, swing_at_s=spec.swing_at_s, jitter_px=0.0, pan_px_s=(0.0, 0.0))
    tip = make_rotation_clip(fine).bat / fine.shoulder_px
    return float(np.linalg.norm(np.diff(tip, axis=0), axis=1).max() * fine.fps * bat_m / fine.bat_length_sw)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--bat-length-m", type=float, default=0.85)
    args = ap.parse_args()
    print(f"# kinematic sequence and bat speed, {args.clips} synthetic swings per rate\n")
    print("| fps | peak time err (frames) | peak time err (ms) | in-image speed err | lead arm before bat | bat m/s err |")
    print("|---:|---:|---:|---:|---:|---:|")
    for fps in RATES:
        t_err, v_err, p2d, bat_err = [], [], [], []
        for seed in range(args.clips):
            rng = np.random.default_rng(seed)
            spec = RotationSpec(fps=fps, swing_at_s=float(rng.uniform(0.9, 1.1)))
            clip = make_rotation_clip(spec, seed=seed)
            pos = np.concatenate([clip.keypoints, clip.bat[:, None]], 1).astype(np.float64) / spec.shoulder_px
            truth = rotation_truth(spec)
            impact = int(round((spec.swing_at_s + spec.offset_s["bat"]) * fps))
            swing = (impact - int(0.5 * fps), impact + int(0.5 * fps) + 1)
            ks = kinematic_sequence(pos, fps, savgol_window(0.2, fps, 2), "l", swing)
            for s in SEGMENTS:  # these swings turn every line in the image: the hip and shoulder lines' tilt too
                got = ks["segments"][s] if s in MEASURED else ks["lines_in_image"][LINES[s]]
                t_err.append(abs(got["time_ms"] / 1000 - truth[s]["time_s"]) * fps)
                v_err.append(abs(abs(got["speed_deg_s"]) / truth[s]["speed_deg_s"] - 1))
            p2d.append(ks["proximal_to_distal"])
            cal = bat_calibration(pos, args.bat_length_m, 0.0)
            tip = tip_peak_speed(pos, fps, swing)
            bat_err.append(tip["speed_sw_s"] * cal["m_per_shoulder_width"] / true_tip_speed_m_s(spec, args.bat_length_m) - 1)
        print(f"| {fps} | {np.median(t_err):.3f} | {np.median(t_err) * 1000 / fps:.2f} | {np.median(v_err):.1%} | "
              f"{np.mean(p2d):.0%} | {np.median(bat_err):+.1%} |")


    print(f"\n# stroke events, {args.clips} synthetic strokes per rate: median |error| in frames\n")
    print("| fps | " + " | ".join(e.replace("_", " ") for e in EVENTS) + " | stride err | backlift height err |")
    print("|---:|" + "---:|" * (len(EVENTS) + 2))
    for fps in RATES:
        errs, stride, height = {e: [] for e in EVENTS}, [], []
        for seed in range(args.clips):
            rng = np.random.default_rng(seed)
            spec = stroke_spec(fps, swing_at_s=float(rng.uniform(1.2, 1.4)))
            truth = stroke_truth(spec)
            clip = make_rotation_clip(spec, seed=seed)
            pos = np.concatenate([clip.keypoints, clip.bat[:, None]], 1).astype(np.float64) / spec.shoulder_px
            pos -= ((pos[:, 7] + pos[:, 8]) / 2)[:, None]  # the hips' centre, as the analysis centres
            k = int(round(truth["events_s"]["impact"] * fps))
            tip = tip_peak_speed(pos, fps, (k - int(0.5 * fps), k + int(0.5 * fps) + 1))
            ev = stroke_events(pos, fps, savgol_window(0.2, fps, 2), "l", tip["time_ms"] * fps / 1000)
            for e in EVENTS:
                got = ev["events"][e]
                errs[e].append(np.nan if got is None else abs(got["clip_ms"] / 1000 - truth["events_s"][e]) * fps)
            stride.append(ev["stride_sw"] / truth["stride_sw"] - 1)
            height.append(ev["backlift_height_sw"] / truth["backlift_height_sw"] - 1)
        cells = " | ".join(f"{np.nanmedian(errs[e]):.2f}" for e in EVENTS)
        print(f"| {fps} | {cells} | {np.median(stride):+.1%} | {np.median(height):+.1%} |")


if __name__ == "__main__":
    main()
