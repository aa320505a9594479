"""The whole analysis as one batched pass over a :class:`~corrkin.io.keypoints.KeypointBatch`,
as named stages (:func:`analyse` calls them in this order):

1. :func:`read_nodes`: the 13 joints and the bat tip, their validity and the gaps to fill;
2. :func:`shoulder_scale`: the median shoulder width, the unit of every length;
3. :func:`hands_and_bat`: bat tip and wrists about the pelvis, Savitzky–Golay smoothed,
   centred-difference velocities;
4. :func:`swing_reference`: the bat tip's peak speed (the faster wrist's with no bat);
5. :func:`analysis_window`: the frames analysed around it;
6. :func:`swing_axis`: the principal direction of that trace;
7. :func:`speed_series`: every node's speed, pelvis-centred (or, ``signal=axis``,
   :func:`axis_series`: its velocity along the swing axis);
8. :func:`bat_turn`: the top hand, the bat's angle and its rate;
9. :func:`activation_times`: each node's peak, below a frame, with its error;
10. :func:`coupling`: lagged cross-correlations of every pair (a descriptive similarity of two
    speed profiles), their sub-frame lags with 95 % intervals, the pairs those intervals order,
    and the test of coupling (circular-shift surrogates, Benjamini–Hochberg) behind the edges;
11. the maximum-weight path from the sources to the bat over the ordered pairs (the timing path,
    :func:`corrkin.ops.max_weight_path`), the quality evidence and the pelvis-centred positions
    (:func:`centred_positions`).

Every step is a batched op from :mod:`corrkin.ops`; there is no loop over clips, and a clip's
result does not depend on the other clips of its batch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange

from corrkin import ops
from corrkin.analysis.checks import validate_clip  # noqa: F401  (re-exported)
from corrkin.analysis.quality import quality_block, swing_evidence
from corrkin.config import AnalysisConfig, as_object
from corrkin.io.keypoints import KeypointBatch
from corrkin.io.results import path_links
from corrkin.ops import robust
from corrkin.ops.significance import circular_shift_test
from corrkin.ops.timing import Z95
from corrkin.skeleton import ADJACENT, BAT, HIP_PAIR, JOINT_INDEX, NODE_INDEX, NODES, PELVIS_ANKLE_PAIRS
from corrkin.timing import noise_window, savgol_window, to_frames

PELVIS, L_SH, R_SH = JOINT_INDEX["pelvis"], JOINT_INDEX["l_shoulder"], JOINT_INDEX["r_shoulder"]
L_ANK, R_ANK = JOINT_INDEX["l_ankle"], JOINT_INDEX["r_ankle"]
L_WR, R_WR = JOINT_INDEX["l_wrist"], JOINT_INDEX["r_wrist"]


@dataclass
class AnalysisOutput:
    """Batched results, every tensor on the batch's device (``B`` clips, ``N`` = 14 nodes)."""

    series: torch.Tensor  # (B, N, T) speed (or velocity along the swing axis), shoulder widths / s
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
    seen: torch.Tensor  # (B, N) bool: the node seen in some analysed frame (else its times are withheld)
    weight: torch.Tensor  # (B, N, N)
    lag: torch.Tensor  # (B, N, N) frames
    lag_sub: torch.Tensor  # (B, N, N) frames, refined below a frame
    lag_se: torch.Tensor  # (B, N, N) its standard error, frames (inf: not resolved)
    n_eff: torch.Tensor  # (B, N, N) effective sample size of each pair's test
    resolved: torch.Tensor  # (B, N, N) bool, the lag orders the pair (see correlation_edges)
    p: torch.Tensor  # (B, N, N)
    q: torch.Tensor  # (B, N, N)
    edge: torch.Tensor  # (B, N, N) bool: a claimed coupling
    ordered: torch.Tensor  # (B, N, N) bool: the timing path's links (the edges with lag1 / acf)
    tested: torch.Tensor  # (B, N, N) bool: the pairs correlated
    p_floor: torch.Tensor  # (B,) the least p-value a clip's test can give (0 for lag1 / acf)
    path: torch.Tensor  # (B, N) node indices, -1 padded
    path_weight: torch.Tensor  # (B,)
    reaches: torch.Tensor  # (B,) bool
    max_lag: torch.Tensor  # (B,) frames
    windows: list[int]  # smoothing window per clip, frames
    positions: torch.Tensor | None = None  # (B, N, 2, T) pelvis-centred, / scale; NaN where not valid
    evidence: dict[str, torch.Tensor] | None = None  # (B,) each, corrkin.analysis.quality.swing_evidence
    swaps: torch.Tensor | None = None  # (B, P) frames with left/right labels exchanged (robust front end)
    glitches: torch.Tensor | None = None  # (B,) points replaced by the Hampel filter


def _dtype(name: str) -> torch.dtype:
    dt = getattr(torch, name, None)
    if not isinstance(dt, torch.dtype) or not dt.is_floating_point:
        raise ValueError(f"analysis.dtype: '{name}' is not a torch floating-point dtype")
    return dt


def _pair_mask(pairs) -> torch.Tensor:
    """``(N, N)`` bool, symmetric: the named node pairs."""
    out = torch.zeros(len(NODES), len(NODES), dtype=torch.bool)
    for a, b in pairs:
        out[NODE_INDEX[a], NODE_INDEX[b]] = out[NODE_INDEX[b], NODE_INDEX[a]] = True
    return out


def _dependent_pairs(cfg: AnalysisConfig) -> torch.Tensor:
    """``(N, N)`` pairs whose series are functions of each other by construction, never tested:
    the hips (the pelvis is their midpoint, so one hip's series is minus the other's) and, with
    ``pelvis_signal=ankles``, the pelvis and each ankle (the pelvis's series is minus the mean of
    the two ankles' series). Their correlation says nothing about coupling."""
    return _pair_mask(HIP_PAIR + (PELVIS_ANKLE_PAIRS if cfg.pelvis_signal == "ankles" else ()))


