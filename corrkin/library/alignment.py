"""Library alignment: every clip's swing on one common timeline, edges and paths aggregated per
shot type and per batter, a Procrustes template swing per shot type.

1. Each clip's bat-centred window of ``|v_tip|`` (z-scored, so shape not speed is matched) is
   aligned to a reference window (a named clip, or the library medoid under banded DTW) with
   :func:`corrkin.ops.dtw.dtw`, all clips in one batch.
2. The warping path maps every clip frame onto the reference's frames (frames the path pairs
   with several reference frames take their mean; frames outside the window continue at the
   clip's own rate), so activation times and lags are read on one timeline, in ms from the
   reference's peak bat speed.
3. Per shot type and per batter: how often each edge appears, the mean and spread of its lag on
   the common timeline, the most frequent path.
4. Each clip's pelvis-centred trajectories are resampled onto the reference frames and a
   template per shot type is built by generalised Procrustes (similarity alignment to the mean,
   repeated); every clip gets its distance to its template and the nearest template.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from corrkin.io.results import ResultError, read_result, result_folders, timing_links
from corrkin.ops.dtw import default_radius, dtw
from corrkin.ops.procrustes import procrustes
from corrkin.ops.timing import Z95
from corrkin.skeleton import HIP_PAIR, NODES, PELVIS_ANKLE_PAIRS
from corrkin.timing import to_frames


@dataclass
class LibraryClip:
    """One analysed clip as ``corrkin align`` reads it from an analysis output folder."""

    name: str
    batter: str
    shot: str
    record: dict  # result.json
    speed: np.ndarray  # (T,) |v_tip|, shoulder widths / s
    positions: np.ndarray  # (T, N, 2) pelvis-centred, shoulder widths, NaN where missing
    series: np.ndarray | None = None  # (T, N) each node's analysed series (speed, or velocity along the axis)

    @property
    def fps(self) -> float:
        return float(self.record["fps"])

    @property
    def peak(self) -> int:
        return int(self.record["bat"]["peak_frame"])


@dataclass
class Alignment:
    """Every clip mapped onto the reference's frames."""

    reference: int  # index of the reference clip
    window: list[tuple[int, int]]  # each clip's window [start, stop) in its own frames
    cost: np.ndarray  # (B,) DTW cost of each window against the reference's
    maps: list[np.ndarray] = field(default_factory=list)  # per clip (T,): reference frame of each frame


def read_labels(path: str | Path | None) -> dict[str, dict[str, str]]:
    """``{clip: {"batter": ..., "shot": ...}}`` from a CSV with a ``clip`` or ``path`` column
    (a manifest: the clip is the file's stem)."""
    if path is None:
        return {}
    from corrkin.io.tables import read_csv

    def clip_of(row: dict) -> str | None:
        return row.get("clip") or (Path(row["path"]).stem if row.get("path") else None)

    out = {}
    for _, row in read_csv(path, "labels", (("clip", "path"),), key=clip_of):
        if (key := clip_of(row)) is not None:
            out[key] = {"batter": row.get("batter", ""), "shot": row.get("shot", "")}
    return out


def load_library(folder: str | Path, labels: dict | None = None, only: list[str] | None = None,
                 progress: bool = False) -> tuple[list[LibraryClip], list[tuple[str, str]]]:
    """The analysed clips under ``folder`` (``<clip>/result.json`` and ``series.npz``, at any
    depth; with ``only``, those folders alone, relative to ``folder``) and ``(clip, reason)`` for
    each folder that could not be read (``progress``: a bar over them, on a terminal)."""
    from tqdm import tqdm

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such analysis output folder")
    labels = labels or {}
    clips, bad, folders = [], [], []
    chosen = None if only is None else set(only)
    for clip_dir in tqdm(result_folders(folder), desc="align: reading", unit="clip", disable=None if progress else True):
        if chosen is not None and clip_dir.relative_to(folder).as_posix() not in chosen:
            continue
        try:
            record, z = read_result(clip_dir, series=True)
            if "positions" not in z or "v_tip" not in z:
                raise ResultError(f"{clip_dir / 'series.npz'}: no 'positions' (made by an older corrkin: analyse again)")
            speed, positions = z["v_tip"].astype(np.float64), z["positions"].astype(np.float64)
            series = z["series"].astype(np.float64) if "series" in z else None
        except ResultError as e:
            bad.append((clip_dir.name, str(e)))
            continue
        name = record.get("clip", clip_dir.name)
        lab = labels.get(name, {})
        batter = lab.get("batter") or record.get("batter") or "unknown"
        shot = lab.get("shot") or record.get("shot") or "unknown"
        clips.append(LibraryClip(name, str(batter), str(shot), record, speed, positions, series))
        folders.append(clip_dir.relative_to(folder).as_posix())
    # names unique: two clips of one name (files of one stem in two folders, one file under two
    # labels) are told apart by their result folder, so none is merged or mistaken for the other
    count = Counter(c.name for c in clips)
    for c, where in zip(clips, folders):
        if count[c.name] > 1:
            c.name = f"{c.name} ({where})"
    return clips, bad


