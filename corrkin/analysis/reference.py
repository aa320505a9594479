"""The same analysis, one clip at a time, in plain numpy / scipy / networkx.

This is the baseline the benchmarks compare against and the reference the tests check the
batched engine with: written the way the original analysis was (a loop over node pairs with
``numpy.correlate``, ``scipy.signal.savgol_filter``, ``scipy.stats``), readable rather than fast.
Needs ``networkx`` (the ``dev`` extra).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import savgol_coeffs as scipy_savgol_coeffs
from scipy.signal import savgol_filter
from scipy.stats import false_discovery_control, norm

from corrkin.config import AnalysisConfig
from corrkin.io.keypoints import Clip
from corrkin.skeleton import ADJACENT, BAT, JOINT_INDEX, NODE_INDEX, NODES, shoulder_width
from corrkin.timing import Z95, noise_window, savgol_window, to_frames

PELVIS, L_SH, R_SH = JOINT_INDEX["pelvis"], JOINT_INDEX["l_shoulder"], JOINT_INDEX["r_shoulder"]
L_ANK, R_ANK, L_WR, R_WR = (JOINT_INDEX[n] for n in ("l_ankle", "r_ankle", "l_wrist", "r_wrist"))


def _centred_diff(x: np.ndarray) -> np.ndarray:
    v = np.empty_like(x)
    v[1:-1] = (x[2:] - x[:-2]) / 2
    v[0], v[-1] = v[1], v[-2]
    return v


def _refine(left: float, mid: float, right: float) -> tuple[float, float]:
    """Gaussian (else parabolic) interpolation of a peak: offset in [-0.5, 0.5], curvature."""
    a, b, c = (np.log(v) for v in (left, mid, right)) if min(left, mid, right) > 0 else (left, mid, right)
    den = a - 2 * b + c
    delta = float(np.clip((a - c) / (2 * den), -0.5, 0.5)) if den < 0 else 0.0
    kappa = max(-(left - 2 * mid + right) / mid, 0.0) if mid > 0 else 0.0
    return delta, kappa


def _fit_peak(a: np.ndarray, k: int, half: int, sigma: float, velocity_filter: np.ndarray) -> tuple[float, float]:
    """A parabola fitted to log a over k-half..k+half (weights a^2): the vertex's offset from k
    and its standard error from white position noise sigma through the velocity filter."""
    m = np.arange(-half, half + 1)
    idx = k + m
    ok = (idx >= 0) & (idx < len(a))
    m, vals = m[ok], a[idx[ok]]
    m, vals = m[vals > 0], vals[vals > 0]
    if len(m) < 3:
        return 0.0, np.inf
    x = np.stack([np.ones_like(m), m, m * m], 1).astype(float)
    normal = x.T @ (x * (vals**2)[:, None])
    if np.linalg.det(normal) <= 0:
        return 0.0, np.inf
    inv = np.linalg.inv(normal)
    c0, c1, c2 = inv @ (x.T @ (vals**2 * np.log(vals)))
    if c2 >= 0:
        return 0.0, np.inf
    delta = float(np.clip(-c1 / (2 * c2), -half, half))
    u = np.zeros(2 * half + 1)
    u[m + half] = (inv[1] @ x.T) * vals  # the slope's weight on each sample's noise
    g = velocity_filter
    acov = np.array([np.sum(g[d:] * g[: len(g) - d]) if d < len(g) else 0.0 for d in range(2 * half + 1)])
    cov = acov[np.abs(np.subtract.outer(np.arange(2 * half + 1), np.arange(2 * half + 1)))]
    return delta, float(sigma * np.sqrt(max(u @ cov @ u, 0.0)) / (-2 * c2))


def _lag_se(c_full: np.ndarray, n: int, lag: int, max_lag: int, acf_i, acf_j) -> float:
    """The sandwich standard error of a peak lag (frames): the slope noise over the curvature."""
    c = lambda l: c_full[n - 1 + l]  # noqa: E731  (c_full holds lags -(n-1)..n-1)
    r, reach = c(lag), max_lag - abs(lag)
    curv = c(lag + 1) - 2 * r + c(lag - 1)
    if curv >= 0 or reach < 1 or r <= 0:
        return np.inf
    g = [acf_j[k] - r * (c(lag + k) + c(lag - k)) + r * r * acf_i[k] for k in range(reach + 1)]
    total = sum((acf_i[k + 1] - acf_i[k]) * (g[k + 1] - g[k]) for k in range(reach))
    return float(np.sqrt(max(2 * total / n, 0.0)) / -curv)


def _acf_test(c_full: np.ndarray, lags: np.ndarray, keep: np.ndarray, acf_i, acf_j, n: int, max_lag: int):
    """The frame-rate-invariant test of one pair: (weight, lag, refined lag, its se, n_eff, p)."""
    c = c_full[keep]
    k = int(np.argmax(c))
    w, lag = float(c[k]), int(lags[keep][k])
    unbiased = n / (n - np.arange(1, max_lag + 1))
    n_eff = float(np.clip(n / max(1 + 2 * np.sum(acf_i[1:] * acf_j[1:] * unbiased**2), 1e-12), 1, n))
    if n_eff > 3 and w > 0:
        p1 = norm.sf(np.arctanh(min(w, 1 - 1e-15)) * np.sqrt(n_eff - 3))
        m = min(max((2 * max_lag + 1) * n_eff / n, 1.0), 2 * max_lag + 1)
        p = float(-np.expm1(m * np.log1p(-min(p1, 1 - 1e-15))))
    else:
        p = 1.0
    delta, se = 0.0, np.inf
    if 0 < k < len(c) - 1:
        delta, _ = _refine(c[k - 1], c[k], c[k + 1])
        se = _lag_se(c_full, n, lag, max_lag, acf_i, acf_j)
    return w, lag, lag + delta, se, n_eff, p


def _shift_p(z_i: np.ndarray, z_j: np.ndarray, max_lag: int) -> float:
    """The circular-shift p-value of a pair, by rolling one series past the other frame by frame:
    the share of shifts ``s`` whose largest correlation over lags ``s - L..s + L`` is at least
    the observed one (``s = 0``); 1 where no shift lies outside the lag window."""
    n = len(z_i)
    if n < 2 * max_lag + 2:
        return 1.0
    circ = np.array([np.dot(z_i, np.roll(z_j, -s)) / n for s in range(n)])  # c(s): j after i
    stat = np.max([np.roll(circ, -m) for m in range(-max_lag, max_lag + 1)], axis=0)  # max over s-L..s+L
    return float(np.mean(stat >= stat[0]))


def _mended(pose: np.ndarray, scores: np.ndarray, fps: float, cfg: AnalysisConfig) -> tuple[np.ndarray, np.ndarray]:
    """``pose (T, N, 2)`` and ``scores (T, N)`` through the engine's robust front end."""
    import torch

    from corrkin.analysis.engine import robust_front_end

    x = torch.tensor(pose.transpose(1, 2, 0))[None]
    sc = torch.tensor(scores.T)[None]
    valid = sc >= cfg.min_confidence if cfg.fill_gaps else torch.ones_like(sc, dtype=torch.bool)
    x, sc, _, _, _ = robust_front_end(x, sc, valid, [fps], cfg)
    return x[0].numpy().transpose(2, 0, 1), sc[0].numpy().T


