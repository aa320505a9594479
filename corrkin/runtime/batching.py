"""Analysing clips in batches by length, the failing ones isolated, each analysed clip's
record stamped with what it was made from and by (its provenance), and given impact times
attached."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from corrkin.io.keypoints import Clip, collate
from corrkin.io.results import summary_row
from corrkin.runtime.clips import ClipResult

if TYPE_CHECKING:  # annotations only: the worker processes need no config schemas
    from corrkin.config import AnalysisConfig

log = logging.getLogger(__name__)

FRAMES_PER_SLOT = 1024  # a batch of n clips holds at most n x this many (padded) frames


def length_buckets(frames: list[int]) -> list[list[int]]:
    """The clips of lengths ``frames``, by index, in batches by length, so that memory follows
    each clip, not the longest one beside it: sorted by length, a batch closes before its padded
    size (clips x the longest's padded frames) would pass ``len(frames) * FRAMES_PER_SLOT``.
    Short clips share one batch as before; a 100,000-frame clip goes alone, or with few. Results
    do not depend on the grouping (a clip's results are the same in any batch)."""
    from corrkin.ops.reduce import padded_length

    budget = max(len(frames), 1) * FRAMES_PER_SLOT
    buckets, current = [], []
    for k in sorted(range(len(frames)), key=lambda k: frames[k]):
        if current and (len(current) + 1) * padded_length(frames[k]) > budget:
            buckets.append(current)
            current = []
        current.append(k)
    return buckets + [current] if current else buckets


def analyse_split(clips: list[Clip], acfg: AnalysisConfig, device) -> list[ClipResult]:
    """Analyse ``clips`` (in :func:`length_buckets`): one :class:`ClipResult` per clip, in the
    order given, analysed (``record`` and ``arrays`` to write) or failed with the reason."""
    results: list[ClipResult | None] = [None] * len(clips)
    for bucket in length_buckets([c.frames for c in clips]):
        for k, (rec, arrays) in zip(bucket, _analyse_clips([clips[k] for k in bucket], acfg, device)):
            clip = clips[k]
            if isinstance(rec, dict):
                rec["provenance"] = provenance(clip, acfg)
            results[k] = (ClipResult(clip.name, summary_row(clip.name, clip.source, rec), rec, arrays) if isinstance(rec, dict)
                          else ClipResult.failed(clip.name, rec))
    return results


def _analyse_clips(clips: list[Clip], acfg: AnalysisConfig, device) -> list[tuple[dict | Exception, dict | None]]:
    """Analyse a batch: per clip ``(record, arrays)``, or ``(the exception, None)``; if the batch
    fails, its clips are analysed one by one to isolate the culprit."""
    from corrkin.analysis.engine import analyse, series_arrays, to_records

    try:
        batch = collate(clips, device)
        out = analyse(batch, acfg)
        return list(zip(to_records(out, batch, acfg), series_arrays(out, batch)))
    except Exception:
        if len(clips) == 1:
            raise
    results = []
    for clip in clips:
        try:
            results.extend(_analyse_clips([clip], acfg, device))
        except Exception as e:  # noqa: BLE001 - reported per clip, the run goes on
            log.exception("clip %s failed", clip.name)
            results.append((e, None))
    return results


def settings_digest(acfg: AnalysisConfig) -> str:
    """16 hex digits of SHA-256 over the analysis settings (every field, sorted): results of one
    digest were made alike; two digests in one folder are two analyses."""
    import dataclasses
    import hashlib
    import json

    text = json.dumps(dataclasses.asdict(acfg), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def provenance(clip: Clip, acfg: AnalysisConfig) -> dict:
    """What a result was made from and by: the corrkin version, the analysis preset and its
    settings' digest (:func:`settings_digest`), and the input file's path, size and modification
    time (None where the clip came from memory)."""
    from corrkin import __version__

    source = {"path": str(clip.path) if clip.path else None, "bytes": None, "mtime_ns": None}
    try:
        st = os.stat(clip.path)
        source.update(bytes=st.st_size, mtime_ns=st.st_mtime_ns)
    except (OSError, TypeError, ValueError):
        pass
    return {"corrkin": __version__, "analysis": acfg.name, "settings_digest": settings_digest(acfg), "input": source}


def load_impacts(path: str | None, names: list[str]) -> dict[str, float]:
    """The impact times of an ``impacts=`` CSV (:func:`corrkin.io.tables.read_impacts`), read
    before any work (a bad file stops the command); clips it names that are not among
    ``names`` are said once."""
    if path is None:
        return {}
    from corrkin.io.tables import read_impacts

    impacts = read_impacts(path)
    unknown = sorted(set(impacts) - set(names))
    if unknown:
        log.warning("impacts=%s: %d clips not among the inputs: %s", path, len(unknown), ", ".join(unknown[:10]))
    return impacts


def attach_impacts(results: list[ClipResult], impacts: dict[str, float]) -> list[ClipResult]:
    """Each analysed clip's given impact time (``record["impact_given_s"]``), which the
    biomechanics take as the events' reference instead of the peak bat speed."""
    for r in results:
        if r.ok and r.name in impacts:
            r.record["impact_given_s"] = impacts[r.name]
    return results
