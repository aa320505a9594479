"""The whole analysis as one batched pass over a :class:`~corrkin.io.keypoints.KeypointBatch`.

keypoints + bat tip -> gap filling -> root-centred, shoulder-width-scaled nodes ->
Savitzky–Golay smoothing -> centred-difference velocities -> swing axis (PCA of the bat trace) ->
projected velocity per node -> activation frames, lagged cross-correlations, lag-1
autocorrelations, Fisher-z p-values -> edges -> maximum-weight path from the sources to the bat.

Every step is a batched op from :mod:`corrkin.ops`; there is no loop over clips, and a clip's
result does not depend on the other clips of its batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from einops import rearrange

from corrkin import ops
from corrkin.analysis.checks import validate_clip  # noqa: F401  (re-exported)
from corrkin.analysis.quality import quality_block, swing_evidence
from corrkin.config import AnalysisConfig, as_object
from corrkin.io.keypoints import KeypointBatch
from corrkin.ops.timing import Z95
from corrkin.skeleton import BAT, JOINT_INDEX, NODE_INDEX, NODES
from corrkin.timing import savgol_window, to_frames

PELVIS, L_SH, R_SH = JOINT_INDEX["pelvis"], JOINT_INDEX["l_shoulder"], JOINT_INDEX["r_shoulder"]
L_ANK, R_ANK = JOINT_INDEX["l_ankle"], JOINT_INDEX["r_ankle"]
L_WR, R_WR = JOINT_INDEX["l_wrist"], JOINT_INDEX["r_wrist"]


@dataclass
class AnalysisOutput:
    """Batched results, every tensor on the batch's device (``B`` clips, ``N`` = 14 nodes)."""

    series: torch.Tensor  # (B, N, T) velocity along the swing axis, shoulder widths / s
    v_tip: torch.Tensor  # (B, T) bat-tip speed, shoulder widths / s
    angle: torch.Tensor  # (B, T) bat angle (tip - top hand), rad, unwrapped
    omega: torch.Tensor  # (B, T) its rate omega_z, rad / s
    axis: torch.Tensor  # (B, 2) swing axis, image axes, pointing along the bat at peak speed
    scale: torch.Tensor  # (B,) median shoulder width, pixels
    frames_used: torch.Tensor  # (B, T) frames analysed (the bat-centred window when set)
    bat_peak: torch.Tensor  # (B,) frame of peak bat-tip speed (the faster wrist's where has_bat is false)
    has_bat: torch.Tensor  # (B,) whether the bat was seen in any frame
    top_hand: torch.Tensor  # (B,) node index of the top-hand wrist
    t_act: torch.Tensor  # (B, N) activation frames
    t_sub: torch.Tensor  # (B, N) activation times, frames, refined below a frame (acf test)
    t_se: torch.Tensor  # (B, N) their standard errors, frames (inf: not resolved)
    filled: torch.Tensor  # (B, N) fraction of frames filled by interpolation
    weight: torch.Tensor  # (B, N, N)
    lag: torch.Tensor  # (B, N, N) frames
    lag_sub: torch.Tensor  # (B, N, N) frames, refined below a frame
    lag_se: torch.Tensor  # (B, N, N) its standard error, frames (inf: not resolved)
    n_eff: torch.Tensor  # (B, N, N) effective sample size of each pair's test
    resolved: torch.Tensor  # (B, N, N) bool, the lag orders the pair (see correlation_edges)
    p: torch.Tensor  # (B, N, N)
    q: torch.Tensor  # (B, N, N)
    edge: torch.Tensor  # (B, N, N) bool
    path: torch.Tensor  # (B, N) node indices, -1 padded
    path_weight: torch.Tensor  # (B,)
    reaches: torch.Tensor  # (B,) bool
    max_lag: torch.Tensor  # (B,) frames
    windows: list[int]  # smoothing window per clip, frames
    positions: torch.Tensor | None = None  # (B, N, 2, T) pelvis-centred, / scale; NaN where not valid
    evidence: dict[str, torch.Tensor] | None = None  # (B,) each, corrkin.analysis.quality.swing_evidence


def _dtype(name: str) -> torch.dtype:
    dt = getattr(torch, name, None)
    if not isinstance(dt, torch.dtype) or not dt.is_floating_point:
        raise ValueError(f"analysis.dtype: '{name}' is not a torch floating-point dtype")
    return dt