def _interior_peak(mag: np.ndarray) -> int:
    """The largest local maximum with a frame on each side, no lower than either; else the largest."""
    inner = [k for k in range(1, len(mag) - 1) if mag[k] >= mag[k - 1] and mag[k] >= mag[k + 1]]
    return max(inner, key=lambda k: (mag[k], -k)) if inner else int(np.argmax(mag))


def _swing_peak(smooth: np.ndarray, vel: np.ndarray, seen: np.ndarray, has_bat: bool, fps: float,
                cfg: AnalysisConfig) -> int:
    """The frame of the tip's greatest speed about the hands (``grip``) or the pelvis; at a seen
    frame beside a gap, a one-sided difference towards the seen neighbour."""
    x, v = smooth[:, BAT], vel[:, BAT]
    if cfg.swing_peak == "grip" and has_bat:
        x = smooth[:, BAT] - (smooth[:, L_WR] + smooth[:, R_WR]) / 2
        v = vel[:, BAT] - (vel[:, L_WR] + vel[:, R_WR]) / 2
    t = len(x)
    speed = np.linalg.norm(v, axis=-1)
    for k in range(1, t - 1):
        before, after = seen[k - 1], seen[k + 1]
        if seen[k] and before != after:
            speed[k] = np.linalg.norm((x[k + 1] - x[k]) if after else (x[k] - x[k - 1])) * fps
    return int(np.argmax(speed))