def windows(clips: list[LibraryClip], before_s: float, after_s: float) -> list[tuple[int, int]]:
    """Each clip's bat-centred window ``[start, stop)``, clipped to the clip."""
    out = []
    for c in clips:
        start = max(0, c.peak - to_frames(before_s, c.fps))
        stop = min(len(c.speed), c.peak + to_frames(after_s, c.fps) + 1)
        out.append((start, stop))
    return out


def _zscore(v: np.ndarray) -> np.ndarray:
    return (v - v.mean()) / max(v.std(), 1e-9)


def _batch(series: list[np.ndarray], device) -> tuple[torch.Tensor, torch.Tensor]:
    length = max(len(s) for s in series)
    x = np.zeros((len(series), length, 1))
    for k, s in enumerate(series):
        x[k, : len(s), 0] = s
    return torch.from_numpy(x).to(device), torch.tensor([len(s) for s in series], device=device)


def medoid(series: list[np.ndarray], radius, device="cpu", sample: int | None = None, seed: int = 0) -> int:
    """The series with the least summed banded-DTW cost to the others (to a random sample of
    ``sample`` of them in a large library: the O(B^2) pairs are the cost); all pairs in one batch."""
    idx = np.arange(len(series))
    if sample is not None and len(idx) > sample:
        idx = np.sort(np.random.default_rng(seed).choice(idx, sample, replace=False))
    i, j = np.triu_indices(len(idx), 1)
    if len(i) == 0:
        return int(idx[0])
    x, nx = _batch([series[k] for k in idx[i]], device)
    y, ny = _batch([series[k] for k in idx[j]], device)
    cost = dtw(x, y, nx, ny, radius).cpu().numpy()
    total = np.zeros(len(idx))
    np.add.at(total, i, cost)
    np.add.at(total, j, cost)
    return int(idx[np.argmin(total)])


def frame_map(path: np.ndarray, start: int, length: int, rate: float, smooth: int = 0) -> np.ndarray:
    """Reference frame ``(T,)`` of every clip frame from a warping path ``(L, 2)`` of the
    window starting at ``start``: the mean reference frame the path pairs with it, averaged over
    ``2 * smooth + 1`` frames (where the bat barely moves the path wanders inside the band, a
    warp the signal does not support) and kept non-decreasing; outside the window, continued
    from its edges at ``rate`` reference frames per clip frame."""
    p = path[path[:, 0] >= 0]
    n_win = int(p[:, 0].max()) + 1
    sums = np.bincount(p[:, 0], weights=p[:, 1], minlength=n_win)
    inside = sums / np.bincount(p[:, 0], minlength=n_win)
    if smooth > 0 and n_win > 1:
        # average over the window, extended past its ends at the warp's mean rate
        k = np.arange(-smooth, n_win + smooth)
        slope = (inside[-1] - inside[0]) / (n_win - 1)
        ext = np.interp(k, np.arange(n_win), inside)
        ext[:smooth] = inside[0] + slope * k[:smooth]
        ext[n_win + smooth:] = inside[-1] + slope * (k[n_win + smooth:] - (n_win - 1))
        inside = np.maximum.accumulate(np.convolve(ext, np.ones(2 * smooth + 1) / (2 * smooth + 1), "valid"))
    out = np.empty(length)
    out[start: start + n_win] = inside
    out[:start] = inside[0] - rate * (start - np.arange(start))
    after = np.arange(start + n_win, length)
    out[start + n_win:] = inside[-1] + rate * (after - (start + n_win - 1))
    return out


def align_library(clips: list[LibraryClip], reference: str = "medoid", before_s: float = 1.0, after_s: float = 0.6,
                  radius_s: float | None = None, device="cpu", medoid_sample: int | None = 256,
                  smooth_map: bool = True) -> Alignment:
    """Align every clip's bat-speed window to the reference's (see the module docstring)."""
    if not clips:
        raise ValueError("align: no analysed clips")
    win = windows(clips, before_s, after_s)
    series = [_zscore(c.speed[a:b]) for c, (a, b) in zip(clips, win)]
    radius = None if radius_s is None else max(1, to_frames(radius_s, max(c.fps for c in clips)))
    if reference == "medoid":
        ref = medoid(series, radius, device, medoid_sample)
    else:
        names = [c.name for c in clips]
        if reference not in names:
            raise ValueError(f"align: reference clip '{reference}' is not among the {len(clips)} analysed clips")
        ref = names.index(reference)
    x, nx = _batch(series, device)
    y, ny = _batch([series[ref]] * len(series), device)
    cost, paths = dtw(x, y, nx, ny, radius, path=True)
    paths = paths.cpu().numpy()
    ref_fps = clips[ref].fps
    r = torch.as_tensor(radius) if radius is not None else default_radius(nx, ny)
    smooth = r.expand(len(clips)).tolist() if smooth_map else [0] * len(clips)
    maps = [frame_map(paths[k], a, len(c.speed), ref_fps / c.fps, smooth[k])
            for k, (c, (a, _)) in enumerate(zip(clips, win))]
    return Alignment(ref, win, cost.cpu().numpy(), maps)


