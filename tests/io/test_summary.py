"""summary.csv: its columns are defined once (``SUMMARY_FIELDS``, beside ``summary_row``) and a
row says what its clip's ``result.json`` says."""

from __future__ import annotations

import csv

from corrkin.analysis import analyse, to_records
from corrkin.config import AnalysisConfig
from corrkin.io.keypoints import collate
from corrkin.io.results import SUMMARY_FIELDS, path_links, summary_row, timing_links, write_summary
from corrkin.runtime import failed_row
from corrkin.synth import SwingSpec, make_clip


def _record():
    clip, _ = make_clip(SwingSpec(fps=25, duration_s=3.0, swing_at_s=1.5), seed=4, name="s")
    batch = collate([clip])
    return clip, to_records(analyse(batch, AnalysisConfig()), batch, AnalysisConfig())[0]


def test_a_row_has_the_columns_in_order_and_the_records_values(tmp_path):
    clip, rec = _record()
    row = summary_row(clip.name, clip.source, rec)
    assert set(row) == set(SUMMARY_FIELDS)
    assert row["path"] == " > ".join(rec["path"]) and row["edges"] == len(rec["edges"])
    assert row["ordered_pairs"] == len(timing_links(rec))
    assert row["path_lags_ms"].count(";") == max(len(path_links(rec)) - 1, 0)
    assert row["reliable"] is rec["quality"]["reliable"] and row["fps"] == rec["fps"]
    write_summary(tmp_path / "summary.csv", [row, failed_row("t", "no frame rate")])
    with open(tmp_path / "summary.csv", newline="") as f:
        reader = csv.DictReader(f)
        read = list(reader)
    assert tuple(reader.fieldnames) == SUMMARY_FIELDS
    assert [r["clip"] for r in read] == ["s", "t"] and read[1]["status"] == "failed"
    assert read[0]["path"] == row["path"]


def test_a_failed_row_uses_only_summary_columns_and_the_file():
    assert set(failed_row("t", ValueError("bad"))) <= set(SUMMARY_FIELDS) | {"file"}
