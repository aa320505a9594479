"""Is a clip's result to be trusted? The evidence behind it, measured over the swing window.

Batched measures come from the engine (:func:`swing_evidence`): how much of the swing window
each core joint and the bat were seen, how sure the bat was, the longest stretch without the
batter. A clip's own story from the video (how many people, whether the batter was chosen or
the only person followed, identity switches) is added where the clip has it. Each threshold of
:class:`~corrkin.config.QualityConfig` not met is a reason, and any reason makes the clip
``reliable: false``.
"""

from __future__ import annotations

import torch

from corrkin import ops
from corrkin.config import MinQuality, QualityConfig
from corrkin.skeleton import JOINT_INDEX, NODE_INDEX

MIN_QUALITY = tuple(m.value for m in MinQuality)  # which results a consumer (align, technique training) keeps


def check_min_quality(min_quality: str) -> None:
    if min_quality not in MIN_QUALITY:
        raise ValueError(f"min_quality: expected 'any' or 'reliable', got '{min_quality}'")


def passes(record: dict, min_quality: str) -> bool:
    """Whether a ``result.json`` record is kept under ``min_quality``; a record without a
    quality block predates it and is kept."""
    return min_quality == "any" or record.get("quality", {}).get("reliable", True)


CORE = ("l_shoulder", "r_shoulder", "l_elbow", "r_elbow", "l_wrist", "r_wrist", "l_hip", "r_hip")


def swing_evidence(scores: torch.Tensor, frame_mask: torch.Tensor, bat_peak: torch.Tensor, fps: torch.Tensor,
                   min_confidence: float, cfg: QualityConfig) -> dict[str, torch.Tensor]:
    """``(B,)`` measures over each clip's swing window (``window_s`` either side of the peak bat
    speed): ``core_coverage`` (the least-seen core joint's share of frames with a score of at
    least ``min_confidence``) and ``core_least_seen`` (its index in :data:`CORE`), ``bat_coverage`` (share with a bat score of at least ``bat_score``),
    ``bat_confidence`` (median bat score), ``max_gap_frames`` (longest run without any joint of
    the batter) and ``window_frames``.

    Args:
        scores: ``(B, N, T)`` node scores (13 joints then the bat), 0 where a node is missing.
        frame_mask: ``(B, T)`` frames of each clip.
        bat_peak: ``(B,)`` frame of the peak bat speed.
        fps: ``(B,)`` frame rates.
    """
    t = scores.shape[-1]
    frame = torch.arange(t, device=scores.device)[None]
    half = torch.round(cfg.window_s * fps).long()[:, None]
    window = frame_mask & ((frame - bat_peak[:, None]).abs() <= half)
    count = window.sum(1).clamp_min(1).to(scores.dtype)
    core = [JOINT_INDEX[j] for j in CORE]
    seen = (scores[:, core] >= min_confidence) & window[:, None]
    core_coverage, least = (seen.sum(2).to(scores.dtype) / count[:, None]).min(1)
    bat = scores[:, NODE_INDEX["bat"]]
    bat_coverage = ((bat >= cfg.bat_score) & window).sum(1).to(scores.dtype) / count
    bat_confidence = torch.nan_to_num(ops.masked_median(bat, window), nan=0.0)
    present = (scores[:, : len(JOINT_INDEX)] > 0).any(1) | ~window  # frames outside count as seen
    last = torch.where(present, frame, -1).cummax(1).values
    gap = torch.where(window & ~present, frame - last, 0)
    return {"core_coverage": core_coverage, "core_least_seen": least, "bat_coverage": bat_coverage,
            "bat_confidence": bat_confidence,
            "max_gap_frames": gap.amax(1), "window_frames": window.sum(1)}


def quality_block(evidence: dict, fps: float, cfg: QualityConfig, story: dict | None = None) -> dict:
    """A clip's ``quality`` for ``result.json``: the measures, the thresholds, the reasons it
    is not to be trusted (none: ``reliable: true``). ``evidence`` holds the clip's values of
    :func:`swing_evidence`; ``story`` what the video stages found
    (:func:`corrkin.perception.batter_story`: ``most_in_a_frame``, ``selection``,
    ``frames_without_batter``, ``switches``)."""
    story = story or {}
    gap_s = evidence["max_gap_frames"] / fps
    reasons = []
    least = CORE[int(evidence["core_least_seen"])]
    if evidence["core_coverage"] < cfg.min_core_coverage:
        reasons.append(f"{least} seen in {evidence['core_coverage']:.0%} of the swing window "
                       f"(at least {cfg.min_core_coverage:.0%} needed)")
    if evidence["bat_coverage"] < cfg.min_bat_coverage:
        reasons.append(f"bat seen in {evidence['bat_coverage']:.0%} of the swing window "
                       f"(at least {cfg.min_bat_coverage:.0%} needed): no bat found, or not through the swing")
    if gap_s > cfg.max_gap_s:
        reasons.append(f"the batter lost for {gap_s * 1000:.0f} ms in the swing window (at most {cfg.max_gap_s * 1000:.0f} ms)")
    if story.get("switches", 0) > cfg.max_switches:
        reasons.append(f"the batter's track switched identity {story['switches']} times")
    full = 2 * round(cfg.window_s * fps) + 1
    if evidence["window_frames"] < cfg.min_window_share * full:
        reasons.append(f"the clip holds {int(evidence['window_frames'])} of the swing window's {full} frames "
                       f"(+-{cfg.window_s:g} s around the peak bat speed; at least {cfg.min_window_share:.0%} needed): "
                       "the swing runs past its start or end")
    if fps < cfg.min_fps:
        reasons.append(f"{fps:g} fps is below {cfg.min_fps:g} fps: a swing's timing cannot be told at this rate")
    block = {
        "reliable": not reasons,
        "reasons": reasons,
        "swing_window_s": cfg.window_s,
        "core_coverage": round(float(evidence["core_coverage"]), 4),
        "core_least_seen": least,
        "bat_coverage": round(float(evidence["bat_coverage"]), 4),
        "bat_confidence": round(float(evidence["bat_confidence"]), 4),
        "max_gap_ms": round(gap_s * 1000, 1),
        "window_frames": int(evidence["window_frames"]),
        "fps": fps,
    }
    timing = story.get("frame_timing")
    story = {k: v for k, v in story.items() if k != "frame_timing"}
    if timing:  # where the frames' times came from, and whether the rate varied (then resampled)
        block["frame_timing"] = timing
    if story:
        block["batter_tracking"] = story
        if story.get("selection") == "single person followed":
            block["notes"] = ["one person was followed without any selection: the pose model sees one person "
                              "per frame, so a bystander may have been followed instead of the batter"]
    return block