def analyse_clip(clip: Clip, cfg: AnalysisConfig) -> dict:
    """Analyse one clip; returns activation frames, edges, path and bat metrics."""
    import networkx as nx

    fps, t = clip.fps, clip.frames
    pose = np.concatenate([clip.keypoints, clip.bat[:, None]], 1).astype(np.float64)
    scores = np.concatenate([clip.scores, clip.bat_scores[:, None]], 1)
    if cfg.robust:  # the same mending of swaps and glitches as the engine's (its ops have their own references)
        pose, scores = _mended(pose, scores, fps, cfg)
    if cfg.fill_gaps:
        valid = scores >= cfg.min_confidence
        frames = np.arange(t)
        for j in range(pose.shape[1]):
            if valid[:, j].any():
                for k in range(2):
                    pose[:, j, k] = np.interp(frames, frames[valid[:, j]], pose[valid[:, j], j, k])
            else:
                pose[:, j] = 0
    else:
        valid = np.ones_like(scores, bool)
    both = valid[:, L_SH] & valid[:, R_SH]
    scale = np.median(shoulder_width(pose[both]))
    nodes = (pose - pose[:, PELVIS: PELVIS + 1]) / scale
    if cfg.pelvis_signal == "ankles":
        nodes[:, PELVIS] = (pose[:, PELVIS] - (pose[:, L_ANK] + pose[:, R_ANK]) / 2) / scale

    window = savgol_window(cfg.smooth_window_s, fps, cfg.smooth_order)
    smooth = savgol_filter(nodes, window, cfg.smooth_order, axis=0, mode="interp")
    vel = _centred_diff(smooth) * fps
    v_tip = np.linalg.norm(vel[:, BAT], axis=-1)
    peak = _swing_peak(smooth, vel, valid[:, BAT], valid[:, BAT].any() if cfg.fill_gaps else (clip.bat_scores > 0).any(),
                       fps, cfg)
    used = np.ones(t, bool)
    if cfg.window.before_s is not None:
        used &= np.arange(t) >= peak - to_frames(cfg.window.before_s, fps)
    if cfg.window.after_s is not None:
        used &= np.arange(t) <= peak + to_frames(cfg.window.after_s, fps)
    bat = nodes[used, BAT]
    _, _, vt = np.linalg.svd(bat - bat.mean(0), full_matrices=False)
    axis = vt[0] if vt[0] @ vel[peak, BAT] >= 0 else -vt[0]
    shape = noise_window(window, cfg.smooth_order)  # the correlations' series: smoothed at least this much
    shape_smooth = smooth if shape == window else savgol_filter(nodes, shape, cfg.smooth_order, axis=0, mode="interp")
    shape_vel = vel if shape == window else _centred_diff(shape_smooth) * fps
    series = (np.linalg.norm(shape_vel, axis=-1) if cfg.signal == "speed" else shape_vel @ axis)[used]  # (T_used, N)
    timing = (np.linalg.norm(vel, axis=-1) if cfg.signal == "speed" else vel @ axis)[used]  # peaks: the least smoothed

    if cfg.top_hand == "auto":
        d = [np.median(np.linalg.norm(smooth[:, w] - smooth[:, BAT], axis=-1)) for w in (L_WR, R_WR)]
        hand = L_WR if d[0] >= d[1] else R_WR
    else:
        hand = L_WR if cfg.top_hand == "left" else R_WR
    rel = smooth[:, BAT] - smooth[:, hand]
    angle = np.unwrap(np.arctan2(-rel[:, 1], rel[:, 0]))
    omega = _centred_diff(angle) * fps

    n, nn = series.shape
    offset = int(np.argmax(used))
    t_act = np.argmax(np.abs(series), axis=0) + offset
    t_sub, t_se = t_act.astype(float), np.full(nn, np.inf)
    if cfg.test != "lag1":  # the peak of |v| fitted over half the smoothing window, with its error
        t_act = np.array([_interior_peak(np.abs(timing[:, i])) for i in range(nn)]) + offset
        t_sub = t_act.astype(float)
        half = max(window // 2, 1)
        velocity_filter = np.convolve(scipy_savgol_coeffs(window, cfg.smooth_order), [0.5, 0.0, -0.5])
        removed = nodes - shape_smooth  # no smoothing (25 fps): what the least smoother removes
        residual = removed @ axis if cfg.signal == "axis" else removed
        k = scipy_savgol_coeffs(shape, cfg.smooth_order)
        gain = 1 - 2 * k[shape // 2] + np.sum(k * k)
        for i in range(nn):
            ok = valid[:, i] & used
            sigma = 1.482602218505602 * np.median(np.abs(residual[ok, i])) / np.sqrt(gain) if ok.any() else 0.0
            delta, se = _fit_peak(np.abs(timing[:, i]) / fps, t_act[i] - offset, half, sigma, velocity_filter)
            misfit = [_fit_peak(np.abs(timing[:, i]) / fps, t_act[i] - offset, h, 0.0, velocity_filter)[0] - delta
                      for h in (1, half + 1)]  # the vertex's move with the fit's width
            se = float(np.sqrt(se * se + misfit[0] ** 2 + misfit[1] ** 2))
            t_sub[i] += delta
            t_se[i] = se
    std = series.std(0)
    z = np.where(std > 0, (series - series.mean(0)) / np.where(std > 0, std, 1), 0.0)
    r1 = np.array([np.corrcoef(series[:-1, i], series[1:, i])[0, 1] if std[i] > 0 else 0.0 for i in range(nn)])
    max_lag = to_frames(cfg.max_lag_s, fps)
    lags = np.arange(-n + 1, n)
    keep = np.abs(lags) <= max_lag
    acf = [(np.correlate(z[:, i], z[:, i], "full") / n)[n - 1: n + max_lag] for i in range(nn)]
    node_ok = valid[used].any(0)
    if cfg.pelvis_signal == "ankles":  # the pelvis over the ankles rests on both ankles too
        node_ok[PELVIS] = node_ok[PELVIS] and node_ok[L_ANK] and node_ok[R_ANK]
    dependent = [{"l_hip", "r_hip"}] + ([{"pelvis", "l_ankle"}, {"pelvis", "r_ankle"}] if cfg.pelvis_signal == "ankles" else [])
    tests = {}
    for i in range(nn):
        for j in range(nn):
            if i == j or not (node_ok[i] and node_ok[j]) or (cfg.test != "lag1" and {NODES[i], NODES[j]} in dependent):
                continue
            c_full = np.correlate(z[:, j], z[:, i], "full") / n
            if cfg.test != "lag1":
                tests[i, j] = _acf_test(c_full, lags, keep, acf[i], acf[j], n, max_lag)
                if cfg.test == "shift":
                    tests[i, j] = (*tests[i, j][:4], float("nan"), _shift_p(z[:, i], z[:, j], max_lag))
                continue
            c = c_full[keep]
            k = int(np.argmax(c))
            w, lag = float(c[k]), int(lags[keep][k])
            rr = r1[i] * r1[j]
            n_eff = n * (1 - rr) / (1 + rr)
            p = float(2 * norm.sf(abs(np.arctanh(min(abs(w), 1 - 1e-15))) * np.sqrt(n_eff - 3))) if n_eff > 3 else 1.0
            tests[i, j] = (w, lag, float(lag), np.inf, n_eff, p)
    q = {k: v[5] for k, v in tests.items()}
    if cfg.fdr:
        pairs = [k for k in tests if k[0] < k[1]]
        adj = false_discovery_control([tests[k][5] for k in pairs]) if pairs else []
        for (i, j), qv in zip(pairs, adj):
            q[i, j] = q[j, i] = float(qv)
    g = nx.DiGraph()
    g.add_nodes_from(range(nn))
    edges = []
    coupled = [k for k, v in tests.items() if v[0] >= cfg.theta and q[k] < cfg.alpha]
    z_order = norm.isf(cfg.alpha / max(len(coupled) / 2, 1))  # the order, family-wise over coupled pairs
    ordered = []
    for (i, j), (w, lag, lag_sub, se, n_eff, p) in tests.items():
        if cfg.test == "shift":  # one order logic: the lag's 95 % interval excludes zero
            if w >= cfg.theta and lag_sub - Z95 * se > 0 and t_sub[i] < t_sub[j]:
                ordered.append((i, j, w))
                if q[i, j] < cfg.alpha:
                    edges.append({"src": NODES[i], "dst": NODES[j], "weight": w, "lag_frames": lag, "p_value": p,
                                  "lag_sub_frames": lag_sub, "lag_se_frames": se})
            continue
        if (t_sub[i] < t_sub[j] and lag >= cfg.min_lag_frames and w >= cfg.theta and q[i, j] < cfg.alpha
                and (cfg.test != "acf" or lag_sub - z_order * se > 0)):
            edges.append({"src": NODES[i], "dst": NODES[j], "weight": w, "lag_frames": lag, "p_value": p,
                          "lag_sub_frames": lag_sub, "lag_se_frames": se, "n_eff": n_eff})
            ordered.append((i, j, w))
    joined = {frozenset((NODE_INDEX[a], NODE_INDEX[b])) for a, b in ADJACENT}
    for i, j, w in ordered:  # the path's graph: the edges, or (shift) the ordered pairs; joined segments only
        if cfg.path_links == "any" or frozenset((i, j)) in joined:
            g.add_edge(i, j, weight=w)
    best = {s: (0.0, [s]) for s in (NODE_INDEX[x] for x in cfg.sources)}
    for v in nx.topological_sort(g):
        for u in g.predecessors(v):
            if u in best:
                cand = best[u][0] + g[u][v]["weight"]
                if v not in best or cand > best[v][0]:
                    best[v] = (cand, best[u][1] + [v])
    target = NODE_INDEX[cfg.target]
    reaches = target in best and len(best[target][1]) > 1
    return {
        "activation_frames": {NODES[k]: int(t_act[k]) for k in range(nn)},
        "activation_subframe": {NODES[k]: float(t_sub[k]) for k in range(nn)},
        "activation_se_frames": {NODES[k]: float(t_se[k]) for k in range(nn)},
        "edges": edges,
        "tests": {(NODES[i], NODES[j]): {"weight": v[0], "lag_frames": v[1], "lag_sub_frames": v[2], "lag_se_frames": v[3],
                                         "p_value": v[5], "q_value": q[i, j]} for (i, j), v in tests.items()},
        "ordered": [(NODES[i], NODES[j]) for i, j, _ in ordered],
        "path": [NODES[k] for k in best[target][1]] if reaches else [],
        "path_weight": best[target][0] if reaches else 0.0,
        "reaches_bat": reaches,
        "swing_axis": axis.tolist(),
        "bat_peak_frame": peak,
        "bat_peak_speed": float(v_tip[peak]),
        "omega": omega,
        "series": series,
    }