def common_ms(al: Alignment, clips: list[LibraryClip], k: int, frame: float) -> float:
    """Clip ``k``'s frame on the common timeline: ms from the reference's peak bat speed."""
    ref = clips[al.reference]
    f = float(np.interp(frame, np.arange(len(al.maps[k])), al.maps[k]))
    return (f + al.window[al.reference][0] - ref.peak) * 1000.0 / ref.fps


def mapped_edges(al: Alignment, clips: list[LibraryClip], k: int) -> list[dict]:
    """Clip ``k``'s ordered links (:func:`corrkin.io.results.timing_links`) with their lags on the common timeline:
    the span that the lag covers from the source's activation, mapped through the warp."""
    rec = clips[k].record
    per_ms = clips[k].fps / 1000.0
    out = []
    for e in timing_links(rec):
        t0 = rec["activation_ms"][e["src"]] * per_ms  # sub-frame where the analysis refines it
        start = common_ms(al, clips, k, t0)
        ci = e.get("lag_ci_ms")
        out.append({"src": e["src"], "dst": e["dst"], "weight": e["weight"], "lag_ms": e["lag_ms"],
                    "lag_ci_ms": ci, "common_lag_ms": common_ms(al, clips, k, t0 + e["lag_ms"] * per_ms) - start})
    return out


UNTESTED = HIP_PAIR + PELVIS_ANKLE_PAIRS  # functions of each other (the default analysis's series)


def batter_links(clips: list[LibraryClip], cfg) -> tuple[list[dict], list[dict]]:
    """Per batter and shot with at least ``cfg.min_swings`` swings: every pair's pooled lag and
    its test of coupling beyond co-timing (:func:`corrkin.library.links.infer_links`), one row
    per pair (``batter, shot`` first), and the batter's chain over the claimed links. Each
    swing is aligned on its impact: the given one (``impact_given_s``) or the peak bat speed."""
    from corrkin.library.links import Swing, infer_links

    groups = defaultdict(list)
    for c in clips:
        if c.series is not None:
            groups[(c.batter, c.shot)].append(c)
    rows, chains = [], []
    for (batter, shot), members in sorted(groups.items()):
        if len(members) < cfg.min_swings:
            continue
        swings = [Swing(c.series, c.fps, c.record.get("impact_given_s") or c.peak / c.fps) for c in members]
        res = infer_links(swings, max_lag_s=cfg.max_lag_s, before_s=cfg.before_s, after_s=cfg.after_s,
                          alpha=cfg.alpha, permutations=cfg.permutations, seed=cfg.seed, untested=UNTESTED,
                          device=cfg.device)
        rows += [{"batter": batter, "shot": shot, **link} for link in res.links]
        chains.append({"batter": batter, "shot": shot, "swings": len(members), "chain": res.chain,
                       "p_floor": res.p_floor, "note": res.note})
    return rows, chains


def resample(al: Alignment, clips: list[LibraryClip], k: int) -> np.ndarray:
    """Clip ``k``'s positions on the reference window's frames ``(W, N, 2)``: for each
    reference frame, the mean of the clip frames mapped nearest to it (NaN where none or missing)."""
    ref_len = al.window[al.reference][1] - al.window[al.reference][0]
    a, b = al.window[k]
    target = np.rint(al.maps[k][a:b]).astype(int)
    pos = clips[k].positions[a:b]
    out = np.full((ref_len,) + pos.shape[1:], np.nan)
    for j in range(ref_len):
        rows = pos[target == j]
        if len(rows):
            ok = ~np.isnan(rows).any(-1)  # (n, N)
            cnt = ok.sum(0)
            s = np.where(ok[..., None], rows, 0.0).sum(0)
            out[j] = np.where(cnt[:, None] > 0, s / np.maximum(cnt, 1)[:, None], np.nan)
    return out


