"""The figures checked by looking, as a reader would, through matplotlib's renderer: every
text inside the canvas, no two labels on top of each other, a title, axis titles with units,
and a PNG wide enough for the report's 600 px (twice over). The records come from the real
analysis: of broadcast seed clips (side-on, camera cuts, untrusted segments) and of a labelled
synthetic library (a path to the bat, an alignment)."""

from __future__ import annotations

import json
import shutil
from itertools import combinations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.text import Text
from PIL import Image

from corrkin.cli import main
from corrkin.library.alignment import aggregate, align_library, load_library, mapped_edges, read_labels
from corrkin.plots.corrpath import corrpath_figure, plot_corrpath
from corrkin.plots.kinematics import COLOURS, distributions_figure, kinematics_figure, plot_kinematic_sequence
from corrkin.plots.layout import DPI, assign_rows, text_box
from corrkin.plots.library import aligned_speed_figure, edge_frequency_figure, plot_edge_frequency
from corrkin.plots.timebase import impact_ms
from corrkin.skeleton import NODE_INDEX
from tests.helpers.data import analysed_shot_library

SEED_CLIPS = ("imran_khan_down_the_ground", "imran_khan_cover_drive", "imran_khan_hook_2")
MIN_WIDTH_PX = 1200


def _analysed(out) -> list[tuple[dict, dict]]:
    found = []
    for d in sorted(p for p in out.iterdir() if (p / "result.json").is_file()):
        with np.load(d / "series.npz") as z:
            found.append((json.loads((d / "result.json").read_text()), {k: z[k] for k in z.files}))
    return found


@pytest.fixture(scope="module")
def seed_results(seed_dir, tmp_path_factory):
    """Three seed clips through the real analysis: one with a lead arm flagged (seen end-on) at
    3,254 deg/s over a trusted bat at 2,810, one with every segment withheld, one long clip."""
    root = tmp_path_factory.mktemp("seed")
    (root / "kp").mkdir()
    for name in SEED_CLIPS:
        shutil.copy(seed_dir / f"{name}.npz", root / "kp")
    assert main(["analyse", f"input={root / 'kp'}", f"output={root / 'res'}", "analysis=seed", "fps=25",
                 "plots=false", "progress=false", "io_workers=0"]) == 0
    return _analysed(root / "res")


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """A labelled synthetic library (two shots, two batters), analysed and aligned."""
    root = tmp_path_factory.mktemp("library")
    manifest = analysed_shot_library(root, per_group=2, seed=3)
    clips, bad = load_library(root / "res", read_labels(manifest))
    assert not bad
    al = align_library(clips)
    edge_rows, _ = aggregate(clips, [mapped_edges(al, clips, k) for k in range(len(clips))], "shot")
    return clips, al, edge_rows, _analysed(root / "res")


# --- what a reader sees -------------------------------------------------------------------


def _shown_texts(fig) -> dict[object, list[Text]]:
    """The texts a reader sees, grouped by the axes they belong to (``fig`` for the figure's own):
    visible, not empty, and of the tick labels only those of ticks within the view."""
    fig.draw_without_rendering()
    ticks = set()
    for ax in fig.axes:
        for axis, (lo, hi), k in ((ax.xaxis, sorted(ax.get_xlim()), 0), (ax.yaxis, sorted(ax.get_ylim()), 1)):
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                ticks |= {id(tick.label1), id(tick.label2)}
            ticks -= {id(t) for t in axis.get_ticklabels()
                      if lo - 1e-9 * (hi - lo) <= t.get_position()[k] <= hi + 1e-9 * (hi - lo)}
    groups: dict[object, list[Text]] = {}
    owned = set()
    for ax in fig.axes:
        texts = [t for t in ax.findobj(Text) if id(t) not in ticks and t.get_visible() and t.get_text().strip()]
        groups[ax] = texts
        owned |= {id(t) for t in texts} | {id(t) for t in ax.findobj(Text)}
    groups[fig] = [t for t in fig.findobj(Text) if id(t) not in owned and t.get_visible() and t.get_text().strip()]
    return groups


def _overlap(a, b, tol: float = 1.0) -> bool:
    return min(a.x1, b.x1) - max(a.x0, b.x0) > tol and min(a.y1, b.y1) - max(a.y0, b.y0) > tol


