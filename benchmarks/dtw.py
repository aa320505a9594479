"""DTW and soft-DTW speed against the libraries users would otherwise reach for.

    python benchmarks/dtw.py                        # 256 pairs of length 300, 2-D features, CPU
    python benchmarks/dtw.py --device cuda --pairs 4096 --length 600

One run, the same pairs for everyone:

* soft-DTW forward + backward (gamma 1, no band): ``corrkin.ops.dtw.soft_dtw`` against pysdtw's
  CPU implementation (numba), both on the whole batch;
* banded DTW (Sakoe–Chiba radius 30): ``corrkin.ops.dtw.dtw`` on the whole batch against
  tslearn's ``dtw`` and dtaidistance's C ``dtw_ndim.distance`` (window 31), pair by pair as
  their APIs take them. Costs are checked to agree before anything is timed.

Each timing is the best of ``--repeat`` runs after one warm-up (numba compiles on first use, and
corrkin's C++ CPU kernels are built on first use). ``--impl wavefront`` times the tensor
wavefront on the CPU instead of the C++ kernels (on CUDA the wavefront is the only code).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from corrkin.ops.dtw import dtw, soft_dtw


def best_of(fn, repeat: int, sync) -> float:
    fn()
    sync()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=256)
    ap.add_argument("--length", type=int, default=300)
    ap.add_argument("--radius", type=int, default=30)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--impl", default="auto", choices=["auto", "cpp", "wavefront"])
    ap.add_argument("--skip-baselines", action="store_true", help="time corrkin only (large GPU runs)")
    args = ap.parse_args()
    dev = torch.device(args.device)
    sync = (lambda: torch.cuda.synchronize()) if dev.type == "cuda" else (lambda: None)
    rng = np.random.default_rng(0)
    x_np = rng.normal(size=(args.pairs, args.length, 2))
    y_np = rng.normal(size=(args.pairs, args.length, 2))
    x = torch.from_numpy(x_np).float().to(dev)
    y = torch.from_numpy(y_np).float().to(dev)
    rows = []

    def ours_soft():
        xx = x.clone().requires_grad_(True)
        soft_dtw(xx, y, 1.0, impl=args.impl).sum().backward()

    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t_soft = best_of(ours_soft, args.repeat, sync)
    peak_soft = torch.cuda.max_memory_allocated() / 2**20 if dev.type == "cuda" else float("nan")
    t_dtw = best_of(lambda: dtw(x, y, radius=args.radius, impl=args.impl), args.repeat, sync)
    rows.append(("soft-DTW fwd+bwd", "corrkin.ops.dtw.soft_dtw", t_soft, peak_soft))
    rows.append((f"DTW, band {args.radius}", "corrkin.ops.dtw.dtw", t_dtw, float("nan")))
    ratios = {}
    if not args.skip_baselines:
        import pysdtw
        import tslearn.metrics
        from dtaidistance import dtw_ndim

        base = pysdtw.SoftDTW(gamma=1.0, use_cuda=False)
        xc, yc = x.cpu(), y.cpu()
        ref = base(xc.double(), yc.double())
        ours = soft_dtw(xc.double(), yc.double(), 1.0)
        assert torch.allclose(ref, ours, rtol=1e-6), "soft-DTW values disagree with pysdtw"

        def pysdtw_soft():
            xx = xc.clone().requires_grad_(True)
            base(xx, yc).sum().backward()

        t_py = best_of(pysdtw_soft, args.repeat, lambda: None)
        rows.append(("soft-DTW fwd+bwd", "pysdtw (CPU, numba)", t_py, float("nan")))
        ratios["soft-DTW"] = t_py / t_soft
        ours_d = dtw(torch.from_numpy(x_np[:4]), torch.from_numpy(y_np[:4]), radius=args.radius)
        ref_d = [tslearn.metrics.dtw(x_np[k], y_np[k], global_constraint="sakoe_chiba",
                                     sakoe_chiba_radius=args.radius) ** 2 for k in range(4)]
        assert np.allclose(ours_d.numpy(), ref_d, rtol=1e-9), "DTW costs disagree with tslearn"

        def tslearn_all():
            for a, b in zip(x_np, y_np):
                tslearn.metrics.dtw(a, b, global_constraint="sakoe_chiba", sakoe_chiba_radius=args.radius)

        def dtai_all():
            for a, b in zip(x_np, y_np):
                dtw_ndim.distance(a, b, window=args.radius + 1, use_c=True)

        t_ts = best_of(tslearn_all, args.repeat, lambda: None)
        t_dd = best_of(dtai_all, args.repeat, lambda: None)
        rows.append((f"DTW, band {args.radius}", "tslearn (numba), pair by pair", t_ts, float("nan")))
        rows.append((f"DTW, band {args.radius}", "dtaidistance (C), pair by pair", t_dd, float("nan")))
        ratios["DTW vs tslearn"] = t_ts / t_dtw
        ratios["DTW vs dtaidistance"] = t_dd / t_dtw
    print(f"# {args.pairs} pairs of length {args.length}, 2-D features, device {args.device}, "
          f"{torch.get_num_threads()} torch threads, impl {args.impl}\n")
    print("| task | implementation | seconds | pairs/s | peak GPU memory (MiB) |")
    print("|---|---|---:|---:|---:|")
    for task, impl, t, peak in rows:
        mem = "" if np.isnan(peak) else f"{peak:,.0f}"
        print(f"| {task} | {impl} | {t:.3f} | {args.pairs / t:,.0f} | {mem} |")
    if ratios:
        print("\n| corrkin speed-up | × |\n|---|---:|")
        for name, r in ratios.items():
            print(f"| {name} | {r:.1f} |")


if __name__ == "__main__":
    main()
