"""Time of the coupling inference across swings (``corrkin.library.links.infer_links``).

    python benchmarks/links.py                      # 1,000 swings of 3 s at 120 fps, groups of 12, CPU
    python benchmarks/links.py --device cuda --swings 10000

Each swing: 14 speed profiles (a minimum-jerk pulse each, at an independent time within +-0.3 s
of the impact, plus white noise). Prints one table: swings, groups, seconds, swings/s, and the
ratio against the target (1,000 swings in 10 s on CPU).
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def swings(rng, n: int, fps: float, clip_s: float):
    from corrkin.library.links import Swing

    t = np.arange(int(clip_s * fps)) / fps
    out = []
    for _ in range(n):
        impact = rng.uniform(1.2, clip_s - 1.1)
        centres = impact + rng.uniform(-0.3, 0.3, 14)
        width = rng.uniform(0.2, 0.35, 14)
        s = np.clip((t[:, None] - centres + width / 2) / width, 0, 1)
        x = 30 * s**2 * (1 - s) ** 2 / width + rng.normal(0, 0.3, (len(t), 14))
        out.append(Swing(x, fps, impact))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--swings", type=int, default=1000)
    ap.add_argument("--group", type=int, default=12)
    ap.add_argument("--fps", type=float, default=120.0)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    import torch

    from corrkin.library.alignment import UNTESTED
    from corrkin.library.links import infer_links

    rng = np.random.default_rng(0)
    data = swings(rng, args.swings, args.fps, 3.0)
    groups = [data[k: k + args.group] for k in range(0, len(data), args.group)]
    groups = [g for g in groups if len(g) >= 3]
    infer_links(groups[0], untested=UNTESTED, device=args.device)  # warm-up
    start = time.perf_counter()
    for g in groups:
        infer_links(g, untested=UNTESTED, device=args.device)
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    took = time.perf_counter() - start
    n = sum(len(g) for g in groups)
    print(f"# links across swings: {args.fps:g} fps, 3-s swings, groups of {args.group}, 4,999 shuffles, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}\n")
    print("| swings | groups | seconds | swings/s | x target (100 swings/s) |")
    print("|---:|---:|---:|---:|---:|")
    print(f"| {n:,} | {len(groups)} | {took:.2f} | {n / took:,.0f} | {n / took / 100:.1f} |")


if __name__ == "__main__":
    main()