def looks_right(fig) -> None:
    """Every text inside the canvas, none on top of another in its axes (nor the figure's own
    over any), a title, and the figure at least ``MIN_WIDTH_PX`` wide at its saved resolution."""
    renderer = fig.canvas.get_renderer()
    groups = _shown_texts(fig)
    canvas = fig.bbox
    boxes = {k: [(t, text_box(t, renderer)) for t in texts] for k, texts in groups.items()}
    for texts in boxes.values():
        for t, b in texts:
            assert canvas.x0 - 0.5 <= b.x0 and b.x1 <= canvas.x1 + 0.5 and canvas.y0 - 0.5 <= b.y0 and \
                b.y1 <= canvas.y1 + 0.5, f"{t.get_text()!r} runs off the figure: {b} not in {canvas}"
        for (s, a), (t, b) in combinations(texts, 2):
            assert not _overlap(a, b), f"{s.get_text()!r} overlaps {t.get_text()!r}"
    everything = [x for texts in boxes.values() for x in texts]
    for s, a in boxes[fig]:
        for t, b in everything:
            assert s is t or not _overlap(a, b), f"{s.get_text()!r} overlaps {t.get_text()!r}"
    assert fig.get_suptitle().strip(), "no title"
    assert fig.get_size_inches()[0] * fig.dpi >= MIN_WIDTH_PX and fig.dpi == DPI


def _axis_titles(ax) -> tuple[str, str]:
    return ax.get_xlabel(), ax.get_ylabel()


# --- the checker itself fails where it should ----------------------------------------------


def test_the_checker_sees_overlapping_labels_and_text_off_the_canvas():
    fig = plt.figure(figsize=(10.5, 4), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    fig.suptitle("a title")
    ax.text(0.5, 0.5, "one label", transform=ax.transAxes)
    ax.text(0.51, 0.5, "another label", transform=ax.transAxes)
    with pytest.raises(AssertionError, match="overlaps"):
        looks_right(fig)
    plt.close(fig)
    fig = plt.figure(figsize=(10.5, 4), dpi=DPI, layout="constrained")
    fig.suptitle("a title")
    far = fig.subplots().annotate("far right", (1.0, 0.5), xycoords="axes fraction", xytext=(400, 0),
                                  textcoords="offset points")
    far.set_in_layout(False)  # (the layout would otherwise make room for it)
    with pytest.raises(AssertionError, match="runs off the figure"):
        looks_right(fig)
    plt.close(fig)


def test_rows_keep_spans_apart():
    assert assign_rows([(0, 10), (5, 15), (12, 20), (16, 30)], pad=1) == [0, 1, 0, 1]
    assert assign_rows([(0, 10), (10, 20)], pad=0) == [0, 0]
    assert assign_rows([(0, 10), (10, 20)], pad=2) == [0, 1]


# --- kinematics.png --------------------------------------------------------------------------


def test_kinematics_of_seed_clips_look_right(seed_results):
    for record, series in seed_results:
        fig = kinematics_figure(record, series["positions"])
        looks_right(fig)
        top, events = fig.axes[:2]
        assert "from impact (bat peak speed), ms" in events.get_xlabel()
        assert "deg/s" in top.get_ylabel()
        plt.close(fig)


def test_an_untrusted_curve_is_faint_dashed_clipped_and_does_not_set_the_scale(seed_results):
    """down the ground: the lead arm is flagged (seen end-on) and its curve runs above the
    trusted bat's. The y-axis follows the bat; the arm is clipped, and says so."""
    record, series = next(r for r in seed_results if r[0]["clip"] == "imran_khan_down_the_ground")
    arm, bat = (record["kinematic_sequence"]["segments"][s] for s in ("lead_arm", "bat"))
    assert arm["flags"] and not bat["flags"]
    fig = kinematics_figure(record, series["positions"])
    top = fig.axes[0]
    lines = {ln.get_label(): ln for ln in top.get_lines() if not ln.get_label().startswith("_")}
    arm_line = next(ln for k, ln in lines.items() if k.startswith("lead arm"))
    bat_line = next(ln for k, ln in lines.items() if k.startswith("bat"))
    assert "not trusted" in arm_line.get_label() and "clipped" in arm_line.get_label()
    assert arm_line.get_linestyle() == "--" and arm_line.get_alpha() < 1 and bat_line.get_linestyle() == "-"
    x0, x1 = top.get_xlim()
    t, v = bat_line.get_xdata(), bat_line.get_ydata()
    trusted_top = max(v[(t >= x0) & (t <= x1)].max(), abs(bat["speed_deg_s"]))
    assert top.get_ylim()[1] == pytest.approx(1.15 * trusted_top)
    ta, va = arm_line.get_xdata(), arm_line.get_ydata()
    arm_top = va[(ta >= x0) & (ta <= x1)].max()
    assert top.get_ylim()[1] < arm_top  # the untrusted curve runs off the top: clipped
    marks = [ln for ln in top.get_lines() if ln.get_marker() == "^"]
    if abs(arm["speed_deg_s"]) > top.get_ylim()[1]:  # a peak above the axis is marked there
        assert len(marks) == 1 and marks[0].get_color() == COLOURS["lead_arm"]
    else:
        assert not marks
    plt.close(fig)
    # trusted, the same arm sets the scale
    trusting = json.loads(json.dumps(record))
    trusting["kinematic_sequence"]["segments"]["lead_arm"]["flags"] = []
    fig = kinematics_figure(trusting, series["positions"])
    assert fig.axes[0].get_ylim()[1] >= arm_top
    plt.close(fig)


def test_event_labels_sit_in_rows_that_keep_them_apart(seed_results):
    """Events at the same moment (top of the backlift and start of the downswing, both -43 ms)
    and long labels near the right edge: rows enough that no label touches another."""
    record, series = next(r for r in seed_results if r[0]["clip"] == "imran_khan_down_the_ground")
    found = [e for e, v in record["events"]["events"].items() if v]
    assert len(found) >= 6
    fig = kinematics_figure(record, series["positions"])
    events = fig.axes[1]
    labels = [t for t in events.texts if t.get_text().strip()]
    assert len(labels) == len(found)
    rows = {t.xy[1] for t in labels}
    assert 1 < len(rows) < len(found)  # staggered, yet not one row an event
    plt.close(fig)


def test_kinematics_png_is_wide_enough(seed_results, tmp_path):
    record, series = seed_results[0]
    plot_kinematic_sequence(record, series["positions"], tmp_path / "k.png")
    assert Image.open(tmp_path / "k.png").size[0] >= MIN_WIDTH_PX


# --- corrpath.png ----------------------------------------------------------------------------


def test_corrpath_counts_time_from_impact(seed_results, library):
    for record, series in seed_results + library[3][:3]:
        fig = corrpath_figure(record, series["time_s"], series["v_tip"])
        looks_right(fig)
        top, ax = fig.axes[:2]
        zero = impact_ms(record)[0]
        assert "from impact (bat peak speed), ms" in top.get_xlabel() and "from impact" in ax.get_xlabel()
        t = top.get_lines()[0].get_xdata()
        np.testing.assert_allclose(t, series["time_s"] * 1000 - zero)
        # each node's marker at its activation time from impact (or clamped to the span shown)
        x0, x1 = (min(t.xy[0] for t in ax.texts if t.get_text()), max(t.xy[0] for t in ax.texts if t.get_text()))
        bat = record["activation_ms"]["bat"] - zero
        marks = {t.get_text().split(" ")[0]: t.xy[0] for t in ax.texts if t.get_text() in NODE_INDEX or " (" in
                 t.get_text()}
        if "bat" in marks:
            assert marks["bat"] == pytest.approx(min(max(bat, x0), x1))
        plt.close(fig)


def test_a_given_impact_moves_time_zero_to_it(library):
    record, series = library[3][0]
    moved = json.loads(json.dumps(record))
    moved["events"]["reference"] = "ball_contact"
    contact = record["bat"]["peak_ms"] + 20.0
    moved["events"]["events"]["ball_contact"] = {"time_ms": 0.0, "clip_ms": contact}
    fig = corrpath_figure(moved, series["time_s"], series["v_tip"])
    assert "from impact (ball contact), ms" in fig.axes[0].get_xlabel()
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_xdata(), series["time_s"] * 1000 - contact)
    plt.close(fig)


