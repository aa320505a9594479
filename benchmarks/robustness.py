"""Failed clips on ordinary and awkward input: every clip is analysed, or reported as bad input with
a reason a person can act on; an internal error (a traceback's exception in the summary) counts
as a failure of corrkin.

    python benchmarks/robustness.py                  # 2,000 clips of each generator
    python benchmarks/robustness.py --clips 200      # a quick look

Two generators, neither made for the analysis:

- ``synth``: :mod:`corrkin.synth`'s clips (the benchmarks' own generator), 25-240 fps;
- ``filmed``: :mod:`benchmarks.validation_data`'s 3-D strokes filmed by a pinhole camera with
  pose-model errors (jitter, swaps, dropouts, glitches), 25-240 fps.

Each clip, from its own seeded draw, is left as it is or changed in one of the ways footage
is awkward: cut to a random length (down to 3 frames), a joint never seen (score 0; its
position left, or NaN), a joint seen only in a few frames, a still clip, the bat tip on the
hands, the bat never seen, NaN stretches, the whole clip mirrored. The table counts, per
generator and change, the clips analysed, those refused as bad input with a reason, and the
internal failures (``could not write results: <Exception>`` or an unnamed exception), with an
example of each.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

JOINTS = ("l_ankle", "r_ankle", "l_knee", "r_knee", "l_hip", "r_hip", "pelvis", "l_shoulder", "r_shoulder",
          "l_elbow", "r_elbow", "l_wrist", "r_wrist")
CHANGES = ("none", "short", "joint_unseen", "joint_unseen_nan", "joint_rare", "still", "bat_on_hands", "no_bat",
           "nan_stretch", "mirrored")
INTERNAL = ("could not write results", "Traceback", "Error: ", "cannot convert", "Singular matrix", "zero-size")


def _synth(rng: np.random.Generator, i: int) -> dict:
    from corrkin.synth import make_clip, random_spec

    fps, duration = float(rng.choice([25.0, 50.0, 120.0, 240.0])), float(rng.uniform(1.0, 4.0))
    spec = random_spec(rng, fps=fps, duration_s=duration, swing_at_s=float(rng.uniform(0.25, 0.75) * duration),
                       delay_s=float(rng.uniform(0.03, 0.12)))
    clip = make_clip(spec, seed=int(rng.integers(2**31)), name=f"synth_{i:05d}")[0]
    return dict(keypoints=np.asarray(clip.keypoints, np.float32), scores=np.asarray(clip.scores, np.float32),
                bat=np.asarray(clip.bat, np.float32), bat_scores=np.asarray(clip.bat_scores, np.float32),
                fps=float(clip.fps))


def _filmed(rng: np.random.Generator, i: int) -> dict:
    import validation_data as vd

    kind = str(rng.choice(["chain", "null_uniform", "null_cotimed"], p=[0.6, 0.2, 0.2]))
    fps = float(rng.choice([25.0, 50.0, 120.0, 240.0]))
    c = vd.make_suite(kind, 1, fps, int(rng.integers(2**31)))[0]
    return dict(keypoints=np.asarray(c["keypoints"], np.float32), scores=np.asarray(c["scores"], np.float32),
                bat=np.asarray(c["bat"], np.float32), bat_scores=np.asarray(c["bat_scores"], np.float32),
                fps=float(c["fps"]))


def change(a: dict, how: str, rng: np.random.Generator) -> dict:
    """``a`` changed in one awkward way (a copy)."""
    a = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in a.items()}
    t = len(a["keypoints"])
    j = int(rng.integers(len(JOINTS)))
    if how == "short":
        n = int(rng.integers(3, max(4, t)))
        s = int(rng.integers(0, t - n + 1))
        for k in ("keypoints", "scores", "bat", "bat_scores"):
            a[k] = a[k][s: s + n]
    elif how in ("joint_unseen", "joint_unseen_nan"):
        a["scores"][:, j] = 0.0
        if how.endswith("nan"):
            a["keypoints"][:, j] = np.nan
    elif how == "joint_rare":
        keep = rng.random(t) < 0.05
        a["scores"][~keep, j] = 0.0
    elif how == "still":
        a["keypoints"] = np.repeat(a["keypoints"][:1], t, 0) + rng.normal(0, 0.5, a["keypoints"].shape).astype(np.float32)
        a["bat"] = np.repeat(a["bat"][:1], t, 0)
    elif how == "bat_on_hands":
        a["bat"] = (a["keypoints"][:, 11] + a["keypoints"][:, 12]) / 2
    elif how == "no_bat":
        a["bat_scores"][:] = 0.0
    elif how == "nan_stretch":
        n = int(rng.integers(1, max(2, t // 3)))
        s = int(rng.integers(0, t - n + 1))
        a["keypoints"][s: s + n] = np.nan
        a["scores"][s: s + n] = 0.0
    elif how == "mirrored":
        a["keypoints"][..., 0] = 1920.0 - a["keypoints"][..., 0]
        a["bat"][:, 0] = 1920.0 - a["bat"][:, 0]
    return a


def classify(row: dict) -> str:
    if row["status"] == "ok":
        return "analysed"
    return "internal" if any(m in row["error"] for m in INTERNAL) else "refused"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=int, default=2000, help="clips per generator")
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--keep", type=Path, default=None, help="keep the clips and results here")
    args = ap.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="corrkin-robust-"))
    rows = []
    for gen, make in (("synth", _synth), ("filmed", _filmed)):
        folder = root / gen
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng([args.seed, len(gen)])
        what = {}
        for i in range(args.clips):
            how = CHANGES[i % len(CHANGES)]
            a = change(make(rng, i), how, rng)
            name = f"{gen}_{i:05d}_{how}"
            np.savez(folder / f"{name}.npz", joints=np.array(JOINTS), **a)
            what[name] = how
        out = root / f"{gen}_out"
        subprocess.run([sys.executable, "-m", "corrkin", "analyse", f"input={folder}", f"output={out}",
                        "progress=false", "plots=false"], check=False, capture_output=True)
        with open(out / "summary.csv", newline="") as f:
            summary = {r["clip"]: r for r in csv.DictReader(f)}
        counts: dict[str, Counter] = defaultdict(Counter)
        example: dict[tuple[str, str], str] = {}
        for name, how in what.items():
            row = summary.get(name, {"status": "missing", "error": "not in summary.csv"})
            verdict = classify(row) if row["status"] != "missing" else "internal"
            counts[how][verdict] += 1
            example.setdefault((how, verdict), row.get("error", "")[:110])
        for how in CHANGES:
            c = counts[how]
            rows.append((gen, how, c["analysed"], c["refused"], c["internal"],
                         example.get((how, "refused"), ""), example.get((how, "internal"), "")))
    print(f"# failed clips, seed {args.seed}: {args.clips} clips a generator ({root})\n")
    print("| generator | change | analysed | refused (bad input, with the reason) | internal failures | a refusal | an internal failure |")
    print("|---|---|---:|---:|---:|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]} | {r[6]} |")
    total = sum(r[4] for r in rows)
    print(f"\ninternal failures in all: {total} (target 0)")


if __name__ == "__main__":
    main()