def procrustes_templates(trajs: np.ndarray, groups: list[str], iters: int = 5) -> tuple[dict, np.ndarray, np.ndarray]:
    """Generalised Procrustes per group: ``({group: template (W, N, 2)}, aligned (B, W, N, 2),
    distance (B,))``, distance the RMS point distance (shoulder widths) of each aligned clip to
    its group's template. Similarity alignment (scale, rotation, translation) over all valid
    points of the clip's whole swing."""
    x = torch.from_numpy(np.nan_to_num(trajs))
    mask = torch.from_numpy(~np.isnan(trajs).any(-1))
    aligned = x.clone()
    templates = {}
    for g in sorted(set(groups)):
        sel = torch.tensor([k for k, gg in enumerate(groups) if gg == g])
        xs, ms = x[sel], mask[sel]
        tmpl = _masked_mean(xs, ms)
        for _ in range(iters):
            al, *_ = procrustes(xs, tmpl.expand_as(xs).contiguous(), ms.to(xs.dtype))
            tmpl = _masked_mean(al, ms)
        templates[g] = tmpl.numpy()
        aligned[sel] = al
    dist = np.array([_rms(aligned[k], torch.from_numpy(templates[g]), mask[k]) for k, g in enumerate(groups)])
    return templates, aligned.numpy(), dist


def distance_to(traj: np.ndarray, template: np.ndarray) -> float:
    """RMS distance of ``traj (W, N, 2)`` to ``template`` after the best similarity transform."""
    x = torch.from_numpy(np.nan_to_num(traj))[None]
    m = torch.from_numpy(~np.isnan(traj).any(-1))[None]
    t = torch.from_numpy(np.nan_to_num(template))[None]
    m = m & torch.from_numpy(~np.isnan(template).any(-1))[None]
    al, *_ = procrustes(x, t, m.to(x.dtype))
    return _rms(al[0], t[0], m[0])


def _masked_mean(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    w = m.to(x.dtype)[..., None]
    return (x * w).sum(0) / w.sum(0).clamp_min(1)


def _rms(a: torch.Tensor, b: torch.Tensor, m: torch.Tensor) -> float:
    d = ((a - b) ** 2).sum(-1)
    n = int(m.sum())
    return float(torch.sqrt((d * m).sum() / n)) if n else float("nan")


def aggregate(clips: list[LibraryClip], edges: list[list[dict]], key: str) -> tuple[list[dict], list[dict]]:
    """Per group of ``key`` (``"shot"`` or ``"batter"``): one row per edge seen (``count``,
    ``frequency`` in the group, mean and spread of its common-timeline lag with the mean's 95 %
    interval (NaN from a single clip), mean raw lag and the mean half-width of the clips' own
    95 % lag intervals) and
    one row per path seen (``count``, ``frequency``, ``rank`` 1 = most frequent)."""
    by_group = defaultdict(list)
    for k, c in enumerate(clips):
        by_group[getattr(c, key)].append(k)
    edge_rows, path_rows = [], []
    for g in sorted(by_group):
        members = by_group[g]
        lags = defaultdict(list)
        raw = defaultdict(list)
        half = defaultdict(list)
        for k in members:
            for e in edges[k]:
                lags[(e["src"], e["dst"])].append(e["common_lag_ms"])
                raw[(e["src"], e["dst"])].append(e["lag_ms"])
                if e.get("lag_ci_ms"):
                    half[(e["src"], e["dst"])].append((e["lag_ci_ms"][1] - e["lag_ci_ms"][0]) / 2)
        order = {n: i for i, n in enumerate(NODES)}
        for (src, dst), v in sorted(lags.items(), key=lambda kv: (-len(kv[1]), order[kv[0][0]], order[kv[0][1]])):
            sd = float(np.std(v, ddof=1)) if len(v) > 1 else float("nan")
            se = sd / np.sqrt(len(v))  # the group mean's 95 % interval, from the spread across clips
            hw = half[(src, dst)]
            edge_rows.append({key: g, "src": src, "dst": dst, "clips": len(members), "count": len(v),
                              "frequency": len(v) / len(members), "lag_ms_mean": float(np.mean(v)),
                              "lag_ms_std": sd if len(v) > 1 else 0.0,
                              "lag_ms_mean_ci_low": float(np.mean(v) - Z95 * se),
                              "lag_ms_mean_ci_high": float(np.mean(v) + Z95 * se),
                              "raw_lag_ms_mean": float(np.mean(raw[(src, dst)])),
                              "raw_lag_ci_halfwidth_ms_mean": float(np.mean(hw)) if hw else float("nan")})
        paths = Counter(" > ".join(clips[k].record["path"]) or "(none)" for k in members)
        for rank, (p, n) in enumerate(sorted(paths.items(), key=lambda kv: (-kv[1], kv[0])), 1):
            path_rows.append({key: g, "rank": rank, "path": p, "count": n, "clips": len(members),
                              "frequency": n / len(members)})
    return edge_rows, path_rows