def _activation_times(raw, smooth, per_frame, valid, used, windows, order):
    """Activation times refined by a peak fit over half the smoothing window, with their errors:
    the pixel noise measured robustly from what the smoothing removed (median absolute residual,
    scaled to a standard deviation for white noise through that smoother), carried through the
    fit (:func:`corrkin.ops.fit_peak_times`)."""
    halves = [max(w // 2, 1) for w in windows]
    gains = [ops.smoothing_noise_gains(w, order, 2 * max(halves)) for w in windows]
    res_var = torch.tensor([g[0] for g in gains], dtype=raw.dtype, device=raw.device)
    acov = torch.tensor([g[1] for g in gains], dtype=raw.dtype, device=raw.device)
    mad = ops.masked_median((raw - smooth).abs(), valid)
    sigma = 1.482602218505602 * torch.nan_to_num(mad) / torch.sqrt(res_var)[:, None]
    half = torch.tensor(halves, device=raw.device)
    return ops.fit_peak_times(per_frame, used, half, sigma, acov)


def _dependent_pairs(cfg: AnalysisConfig) -> torch.Tensor:
    """``(N, N)`` pairs whose series are functions of each other by construction, never tested:
    the hips (the pelvis is their midpoint, so one hip's series is minus the other's) and, with
    ``pelvis_signal=ankles``, the pelvis and each ankle (the pelvis's series is minus the mean of
    the two ankles' series). Their correlation says nothing about coupling."""
    pairs = [("l_hip", "r_hip")]
    if cfg.pelvis_signal == "ankles":
        pairs += [("pelvis", "l_ankle"), ("pelvis", "r_ankle")]
    out = torch.zeros(len(NODES), len(NODES), dtype=torch.bool)
    for a, b in pairs:
        out[NODE_INDEX[a], NODE_INDEX[b]] = out[NODE_INDEX[b], NODE_INDEX[a]] = True
    return out


def analyse(batch: KeypointBatch, cfg: AnalysisConfig) -> AnalysisOutput:
    """Run the analysis on every clip of ``batch`` at once (on the batch's device)."""
    cfg = as_object(cfg)  # a composed config as its dataclass
    cfg.validate()  # as at composition: a config built in code may have been changed since
    dtype = _dtype(cfg.dtype)
    dev = batch.keypoints.device
    bsz, t = batch.frame_mask.shape
    fps_list = batch.fps.tolist()
    fps = batch.fps.to(dtype)
    lengths, fm = batch.lengths, batch.frame_mask
    windows = [savgol_window(cfg.smooth_window_s, f, cfg.smooth_order) for f in fps_list]
    nn = len(NODES)

    # (B, N, 2, T) positions and (B, N, T) validity, nodes = 13 joints + bat
    nodes = torch.cat([batch.keypoints, batch.bat[:, :, None]], 2).to(dtype)
    pose = rearrange(nodes, "b t n xy -> b n xy t").contiguous()
    scores = rearrange(torch.cat([batch.scores, batch.bat_scores[:, :, None]], 2), "b t n -> b n t")
    if cfg.fill_gaps:
        valid = fm[:, None] & (scores >= cfg.min_confidence)
    else:
        valid = fm[:, None].expand(bsz, nn, t)  # every frame counts, as in the original
    filled_frac = 1 - valid.sum(2).to(dtype) / lengths.to(dtype).clamp_min(1)[:, None]
    # one look at the values per batch: skip the interpolation when nothing is missing
    gaps = cfg.fill_gaps and bool((fm[:, None] & ~valid).any())

    def fill(x: torch.Tensor, idx) -> torch.Tensor:
        return ops.fill_gaps(x, valid[:, idx, None] if x.ndim == 4 else valid[:, idx]) if gaps else x

    # scale: median shoulder width over frames where both shoulders are valid
    sh = pose[:, [L_SH, R_SH]]
    d = sh[:, 0] - sh[:, 1]
    scale = ops.median_scale(torch.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1]), valid[:, L_SH] & valid[:, R_SH])

    # 2-D work only where it is needed: the bat and both wrists, relative to the pelvis
    few = [BAT, L_WR, R_WR, PELVIS]
    xy = fill(pose[:, few], few)
    rel = (xy[:, :3] - xy[:, 3:4]) / scale[:, None, None, None]  # (B, 3, 2, T)
    smooth_xy = ops.savgol_filter(rel, windows, cfg.smooth_order, lengths)
    v_xy = ops.central_difference(smooth_xy, lengths) * fps[:, None, None, None]  # (B, 3, 2, T)
    speed = torch.sqrt(v_xy[:, :, 0] * v_xy[:, :, 0] + v_xy[:, :, 1] * v_xy[:, :, 1])  # (B, 3, T)
    v_tip = speed[:, 0]
    # the swing's reference frame: the bat tip's peak speed, or, in a clip where no bat was
    # seen at all, the faster wrist's (its direction then sets the swing axis)
    has_bat = (valid[:, BAT] & fm).any(1) if cfg.fill_gaps else (batch.bat_scores > 0).any(1)
    lead = torch.where(has_bat, 0, torch.where(speed[:, 1].amax(1) >= speed[:, 2].amax(1), 1, 2))
    lead_speed = speed.gather(1, lead[:, None, None].expand(-1, 1, t))[:, 0]
    bat_peak = torch.where(fm, lead_speed, -torch.inf).argmax(1)
    lead_v = v_xy.gather(1, lead[:, None, None, None].expand(-1, 1, 2, t))[:, 0]
    direction = torch.gather(lead_v, 2, bat_peak[:, None, None].expand(bsz, 2, 1)).squeeze(-1)

    frames_used = fm
    frame = torch.arange(t, device=dev)[None]
    if cfg.window.before_s is not None:
        frames_used = frames_used & (frame >= (bat_peak - torch.round(cfg.window.before_s * fps).long())[:, None])
    if cfg.window.after_s is not None:
        frames_used = frames_used & (frame <= (bat_peak + torch.round(cfg.window.after_s * fps).long())[:, None])
    trace = rel.gather(1, lead[:, None, None, None].expand(-1, 1, 2, t))[:, 0]
    axis = ops.swing_axis(trace.transpose(1, 2), frames_used, direction)

    # everything else is linear in space: project on the swing axis first, then fill, centre,
    # scale, smooth and differentiate (B, N, T) series instead of (B, N, 2, T) positions
    proj = fill(pose[:, :, 0] * axis[:, 0, None, None] + pose[:, :, 1] * axis[:, 1, None, None], slice(None))
    root = proj[:, PELVIS: PELVIS + 1]
    centred = proj - root
    if cfg.pelvis_signal == "ankles":
        pelvis = root - (proj[:, L_ANK: L_ANK + 1] + proj[:, R_ANK: R_ANK + 1]) / 2
        centred = torch.cat([centred[:, :PELVIS], pelvis, centred[:, PELVIS + 1:]], 1)
    raw = centred / scale[:, None, None]
    smooth = ops.savgol_filter(raw, windows, cfg.smooth_order, lengths)
    series = ops.central_difference(smooth, lengths) * fps[:, None, None]  # (B, N, T)

    if cfg.top_hand == "auto":
        gap = smooth_xy[:, 1:3] - smooth_xy[:, :1]
        dist = torch.sqrt(gap[:, :, 0] * gap[:, :, 0] + gap[:, :, 1] * gap[:, :, 1])
        med = ops.masked_median(dist, fm[:, None])
        left_top = med[:, 0] >= med[:, 1]
    else:
        left_top = torch.full((bsz,), cfg.top_hand == "left", device=dev)
    top_hand = torch.where(left_top, L_WR, R_WR)
    hand = torch.where(left_top[:, None, None], smooth_xy[:, 1], smooth_xy[:, 2])
    angle, omega = ops.bat_angular_velocity(smooth_xy[:, 0].transpose(1, 2), hand.transpose(1, 2), lengths, fps)

    if cfg.test == "acf":
        t_act, t_sub, t_se = _activation_times(raw, smooth, series / fps[:, None, None], valid & frames_used[:, None],
                                               frames_used, windows, cfg.smooth_order)
    else:  # the seed: whole frames, no interval
        t_act = ops.activation_frames(series, frames_used)
        t_sub, t_se = t_act.to(dtype), torch.full(t_act.shape, torch.inf, dtype=dtype, device=dev)
    z = ops.zscore(series, frames_used)
    max_lag = torch.round(cfg.max_lag_s * fps).long()
    lag_cap = max(to_frames(cfg.max_lag_s, f) for f in fps_list)
    xc = ops.lagged_xcorr(z, frames_used, lag_cap)
    r1 = ops.lag1_autocorrelation(series, frames_used) if cfg.test == "lag1" else None
    n_used = frames_used.sum(1)
    node_valid = (valid & frames_used[:, None]).any(2)
    g = ops.correlation_edges(xc, t_sub, n_used, r1, max_lag, node_valid, cfg.theta, cfg.alpha,
                              cfg.min_lag_frames, cfg.fdr, cfg.test, _dependent_pairs(cfg) if cfg.test == "acf" else None)
    path, path_weight, reaches = ops.max_weight_path(
        g["weight"], g["edge"], [NODE_INDEX[s] for s in cfg.sources], NODE_INDEX[cfg.target])
    evidence = swing_evidence(scores.to(dtype), fm, bat_peak, fps, cfg.min_confidence, cfg.quality)
    centre = pose[:, PELVIS: PELVIS + 1]
    positions = torch.where(valid[:, :, None] & valid[:, PELVIS: PELVIS + 1, None],
                            (pose - centre) / scale[:, None, None, None], torch.nan)
    return AnalysisOutput(
        positions=positions, evidence=evidence, series=series, v_tip=v_tip, angle=angle, omega=omega, axis=axis, scale=scale,
        frames_used=frames_used, bat_peak=bat_peak, has_bat=has_bat, top_hand=top_hand, t_act=t_act, t_sub=t_sub, t_se=t_se,
        filled=filled_frac, weight=g["weight"], lag=g["lag"], lag_sub=g["lag_sub"], lag_se=g["lag_se"],
        n_eff=g["n_eff"], resolved=g["resolved"], p=g["p"], q=g["q"], edge=g["edge"],
        path=path, path_weight=path_weight, reaches=reaches, max_lag=max_lag, windows=windows,
    )


