"""Throughput of the batched engine against the per-clip numpy/scipy/networkx implementation.

    python benchmarks/analysis.py                       # 1,000 clips x 300 frames; CLI on 2,000 files
    python benchmarks/analysis.py --device cuda --clips 10000 --skip-cli

Part 1 runs the same synthetic clips (:mod:`corrkin.synth`, 300 frames, 25/30 fps) through
``corrkin.analysis.reference.analyse_clip`` one by one and through the engine in batches.
Part 2 times the whole ``corrkin analyse`` command (start-up included, ``plots=false``) on
2,000 ``.npz`` files against the reference loop doing the same job: read each file, analyse
it, write ``result.json`` and ``series.npz``. The engine's figure is the best of ``--repeats`` passes (the reference
takes minutes, one pass). Each measurement runs in its own process; peak
memory is that process's peak resident set during the timed work above what it held before (CPU), or
``torch.cuda.max_memory_allocated`` (CUDA).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_clips(n: int, frames: int, seed: int = 0):
    from corrkin.synth import make_clip, random_spec

    rng = np.random.default_rng(seed)
    clips = []
    for i in range(n):
        spec = random_spec(rng)
        spec.duration_s = frames / spec.fps
        spec.swing_at_s = float(rng.uniform(0.25, 0.75) * spec.duration_s)
        clips.append(make_clip(spec, seed=seed * 1_000_003 + i, name=f"bench_{i:05d}")[0])
    return clips


def rss_mib() -> float:
    """Current resident set (MiB); also resets the peak (Linux's clear_refs), so that
    :func:`peak_mib` afterwards measures only what follows."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mib() -> float:
    """Peak resident set (MiB) since the last :func:`rss_mib`."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reference_job(n, frames, q):
    from corrkin.analysis.reference import analyse_clip
    from corrkin.config import AnalysisConfig

    clips, cfg = make_clips(n, frames), AnalysisConfig()
    base = rss_mib()
    t0 = time.perf_counter()
    edges = sum(len(analyse_clip(c, cfg)["edges"]) for c in clips)
    q.put({"seconds": time.perf_counter() - t0, "peak_mib": peak_mib() - base, "edges": edges})


def _engine_job(n, frames, batch_size, device, repeats, q):
    import torch

    from corrkin.analysis import analyse, to_records
    from corrkin.config import AnalysisConfig
    from corrkin.io.keypoints import collate
    from corrkin.runtime import keep_freed_memory

    keep_freed_memory()  # as corrkin analyse does
    clips, cfg = make_clips(n, frames), AnalysisConfig()
    batches = [collate(clips[i: i + batch_size], device) for i in range(0, n, batch_size)]
    analyse(batches[0], cfg)  # warm-up (allocator, kernels)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    base = rss_mib()
    t_core, t_full = [], []
    for _ in range(repeats):  # best of a few passes, as timeit does: the VM's noise only adds
        sync()
        t0 = time.perf_counter()
        for b in batches:
            analyse(b, cfg)
        sync()
        t_core.append(time.perf_counter() - t0)
        t1 = time.perf_counter()
        edges = 0
        for i in range(0, n, batch_size):
            b = collate(clips[i: i + batch_size], device)
            edges += sum(len(r["edges"]) for r in to_records(analyse(b, cfg), b, cfg))
        sync()
        t_full.append(time.perf_counter() - t1)
    mem = torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else peak_mib() - base
    q.put({"seconds": min(t_core), "seconds_full": min(t_full), "peak_mib": mem, "edges": edges,
           "all_seconds": t_core})


def _in_child(target, *args):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q))
    p.start()
    out = q.get()
    p.join()
    return out


def reference_loop(inp: Path, out: Path) -> None:
    """The per-clip implementation as a command: read, analyse, write, one file at a time."""
    from corrkin.analysis.reference import analyse_clip
    from corrkin.config import AnalysisConfig
    from corrkin.io.keypoints import load_clip
    from corrkin.io.results import write_json, write_npz

    cfg = AnalysisConfig()
    for path in sorted(inp.glob("*.npz")):
        clip = load_clip(path)
        res = analyse_clip(clip, cfg)
        series, omega = res.pop("series"), res.pop("omega")
        res.pop("tests")  # keyed by node pairs: the test suite reads it, JSON cannot hold it
        write_npz(out / clip.name / "series.npz", series=series.astype(np.float32), omega_z=omega.astype(np.float32))
        write_json(out / clip.name / "result.json", _finite({"clip": clip.name, **res}))


def _finite(x):
    """JSON has no infinity: an error that cannot be told is written null, as the engine does."""
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_finite(v) for v in x]
    return None if isinstance(x, float) and not np.isfinite(x) else x


_TIMER = """
import resource, subprocess, sys, time
t0 = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def time_command(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds of ``cmd`` and the peak RSS (MiB) of its largest process, measured by a
    fresh parent whose only children are that command's."""
    out = subprocess.run([sys.executable, "-c", _TIMER, *cmd], check=True, capture_output=True, text=True)
    seconds, peak = out.stdout.split()
    return float(seconds), float(peak)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=int, default=1000)
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=3, help="engine passes; the best is reported")
    ap.add_argument("--reference-clips", type=int, default=None, help="time the reference on fewer clips")
    ap.add_argument("--skip-cli", action="store_true")
    ap.add_argument("--skip-reference", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--reference-loop", nargs=2, type=Path, metavar=("IN", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.reference_loop:
        return reference_loop(*args.reference_loop)

    import torch

    print(f"# corrkin analysis benchmark: {args.clips} clips x {args.frames} frames, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}\n")
    rows, figures = [], {}
    eng = _in_child(_engine_job, args.clips, args.frames, args.batch_size, args.device, args.repeats)
    figures["engine"] = eng
    if not args.skip_reference:
        n_ref = args.reference_clips or args.clips
        ref = _in_child(_reference_job, n_ref, args.frames)
        ref["seconds"] *= args.clips / n_ref  # same clips: scale only when a subset was timed
        figures["reference"] = ref
        rows.append(("per-clip numpy/scipy/networkx", "cpu", args.clips / ref["seconds"], ref["peak_mib"], 1.0))
    base = args.clips / figures["reference"]["seconds"] if "reference" in figures else None
    rows.append((f"engine, batch {args.batch_size}", args.device, args.clips / eng["seconds"], eng["peak_mib"],
                 (args.clips / eng["seconds"]) / base if base else float("nan")))
    rows.append(("engine + collate + records", args.device, args.clips / eng["seconds_full"], eng["peak_mib"],
                 (args.clips / eng["seconds_full"]) / base if base else float("nan")))
    print("| implementation | device | clips/s | frames/s | peak memory (MiB) | × per-clip |")
    print("|---|---|---:|---:|---:|---:|")
    for name, dev, cps, mem, ratio in rows:
        print(f"| {name} | {dev} | {cps:,.0f} | {cps * args.frames:,.0f} | {mem:,.0f} | {ratio:.1f} |")

    if not args.skip_cli:
        from corrkin.io.keypoints import save_clip

        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            for clip in make_clips(args.files, args.frames, seed=1):
                save_clip(tmp / "in" / f"{clip.name}.npz", clip)
            corrkin = [sys.executable, "-m", "corrkin", "analyse", f"input={tmp / 'in'}", f"output={tmp / 'out'}",
                       "plots=false", "progress=false", f"device={args.device}", f"batch_size={args.batch_size}"]
            t_cli, m_cli = time_command(corrkin)
            loop = [sys.executable, __file__, "--reference-loop", str(tmp / "in"), str(tmp / "ref")]
            t_ref, m_ref = time_command(loop)
        figures["cli"] = {"seconds": t_cli, "reference_seconds": t_ref}
        print(f"\n## whole command on {args.files} files ({args.frames} frames each, plots=false)\n")
        print("| command | seconds | clips/s | peak RSS of the run (MiB) | × reference loop |")
        print("|---|---:|---:|---:|---:|")
        print(f"| reference loop (read, analyse, write per clip) | {t_ref:.1f} | {args.files / t_ref:,.0f} | {m_ref:,.0f} | 1.0 |")
        print(f"| corrkin analyse | {t_cli:.1f} | {args.files / t_cli:,.0f} | {m_cli:,.0f} | {t_ref / t_cli:.1f} |")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
