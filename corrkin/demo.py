"""``corrkin demo``: build the synthetic library (:mod:`corrkin.synth`) and analyse it."""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from corrkin.analysis.run import run_analyse
from corrkin.config import AnalyseConfig
from corrkin.synth import chain_truth, load_truth, make_library, truth_path

log = logging.getLogger(__name__)


def run_demo(cfg: DictConfig) -> int:
    out = Path(cfg.output).resolve()
    kp_dir, res_dir = out / "keypoints", out / "results"
    make_library(kp_dir, cfg.clips, seed=cfg.seed)
    acfg = OmegaConf.structured(AnalyseConfig(input=str(kp_dir), output=str(res_dir)))
    acfg.device, acfg.plots, acfg.progress, acfg.analysis = cfg.device, cfg.plots, cfg.progress, cfg.analysis
    code = run_analyse(acfg)
    truth = load_truth(truth_path(kp_dir))
    import json

    lines = ["", f"corrkin demo: {cfg.clips} synthetic clips with known kinetic chains", ""]
    for name, t in sorted(truth.items()):
        res = json.loads((res_dir / name / "result.json").read_text())
        want = " > ".join(a for a, _, _ in chain_truth(t)) + f" > {t['chain'][-1]}"
        got = " > ".join(res["path"]) or "(no path to the bat)"
        lags = {(e["src"], e["dst"]): e["lag_frames"] for e in res["edges"]}
        found = [lags.get((a, b)) for a, b, _ in chain_truth(t)]
        lines.append(f"  {name}  {t['fps']:g} fps  true chain {want}, lags {t['lag_frames']}")
        lines.append(f"  {'':14} found      {got}, lags {found}")
    lines += ["", f"keypoints : {kp_dir}", f"results   : {res_dir}/<clip>/result.json, series.npz, corrpath.png",
              f"summary   : {res_dir / 'summary.csv'}", ""]
    print("\n".join(lines))
    return code