def _route(cfg: AnalysisConfig) -> torch.Tensor:
    """``(N, N)`` the pairs a path may use (symmetric; the order comes from the data)."""
    if cfg.path_links == "any":
        return torch.ones(len(NODES), len(NODES), dtype=torch.bool)
    return _pair_mask(ADJACENT)


@dataclass
class Nodes:
    """A batch's 13 joints and bat tip as the stages read them (``N`` = 14 nodes)."""

    pose: torch.Tensor  # (B, N, 2, T) pixels, in the analysis's dtype
    scores: torch.Tensor  # (B, N, T)
    valid: torch.Tensor  # (B, N, T) bool: a frame of the clip where the node counts as seen
    filled: torch.Tensor  # (B, N) fraction of the clip's frames to be filled
    gaps: bool  # whether anything is to be filled at all (one look at the values per batch)
    swaps: torch.Tensor | None = None  # (B, P) frames whose left/right labels were exchanged, per SWAP_PAIRS
    glitches: torch.Tensor | None = None  # (B,) points replaced by the Hampel filter

    def fill(self, x: torch.Tensor, idx) -> torch.Tensor:
        """``x`` (nodes ``idx`` of ``pose``, or a series per node) with its gaps interpolated."""
        if not self.gaps:
            return x
        return ops.fill_gaps(x, self.valid[:, idx, None] if x.ndim == 4 else self.valid[:, idx])


TIP, LEFT, RIGHT = 0, 1, 2  # the rows of HandsAndBat: the bat tip, the left wrist, the right wrist


@dataclass
class HandsAndBat:
    """The bat tip and both wrists relative to the pelvis, in shoulder widths: the 2-D work the
    swing's reference needs (rows :data:`TIP`, :data:`LEFT`, :data:`RIGHT`)."""

    rel: torch.Tensor  # (B, 3, 2, T) positions
    smooth: torch.Tensor  # (B, 3, 2, T) Savitzky–Golay smoothed
    velocity: torch.Tensor  # (B, 3, 2, T) per second
    speed: torch.Tensor  # (B, 3, T)
    grip: torch.Tensor  # (B, 2, T) the tip about the wrists' midpoint, smoothed (the bat's own turn)
    grip_velocity: torch.Tensor  # (B, 2, T) its velocity per second


@dataclass
class SwingReference:
    """Where the swing is: the bat tip's peak speed, or, in a clip where no bat was seen at all,
    the faster wrist's."""

    has_bat: torch.Tensor  # (B,) bool
    lead: torch.Tensor  # (B,) the row of HandsAndBat followed: TIP, or a wrist (LEFT, RIGHT)
    peak: torch.Tensor  # (B,) frame of its peak speed
    direction: torch.Tensor  # (B, 2) its velocity there (orients the swing axis)


SWAP_PAIRS = tuple((JOINT_INDEX[f"l_{k}"], JOINT_INDEX[f"r_{k}"]) for k in ("wrist", "elbow", "knee", "ankle"))
SWAP_NAMES = ("wrists", "elbows", "knees", "ankles")


# the rows the swing reference and the scale read (bat, wrists, pelvis, shoulders): mended over
# the whole clip; the others only around the frames analysed (mend_window)
WHOLE_CLIP_ROWS = [BAT, L_WR, R_WR, PELVIS, L_SH, R_SH]
WINDOW_ROWS = [k for k in range(len(NODES)) if k not in WHOLE_CLIP_ROWS]


def _hampel_halves(fps_list: list[float], cfg: AnalysisConfig) -> list[int]:
    return [max(1, to_frames(cfg.hampel_window_s / 2, f)) for f in fps_list]


def robust_front_end(pose: torch.Tensor, scores: torch.Tensor, valid: torch.Tensor, fps_list: list[float],
                     cfg: AnalysisConfig, rows: list[int] | None = None):
    """``(pose, scores, valid, swaps (B, P), glitches (B,))``: left/right swaps of the limbs
    undone (:func:`corrkin.ops.robust.repair_swaps`), then glitches of the nodes ``rows`` (all:
    None) replaced by the window's median (:func:`corrkin.ops.robust.hampel`, half-window
    ``hampel_window_s / 2``, a floor of one pixel on the robust sigma), on the valid frames."""
    pose, scores, swapped = robust.repair_swaps(pose, valid, SWAP_PAIRS, scores)
    valid = robust.apply_swaps(valid, SWAP_PAIRS, swapped)
    rows = list(range(pose.shape[1])) if rows is None else rows
    mended, outlier = robust.hampel(pose[:, rows], valid[:, rows], _hampel_halves(fps_list, cfg), cfg.hampel_sigmas,
                                    min_scale=1.0)
    pose = pose.clone()
    pose[:, rows] = mended
    return pose, scores, valid, swapped.sum(-1), outlier.sum((1, 2))


