"""Technique fidelity: how well a base model and a batter's LoRA reproduce that batter's swings.

    python train/evaluate_technique.py real=<analysis output of the batter's held-out clips> \
        base=runs/base lora=runs/lora_b shot=drive [batter=<label>] [samples=64] [guidance=1.5]

Runs the correlated-kinetics analysis on the real clips and on swings sampled from the base and
from base + LoRA, and prints, per chain link, the mean activation lag (frames) of each, the mean
absolute lag error and the 1-Wasserstein distance of the lag distributions against the real
clips, and the share of swings whose maximum-weight path is the real clips' most frequent one.
Writes the same as ``fidelity.json`` beside the LoRA run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corrkin.io.results import write_json  # noqa: E402
from corrkin.synth import CHAIN  # noqa: E402
from corrkin.technique.data import load_swings  # noqa: E402
from corrkin.technique.sample import label_index, load_model  # noqa: E402
from corrkin.technique.training import chain_lags, fidelity, sample_swings  # noqa: E402


def evaluate(real: str, base: str, lora: str, shot: str | None = None, batter: str | None = None, samples: int = 64,
             guidance: float = 1.5, seed: int = 0, chain: tuple[str, ...] = CHAIN) -> dict:
    models = {"base": load_model(base), "base + LoRA": load_model(base, lora)}
    cfg = models["base"].config
    swings = load_swings(real, cfg.frames, cfg.before_s, cfg.after_s)
    real_lags, real_paths = chain_lags(swings.swings, swings.fps, chain)
    report = {"chain": list(chain), "real": {"clips": len(swings), "mean_lag_frames": real_lags.mean(0).tolist()}}
    for name, model in models.items():
        labels = label_index(cfg.shot_names, shot, "shot"), label_index(cfg.batter_names, batter, "batter")
        s = sample_swings(model, samples, *labels, None, guidance, 50, torch.Generator().manual_seed(seed))
        lags, paths = chain_lags(s.numpy(), cfg.fps, chain)
        report[name] = {"mean_lag_frames": lags.mean(0).tolist()} | fidelity(real_lags, real_paths, lags, paths)
    return report


def main(argv: list[str]) -> None:
    kw = dict(a.split("=", 1) for a in argv)
    for k in ("samples",):
        if k in kw:
            kw[k] = int(kw[k])
    if "guidance" in kw:
        kw["guidance"] = float(kw["guidance"])
    report = evaluate(**kw)
    write_json(Path(kw["lora"]) / "fidelity.json", report)
    links = [f"{a}>{b}" for a, b in zip(report["chain"], report["chain"][1:])]
    print("| swings | " + " | ".join(links) + " | mean abs lag error | mean W1 | path agreement |")
    print("|---|" + "---:|" * (len(links) + 3))
    print("| real | " + " | ".join(f"{v:.2f}" for v in report["real"]["mean_lag_frames"]) + " | 0 | 0 | |")
    for name in ("base", "base + LoRA"):
        r = report[name]
        print(f"| {name} | " + " | ".join(f"{v:.2f}" for v in r["mean_lag_frames"])
              + f" | {r['mean_abs_lag_error']:.2f} | {r['mean_wasserstein']:.2f} | {r['path_agreement']:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