def _sig(x: float, digits: int = 6) -> float:
    return float(f"{x:.{digits}g}")


def _interval(value: float, se: float) -> list[float] | None:
    """A 95 % interval ``[low, high]`` (3 decimals), or None where the error cannot be told."""
    return [round(value - Z95 * se, 3), round(value + Z95 * se, 3)] if np.isfinite(se) else None


def _lag(c: dict, b: int, i: int, j: int, to_ms: float) -> tuple[float, list[float] | None]:
    """Pair ``(i, j)``'s sub-frame lag in ms and its 95 % interval."""
    lag_ms = float(c["lag_sub"][b, i, j]) * to_ms
    return lag_ms, _interval(lag_ms, float(c["lag_se"][b, i, j]) * to_ms)


def _edge_record(c: dict, b: int, i: int, j: int, to_ms: float, cfg: AnalysisConfig) -> dict:
    lag_ms, ci = _lag(c, b, i, j, to_ms)
    return ({"src": NODES[i], "dst": NODES[j], "weight": round(float(c["weight"][b, i, j]), 6),
             "lag_frames": int(c["lag"][b, i, j]), "lag_ms": round(lag_ms, 3), "lag_ci_ms": ci,
             "n_eff": round(float(c["n_eff"][b, i, j]), 2), "p_value": _sig(float(c["p"][b, i, j]))}
            | ({"q_value": _sig(float(c["q"][b, i, j]))} if cfg.fdr else {}))


