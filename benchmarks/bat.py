"""Bat-tip accuracy and stage speed on rendered clips, against the original detector.

    python benchmarks/bat.py                 # 20 rendered clips, CPU
    python benchmarks/bat.py --clips 40 --device cuda

Renders clips with :mod:`corrkin.synth_video` (exact ground truth; varied frame rate, camera,
swing direction and timing), writes them as H.264 ``.mp4``, decodes them with decord, takes the
body pose from the ground truth (``pose=file``) and finds the bat tip on the pixels with
``corrkin.bat.detect`` and with the original detector: Canny edges and a probabilistic Hough
transform per frame (OpenCV), the line with an end nearest the hands taken as the bat, followed
by Lucas-Kanade optical flow when no line is found, the forearm direction as the last resort.
Errors are in shoulder widths; frames/s per stage. The pose backends are timed on the first
``--pose-clips`` clips: MediaPipe (with its joint error against the ground truth) and, where
``make mmpose`` installed it, RTMDet-m + RTMPose-m with random weights (the weights cannot be
fetched here; their speed does not depend on them).
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import torch

from corrkin.bat.detect import detect_bat
from corrkin.io.keypoints import load_clip
from corrkin.io.video import load_video
from corrkin.pose.select import People, Selection
from corrkin.skeleton import JOINT_INDEX as J
from corrkin.synth import random_spec
from corrkin.synth_video import tip_error, write_rendered


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--pose-clips", type=int, default=5, help="clips on which the pose backends are timed")
    args = ap.parse_args()
    backends = pose_backends(args.device)
    pose_time = {name: 0.0 for name in backends}
    pose_frames, mp_err = 0, []
    rng = np.random.default_rng(args.seed)
    errs, base_errs, frames_total = [], [], 0
    t_decode = t_pose = t_bat = t_base = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.clips):
            spec = random_spec(rng)
            spec.duration_s = float(rng.uniform(1.2, 2.0))
            spec.swing_at_s = float(rng.uniform(0.45, 0.55) * spec.duration_s)
            video, truth = write_rendered(tmp, spec, seed=args.seed * 1000 + i, name=f"clip{i:03d}")
            t0 = time.perf_counter()
            frames, _ = load_video(video, device=args.device)
            t1 = time.perf_counter()
            gt = load_clip(truth)  # pose=file: the body from the ground truth
            kp = torch.from_numpy(gt.keypoints).to(args.device)
            t2 = time.perf_counter()
            track = detect_bat(frames, kp)
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            t3 = time.perf_counter()
            base = original_detector(frames.permute(0, 2, 3, 1).cpu().numpy(), gt.keypoints)
            t4 = time.perf_counter()
            t_decode, t_pose, t_bat, t_base = t_decode + t1 - t0, t_pose + t2 - t1, t_bat + t3 - t2, t_base + t4 - t3
            if i < args.pose_clips:
                pose_frames += len(frames)
                for name, backend in backends.items():
                    t5 = time.perf_counter()
                    people = backend.people([frames]) if hasattr(backend, "people") else People.one(*backend.coco17([frames]))
                    pose_time[name] += time.perf_counter() - t5
                    if name.startswith("mediapipe"):
                        k13, s13 = people.batter(Selection(np.where(people.valid[:, 0], 0, -1), 0))
                        sw = np.linalg.norm(gt.keypoints[:, J["l_shoulder"]] - gt.keypoints[:, J["r_shoulder"]], axis=-1)
                        err = np.linalg.norm(k13 - gt.keypoints, axis=-1) / sw[:, None]
                        mp_err.append(np.where(s13 > 0, err, np.nan))
            errs.append(tip_error(track.tip, gt))
            base_errs.append(tip_error(base, gt))
            frames_total += len(gt.bat)
    e, b = np.concatenate(errs), np.concatenate(base_errs)
    print(f"# bat tip on {args.clips} rendered clips ({frames_total} frames), device {args.device}\n")
    print("| detector | median error (sw) | frames within 0.25 sw | 90th percentile (sw) | frames/s |")
    print("|---|---:|---:|---:|---:|")
    print(f"| original (Canny + Hough + optical flow) | {np.median(b):.3f} | {(b <= 0.25).mean():.1%} | "
          f"{np.percentile(b, 90):.3f} | {frames_total / t_base:,.0f} |")
    print(f"| corrkin.bat.detect | {np.median(e):.3f} | {(e <= 0.25).mean():.1%} | {np.percentile(e, 90):.3f} | "
          f"{frames_total / t_bat:,.0f} |")
    print("\n| stage | frames/s |\n|---|---:|")
    print(f"| decode (decord, 640x360 H.264) | {frames_total / t_decode:,.0f} |")
    print(f"| pose (file) | {frames_total / t_pose:,.0f} |")
    for name, t in pose_time.items():
        print(f"| pose ({name}, {pose_frames} frames) | {pose_frames / max(t, 1e-9):,.1f} |")
    print(f"| bat | {frames_total / t_bat:,.0f} |")
    if mp_err:
        m = np.concatenate(mp_err)
        print(f"\nMediaPipe on the rendered figure: person found in {np.isfinite(m).any(1).mean():.1%} of frames, "
              f"joint error median {np.nanmedian(m):.3f} sw, 90th percentile {np.nanpercentile(m, 90):.3f} sw")


def pose_backends(device: str) -> dict:
    """The pose backends to time: MediaPipe (CPU only), and mmpose where it is installed."""
    out = {}
    if not device.startswith("cuda"):
        from corrkin.pose.mediapipe import MediaPipePose

        out["mediapipe"] = MediaPipePose()
    try:
        import warnings

        warnings.filterwarnings("ignore")
        from corrkin.pose.mmpose import MMPose

        out["mmpose RTMDet-m + RTMPose-m, random weights"] = MMPose(checkpoint=None, detector_checkpoint=None,
                                                                    device=device)
        out["mmpose RTMPose-m alone, one box per frame"] = MMPose(checkpoint=None, detector_config=None, device=device)
    except ImportError:
        print("(mmpose not installed: `make mmpose`)")
    return out


if __name__ == "__main__":
    main()