def mend_window(nodes: Nodes, used: torch.Tensor, windows: list[int], fps_list: list[float],
                cfg: AnalysisConfig) -> Nodes:
    """The Hampel filter on the nodes not yet mended (:data:`WINDOW_ROWS`), over the frames
    analysed and a margin (half the smoothing window, half the filter's, one frame): every
    value the series of the frames analysed read is what the filter over the whole clip gives,
    at a fraction of its cost (a 0.8-s window of a 12-s clip). Frames outside keep their swap
    repair only."""
    if not cfg.robust or not WINDOW_ROWS:
        return nodes
    halves = _hampel_halves(fps_list, cfg)
    t = used.shape[1]
    count = used.sum(1)
    first = torch.where(count > 0, used.to(torch.int8).argmax(1), torch.zeros_like(count))
    margin = torch.tensor([w // 2 + h + 1 for w, h in zip(windows, halves)], device=used.device)
    start = (first - margin).clamp_min(0)
    stop = torch.minimum(first + count + margin, used.new_full(count.shape, t, dtype=torch.long))
    width = int((stop - start).max())
    offset = torch.arange(width, device=used.device)
    idx = (start[:, None] + offset[None]).clamp_max(t - 1)  # (B, W)
    inside = offset[None] < (stop - start)[:, None]
    rows = WINDOW_ROWS
    bsz, r = len(fps_list), len(rows)
    x = nodes.pose[:, rows].gather(-1, idx[:, None, None].expand(bsz, r, 2, width))
    v = nodes.valid[:, rows].gather(-1, idx[:, None].expand(bsz, r, width)) & inside[:, None]
    mended, outlier = robust.hampel(x, v, halves, cfg.hampel_sigmas, min_scale=1.0)
    b_idx, w_idx = inside.nonzero(as_tuple=True)
    part = nodes.pose[:, rows].clone()
    part[b_idx, :, :, idx[b_idx, w_idx]] = mended[b_idx, :, :, w_idx]
    pose = nodes.pose.clone()
    pose[:, rows] = part
    glitches = nodes.glitches + outlier.sum((1, 2)) if nodes.glitches is not None else None
    return replace(nodes, pose=pose, glitches=glitches)


def read_nodes(batch: KeypointBatch, cfg: AnalysisConfig, dtype: torch.dtype) -> Nodes:
    """The joints and the bat as ``(B, N, 2, T)`` positions with their validity: a score below
    ``min_confidence`` is a gap to fill (``fill_gaps``); without filling every frame counts, as
    in the original. With ``robust``, swaps and glitches are mended first
    (:func:`robust_front_end`)."""
    bsz, t = batch.frame_mask.shape
    in_clip = batch.frame_mask
    nodes = torch.cat([batch.keypoints, batch.bat[:, :, None]], 2).to(dtype)
    pose = rearrange(nodes, "b t n xy -> b n xy t").contiguous()
    scores = rearrange(torch.cat([batch.scores, batch.bat_scores[:, :, None]], 2), "b t n -> b n t")
    if cfg.fill_gaps:
        valid = in_clip[:, None] & (scores >= cfg.min_confidence)
    else:
        valid = in_clip[:, None].expand(bsz, len(NODES), t)
    swaps = glitches = None
    if cfg.robust:
        pose, scores, valid, swaps, glitches = robust_front_end(pose, scores, valid, batch.fps.tolist(), cfg,
                                                                WHOLE_CLIP_ROWS)
    filled = 1 - valid.sum(2).to(dtype) / batch.lengths.to(dtype).clamp_min(1)[:, None]
    gaps = cfg.fill_gaps and bool((in_clip[:, None] & ~valid).any())
    return Nodes(pose, scores, valid, filled, gaps, swaps, glitches)


def shoulder_scale(nodes: Nodes) -> torch.Tensor:
    """``(B,)`` the median shoulder width, pixels, over frames where both shoulders are valid."""
    sh = nodes.pose[:, [L_SH, R_SH]]
    d = sh[:, 0] - sh[:, 1]
    return ops.median_scale(torch.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1]),
                            nodes.valid[:, L_SH] & nodes.valid[:, R_SH])


def hands_and_bat(nodes: Nodes, scale: torch.Tensor, windows: list[int], order: int, lengths: torch.Tensor,
                  fps: torch.Tensor) -> HandsAndBat:
    """The bat tip and the wrists relative to the pelvis, scaled, smoothed, differentiated."""
    rows = [BAT, L_WR, R_WR, PELVIS]  # TIP, LEFT, RIGHT, and the pelvis they are taken about
    xy = nodes.fill(nodes.pose[:, rows], rows)
    rel = (xy[:, :3] - xy[:, 3:4]) / scale[:, None, None, None]
    smooth = ops.savgol_filter(rel, windows, order, lengths)
    velocity = ops.central_difference(smooth, lengths) * fps[:, None, None, None]
    speed = torch.sqrt(velocity[:, :, 0] * velocity[:, :, 0] + velocity[:, :, 1] * velocity[:, :, 1])
    grip = smooth[:, TIP] - (smooth[:, LEFT] + smooth[:, RIGHT]) / 2  # linear: the smoothed difference
    grip_velocity = velocity[:, TIP] - (velocity[:, LEFT] + velocity[:, RIGHT]) / 2
    return HandsAndBat(rel, smooth, velocity, speed, grip, grip_velocity)


