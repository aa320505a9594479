"""Is the analysis calibrated at every frame rate? Chains recovered, nulls rejected, lags timed.

    python benchmarks/calibration.py                    # 100 clips per rate and kind, 6 rates
    python benchmarks/calibration.py --clips 30 --rates 25 240

Three kinds of clip per frame rate (25, 30, 50, 60, 120, 240 fps), each drawn at random:

* ``synth``: :mod:`corrkin.synth` swings (Gaussian velocity pulses, panning and zooming camera,
  pixel jitter), link delays 30-120 ms, pulse widths 40-90 ms;
* ``phases``: a generator written here, apart from the package: a swing in three movement
  phases (a slow backlift away from the ball, the proximal-to-distal downswing, a braking
  follow-through), raised-cosine velocity pulses whose width differs link by link (+-20 %),
  link delays 30-120 ms (every phase proximal to distal with the same delay, so the chain's lag
  is defined), camera shake, jitter and missed detections; both hands on the handle
  (the bottom hand moves with the top hand, the bottom elbow with the top elbow, so a path
  through either arm at those stages is the chain);
* ``independent``: the pelvis over the feet, and every other joint and the bat relative to the
  pelvis, move by independent smooth random motion (white noise smoothed over 80 ms): no
  coupling at all in what the analysis correlates.

Printed per rate: chain recovery (the path is the true chain) for both chain kinds, the median
absolute error of the chain links' lags (ms), the coverage of their 95 % intervals, the same
for the chain nodes' activation times (the peaks of their velocity pulses), the share of
independent-motion clips with any edge (default analysis) and the per-pair false-positive rate
with the multiplicity correction off (``fdr=false``: the share of tested pairs with p < alpha),
both over the pairs that are independent by construction (``SHARED`` below is left out),
and clips/s of the batched engine on this machine.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

CHAIN = ("pelvis", "l_shoulder", "l_elbow", "l_wrist", "bat")


def synth_clip(rng: np.random.Generator, fps: float, name: str):
    from corrkin.synth import make_clip, random_spec

    duration = float(rng.uniform(2.5, 3.5))
    spec = random_spec(rng, fps=fps, duration_s=duration, swing_at_s=float(rng.uniform(1.0, duration - 1.0)),
                       delay_s=float(rng.uniform(0.03, 0.12)), pulse_s=float(rng.uniform(0.04, 0.09)))
    clip, truth = make_clip(spec, seed=int(rng.integers(2**31)), name=name)
    return clip, {"chain": list(CHAIN), "lags_ms": [spec.delay_s * 1000] * (len(CHAIN) - 1),
                  "peaks_ms": {n: (spec.swing_at_s + k * spec.delay_s) * 1000 for k, n in enumerate(CHAIN)}}


# a stance of its own (image axes, shoulder widths, pelvis at 0): a taller, more open batter
STANCE = {
    "l_ankle": (-0.7, 2.4), "r_ankle": (0.9, 2.4), "l_knee": (-0.55, 1.2), "r_knee": (0.7, 1.2),
    "l_hip": (-0.3, 0.0), "r_hip": (0.3, 0.0), "l_shoulder": (-0.5, -1.8), "r_shoulder": (0.5, -1.8),
    "l_elbow": (-0.7, -1.2), "r_elbow": (0.5, -1.2), "l_wrist": (-0.2, -0.8), "r_wrist": (0.0, -0.8),
    "bat": (1.2, -2.2),
}


def _raised_cosine_step(t: np.ndarray, centre: float, width: float) -> np.ndarray:
    """Position step whose velocity is a raised-cosine pulse of total width ``4 width`` peaking at ``centre``."""
    half = 2 * width
    u = np.clip((t - centre + half) / (2 * half), 0, 1)
    return u - np.sin(2 * np.pi * u) / (2 * np.pi)


def _to_clip(name: str, fps: float, world: dict, rng: np.random.Generator, miss: float):
    from corrkin.io.keypoints import Clip
    from corrkin.skeleton import JOINTS

    t = len(next(iter(world.values())))
    shoulder_px = rng.uniform(45, 100)
    shake = np.cumsum(rng.normal(0, 1.0, (t, 2)), 0) * np.sqrt(25 / fps)  # a hand-held camera's drift
    pan = np.outer(np.arange(t) / fps, rng.uniform(-50, 50, 2)) + shake
    zoom = 1 + rng.uniform(-0.1, 0.1) * np.arange(t) / max(t - 1, 1)
    centre = np.array([rng.uniform(500, 800), rng.uniform(300, 420)])
    hips = (world["l_hip"] + world["r_hip"]) / 2
    pts = {k: v for k, v in world.items()} | {"pelvis": hips}
    img = {k: v * shoulder_px * zoom[:, None] + pan + centre + rng.normal(0, rng.uniform(0.3, 1.0), v.shape)
           for k, v in pts.items()}
    img["pelvis"] = (img["l_hip"] + img["r_hip"]) / 2
    kps = np.stack([img[j] for j in JOINTS], 1).astype(np.float32)
    scores = rng.uniform(0.7, 1.0, kps.shape[:2]).astype(np.float32)
    scores[rng.random(scores.shape) < miss] = 0.0  # missed detections: gaps to fill
    scores[:, JOINTS.index("pelvis")] = np.minimum(scores[:, JOINTS.index("l_hip")], scores[:, JOINTS.index("r_hip")])
    return Clip(name=name, path=f"<calibration {name}>", keypoints=kps, scores=scores,
                bat=img["bat"].astype(np.float32), bat_scores=np.ones(t, np.float32), fps=fps, source="synthetic")


def phases_clip(rng: np.random.Generator, fps: float, name: str):
    duration = float(rng.uniform(2.5, 3.5))
    t = np.arange(int(round(duration * fps))) / fps
    impact = float(rng.uniform(1.3, duration - 0.8))
    delay = float(rng.uniform(0.03, 0.12))
    width = float(rng.uniform(0.02, 0.04))  # raised-cosine quarter width: pulses 80-160 ms long
    ang = rng.uniform(-0.4, 0.4) + np.pi * 0.8
    u = np.array([np.cos(ang), np.sin(ang)])
    amp = {"pelvis": 0.3, "l_shoulder": 0.5, "l_elbow": 0.8, "l_wrist": 1.3, "bat": 3.0}
    world = {k: np.repeat(np.array(v, float)[None], len(t), 0) for k, v in STANCE.items()}
    n = len(CHAIN)
    peaks = {}
    for k, node in enumerate(CHAIN):
        centre = impact - (n - 1 - k) * delay
        peaks[node] = centre * 1000
        w = width * rng.uniform(0.8, 1.2)
        # every phase runs proximal to distal with the same link delay: the chain's lag is defined
        back = -0.25 * amp[node] * _raised_cosine_step(t, centre - 0.7, 0.06)  # backlift
        down = amp[node] * _raised_cosine_step(t, centre, w)  # the downswing
        brake = -0.3 * amp[node] * _raised_cosine_step(t, centre + 0.35, 0.07)  # follow-through
        move = (back + down + brake)[:, None] * u
        if node == "pelvis":
            for hip in ("l_hip", "r_hip"):
                world[hip] = world[hip] + move
            for j in ("l_knee", "r_knee"):
                world[j] = world[j] + 0.5 * move
        else:
            world[node] = world[node] + move
    # the upper body rides on the pelvis (the chain's own motion is relative to it)
    pelvis_move = (world["l_hip"] + world["r_hip"]) / 2
    for j in ("l_shoulder", "r_shoulder", "l_elbow", "r_elbow", "l_wrist", "r_wrist", "bat"):
        world[j] = world[j] + pelvis_move
    # both hands hold the handle, so the bottom hand moves with the top hand, and the bottom
    # elbow with the top elbow: either arm is the chain at those stages
    for top, bottom, share in (("l_wrist", "r_wrist", 1.0), ("l_elbow", "r_elbow", 0.6)):
        world[bottom] = world[bottom] + share * (world[top] - np.array(STANCE[top]) - pelvis_move)
    clip = _to_clip(name, fps, world, rng, miss=0.01)
    return clip, {"chain": list(CHAIN), "lags_ms": [delay * 1000] * (n - 1), "peaks_ms": peaks,
                  "same_stage": {"l_wrist": "r_wrist", "l_elbow": "r_elbow"}}


def is_chain(path: list[str], truth: dict) -> bool:
    """The path is the true chain, a stage's co-moving twin (the other hand on the handle) taken
    for it where the generator moves both together."""
    twin = truth.get("same_stage", {})
    return len(path) == len(truth["chain"]) and all(p in (c, twin.get(c)) for p, c in zip(path, truth["chain"]))


def independent_clip(rng: np.random.Generator, fps: float, name: str):
    """The pelvis over the feet, and every other joint and the bat relative to the pelvis, each by
    its own smooth random motion: the series the analysis correlates are independent."""
    from scipy.ndimage import gaussian_filter1d

    duration = float(rng.uniform(2.5, 3.5))
    frames = int(round(duration * fps))
    sigma = 0.08 * fps  # 80 ms smoothing, whatever the rate

    def wander(scale: float) -> np.ndarray:
        noise = gaussian_filter1d(rng.normal(size=(frames, 2)), sigma, axis=0, mode="reflect")
        return scale * noise / (noise.std(0, keepdims=True) + 1e-12)

    pelvis = wander(rng.uniform(0.05, 0.3))
    world = {}
    for k, v in STANCE.items():
        own = wander(rng.uniform(0.05, 0.4))
        if k in ("l_ankle", "r_ankle"):
            world[k] = np.array(v, float)[None] + own
        elif k in ("l_hip", "r_hip"):
            world[k] = np.array(v, float)[None] + pelvis
        else:
            world[k] = np.array(v, float)[None] + pelvis + own
    return _to_clip(name, fps, world, rng, miss=0.0), None


# pairs of the independent kind that share a component by construction, left out of the null
# figures: both ankles (planted) carry minus the pelvis's motion once centred on it, a real
# coupling of the series analysed; the analysis itself never tests the hips with each other or
# the pelvis with an ankle (functions of each other)
SHARED = [{"l_ankle", "r_ankle"}, {"l_hip", "r_hip"}, {"pelvis", "l_ankle"}, {"pelvis", "r_ankle"}]

KINDS = {"synth": synth_clip, "phases": phases_clip, "independent": independent_clip}


def evaluate(fps: float, n: int, n_null: int, seed: int, device: str):
    import dataclasses

    from corrkin.analysis import analyse, to_records
    from corrkin.config import AnalysisConfig
    from corrkin.io.keypoints import collate
    from corrkin.skeleton import NODES

    cfg = AnalysisConfig()
    row = {"fps": fps}
    elapsed = clips_done = 0
    for kind, make in KINDS.items():
        rng = np.random.default_rng([seed, int(fps), list(KINDS).index(kind)])
        count = n_null if kind == "independent" else n
        made = [make(rng, fps, f"{kind}_{i:04d}") for i in range(count)]
        clips, truths = [c for c, _ in made], [t for _, t in made]
        batch = collate(clips, device)
        start = time.perf_counter()
        out = analyse(batch, cfg)
        elapsed += time.perf_counter() - start
        clips_done += count
        recs = to_records(out, batch, cfg)
        if kind == "independent":
            row["null_any_edge"] = np.mean([any({e["src"], e["dst"]} not in SHARED for e in r["edges"]) for r in recs])
            off = dataclasses.replace(cfg, fdr=False)
            p = analyse(batch, off).p.cpu().numpy()
            iu = np.triu_indices(p.shape[1], 1)
            null = np.array([{NODES[a], NODES[b]} not in SHARED for a, b in zip(*iu)])
            row["pair_fpr"] = float(np.mean(p[:, iu[0][null], iu[1][null]] < cfg.alpha))
            continue
        errs, covered, links = [], 0, 0
        recovered = 0
        for r, t in zip(recs, truths):
            recovered += is_chain(r["path"], t)
            edges = {(e["src"], e["dst"]): e for e in r.get("pairs") or r["edges"]}  # every pair as measured
            for (a, b), lag in zip(zip(t["chain"], t["chain"][1:]), t["lags_ms"]):
                links += 1
                e = edges.get((a, b))
                if e is None:
                    continue
                errs.append(abs(e["lag_ms"] - lag))
                covered += e["lag_ci_ms"] is not None and e["lag_ci_ms"][0] <= lag <= e["lag_ci_ms"][1]
        act_err, act_cov = [], []
        for r, t in zip(recs, truths):
            for node, true_ms in t["peaks_ms"].items():
                act_err.append(abs(r["activation_ms"][node] - true_ms))
                ci = r["activation_ci_ms"][node]
                act_cov.append(ci is not None and ci[0] <= true_ms <= ci[1])
        row[f"{kind}_act_err_ms"] = float(np.median(act_err))
        row[f"{kind}_act_coverage"] = float(np.mean(act_cov))
        row[f"{kind}_recovery"] = recovered / n
        row[f"{kind}_lag_err_ms"] = float(np.median(errs)) if errs else float("nan")
        row[f"{kind}_coverage"] = covered / max(len(errs), 1)
        row[f"{kind}_links_found"] = len(errs) / max(links, 1)
    row["clips_s"] = clips_done / elapsed
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=100, help="clips per rate and chain kind")
    ap.add_argument("--null-clips", type=int, default=300,
                    help="independent-motion clips per rate (a rate near 1 %% needs more than 100 to be read)")
    ap.add_argument("--rates", type=float, nargs="+", default=[25, 30, 50, 60, 120, 240])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()

    import torch

    print(f"# calibration: {args.clips} swings per rate and kind, {args.null_clips} independent-motion clips, analysis=default, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, device {args.device}\n")
    head = ["fps", "synth recovery", "phases recovery", "synth lag err (ms)", "phases lag err (ms)",
            "synth lag coverage", "phases lag coverage", "synth activation err (ms)", "phases activation err (ms)",
            "synth activation coverage", "phases activation coverage", "null: clips with an edge",
            "null: per-pair FPR (fdr off)", "clips/s"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---:|" * len(head))
    for fps in args.rates:
        r = evaluate(float(fps), args.clips, args.null_clips, args.seed, args.device)
        print(f"| {fps:g} | {r['synth_recovery']:.0%} | {r['phases_recovery']:.0%} | {r['synth_lag_err_ms']:.2f} | "
              f"{r['phases_lag_err_ms']:.2f} | {r['synth_coverage']:.0%} | {r['phases_coverage']:.0%} | "
              f"{r['synth_act_err_ms']:.2f} | {r['phases_act_err_ms']:.2f} | {r['synth_act_coverage']:.0%} | "
              f"{r['phases_act_coverage']:.0%} | {r['null_any_edge']:.0%} | {r['pair_fpr']:.3f} | {r['clips_s']:,.0f} |",
              flush=True)
    print("\ntargets at every rate: recovery >= 95 %; null clips with an edge <= 5 %; per-pair FPR in "
          "[0.025, 0.075] (alpha 0.05); lag error <= 5 ms at 25 fps, <= 2 ms at 120 fps; coverage 90-99 %")


if __name__ == "__main__":
    main()
