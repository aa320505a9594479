"""The default analysis on data it did not make: what one clip claims and measures, and what a
batter's library proves, on strokes from :mod:`benchmarks.validation_data` (a 3-D stick batter
filmed by a pinhole camera, non-Gaussian pulses, Student-t jitter, dropout bursts, confident
glitches, left/right swaps, pan and zoom; nothing shared with ``corrkin.synth``).

    python benchmarks/validation.py                    # 200 clips a kind a rate, 50 libraries, seed 2
    python benchmarks/validation.py --clips 60 --libraries 20 --seed 1 --rates 25 120

Seed 1 is the draw estimators were chosen on; seed 2 (the default) is the draw reported.

One clip, per frame rate:

- pulse nulls (every segment moves by its own 1-3 pulses, timing independent: uniform over a
  1.5-6 s clip, or within +-0.3 s of one swing time): the share of clips whose ``edges`` claim
  a coupling (target <= 5 %), and the share of independent pairs with p < 0.05 (``fdr`` off);
- chains (pelvis -> lead shoulder -> lead elbow -> lead wrist -> bat, designed delays 30-120 ms,
  all the pose errors above): the share of clips whose timing path is the true chain; the true
  links' lags against the truth (the noise-free peak-speed times' difference, the generator's
  own observable), the share of their 95 % intervals that cover it; the activation times
  likewise; among the clips whose wrists peak together (truth within 5 ms), the share with the
  two wrists put in an order (5 % of frames swapped).

A batter's library (12 swings of one stroke, consistent link delays, a co-timed but uncoupled
pair): the share of libraries where each true link is claimed, and where any co-timed uncoupled
pair is (``corrkin.library.links``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import validation_data as vd  # noqa: E402

from corrkin.analysis import analyse, to_records  # noqa: E402
from corrkin.config import AnalysisConfig  # noqa: E402
from corrkin.io.keypoints import Clip, collate  # noqa: E402

BATCH = 64


def to_clip(c: dict) -> Clip:
    return Clip(c["name"], c["name"], np.asarray(c["keypoints"], np.float32), np.asarray(c["scores"], np.float32),
                np.asarray(c["bat"], np.float32), np.asarray(c["bat_scores"], np.float32), float(c["fps"]), "corrkin")


def analyse_all(clips: list[dict], cfg: AnalysisConfig, series: list | None = None) -> tuple[list[dict], float]:
    """Records of every clip (batches of similar length), and the engine's clips/s; each clip's
    analysed series ``(T, N)`` appended to ``series`` where given."""
    order = sorted(range(len(clips)), key=lambda k: len(clips[k]["keypoints"]))
    recs: list[dict | None] = [None] * len(clips)
    kept: list[np.ndarray | None] = [None] * len(clips)
    start = time.perf_counter()
    for k in range(0, len(order), BATCH):
        idx = order[k: k + BATCH]
        batch = collate([to_clip(clips[i]) for i in idx])
        out = analyse(batch, cfg)
        for b, (i, r) in enumerate(zip(idx, to_records(out, batch, cfg))):
            recs[i] = r
            kept[i] = out.series[b, :, : int(batch.lengths[b])].T.double().numpy()
    if series is not None:
        series.extend(kept)
    return recs, len(clips) / (time.perf_counter() - start)


def claim_share(recs: list[dict]) -> float:
    """The share of clips whose ``edges`` claim any coupling."""
    return float(np.mean([len(r["edges"]) > 0 for r in recs]))


def _lookup(rec: dict, a: str, b: str):
    """The pair (a, b) as measured: its lag from a to b (ms, negative where b leads), interval."""
    for e in rec["pairs"]:
        if (e["src"], e["dst"]) == (a, b):
            return e["lag_ms"], e["lag_ci_ms"], e["ordered"]
        if (e["src"], e["dst"]) == (b, a):
            ci = e["lag_ci_ms"]
            return -e["lag_ms"], ([-ci[1], -ci[0]] if ci else None), False
    return None, None, False


def chain_figures(recs: list[dict], clips: list[dict]) -> dict:
    path_ok, lag_err, lag_cov, act_err, act_cov, wrists = [], [], [], [], [], []
    for r, c in zip(recs, clips):
        truth = c["truth"]
        chain = truth["chain"]
        path_ok.append(r["path"] == chain)
        act = truth["activation_s"]
        for a, b in zip(chain, chain[1:]):
            true_ms = (act[b] - act[a]) * 1000
            lag, ci, _ = _lookup(r, a, b)
            if lag is None:
                continue
            lag_err.append(abs(lag - true_ms))
            lag_cov.append(bool(ci) and ci[0] <= true_ms <= ci[1])
        for node in chain:
            true_ms = act[node] * 1000
            act_err.append(abs(r["activation_ms"][node] - true_ms))
            ci = r["activation_ci_ms"][node]
            act_cov.append(bool(ci) and ci[0] <= true_ms <= ci[1])
        if abs(act["l_wrist"] - act["r_wrist"]) < 0.005:  # the wrists peak together (within 5 ms): no order to find
            wrists.append(any(e["ordered"] for e in r["pairs"] if {e["src"], e["dst"]} == {"l_wrist", "r_wrist"}))
    return {"path is the chain": np.mean(path_ok), "lag error ms (median)": np.median(lag_err),
            "lag coverage": np.mean(lag_cov), "activation error ms (median)": np.median(act_err),
            "activation coverage": np.mean(act_cov), "wrists ordered": np.mean(wrists) if wrists else float("nan")}


def library_figures(libraries: list[dict], fps: float, cfg: AnalysisConfig) -> dict:
    from corrkin.library.links import Swing, infer_links

    true_claimed, false_any, seconds = [], [], 0.0
    for lib in libraries:
        swings = lib["swings"][:12]
        series: list[np.ndarray] = []
        recs, _ = analyse_all(swings, cfg, series)
        items = [Swing(s, float(c["fps"]), r["bat"]["peak_frame"] / float(c["fps"])) for c, r, s in zip(swings, recs, series)]
        start = time.perf_counter()
        res = infer_links(items, untested=[("l_hip", "r_hip"), ("pelvis", "l_ankle"), ("pelvis", "r_ankle")])
        seconds += time.perf_counter() - start
        claimed = {(e["src"], e["dst"]) for e in res.links if e["claimed"]}
        truth = lib["truth"]
        for a, b in truth["coupled_pairs"]:
            true_claimed.append((a, b) in claimed)
        false_any.append(any((a, b) in claimed or (b, a) in claimed for a, b in truth["uncoupled_cotimed_pairs"]))
    return {"true links claimed": np.mean(true_claimed), "libraries claiming an uncoupled pair": np.mean(false_any),
            "swings/s (inference)": 12 * len(libraries) / max(seconds, 1e-9)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=int, default=200)
    ap.add_argument("--libraries", type=int, default=50)
    ap.add_argument("--rates", type=float, nargs="+", default=[25, 50, 120, 240])
    ap.add_argument("--seed", type=int, default=2, help="1: the draw estimators were chosen on; 2: the reported one")
    ap.add_argument("--skip-library", action="store_true")
    args = ap.parse_args()
    cfg = AnalysisConfig()
    acf = AnalysisConfig(test="acf")  # the Fisher-z test with the whole autocorrelation's N_eff, for comparison
    rows = []
    for fps in args.rates:
        seed = args.seed * 1000 + int(fps)
        row = {"fps": fps}
        for kind in ("null_uniform", "null_cotimed"):
            clips = vd.make_suite(kind, args.clips, fps, seed)
            row[f"{kind}: clips with an edge"] = claim_share(analyse_all(clips, cfg)[0])
            row[f"{kind}: the same, test=acf"] = claim_share(analyse_all(clips, acf)[0])
        clips = vd.make_suite("chain", args.clips, fps, seed + 7)
        recs, speed = analyse_all(clips, cfg)
        row |= {f"chain: {k}": v for k, v in chain_figures(recs, clips).items()}
        row["clips/s"] = speed
        if not args.skip_library:
            libs = vd.make_suite("library", args.libraries, fps, seed + 11, n_swings=(12, 12))
            row |= {f"library: {k}": v for k, v in library_figures(libs, fps, cfg).items()}
        rows.append(row)
        print(f"# {fps:g} fps done", file=sys.stderr, flush=True)
    print(f"# validation, seed {args.seed}: {args.clips} clips a kind, {args.libraries} libraries of 12 swings a rate\n")
    print("| measure (target) | " + " | ".join(f"{r['fps']:g} fps" for r in rows) + " |")
    print("|---|" + "|".join("---:" for _ in rows) + "|")
    for key in list(rows[0])[1:]:
        label = f"{key} ({TARGETS[key]})" if key in TARGETS else key
        print(f"| {label} | " + " | ".join(_fmt(key, r.get(key)) for r in rows) + " |")


TARGETS = {
    "null_uniform: clips with an edge": "<= 5 %", "null_cotimed: clips with an edge": "<= 5 %",
    "chain: path is the chain": ">= 90 %, 80 % at 25 fps", "chain: lag error ms (median)": "<= 5 at 25, <= 2 at 120",
    "chain: lag coverage": "90-99 %", "chain: activation coverage": "90-99 %", "chain: wrists ordered": "<= 5 %, where they peak together",
    "library: true links claimed": ">= 90 %", "library: libraries claiming an uncoupled pair": "<= 5 %",
}


def _fmt(key: str, v) -> str:
    if v is None:
        return "–"
    if key == "fps":
        return f"{v:g}"
    if "ms" in key or "/s" in key:
        return f"{v:,.1f}"
    return f"{100 * v:.1f} %"


if __name__ == "__main__":
    main()
