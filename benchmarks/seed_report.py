"""The default analysis on the seven real seed clips: paths, lags with intervals, and why each
link of the textbook chain is or is not claimed.

    python benchmarks/seed_report.py                      # ../shared/data/seed_keypoints, 25 fps
    python benchmarks/seed_report.py --input DIR --fps 25

Prints two Markdown tables: one row per clip (path, each path link's lag with its 95 % interval,
timing warnings), and one row per link of the chain pelvis -> shoulder -> elbow -> wrist -> bat on
the top hand's side (``result.json``'s ``chain_check``): correlation, lag with interval, q, and
the criteria it fails.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/seed_keypoints")
    ap.add_argument("--fps", type=float, default=25.0)
    ap.add_argument("--analysis", default="default")
    args = ap.parse_args()

    from corrkin.cli import main as cli
    from corrkin.io.results import path_links

    with tempfile.TemporaryDirectory() as tmp:
        code = cli(["analyse", f"input={args.input}", f"output={tmp}", f"fps={args.fps}", "plots=false",
                    "progress=false", f"analysis={args.analysis}"])
        if code:
            raise SystemExit(f"corrkin analyse failed on {args.input}")
        records = [json.loads(p.read_text()) for p in sorted(Path(tmp).glob("*/result.json"))]

    print(f"# analysis={args.analysis} on {len(records)} clips from {args.input} at {args.fps:g} fps\n")
    print("| clip | frames | ordered pairs | couplings claimed (p floor) | path | path links: lag ms [95 % interval] "
          "| timing warnings |")
    print("|---|---:|---:|---:|---|---|---|")
    for r in records:
        links = "; ".join(f"{e['src']}→{e['dst']} {e['lag_ms']:.0f}" + (
            f" [{e['lag_ci_ms'][0]:.0f}, {e['lag_ci_ms'][1]:.0f}]" if e["lag_ci_ms"] else "") for e in path_links(r))
        path = " → ".join(r["path"]) or "none reaches the bat"
        ordered = sum(e["ordered"] for e in r["pairs"]) if "pairs" in r else "–"
        floor = r.get("coupling_test", {}).get("p_floor", 0)
        print(f"| {r['clip']} | {r['frames']} | {ordered} | {len(r['edges'])} ({floor:.2g}) | {path} | {links or '–'} | "
              f"{'; '.join(r['timing']['warnings']) or '–'} |")
    print("\n| clip | link | r | lag ms [95 %] | q | fails on |")
    print("|---|---|---:|---|---:|---|")
    for r in records:
        for x in r["chain_check"]:
            ci = f"[{x['lag_ci_ms'][0]:.0f}, {x['lag_ci_ms'][1]:.0f}]" if x["lag_ci_ms"] else "(none)"
            q = x.get("q_value", x.get("p_value"))
            print(f"| {r['clip']} | {x['src']}→{x['dst']} | {x['weight']:.2f} | {x['lag_ms']:.0f} {ci} | {q:.2g} | "
                  f"{'; '.join(x['fails']) or 'claimed'} |")


if __name__ == "__main__":
    main()