def _timing_note(edges: list[dict], path: list[str], fps: float, cfg: AnalysisConfig) -> dict:
    """The timing resolution of a result, and a warning for each link on the path that is
    shorter than the data can support (its interval includes zero, or it is below one frame)."""
    frame_ms = 1000.0 / fps
    by_pair = {(e["src"], e["dst"]): e for e in edges}
    warnings = []
    for a, b in zip(path, path[1:]):
        e = by_pair[(a, b)]
        if e["lag_ci_ms"] is None:
            warnings.append(f"{a} -> {b}: the lag's interval cannot be told (flat correlation peak)")
        elif e["lag_ci_ms"][0] <= 0:
            warnings.append(f"{a} -> {b}: {e['lag_ms']:.1f} ms, its 95 % interval "
                            f"[{e['lag_ci_ms'][0]:.1f}, {e['lag_ci_ms'][1]:.1f}] ms includes zero")
        elif e["lag_ms"] < frame_ms:
            warnings.append(f"{a} -> {b}: {e['lag_ms']:.1f} ms is shorter than one frame ({frame_ms:.1f} ms)")
    return {"frame_interval_ms": round(frame_ms, 3),
            "subframe": cfg.test == "acf",
            "resolution": ("below one frame: lags by Gaussian interpolation of the correlation peak, "
                           "activation times by a Gaussian fitted over half the smoothing window; "
                           "95 % intervals from the noise of the peak's slope over its curvature"
                           if cfg.test == "acf" else f"whole frames ({frame_ms:.1f} ms)"),
            "warnings": warnings}