def swing_reference(hb: HandsAndBat, nodes: Nodes, batch: KeypointBatch, cfg: AnalysisConfig) -> SwingReference:
    """The swing's peak: the frame of the bat tip's greatest speed about the hands' midpoint
    (``swing_peak=grip``: the bat's own turn, which peaks at impact, while the tip's speed about
    the pelvis also carries the arms and can peak in the backlift at low frame rates) or about
    the pelvis (``pelvis``, the seed), one-sided beside frames the tip was not seen in
    (:func:`_seen_velocity`); the faster
    wrist's about the pelvis in a clip where no bat was seen at all. Its direction (the lead
    point's velocity about the pelvis at the peak) orients the swing axis."""
    in_clip = batch.frame_mask
    t = in_clip.shape[1]
    has_bat = (nodes.valid[:, BAT] & in_clip).any(1) if cfg.fill_gaps else (batch.bat_scores > 0).any(1)
    speed = hb.speed
    faster_wrist = torch.where(speed[:, LEFT].amax(1) >= speed[:, RIGHT].amax(1), LEFT, RIGHT)
    lead = torch.where(has_bat, TIP, faster_wrist)
    pelvis_v = hb.velocity.gather(1, lead[:, None, None, None].expand(-1, 1, 2, t))[:, 0]
    seen = nodes.valid[:, [BAT, L_WR, R_WR]].gather(1, lead[:, None, None].expand(-1, 1, t))[:, 0] & in_clip
    lead_x, lead_v = hb.smooth.gather(1, lead[:, None, None, None].expand(-1, 1, 2, t))[:, 0], pelvis_v
    if cfg.swing_peak == "grip":  # the tip about the hands where a bat was seen
        lead_x = torch.where(has_bat[:, None, None], hb.grip, lead_x)
        lead_v = torch.where(has_bat[:, None, None], hb.grip_velocity, lead_v)
    peak_v = _seen_velocity(lead_x, lead_v, seen, in_clip, batch.fps.to(lead_v.dtype))
    lead_speed = torch.sqrt(peak_v[:, 0] * peak_v[:, 0] + peak_v[:, 1] * peak_v[:, 1])
    peak = torch.where(in_clip, lead_speed, -torch.inf).argmax(1)
    direction = torch.gather(pelvis_v, 2, peak[:, None, None].expand(len(peak), 2, 1)).squeeze(-1)
    return SwingReference(has_bat, lead, peak, direction)


def _seen_velocity(smooth: torch.Tensor, velocity: torch.Tensor, seen: torch.Tensor, in_clip: torch.Tensor,
                   fps: torch.Tensor) -> torch.Tensor:
    """``(B, 2, T)`` the followed point's velocity, its difference taken one-sided at a seen
    frame beside a gap (towards the seen neighbour): a tip that leaves the picture after impact
    keeps its speed at impact instead of the average with the straight line that filling draws
    across the gap. Filled frames keep the filled line's speed (a swing lost in a gap still
    falls in it, and the bat's coverage check then says the bat cannot be timed). Where every
    frame is seen this is the central difference, bit for bit."""
    prev_seen = F.pad(seen[:, :-1], (1, 0))
    next_seen = F.pad(seen[:, 1:], (0, 1))
    edge = in_clip & ~(F.pad(in_clip[:, :-1], (1, 0)) & F.pad(in_clip[:, 1:], (0, 1)))
    back = (smooth - F.pad(smooth[..., :-1], (1, 0))) * fps[:, None, None]
    ahead = (F.pad(smooth[..., 1:], (0, 1)) - smooth) * fps[:, None, None]
    one_sided = torch.where(next_seen[:, None], ahead, back)
    beside_gap = seen & ~(prev_seen & next_seen) & (prev_seen | next_seen) & ~edge
    return torch.where(beside_gap[:, None], one_sided, velocity)


def analysis_window(frame_mask: torch.Tensor, peak: torch.Tensor, fps: torch.Tensor, window) -> torch.Tensor:
    """``(B, T)`` the frames analysed: the clip, cut to ``window`` around the peak where set."""
    used = frame_mask
    frame = torch.arange(frame_mask.shape[1], device=frame_mask.device)[None]
    if window.before_s is not None:
        used = used & (frame >= (peak - torch.round(window.before_s * fps).long())[:, None])
    if window.after_s is not None:
        used = used & (frame <= (peak + torch.round(window.after_s * fps).long())[:, None])
    return used


def swing_axis(hb: HandsAndBat, ref: SwingReference, used: torch.Tensor) -> torch.Tensor:
    """``(B, 2)`` the in-plane swing axis: the principal direction of the followed point's
    trace over the frames analysed, pointing along its velocity at the peak."""
    t = used.shape[1]
    trace = hb.rel.gather(1, ref.lead[:, None, None, None].expand(-1, 1, 2, t))[:, 0]
    return ops.swing_axis(trace.transpose(1, 2), used, ref.direction)


def axis_series(nodes: Nodes, axis: torch.Tensor, scale: torch.Tensor, windows: list[int], lengths: torch.Tensor,
                fps: torch.Tensor, cfg: AnalysisConfig) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(raw, smooth, series)``, each ``(B, N, T)``: every node projected on the swing axis,
    filled, centred on the pelvis (the pelvis itself over the mid-ankle with
    ``pelvis_signal=ankles``), scaled, smoothed, and its velocity per second. Everything is
    linear in space, so it projects first and works on series, not positions."""
    pose = nodes.pose
    proj = nodes.fill(pose[:, :, 0] * axis[:, 0, None, None] + pose[:, :, 1] * axis[:, 1, None, None], slice(None))
    root = proj[:, PELVIS: PELVIS + 1]
    centred = proj - root
    if cfg.pelvis_signal == "ankles":
        pelvis = root - (proj[:, L_ANK: L_ANK + 1] + proj[:, R_ANK: R_ANK + 1]) / 2
        centred = torch.cat([centred[:, :PELVIS], pelvis, centred[:, PELVIS + 1:]], 1)
    raw = centred / scale[:, None, None]
    smooth = ops.savgol_filter(raw, windows, cfg.smooth_order, lengths)
    series = ops.central_difference(smooth, lengths) * fps[:, None, None]
    return raw, smooth, series


def bat_turn(hb: HandsAndBat, frame_mask: torch.Tensor, top_hand: str, lengths: torch.Tensor,
             fps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(top hand's node, bat angle, its rate)``: the top hand is the wrist further from the
    bat tip (``auto``, median over the clip) or the one configured."""
    if top_hand == "auto":
        gap = hb.smooth[:, LEFT: RIGHT + 1] - hb.smooth[:, TIP: TIP + 1]  # each wrist to the tip
        dist = torch.sqrt(gap[:, :, 0] * gap[:, :, 0] + gap[:, :, 1] * gap[:, :, 1])
        median = ops.masked_median(dist, frame_mask[:, None])
        left_top = median[:, 0] >= median[:, 1]
    else:
        left_top = torch.full((len(lengths),), top_hand == "left", device=frame_mask.device)
    hand = torch.where(left_top[:, None, None], hb.smooth[:, LEFT], hb.smooth[:, RIGHT])
    angle, omega = ops.bat_angular_velocity(hb.smooth[:, TIP].transpose(1, 2), hand.transpose(1, 2), lengths, fps)
    return torch.where(left_top, L_WR, R_WR), angle, omega


