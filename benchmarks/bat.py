"""Bat tip and bat presence across conditions, and the bat stage's speed at real resolutions.

    python benchmarks/bat.py                     # 3 clips per condition, CPU
    python benchmarks/bat.py --clips 6 --device cuda

Renders clips with :mod:`corrkin.synth_video` (exact ground truth; varied frame rate, camera,
swing direction and timing) under conditions the detector was not tuned on: bats from pale to
dark willow, thin, short and long; real photographs as the ground (scikit-image's grass,
gravel, brick, and a rocket on its gantry); motion blur (a fully open shutter over four
sub-frames); a bat that passes behind the body; a fielder crossing in front (their pose given);
and the same conditions with no bat at all. Each is encoded as H.264, decoded, given the true
body pose (``pose=file``), and searched by ``corrkin.bat.detect`` and by the original detector
(Canny edges, a probabilistic Hough transform, optical flow, the forearm as the last resort).

Per condition: the share of frames where a bat is reported (seen, or bridged between
sightings), the median error and the share within 0.25 shoulder widths over *all* frames (a
frame with no bat reported counts as a miss); the share of frames where the bat is hidden (less
than ``SHOWS`` of its outer half in sight: behind the body, behind the fielder, out of frame) and
the share within 0.25 sw over the frames where it shows; the same share over the frames
reported; on no-bat clips, the share of frames where a bat is claimed (presence >= 0.5; the
original detector always places one). Then the stage's frames/s at 640x360 and 1920x1080, and the
whole ``corrkin run`` (decode once, MediaPipe, the bat) at 1080p against MediaPipe alone on the
same frames.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from corrkin.bat.detect import detect_bat
from corrkin.io.video import load_video, write_video
from corrkin.skeleton import JOINT_INDEX as J
from corrkin.synth import SwingSpec, random_spec
from corrkin.synth_video import Look, render_clip, tip_error

CONDITIONS = {  # name: (look, a fielder crossing, spec overrides)
    "standard": (Look(), False, {}),
    "pale willow": (Look(bat_colour=(236, 226, 196)), False, {}),
    "dark willow": (Look(bat_colour=(120, 85, 50)), False, {}),
    "thin bat": (Look(bat_width=0.045), False, {}),
    "wide bat": (Look(bat_width=0.11), False, {}),
    "short bat": (Look(bat_length=0.75), False, {}),
    "long bat": (Look(bat_length=1.3), False, {}),
    "ground: grass photo": (Look(ground="grass"), False, {}),
    "ground: gravel photo": (Look(ground="gravel"), False, {}),
    "ground: brick photo": (Look(ground="brick"), False, {}),
    "ground: rocket photo": (Look(ground="rocket"), False, {}),
    "motion blur": (Look(shutter=4), False, {}),
    "behind the body": (Look(bat_behind=True), False, {"bat_turn_rad": 2.4}),
    "fielder crossing": (Look(), True, {}),
}
SHOWS = 0.25  # a bat shows in a frame where at least this share of its outer half is in sight
NO_BAT = {
    "no bat": (Look(bat_colour=None), False, {}),
    "no bat, grass photo": (Look(bat_colour=None, ground="grass"), False, {}),
    "no bat, gravel photo": (Look(bat_colour=None, ground="gravel"), False, {}),
    "no bat, rocket photo": (Look(bat_colour=None, ground="rocket"), False, {}),
    "no bat, fielder crossing": (Look(bat_colour=None), True, {}),
}


def original_detector(frames: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """The baseline: Canny + HoughLinesP per frame, optical flow when no line, forearm fallback."""
    import cv2

    sw = np.linalg.norm(keypoints[:, J["l_shoulder"]] - keypoints[:, J["r_shoulder"]], axis=-1)
    hands = (keypoints[:, J["l_wrist"]] + keypoints[:, J["r_wrist"]]) / 2
    fore = keypoints[:, J["l_wrist"]] - keypoints[:, J["l_elbow"]]
    fore /= np.linalg.norm(fore, axis=-1, keepdims=True).clip(1e-6)
    tips, prev_grey, prev_tip = [], None, None
    for f, rgb in enumerate(frames):
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        edges = cv2.Canny(grey, 50, 150)
        lines = cv2.HoughLinesP(edges, 1, np.pi / 180, threshold=15, minLineLength=int(0.5 * sw[f]), maxLineGap=4)
        tip = None
        if lines is not None:
            best = -1.0
            for x1, y1, x2, y2 in lines.reshape(-1, 4):
                ends = np.array([[x1, y1], [x2, y2]], float)
                d = np.linalg.norm(ends - hands[f], axis=-1)
                if d.min() < 0.5 * sw[f]:
                    length = np.linalg.norm(ends[0] - ends[1])
                    if length > best:
                        best, tip = length, ends[np.argmax(d)]
        if tip is None and prev_tip is not None:
            nxt, status, _ = cv2.calcOpticalFlowPyrLK(prev_grey, grey, prev_tip[None, None].astype(np.float32), None)
            if status[0, 0]:
                tip = nxt[0, 0].astype(float)
        if tip is None:
            tip = hands[f] + 1.5 * sw[f] * fore[f]
        tips.append(tip)
        prev_grey, prev_tip = grey, np.asarray(tip, float)
    return np.stack(tips)


def _clip(i: int, seed: int, look: Look, passer: bool, overrides: dict, tmp: str, device: str):
    """Render, encode and decode one clip: frames, the truth, the others' poses, and whether the
    bat shows in each frame (at least ``SHOWS`` of its outer half: not behind the body, another
    person or the frame's edge)."""
    rng = np.random.default_rng(seed * 1000 + i)
    spec = random_spec(rng, **overrides)
    spec.duration_s = float(rng.uniform(1.2, 2.0))
    spec.swing_at_s = float(rng.uniform(0.45, 0.55) * spec.duration_s)
    frames, gt, truth = render_clip(spec, seed=seed * 1000 + i, look=look, passer=passer)
    path = Path(tmp) / f"clip{i:03d}.mp4"
    write_video(path, frames, spec.fps)
    decoded, _ = load_video(path, device=device)
    others = torch.from_numpy(truth["passer"])[:, None].to(device) if passer else None
    return decoded, gt, others, truth["bat_visible"] >= SHOWS


def accuracy(args) -> None:
    rows, overall, overall_base, overall_shows = [], [], [], []
    t_bat = n_frames = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, (look, passer, overrides) in {**CONDITIONS, **NO_BAT}.items():
            errs, base_errs, shown, claimed, base_claimed, shows = [], [], [], [], [], []
            for i in range(args.clips):
                frames, gt, others, visible = _clip(i, args.seed, look, passer, overrides, tmp, args.device)
                kp = torch.from_numpy(gt.keypoints).to(args.device)
                t0 = time.perf_counter()
                track = detect_bat(frames, kp, others=others)
                if args.device.startswith("cuda"):
                    torch.cuda.synchronize()
                t_bat, n_frames = t_bat + time.perf_counter() - t0, n_frames + len(frames)
                base = original_detector(frames.permute(0, 2, 3, 1).cpu().numpy(), gt.keypoints)
                if look.bat_colour is None:
                    claimed.append((track.presence >= 0.5).cpu().numpy())
                    base_claimed.append(np.ones(len(frames), bool))
                    continue
                e = tip_error(track.tip, gt)
                errs.append(np.where(np.isfinite(e), e, np.inf))
                shown.append(np.isfinite(e))
                shows.append(visible)
                base_errs.append(tip_error(base, gt))
            if look.bat_colour is None:
                c, cb = np.concatenate(claimed), np.concatenate(base_claimed)
                rows.append((name, len(c), "", "", "", "", "", "", "", f"{c.mean():.1%}", f"{cb.mean():.0%}"))
                overall.append(("nobat", c))
                continue
            e, b, f, v = (np.concatenate(x) for x in (errs, base_errs, shown, shows))
            overall.append(("bat", e))
            overall_base.append(b)
            overall_shows.append(v)
            rows.append((name, len(e), f"{f.mean():.0%}", _median(e), f"{(e <= 0.25).mean():.1%}", f"{1 - v.mean():.0%}",
                         _share(e[v] <= 0.25), _share(e[f] <= 0.25), f"{(b <= 0.25).mean():.1%}", "", ""))
    e = np.concatenate([x for k, x in overall if k == "bat"])
    c = np.concatenate([x for k, x in overall if k == "nobat"])
    b, v = np.concatenate(overall_base), np.concatenate(overall_shows)
    print(f"# bat tip and presence, {args.clips} rendered clips per condition, device {args.device}\n")
    print("| condition | frames | bat reported | median error (sw) | within 0.25 sw (all frames) | bat hidden | "
          "within 0.25 sw (frames it shows) | within 0.25 sw (reported) | original: within 0.25 sw | "
          "bat claimed (no bat drawn) | original: claimed |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| " + " | ".join(str(x) for x in r) + " |")
    f = np.isfinite(e)
    print(f"| **all with a bat** | {len(e)} | {f.mean():.0%} | {_median(e)} | {(e <= 0.25).mean():.1%} | "
          f"{1 - v.mean():.0%} | {_share(e[v] <= 0.25)} | {_share(e[f] <= 0.25)} | {(b <= 0.25).mean():.1%} | | |")
    print(f"| **all without** | {len(c)} | | | | | | | | {c.mean():.1%} | 100% |")
    print(f"\nbat stage on these clips: {n_frames / t_bat:,.0f} frames/s (targets over all conditions with a bat: "
          "median <= 0.1 sw, >= 90 % within 0.25 sw; no bat claimed in < 5 % of no-bat frames)\n")


def _share(ok: np.ndarray) -> str:
    return f"{ok.mean():.1%}" if len(ok) else "–"


def _median(e: np.ndarray) -> str:
    m = float(np.median(e))
    return f"{m:.3f}" if np.isfinite(m) else "no bat (> half the frames)"


def speed(args) -> None:
    """The bat stage at 640x360 and 1920x1080 (the same clip, enlarged), and corrkin run at
    1080p with pose=mediapipe against MediaPipe alone on the same frames."""
    from corrkin.config import BatSettings
    from corrkin.perception import process_video

    spec = SwingSpec(fps=25.0, duration_s=args.speed_frames / 25.0, swing_at_s=args.speed_frames / 50.0,
                     shoulder_px=90.0)
    frames, gt, _ = render_clip(spec, seed=args.seed)
    kp = torch.from_numpy(gt.keypoints)
    print("| stage | frames | frames/s |\n|---|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for label, size in (("640x360", None), ("1920x1080", (1080, 1920))):
            big = frames if size is None else torch.nn.functional.interpolate(
                frames.float(), size=size, mode="bilinear").round().clamp(0, 255).to(torch.uint8)
            path = Path(tmp) / f"{label}.mp4"
            write_video(path, big, spec.fps)
            decoded, _ = load_video(path, device=args.device)
            k = (kp * (size[1] / 640 if size else 1)).to(args.device)
            detect_bat(decoded[:8], k[:8])  # warm-up
            t0 = time.perf_counter()
            detect_bat(decoded, k)
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            print(f"| bat, {label} | {len(decoded)} | {len(decoded) / (time.perf_counter() - t0):,.0f} |")
            if size is None or args.device.startswith("cuda"):
                continue
            from corrkin.pose.mediapipe import MediaPipePose

            t0 = time.perf_counter()
            MediaPipePose().coco17([decoded])
            t_mp = time.perf_counter() - t0
            del decoded
            t0 = time.perf_counter()
            process_video(path, MediaPipePose(), BatSettings(), None, 1, 64, args.device)
            t_run = time.perf_counter() - t0
            print(f"| MediaPipe alone, {label} (decoded frames) | {args.speed_frames} | {args.speed_frames / t_mp:,.1f} |")
            print(f"| corrkin run, {label}, pose=mediapipe (decode once + pose + bat) | {args.speed_frames} | "
                  f"{args.speed_frames / t_run:,.1f} |")
            print(f"\ncorrkin run takes {t_run / t_mp:.2f}x MediaPipe alone at {label} (target <= 2x)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=int, default=3, help="clips per condition")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--speed-frames", type=int, default=100, help="frames of the clip timed at 1080p")
    ap.add_argument("--skip-accuracy", action="store_true")
    args = ap.parse_args()
    if not args.skip_accuracy:
        accuracy(args)
    speed(args)


if __name__ == "__main__":
    main()