def _chain_check(c: dict, b: int, to_ms: float, cfg: AnalysisConfig) -> list[dict]:
    """Each link of the textbook chain on the top hand's side (pelvis -> shoulder -> elbow ->
    wrist -> bat): its correlation, lag and test, and every criterion it fails, so an analyst
    can see why a chain is or is not claimed."""
    side = "l" if NODES[int(c["top_hand"][b])].startswith("l_") else "r"
    chain = ["pelvis", f"{side}_shoulder", f"{side}_elbow", f"{side}_wrist", "bat"]
    out = []
    for a, z in zip(chain, chain[1:]):
        i, j = NODE_INDEX[a], NODE_INDEX[z]
        weight, q = float(c["weight"][b, i, j]), float(c["q"][b, i, j])
        fails = []
        if weight < cfg.theta:
            fails.append(f"correlation {weight:.2f} below theta {cfg.theta:g}")
        if not q < cfg.alpha:
            fails.append(f"not significant ({'q' if cfg.fdr else 'p'} = {_sig(q, 3)} >= alpha {cfg.alpha:g})")
        if not c["t_sub"][b, i] < c["t_sub"][b, j]:
            fails.append(f"order: {z} activates before {a}")
        if not c["resolved"][b, i, j]:
            fails.append("lag not resolved above zero" if cfg.test == "acf" else f"lag below {cfg.min_lag_frames} frames")
        lag_ms, ci = _lag(c, b, i, j, to_ms)
        out.append({"src": a, "dst": z, "weight": round(weight, 4), "lag_ms": round(lag_ms, 2), "lag_ci_ms": ci, ("q_value" if cfg.fdr else "p_value"): _sig(q, 4),
                    "edge": bool(c["edge"][b, i, j]), "fails": fails})
    return out


def _no_bat(rec: dict, coverage: float, any_frame: bool, cfg: AnalysisConfig) -> None:
    """A clip whose bat was not seen through the swing: no bat speed or turn rate is reported
    (they would be the speeds of a guess), the reference frame is said, and a path to the bat
    is not claimed."""
    why = (f"bat seen in {coverage:.0%} of the swing window (at least {cfg.quality.min_bat_coverage:.0%} needed)"
           if any_frame else "no bat found in any frame")
    rec["bat"].update(found=False, note=f"{why}: no bat speed is reported", peak_speed=None,
                      omega_at_peak_speed=None, omega_peak=None,
                      reference="bat tip" if any_frame else "the faster wrist (no bat seen)")
    if cfg.target == "bat":
        rec.update(reaches_bat=False, path=[], path_weight=0.0, path_note=f"no bat found: {why}")


