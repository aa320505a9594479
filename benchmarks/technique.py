"""Does a batter's LoRA learn his technique? Base on a library, LoRA on one batter, compare lags.

    python benchmarks/technique.py                 # CPU, about a few minutes
    python benchmarks/technique.py --device cuda   # and steps/s on a GPU

A synthetic library of two batters whose kinetic chains differ in timing (``--lags 2 4``: frames
between consecutive segments, pelvis -> lead shoulder -> elbow -> wrist -> bat, at 25 fps):

1. every clip is analysed (``corrkin analyse``); a quarter of batter B's clips are held out;
2. the **base** model trains on the rest of both batters' clips, without batter labels (it
   learns the library's swings: a mixture of both timings);
3. a **LoRA** (rank ``--rank``) trains on batter B's training clips, the base frozen;
4. swings are sampled from the base and from base + LoRA (shot label, no batter label,
   classifier-free guidance), and run through the same correlated-kinetics analysis as the
   real clips. Reported: each link's mean lag against B's held-out clips (frames), the mean
   absolute lag error, the 1-Wasserstein distance between lag distributions, the share of
   samples whose maximum-weight path is B's most frequent one, and the time each stage took.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # train/ is a folder of scripts, not a package

from corrkin.cli import main as corrkin  # noqa: E402
from corrkin.config import register_configs  # noqa: E402
from corrkin.io.keypoints import save_clip  # noqa: E402
from corrkin.synth import CHAIN, make_clip, random_spec  # noqa: E402
from corrkin.technique.data import load_swings  # noqa: E402
from corrkin.technique.model import SwingDenoiser  # noqa: E402
from corrkin.technique.training import chain_lags, fidelity, sample_swings  # noqa: E402


def make_library(folder: Path, per_batter: int, lags: tuple[int, int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    rows = []
    for batter, lag in zip(("a", "b"), lags):
        for k in range(per_batter):
            name = f"{batter}_{k:03d}"
            duration = float(rng.uniform(2.4, 3.4))
            spec = random_spec(rng, fps=25.0, duration_s=duration, swing_at_s=float(rng.uniform(1.0, duration - 1.2)),
                               delay_s=lag / 25.0)
            clip, _ = make_clip(spec, seed=seed * 7919 + len(rows), name=name)
            save_clip(folder / f"{name}.npz", clip)
            rows.append({"path": f"{name}.npz", "batter": batter, "shot": "drive"})
    with open(folder / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["path", "batter", "shot"])
        w.writeheader()
        w.writerows(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-batter", type=int, default=64)
    ap.add_argument("--lags", type=int, nargs=2, default=[2, 4])
    ap.add_argument("--base-steps", type=int, default=2000)
    ap.add_argument("--lora-steps", type=int, default=600)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--samples", type=int, default=64)
    ap.add_argument("--guidance", type=float, default=1.5)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    from hydra import compose, initialize_config_dir

    from train.train_technique import CONFIG_DIR, train

    register_configs()
    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        make_library(tmp / "kp", args.per_batter, tuple(args.lags), args.seed)
        assert corrkin(["analyse", f"input={tmp / 'kp'}", f"output={tmp / 'res'}", "plots=false", "progress=false",
                        "io_workers=0"]) == 0
        times["library + analysis"] = time.perf_counter() - t0
        swings = load_swings(tmp / "res")
        held = [c for c in swings.clips if c.startswith("b_")][: args.per_batter // 4]
        # labels: the base sees no batter; the LoRA's data is batter b's training clips
        with open(tmp / "labels.csv", "w") as f:
            f.write("clip,batter,shot\n" + "".join(
                f"{c},{'held' if c in held else 'library'},drive\n" for c in swings.clips))
        with open(tmp / "labels_b.csv", "w") as f:
            f.write("clip,batter,shot\n" + "".join(
                f"{c},{'held' if c in held else ('b' if c.startswith('b_') else 'a')},drive\n" for c in swings.clips))

        def cfg(overrides):
            with initialize_config_dir(CONFIG_DIR, version_base="1.3"):
                return compose("technique", overrides=overrides)

        common = [f"data={tmp / 'res'}", f"device={args.device}", "validation.samples=4",
                  "validation.inference_steps=10", "train.log_every=1000000", f"train.seed={args.seed}"]
        # the base: both batters' training clips (the held-out ones are labelled apart and left out below)
        t0 = time.perf_counter()
        base_out = tmp / "base"
        train(cfg([*common, f"output={base_out}", f"labels={tmp / 'labels.csv'}", "mode=base",
                   f"train.steps={args.base_steps}", "train.checkpoint_every=100000", "exclude_batters=[held]"]))
        times["base training"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        lora_out = tmp / "lora"
        train(cfg([*common, f"output={lora_out}", f"labels={tmp / 'labels_b.csv'}", "mode=lora",
                   f"base_model={base_out}", "lora.batter=b", f"lora.rank={args.rank}", f"lora.alpha={args.rank}",
                   f"train.steps={args.lora_steps}", "train.checkpoint_every=100000", "train.lr=2e-3"]))
        times["LoRA training"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        real_idx = [swings.clips.index(c) for c in held]
        real_lags, real_paths = chain_lags(swings.swings[real_idx], swings.fps, CHAIN)
        base = SwingDenoiser.from_pretrained(base_out / "model").eval()
        tuned = SwingDenoiser.from_pretrained(base_out / "model").eval()
        tuned.load_lora_adapter(lora_out / "lora", prefix=None, weight_name="pytorch_lora_weights.safetensors")
        rows = []
        for label, model in (("base", base), ("base + LoRA (batter b)", tuned)):
            gen = torch.Generator().manual_seed(args.seed)
            s = sample_swings(model, args.samples, shot=1, batter=0, guidance=args.guidance, generator=gen)
            lags, paths = chain_lags(s.numpy(), model.config.fps, CHAIN)
            rows.append((label, lags, fidelity(real_lags, real_paths, lags, paths)))
        times["sampling + analysis"] = time.perf_counter() - t0

    links = [f"{a}>{b}" for a, b in zip(CHAIN, CHAIN[1:])]
    print(f"# two batters, lags {args.lags[0]} and {args.lags[1]} frames per link at 25 fps; "
          f"{args.per_batter} clips each, {len(held)} of batter b held out; device {args.device}\n")
    print("| swings | " + " | ".join(links) + " | mean abs lag error | mean W1 | path agreement |")
    print("|---|" + "---:|" * (len(links) + 3))
    print("| batter b, held-out real clips | " + " | ".join(f"{v:.2f}" for v in real_lags.mean(0))
          + " | 0 | 0 | " + f"{np.mean([p == max(set(real_paths), key=real_paths.count) for p in real_paths]):.2f} |")
    for label, lags, f in rows:
        print(f"| {label} | " + " | ".join(f"{v:.2f}" for v in lags.mean(0))
              + f" | **{f['mean_abs_lag_error']:.2f}** | {f['mean_wasserstein']:.2f} | {f['path_agreement']:.2f} |")
    print("\n| stage | seconds |\n|---|---:|")
    for k, v in times.items():
        print(f"| {k} | {v:.1f} |")
    print(f"| whole experiment | {sum(times.values()):.1f} |")


if __name__ == "__main__":
    main()
