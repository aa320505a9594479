"""The metric table of the seed's real broadcast clips beside the published values for the
same stroke (issue 15).

    python benchmarks/seed_metrics.py                      # ../shared/data/seed_keypoints, 25 fps
    python benchmarks/seed_metrics.py --seed DIR --out DIR

Runs ``corrkin analyse`` on the clips and prints, per clip, the stroke's timing relative to the
bat's peak speed (no ball contact is given: front-foot toe-off = the start of the stride, start
of downswing = the bat's reversal, front-foot contact) and
the bat tip's peak speed in m/s with its interval, each marked ``*`` where the clip's events
(or speed) are flagged, then the published values: front-foot drives measured at 100 Hz by
Stretch, Buys, Du Toit & Viljoen (1998, n = 14): stride started ~0.58 s and the downswing
~0.36 s before impact, the front foot planted ~0.06 s before it, peak horizontal bat velocity
11.8 +- 4.6 m/s.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

PUBLISHED = {"front_foot_toe_off_ms": -580.0, "start_of_downswing_ms": -360.0, "front_foot_contact_ms": -60.0}


def _cell(row, col: str, flagged: bool) -> str:
    v = row[col]
    if v != v or v is None:  # NaN: not found
        return "–"
    return f"{v:.0f}{' *' if flagged else ''}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "seed_keypoints"))
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    import pandas as pd

    from corrkin.cli import main as corrkin

    out = Path(args.out or tempfile.mkdtemp(prefix="seed_metrics_"))
    code = corrkin(["analyse", f"input={args.seed}", f"output={out}", "fps=25", "plots=false", "progress=false"])
    if code not in (0, 1):
        raise SystemExit(f"corrkin analyse failed ({code})")
    frame = pd.read_parquet(out / "metrics.parquet")
    print("| clip | front-foot toe-off, ms | start of downswing, ms | front-foot contact, ms | stride, m | "
          "bat toe speed, m/s [95 %] | events flagged because (the first two) |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for _, r in frame.iterrows():
        flagged = not r["events_reliable"]
        stride = "–" if r["stride_m"] != r["stride_m"] else f"{r['stride_m']:.2f}"
        speed = ("–" if r["bat_toe_speed_m_s"] != r["bat_toe_speed_m_s"] else
                 f"{r['bat_toe_speed_m_s']:.1f} [{r['bat_toe_speed_m_s_low']:.1f}, {r['bat_toe_speed_m_s_high']:.1f}]"
                 + (" *" if r["bat_speed_noisy"] else ""))
        reasons = [x.strip() for x in (r["events_reasons"] or "").split("|") if x.strip()]
        why = "; ".join(reasons[:2]) + (f" (+{len(reasons) - 2} more)" if len(reasons) > 2 else "")
        print(f"| {r['clip'].replace('imran_khan_', '')} | {_cell(r, 'front_foot_toe_off_ms', flagged)} | "
              f"{_cell(r, 'start_of_downswing_ms', flagged)} | "
              f"{_cell(r, 'front_foot_contact_ms', flagged)} | {stride} | {speed} | {why} |")
    ok = frame[frame["events_reliable"]]
    med = {c: ok[c].median() for c in PUBLISHED}
    print(f"| **median of the unflagged ({len(ok)})** | " + " | ".join(
        "–" if v != v else f"{v:.0f}" for v in med.values()) + " | | | |")
    print(f"| median of all, flagged included ({len(frame)}) | " + " | ".join(
        "–" if frame[c].isna().all() else f"{frame[c].median():.0f}" for c in PUBLISHED) + " | | "
          f"{frame['bat_toe_speed_m_s'].median():.1f} | |")
    print("| **Stretch et al. 1998, 100 Hz, n = 14** | " + " | ".join(f"{v:.0f}" for v in PUBLISHED.values())
          + " | | 11.8 +- 4.6 (horizontal) | |")
    print(f"\n(results in {out})")


if __name__ == "__main__":
    main()