def to_records(out: AnalysisOutput, batch: KeypointBatch, cfg: AnalysisConfig) -> list[dict]:
    """One JSON-ready ``result.json`` dict per clip (everything moved to the CPU once)."""
    c = {k: v.detach().cpu().numpy() for k, v in vars(out).items() if isinstance(v, torch.Tensor)}
    evidence = {k: v.detach().cpu().numpy() for k, v in out.evidence.items()}
    stories = batch.stories or [None] * len(batch)
    lengths = batch.lengths.cpu().numpy()
    fps_all = batch.fps.cpu().numpy().astype(np.float64)
    records = []
    for b, name in enumerate(batch.names):
        fps, n = float(fps_all[b]), int(lengths[b])
        to_ms = 1000.0 / fps
        src, dst = np.nonzero(c["edge"][b])
        edges = [_edge_record(c, b, i, j, to_ms, cfg) for i, j in zip(src.tolist(), dst.tolist())]
        edges.sort(key=lambda e: (-e["weight"], e["src"], e["dst"]))
        path = [NODES[i] for i in c["path"][b].tolist() if i >= 0]
        used = np.nonzero(c["frames_used"][b])[0]
        reaches = bool(c["reaches"][b])
        peak = int(c["bat_peak"][b])
        omega = c["omega"][b, :n]
        rec = {
            "clip": name,
            "fps": fps,
            "frames": n,
            "analysis": cfg.name,
            "frames_analysed": [int(used[0]), int(used[-1])] if used.size else [],
            "smoothing_window_frames": out.windows[b],
            "max_lag_frames": int(c["max_lag"][b]),
            "shoulder_width_px": round(float(c["scale"][b]), 4),
            "swing_axis": [round(float(v), 6) for v in c["axis"][b]],
            "activation_frames": {node: int(c["t_act"][b, k]) for k, node in enumerate(NODES)},
            "activation_ms": {node: round(float(c["t_sub"][b, k]) * to_ms, 3) for k, node in enumerate(NODES)},
            "activation_ci_ms": {node: _interval(float(c["t_sub"][b, k]) * to_ms, float(c["t_se"][b, k]) * to_ms)
                                 for k, node in enumerate(NODES)},
            "filled_fraction": {node: round(float(c["filled"][b, k]), 4) for k, node in enumerate(NODES)},
            "edges": edges,
            "path": path,
            "path_weight": round(float(c["path_weight"][b]), 6),
            "reaches_bat": reaches,
            "bat": {
                "found": True,
                "top_hand": NODES[int(c["top_hand"][b])],
                "peak_speed": round(float(c["v_tip"][b, peak]), 6),
                "peak_speed_units": "shoulder widths / s",
                "peak_frame": peak,
                "peak_ms": round(peak * to_ms, 3),
                "omega_at_peak_speed": round(float(omega[peak]), 6),
                "omega_peak": round(float(omega[np.argmax(np.abs(omega))]), 6),
                "omega_units": "rad / s, counter-clockwise on screen",
            },
        }
        rec["timing"] = _timing_note(edges, path, fps, cfg)
        ev = {k: v[b].item() for k, v in evidence.items()}
        rec["quality"] = quality_block(ev, fps, cfg.quality, stories[b])
        if ev["bat_coverage"] < cfg.quality.min_bat_coverage:
            _no_bat(rec, ev["bat_coverage"], bool(c["has_bat"][b]), cfg)
        rec["chain_check"] = _chain_check(c, b, to_ms, cfg)
        if not rec["reaches_bat"] and "path_note" not in rec:
            rec["path_note"] = (f"no path from {', '.join(cfg.sources)} reaches {cfg.target}: "
                                f"{len(edges)} edges, none chains a source to the {cfg.target}")
        records.append(rec)
    return records


def series_arrays(out: AnalysisOutput, batch: KeypointBatch) -> list[dict[str, np.ndarray]]:
    """The per-clip arrays written to ``series.npz`` (float32, trimmed to each clip's length):
    ``series (T, N)``, ``v_tip``, ``bat_angle``, ``omega_z``, ``frames_used``, ``time_s`` ``(T,)``,
    ``positions (T, N, 2)`` (pelvis-centred, in shoulder widths, NaN where a node is missing)."""
    s = out.series.detach().cpu().numpy().astype(np.float32)
    v, a, w = (x.detach().cpu().numpy().astype(np.float32) for x in (out.v_tip, out.angle, out.omega))
    pos = out.positions.detach().cpu().numpy().astype(np.float32)
    used = out.frames_used.cpu().numpy()
    lengths = batch.lengths.cpu().numpy()
    fps = batch.fps.cpu().numpy().astype(np.float64)
    return [
        {"nodes": np.array(NODES), "series": s[b, :, : lengths[b]].T.copy(), "v_tip": v[b, : lengths[b]],
         "bat_angle": a[b, : lengths[b]], "omega_z": w[b, : lengths[b]], "frames_used": used[b, : lengths[b]],
         "time_s": (np.arange(lengths[b]) / fps[b]).astype(np.float32),
         "positions": rearrange(pos[b, :, :, : lengths[b]], "n xy t -> t n xy").copy()}
        for b in range(len(batch))
    ]
