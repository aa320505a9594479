"""Peak memory of ``corrkin analyse`` when one long clip sits among many short ones.

    python benchmarks/memory.py                  # 1 clip of 100,000 frames + 500 of 300 frames
    python benchmarks/memory.py --long 20000 --short 100

Each run is its own process (``plots=false``, ``io_workers=0``: one process holds all the
memory), reporting its peak resident set (``ru_maxrss``). Four runs: the long clip alone, the
short clips alone (one batch), both together, and the old way (every batch padded to its
longest clip: ``FRAMES_PER_SLOT`` made unbounded) with only ``--before-short`` short clips,
since with all of them it would need tens of GB. Target (issue 14): both together within 2x of
the long clip alone plus one batch of short clips.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CHILD = """
import json, resource, sys
import corrkin.runtime.batching as run
run.FRAMES_PER_SLOT = int(sys.argv[1])
from corrkin.cli import main
code = main(sys.argv[2:])
print(json.dumps({"code": code, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_clips(folder: Path, n: int, frames: int, seed: int) -> None:
    from corrkin.io.keypoints import save_clip
    from corrkin.synth import make_clip, random_spec

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        spec = random_spec(rng)
        spec.fps = 25.0
        spec.duration_s = frames / spec.fps
        spec.swing_at_s = float(rng.uniform(0.3, 0.7) * spec.duration_s)
        clip, _ = make_clip(spec, seed=seed * 100_000 + i, name=f"clip_{seed}_{i:05d}")
        save_clip(folder / f"{clip.name}.npz", clip)


def measure(inputs: Path, out: Path, slot: int) -> float:
    res = subprocess.run([sys.executable, "-c", CHILD, str(slot), "analyse", f"input={inputs}", f"output={out}",
                          "plots=false", "io_workers=0", "progress=false"], capture_output=True, text=True, check=False)
    rec = json.loads(res.stdout.strip().splitlines()[-1])
    if rec["code"] != 0:
        raise SystemExit(f"corrkin analyse failed on {inputs}:\n{res.stderr[-2000:]}")
    return rec["peak_mb"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--long", type=int, default=100_000, help="frames of the long clip")
    ap.add_argument("--short", type=int, default=500, help="short clips (300 frames each)")
    ap.add_argument("--before-short", type=int, default=40, help="short clips beside the long one, the old way")
    args = ap.parse_args()
    from corrkin.runtime import FRAMES_PER_SLOT

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_clips(tmp / "long", 1, args.long, seed=1)
        write_clips(tmp / "short", args.short, 300, seed=2)
        both, before = tmp / "both", tmp / "before"
        both.mkdir()
        before.mkdir()
        shorts = sorted((tmp / "short").iterdir())
        for p in [*(tmp / "long").iterdir(), *shorts]:
            (both / p.name).symlink_to(p)
        for p in [*(tmp / "long").iterdir(), *shorts[: args.before_short]]:
            (before / p.name).symlink_to(p)
        long_mb = measure(tmp / "long", tmp / "o1", FRAMES_PER_SLOT)
        short_mb = measure(tmp / "short", tmp / "o2", FRAMES_PER_SLOT)
        both_mb = measure(both, tmp / "o3", FRAMES_PER_SLOT)
        padded_mb = measure(before, tmp / "o4", 10**12)
        bucketed_mb = measure(before, tmp / "o5", FRAMES_PER_SLOT)
    budget = long_mb + short_mb
    print(f"# peak memory, 1 clip of {args.long:,} frames + {args.short} clips of 300 frames (corrkin analyse, cpu)\n")
    print("| run | peak RSS (MB) | against long alone + one short batch |")
    print("|---|---:|---:|")
    print(f"| long clip alone | {long_mb:,.0f} | |")
    print(f"| {args.short} short clips alone (one batch) | {short_mb:,.0f} | |")
    print(f"| both, batched by length (now) | {both_mb:,.0f} | {both_mb / budget:.2f}x |")
    print(f"| long + {args.before_short} short, batched by length (now) | {bucketed_mb:,.0f} | |")
    print(f"| long + {args.before_short} short, padded to the longest (before) | {padded_mb:,.0f} | |")
    print(f"\ntarget: both together <= 2x ({2 * budget:,.0f} MB): {'met' if both_mb <= 2 * budget else 'NOT met'}")


if __name__ == "__main__":
    main()