def speed_series(nodes: Nodes, scale: torch.Tensor, windows: list[int], lengths: torch.Tensor, fps: torch.Tensor,
                 cfg: AnalysisConfig) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(raw, smooth, series)``: every node's pelvis-centred position ``(B, N, 2, T)`` (the
    pelvis itself over the mid-ankle with ``pelvis_signal=ankles``), in shoulder widths, filled
    and Savitzky–Golay smoothed, and its speed ``(B, N, T)`` per second: the speed profile whose
    peak is the node's activation (the kinematic sequence's peak speed)."""
    pose = nodes.fill(nodes.pose, slice(None))
    root = pose[:, PELVIS: PELVIS + 1]
    centred = pose - root
    if cfg.pelvis_signal == "ankles":
        pelvis = root - (pose[:, L_ANK: L_ANK + 1] + pose[:, R_ANK: R_ANK + 1]) / 2
        centred = torch.cat([centred[:, :PELVIS], pelvis, centred[:, PELVIS + 1:]], 1)
    raw = centred / scale[:, None, None, None]
    smooth = ops.savgol_filter(raw, windows, cfg.smooth_order, lengths)
    v = ops.central_difference(smooth, lengths) * fps[:, None, None, None]
    return raw, smooth, torch.sqrt(v[:, :, 0] * v[:, :, 0] + v[:, :, 1] * v[:, :, 1])


def activation_times(raw, smooth, series, nodes: Nodes, used, windows, fps, cfg: AnalysisConfig):
    """``(t_act, t_sub, t_se)`` per node from ``series`` (smoothed over ``windows``; ``raw`` and
    ``smooth``, over :func:`corrkin.timing.noise_window`'s, measure the noise): whole frames of
    peak speed, refined below a frame with
    standard errors (``test=acf``: a peak fit over half the smoothing window, the pixel noise
    measured robustly from what the smoothing removed (median absolute residual, scaled to a
    standard deviation for white noise through that smoother; where the window does not
    smooth, what the least smoother removes, :func:`corrkin.timing.noise_window`), carried
    through the fit, :func:`corrkin.ops.fit_peak_times`; the error adds in quadrature how far
    the vertex moves when the fit spans one frame either side and one frame wider, the misfit
    of a lopsided peak to the fit's Gaussian, which the noise does not carry: on filmed 3-D
    strokes the noise alone gave intervals that held the true peak in 37-41 % of nodes, with
    the misfit 54-60 %), or whole frames with no interval (the seed's test)."""
    if cfg.test == "lag1":
        t_act = ops.activation_frames(series, used)
        return t_act, t_act.to(series.dtype), torch.full(t_act.shape, torch.inf, dtype=series.dtype,
                                                         device=series.device)
    per_frame, valid = series / fps[:, None, None], nodes.valid & used[:, None]
    halves = [max(w // 2, 1) for w in windows]
    lags = 2 * max(halves)
    acov = torch.tensor([ops.smoothing_noise_gains(w, cfg.smooth_order, lags)[1] for w in windows],
                        dtype=raw.dtype, device=raw.device)
    readers = [noise_window(w, cfg.smooth_order) for w in windows]  # ``smooth``'s windows
    res_var = torch.tensor([ops.smoothing_noise_gains(w, cfg.smooth_order, 0)[0] for w in readers],
                           dtype=raw.dtype, device=raw.device)
    resid = (raw - smooth).abs()
    if resid.ndim == 4:  # both coordinates of a speed's path: one noise scale
        resid, valid = resid.flatten(2, 3), valid[:, :, None].expand(-1, -1, 2, -1).flatten(2, 3)
    mad = ops.masked_median(resid, valid)
    sigma = 1.482602218505602 * torch.nan_to_num(mad) / torch.sqrt(res_var)[:, None]
    half = torch.tensor(halves, device=raw.device)
    t_act, t_sub, t_se = ops.fit_peak_times(per_frame, used, half, sigma, acov)
    # the misfit: a lopsided peak moves the vertex with the fit's width, which noise alone does not
    narrow = ops.fit_peak_times(per_frame, used, torch.ones_like(half))[1]
    wide = ops.fit_peak_times(per_frame, used, half + 1)[1]
    return t_act, t_sub, torch.sqrt(t_se * t_se + (t_sub - narrow) ** 2 + (t_sub - wide) ** 2)


def seen_nodes(nodes: Nodes, used: torch.Tensor, cfg: AnalysisConfig) -> torch.Tensor:
    """``(B, N)`` bool: the nodes whose series rest on points seen in the analysed frames (the
    pelvis over the ankles needs both ankles too); the others' series are fills, not data."""
    seen = (nodes.valid & used[:, None]).any(2)
    if cfg.pelvis_signal == "ankles":
        seen = seen.clone()
        seen[:, PELVIS] = seen[:, PELVIS] & seen[:, L_ANK] & seen[:, R_ANK]
    return seen


def coupling(series, used, t_sub, seen: torch.Tensor, fps: torch.Tensor, fps_list: list[float],
             cfg: AnalysisConfig) -> tuple[dict, torch.Tensor]:
    """The lagged cross-correlation of every pair of nodes seen (``seen``, :func:`seen_nodes`) and
    its test: ``(edges, max_lag)``, ``edges`` as :func:`corrkin.ops.correlation_edges` gives them
    (weight, lag, p, q, edge...); the lags searched are sized by the clips' own frame rates
    (``fps_list``)."""
    z = ops.zscore(series, used)
    max_lag = torch.round(cfg.max_lag_s * fps).long()
    lag_cap = max(to_frames(cfg.max_lag_s, f) for f in fps_list)
    xc = ops.lagged_xcorr(z, used, lag_cap)
    r1 = ops.lag1_autocorrelation(series, used) if cfg.test == "lag1" else None
    shift = circular_shift_test(z, used, max_lag) if cfg.test == "shift" else None
    edges = ops.correlation_edges(xc, t_sub, used.sum(1), r1, max_lag, seen, theta=cfg.theta, alpha=cfg.alpha,
                                  min_lag=cfg.min_lag_frames, fdr=cfg.fdr, test=cfg.test,
                                  untested=_dependent_pairs(cfg) if cfg.test != "lag1" else None,
                                  p_shift=shift["p"] if shift is not None else None)
    edges["p_floor"] = shift["floor"] if shift is not None else torch.zeros_like(fps)
    return edges, max_lag


def centred_positions(nodes: Nodes, scale: torch.Tensor) -> torch.Tensor:
    """``(B, N, 2, T)`` pelvis-centred positions in shoulder widths, NaN where not valid."""
    pose, valid = nodes.pose, nodes.valid
    centre = pose[:, PELVIS: PELVIS + 1]
    return torch.where(valid[:, :, None] & valid[:, PELVIS: PELVIS + 1, None],
                       (pose - centre) / scale[:, None, None, None], torch.nan)


def analyse(batch: KeypointBatch, cfg: AnalysisConfig) -> AnalysisOutput:
    """Run the analysis on every clip of ``batch`` at once (on the batch's device): the stages
    above, in the order of this module's docstring."""
    cfg = as_object(cfg)  # a composed config as its dataclass
    cfg.validate()  # as at composition: a config built in code may have been changed since
    dtype = _dtype(cfg.dtype)
    fps_list = batch.fps.tolist()
    fps, lengths, in_clip = batch.fps.to(dtype), batch.lengths, batch.frame_mask
    windows = [savgol_window(cfg.smooth_window_s, f, cfg.smooth_order) for f in fps_list]  # peaks and times
    shapes = [noise_window(w, cfg.smooth_order) for w in windows]  # the correlations: smoothed at least this much

    nodes = read_nodes(batch, cfg, dtype)
    scale = shoulder_scale(nodes)
    hb = hands_and_bat(nodes, scale, windows, cfg.smooth_order, lengths, fps)
    ref = swing_reference(hb, nodes, batch, cfg)
    used = analysis_window(in_clip, ref.peak, fps, cfg.window)
    nodes = mend_window(nodes, used, shapes, fps_list, cfg)
    axis = swing_axis(hb, ref, used)

    def node_series(w: list[int]):
        return (speed_series(nodes, scale, w, lengths, fps, cfg) if cfg.signal == "speed"
                else axis_series(nodes, axis, scale, w, lengths, fps, cfg))

    raw, smooth, series = node_series(shapes)
    timing = series if shapes == windows else node_series(windows)[2]
    top_hand, angle, omega = bat_turn(hb, in_clip, cfg.top_hand, lengths, fps)
    t_act, t_sub, t_se = activation_times(raw, smooth, timing, nodes, used, windows, fps, cfg)
    seen = seen_nodes(nodes, used, cfg)
    tests, max_lag = coupling(series, used, t_sub, seen, fps, fps_list, cfg)
    route = tests["ordered"] & _route(cfg).to(tests["ordered"].device)
    path, path_weight, reaches = ops.max_weight_path(
        tests["weight"], route, [NODE_INDEX[s] for s in cfg.sources], NODE_INDEX[cfg.target])
    evidence = swing_evidence(nodes.scores.to(dtype), in_clip, ref.peak, fps, cfg.min_confidence, cfg.quality)
    return AnalysisOutput(
        positions=centred_positions(nodes, scale), evidence=evidence, swaps=nodes.swaps, glitches=nodes.glitches, series=series, v_tip=hb.speed[:, TIP],
        angle=angle, omega=omega, axis=axis, scale=scale, frames_used=used, bat_peak=ref.peak,
        has_bat=ref.has_bat, top_hand=top_hand, t_act=t_act, t_sub=t_sub, t_se=t_se, filled=nodes.filled,
        seen=seen,
        weight=tests["weight"], lag=tests["lag"], lag_sub=tests["lag_sub"], lag_se=tests["lag_se"],
        n_eff=tests["n_eff"], resolved=tests["resolved"], p=tests["p"], q=tests["q"], edge=tests["edge"],
        ordered=tests["ordered"], tested=tests["tested"], p_floor=tests["p_floor"], path=path,
        path_weight=path_weight,
        reaches=reaches, max_lag=max_lag, windows=windows,
    )


def _sig(x: float, digits: int = 6) -> float:
    return float(f"{x:.{digits}g}")


def _interval(value: float, se: float, span: tuple[float, float] | None = None) -> list[float] | None:
    """A 95 % interval ``[low, high]`` (3 decimals), or None where the error cannot be told;
    within ``span``, the values the quantity can take, where given (an interval wider than what
    was searched says no more than the search's bounds)."""
    if not np.isfinite(se):
        return None
    low, high = value - Z95 * se, value + Z95 * se
    if span is not None:
        low, high = max(low, span[0]), min(high, span[1])
    return [round(low, 3), round(high, 3)]


def _lag(c: dict, b: int, i: int, j: int, to_ms: float) -> tuple[float, list[float] | None]:
    """Pair ``(i, j)``'s sub-frame lag in ms and its 95 % interval, within the lags searched."""
    lag_ms = float(c["lag_sub"][b, i, j]) * to_ms
    reach = float(c["max_lag"][b]) * to_ms
    return lag_ms, _interval(lag_ms, float(c["lag_se"][b, i, j]) * to_ms, (-reach, reach))


def _edge_record(c: dict, b: int, i: int, j: int, to_ms: float, cfg: AnalysisConfig) -> dict:
    lag_ms, ci = _lag(c, b, i, j, to_ms)
    return ({"src": NODES[i], "dst": NODES[j], "weight": round(float(c["weight"][b, i, j]), 6),
             "lag_frames": int(c["lag"][b, i, j]), "lag_ms": round(lag_ms, 3), "lag_ci_ms": ci}
            | ({"n_eff": round(float(c["n_eff"][b, i, j]), 2)} if cfg.test != "shift" else {})
            | {"p_value": _sig(float(c["p"][b, i, j]))}
            | ({"q_value": _sig(float(c["q"][b, i, j]))} if cfg.fdr else {}))


def _pair_records(c: dict, b: int, to_ms: float, cfg: AnalysisConfig) -> list[dict]:
    """Every pair correlated, once, as measured timing: oriented so that ``dst`` follows ``src``
    (``lag_ms >= 0``), its correlation (how alike the two speed profiles are, a description,
    not a test), the sub-frame lag with its 95 % interval, whether that interval orders the
    pair (excludes zero), and the coupling test's p (q) value."""
    out = []
    src, dst = np.nonzero(np.triu(c["tested"][b], 1))
    for i, j in zip(src.tolist(), dst.tolist()):
        if c["lag_sub"][b, i, j] < 0:
            i, j = j, i
        lag_ms, ci = _lag(c, b, i, j, to_ms)
        out.append({"src": NODES[i], "dst": NODES[j], "correlation": round(float(c["weight"][b, i, j]), 6),
                    "lag_frames": int(c["lag"][b, i, j]), "lag_ms": round(lag_ms, 3), "lag_ci_ms": ci,
                    "ordered": bool(c["ordered"][b, i, j]), "p_value": _sig(float(c["p"][b, i, j]))}
                   | ({"q_value": _sig(float(c["q"][b, i, j]))} if cfg.fdr else {}))
    out.sort(key=lambda e: (-e["correlation"], e["src"], e["dst"]))
    return out


def _coupling_note(c: dict, b: int, n_edges: int, cfg: AnalysisConfig) -> dict:
    """What the clip's coupling test is, the least p-value it can give, and what follows."""
    if cfg.test != "shift":
        return {"method": f"{cfg.test}: Fisher z of the largest lagged correlation "
                          + ("(lag-1 effective sample size)" if cfg.test == "lag1" else
                             "(whole-autocorrelation effective sample size; assumes stationary motion)"),
                "p_floor": 0.0, "claims": n_edges}
    floor = float(c["p_floor"][b])
    return {"method": "circular-shift surrogates of the largest lagged correlation (exact where the two "
                      "segments' timings are independent and uniform over the analysed frames)",
            "p_floor": _sig(floor, 4), "claims": n_edges,
            "note": ("one swing cannot show coupling: its p-value cannot fall below the floor, "
                     "(2 x max lag + 1 frames) / frames analysed; the pairs' timing is measured "
                     "(pairs, path) and coupling is inferred across a batter's swings (corrkin align's links)")
            if floor >= cfg.alpha else
            "this clip is long enough for the test to reach alpha where the evidence repeats"}


def _timing_note(rec: dict, fps: float, cfg: AnalysisConfig) -> dict:
    """The timing resolution of a result, and a warning for each link on its path that is
    shorter than the data can support (its interval includes zero, or it is below one frame)."""
    frame_ms = 1000.0 / fps
    warnings = []
    for e in path_links(rec):
        a, b = e["src"], e["dst"]
        if e["lag_ci_ms"] is None:
            warnings.append(f"{a} -> {b}: the lag's interval cannot be told (flat correlation peak)")
        elif e["lag_ci_ms"][0] <= 0:
            warnings.append(f"{a} -> {b}: {e['lag_ms']:.1f} ms, its 95 % interval "
                            f"[{e['lag_ci_ms'][0]:.1f}, {e['lag_ci_ms'][1]:.1f}] ms includes zero")
        elif e["lag_ms"] < frame_ms:
            warnings.append(f"{a} -> {b}: {e['lag_ms']:.1f} ms is shorter than one frame ({frame_ms:.1f} ms)")
    return {"frame_interval_ms": round(frame_ms, 3),
            "subframe": cfg.test != "lag1",
            "resolution": ("below one frame: lags by Gaussian interpolation of the correlation peak, "
                           "activation times by a Gaussian fitted over half the smoothing window; "
                           "95 % intervals from the noise of the peak's slope over its curvature"
                           if cfg.test != "lag1" else f"whole frames ({frame_ms:.1f} ms)"),
            "intervals_calibrated": False,
            "interval_note": ("the 95 % intervals carry the pixel noise only, not the misfit of a lopsided or "
                              "overlapping pulse: on independent validation strokes (benchmarks/validation.py) "
                              "they held the truth in 27-53 % of cases; read them as indicative"),
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
            floor = (f"; one clip's floor is p = {_sig(float(c['p_floor'][b]), 3)}" if cfg.test == "shift" else "")
            fails.append(f"coupling not shown ({'q' if cfg.fdr else 'p'} = {_sig(q, 3)} >= alpha {cfg.alpha:g}{floor})"
                         if cfg.test == "shift" else
                         f"not significant ({'q' if cfg.fdr else 'p'} = {_sig(q, 3)} >= alpha {cfg.alpha:g})")
        if cfg.test != "shift" and not c["t_sub"][b, i] < c["t_sub"][b, j]:
            fails.append(f"order: {z} activates before {a}")
        if not c["resolved"][b, i, j]:
            fails.append("lag not resolved above zero" if cfg.test != "lag1" else f"lag below {cfg.min_lag_frames} frames")
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
        rec = _clip_record(c, b, name, float(fps_all[b]), int(lengths[b]), out.windows[b], cfg)
        _verdict(rec, c, b, {k: v[b].item() for k, v in evidence.items()}, stories[b], out.swaps is not None, cfg)
        records.append(rec)
    return records


def _clip_record(c: dict, b: int, name: str, fps: float, n: int, window: int, cfg: AnalysisConfig) -> dict:
    """Clip ``b``'s measurements from the batch's CPU arrays ``c``: frames, scale, axis, the
    nodes' activation times, edges, pairs, path and the bat."""
    to_ms = 1000.0 / fps
    src, dst = np.nonzero(c["edge"][b])
    edges = [_edge_record(c, b, i, j, to_ms, cfg) for i, j in zip(src.tolist(), dst.tolist())]
    edges.sort(key=lambda e: (-e["weight"], e["src"], e["dst"]))
    used = np.nonzero(c["frames_used"][b])[0]
    seen = c["seen"][b]
    rec = {
        "clip": name,
        "fps": fps,
        "frames": n,
        "analysis": cfg.name,
        "frames_analysed": [int(used[0]), int(used[-1])] if used.size else [],
        "smoothing_window_frames": window,
        "max_lag_frames": int(c["max_lag"][b]),
        "shoulder_width_px": round(float(c["scale"][b]), 4),
        "swing_axis": [round(float(v), 6) for v in c["axis"][b]],
        **_activations(c, b, to_ms, n),
        "filled_fraction": {node: round(float(c["filled"][b, k]), 4) for k, node in enumerate(NODES)},
        "edges": edges,
        "coupling_test": _coupling_note(c, b, len(edges), cfg),
        "pairs": _pair_records(c, b, to_ms, cfg),
        "path": [NODES[i] for i in c["path"][b].tolist() if i >= 0],
        "path_weight": round(float(c["path_weight"][b]), 6),
        "reaches_bat": bool(c["reaches"][b]),
        "bat": _bat_block(c, b, to_ms, n),
    }
    if not seen.all():
        rec["unseen_nodes"] = [node for k, node in enumerate(NODES) if not seen[k]]
    return rec


def _activations(c: dict, b: int, to_ms: float, n: int) -> dict:
    """Each node's activation frame, its sub-frame time in ms and that time's 95 % interval; a
    node never seen in the analysed frames has none (its series is a fill)."""
    seen = c["seen"][b]
    return {
        "activation_frames": {node: int(c["t_act"][b, k]) if seen[k] else None for k, node in enumerate(NODES)},
        "activation_ms": {node: round(float(c["t_sub"][b, k]) * to_ms, 3) if seen[k] else None
                          for k, node in enumerate(NODES)},
        "activation_ci_ms": {node: _interval(float(c["t_sub"][b, k]) * to_ms, float(c["t_se"][b, k]) * to_ms,
                                             (0.0, (n - 1) * to_ms)) if seen[k] else None
                             for k, node in enumerate(NODES)},
    }


def _bat_block(c: dict, b: int, to_ms: float, n: int) -> dict:
    """The bat's block: its top hand, peak speed and frame, and the bat's turn on screen."""
    peak = int(c["bat_peak"][b])
    omega = c["omega"][b, :n]
    return {
        "found": True,
        "top_hand": NODES[int(c["top_hand"][b])],
        "peak_speed": round(float(c["v_tip"][b, peak]), 6),
        "peak_speed_units": "shoulder widths / s",
        "peak_frame": peak,
        "peak_ms": round(peak * to_ms, 3),
        "omega_at_peak_speed": round(float(omega[peak]), 6),
        "omega_peak": round(float(omega[np.argmax(np.abs(omega))]), 6),
        "omega_units": "rad / s, counter-clockwise on screen",
    }


def _verdict(rec: dict, c: dict, b: int, ev: dict, story, swaps: bool, cfg: AnalysisConfig) -> None:
    """The record's timing note, quality verdict (with the mending counts), what is left without a
    bat, the chain check and, where no path reaches the target, why."""
    fps = rec["fps"]
    rec["timing"] = _timing_note(rec, fps, cfg)
    rec["quality"] = quality_block(ev, fps, cfg.quality, story)
    if swaps:
        rec["quality"]["swaps_repaired_frames"] = dict(zip(SWAP_NAMES, c["swaps"][b].tolist()))
        rec["quality"]["glitches_replaced"] = int(c["glitches"][b])
    if ev["bat_coverage"] < cfg.quality.min_bat_coverage:
        _no_bat(rec, ev["bat_coverage"], bool(c["has_bat"][b]), cfg)
    rec["chain_check"] = _chain_check(c, b, 1000.0 / fps, cfg)
    if not rec["reaches_bat"] and "path_note" not in rec:
        links = (f"{sum(e['ordered'] for e in rec['pairs'])} ordered pairs" if cfg.test == "shift"
                 else f"{len(rec['edges'])} edges")
        rec["path_note"] = (f"no path from {', '.join(cfg.sources)} reaches {cfg.target}: "
                            f"{links}, none chains a source to the {cfg.target}")


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