def test_corrpath_png_is_wide_enough(library, tmp_path):
    record, series = library[3][0]
    plot_corrpath(record, series["time_s"], series["v_tip"], tmp_path / "c.png")
    assert Image.open(tmp_path / "c.png").size[0] >= MIN_WIDTH_PX


# --- the library's figures and the metric distributions ---------------------------------------


def test_edge_frequency_has_axis_titles_and_no_overlapping_names(library, tmp_path):
    clips, _, edge_rows, _ = library
    shots = sorted({c.shot for c in clips})
    fig = edge_frequency_figure(edge_rows, shots)
    looks_right(fig)
    panels = fig.axes[: len(shots)]
    assert all(p.get_xlabel() for p in panels) and panels[0].get_ylabel()
    assert "share" in fig.axes[-1].get_ylabel()  # the colour bar says what the colour is
    plt.close(fig)
    plot_edge_frequency(edge_rows, shots[:1], tmp_path / "e.png")  # one shot: still wide enough
    assert Image.open(tmp_path / "e.png").size[0] >= MIN_WIDTH_PX


def test_aligned_speed_has_axis_titles_with_units(library):
    clips, al, _, _ = library
    fig = aligned_speed_figure(clips, al)
    looks_right(fig)
    for ax in fig.axes:
        assert "shoulder widths/s" in ax.get_ylabel()
    assert "ms from the reference clip's peak bat speed" in fig.axes[-1].get_xlabel()
    plt.close(fig)


def test_distributions_look_right():
    rng = np.random.default_rng(0)
    rows = [{"shot": shot, "bat_toe_speed_m_s": rng.normal(30, 3), "hands_speed_m_s": rng.normal(9, 1),
             "stride_m": rng.normal(0.8, 0.1), "backlift_height_m": "", "gap_lead_arm_bat_ms": rng.normal(40, 10),
             "front_foot_contact_ms": rng.normal(-300, 40)}
            for shot in ("cover drive", "pull", "a shot with a rather long name") for _ in range(5)]
    fig = distributions_figure(rows, "shot")
    looks_right(fig)
    plt.close(fig)
    assert distributions_figure(rows, "batter") is None
