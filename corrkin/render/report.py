"""The HTML report (``corrkin report``, :mod:`corrkin.commands.report`): one page a coach can open from disk.

For every analysed clip under ``input`` (``corrkin analyse``, ``run`` or ``library`` output): a
tile with its source video (when ``videos=<folder>`` has ``<clip>.mp4`` or the run kept one),
its skeleton video with the stroke's events on its timeline (a click seeks every video of the
tile there), its correlation-path and kinematic-sequence figures and its key numbers (bat speed
in m/s, stride, the sequence, the path and its lags); one sortable table of every clip's
metrics (:mod:`corrkin.analysis.metrics`) and, per batter and per shot, the distribution of the
main ones; synchronised composites of the first ``composite`` clips' skeletons and of
the first ``composite`` source videos; the library tables of the alignment step when
present (``<input>/align`` or ``align=<folder>``). "Play all" / "Pause all" start and stop every
video together and keep them in step. Everything the page shows is copied or written under
``output`` (``index.html`` and ``media/``) and linked relatively, so the folder can be moved,
zipped and opened anywhere.
"""

from __future__ import annotations

import csv
import html
import json
import logging
import shutil
from pathlib import Path

import numpy as np

from corrkin.io.keypoints import Clip, load_clip
from corrkin.io.results import atomic_write, fitting_name, path_links, read_results
from corrkin.render.skeleton import write_skeleton_video

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".m4v")


def _clip_from_series(rec: dict, series: dict) -> Clip:
    """A drawable clip from ``series.npz``'s normalised positions (100 px per shoulder width)."""
    pos = series["positions"].astype(np.float64) * 100 + np.array([320.0, 240.0])
    ok = np.isfinite(pos).all(-1)
    pos = np.where(ok[..., None], pos, 0.0)
    return Clip(name=rec["clip"], path=rec["clip"], keypoints=pos[:, :13].astype(np.float32),
                scores=ok[:, :13].astype(np.float32), bat=pos[:, 13].astype(np.float32),
                bat_scores=ok[:, 13].astype(np.float32), fps=float(rec["fps"]), source="series")


LONGEST_SUFFIX = "_kinematics.png"  # the longest name written under a clip's stem in media/


def _media_stem(name: str, used: set[str]) -> str:
    """The stem of a clip's files in ``media/``: its name in letters, digits, ``-`` and ``_``,
    within the file-name limit with room for every suffix, and apart from every other clip's
    (``a b`` and ``a_b`` would otherwise share their files)."""
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
    candidate, k = stem, 1
    while (safe := fitting_name(candidate, LONGEST_SUFFIX)[: -len(LONGEST_SUFFIX)]) in used:
        k += 1
        candidate = f"{stem}-{k}"
    used.add(safe)
    return safe


def find_clips(folder: Path) -> tuple[list[tuple[Path, dict, dict]], list[tuple[Path, str]]]:
    """The results under ``folder`` (``result.json`` beside ``series.npz``), read once:
    ``(readable, unreadable)``, the readable as ``(clip folder, record, series)`` by clip name,
    the unreadable (cut off, damaged, not corrkin's) as ``(clip folder, why)``."""
    return read_results(folder, series=True)


def _source_video(rec: dict, videos: Path | None) -> Path | None:
    cands = []
    if videos is not None:
        cands += [videos / f"{rec['clip']}{s}" for s in VIDEO_SUFFIXES]
    if rec.get("source_path"):
        cands.append(Path(rec["source_path"]))
    return next((p for p in cands if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()), None)


def _numbers(rec: dict) -> list[tuple[str, str]]:
    path = rec["path"]
    chain = ", ".join(f"{e['src']} → {e['dst']} {e['lag_ms']:.0f} ms" for e in path_links(rec))
    bat = rec["bat"]
    speed = (f"{bat['peak_speed']:.2f} shoulder widths/s at {bat['peak_ms']:.0f} ms" if bat.get("peak_speed") is not None
             else bat.get("note", "no bat found"))
    return [("peak bat speed", speed), *_biomech_numbers(rec),
            ("path", " → ".join(path) if path else "none reaches the bat"),
            ("lags along the path", chain or "–"),
            ("path weight", f"{rec['path_weight']:.3f}"), ("frames", f"{rec['frames']} at {rec['fps']:g} fps"),
            ("quality", _quality(rec.get("quality")))]


def _quality(q: dict | None) -> str:
    if q is None:
        return "not measured (an older result)"
    seen = f"core joints {q['core_coverage']:.0%}, bat {q['bat_coverage']:.0%} of the swing window"
    if q["reliable"]:
        return f"reliable ({seen})"
    return f"UNRELIABLE: {'; '.join(q['reasons'])}"


def _table(path: Path, limit: int = 40) -> str:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return ""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    cells = ("".join(f"<td>{html.escape(_short(c))}</td>" for c in r) for r in rows[1: limit + 1])
    body = "".join(f"<tr>{c}</tr>" for c in cells)
    extra = len(rows) - 1 - limit
    more = f"<p class=note>{extra} more rows in {html.escape(path.name)}</p>" if extra > 0 else ""
    return f"<h3>{html.escape(path.stem)}</h3><div class=scroll><table><tr>{head}</tr>{body}</table></div>{more}"


def _short(v: str) -> str:
    try:
        f = float(v)
        return v if f.is_integer() or "." not in v else f"{f:.3g}"
    except ValueError:
        return v


def write_report(src: Path, out: Path, videos: Path | None = None, align: Path | None = None,
                 composite: int = 6, left_out: list | None = None, progress: bool = False) -> Path:
    """``out``/index.html (and its ``media/``) for the results under ``src``: every clip's
    skeleton, figures and numbers, ``videos`` (``<clip>.mp4``) beside them, the alignment
    tables of ``align``, a synchronised grid of the first ``composite`` clips (``progress``: a
    bar over the clips, on a terminal). Returns the page."""
    from tqdm import tqdm

    clips, unreadable = find_clips(src)
    if left_out is not None:
        left_out.extend(unreadable)
    for _, why in unreadable:
        log.warning("left out of the report: %s", why)
    if not clips:
        raise FileNotFoundError(f"{src}: no readable analysed clips (result.json with series.npz)"
                                + (f"; {len(unreadable)} unreadable" if unreadable else ""))
    media = out / "media"
    media.mkdir(parents=True, exist_ok=True)
    tiles, skeletons, sources, used = [], [], [], set()
    for clip_dir, rec, series in tqdm(clips, desc="report", unit="clip", disable=None if progress else True):
        name = rec["clip"]
        safe = _media_stem(name, used)
        kp = clip_dir / "keypoints.npz"
        clip = load_clip(kp, name=name) if kp.is_file() else _clip_from_series(rec, series)
        frames = write_skeleton_video(media / f"{safe}_skeleton.mp4", clip, rec, size=(360, 360))
        if len(skeletons) < composite:  # the composite's tiles: the same frames
            skeletons.append((clip, frames))
        figure = media / f"{safe}_corrpath.png"
        if (clip_dir / "corrpath.png").is_file():
            shutil.copyfile(clip_dir / "corrpath.png", figure)
        else:
            from corrkin.plots.corrpath import plot_corrpath

            plot_corrpath(rec, series["time_s"], series["v_tip"], figure)
        kinematics = None
        if "kinematic_sequence" in rec:
            kinematics = media / f"{safe}_kinematics.png"
            if (clip_dir / "kinematics.png").is_file():
                shutil.copyfile(clip_dir / "kinematics.png", kinematics)
            else:
                from corrkin.plots.kinematics import plot_kinematic_sequence

                plot_kinematic_sequence(rec, series["positions"], kinematics)
        video = _source_video(rec, videos)
        if video is not None:
            shutil.copyfile(video, media / f"{safe}_source{video.suffix.lower()}")
            sources.append(video)
        tiles.append((name, safe, rec, None if video is None else f"media/{safe}_source{video.suffix.lower()}"))
    grids = _composites(skeletons, sources, media, composite)
    rows = _metric_rows([rec for _, _, rec, _ in tiles], _labels(align))
    first = _summary_section(rows) + _clip_list(tiles)
    metrics = _metrics_section(rows, media) + _dictionary()
    page = _page(src, tiles, grids, align, out, metrics, unreadable, first, min(composite, len(tiles)))
    with atomic_write(out / "index.html", "w") as f:
        f.write(page)
    log.info("report of %d clips: %s", len(tiles), out / "index.html")
    return out / "index.html"


def _composites(skeletons, sources, media: Path, n: int) -> list[str]:
    from corrkin.io.video import load_video, write_video
    from corrkin.render.composite import composite
    chosen = skeletons[:n]
    if not chosen:
        return []
    # the skeleton frames carry their own caption (name, ms from impact, frame): no second label
    grid = composite([f for _, f in chosen], [c.fps for c, _ in chosen], None, cols=3, tile=(320, 320))
    write_video(media / "composite_skeleton.mp4", grid, 25.0)
    made = ["media/composite_skeleton.mp4"]
    if len(sources) >= 2:  # the source videos there are, side by side
        loaded = [load_video(p) for p in sources[:n]]
        src = [frames.permute(0, 2, 3, 1).numpy() for frames, _ in loaded]
        fps = [info.fps for _, info in loaded]
        grid = composite(src, fps, [p.stem for p in sources[:n]], cols=3, tile=(320, 180))
        write_video(media / "composite_source.mp4", grid, 25.0)
        made.append("media/composite_source.mp4")
    return made


PLAYER_JS = """
const vids = () => Array.from(document.querySelectorAll('video'));
function playAll() {
  const vs = vids();
  vs.forEach(v => { v.pause(); v.currentTime = 0; });
  return Promise.all(vs.map(v => v.play().catch(e => console.warn('play refused', v.src, e))));
}
function pauseAll() { vids().forEach(v => v.pause()); }
// keep every video within a tenth of a second of the first while they all play
setInterval(() => {
  const vs = vids(); if (!vs.length || vs[0].paused) return;
  const t = vs[0].currentTime;
  vs.slice(1).forEach(v => {
    if (!v.paused && Math.abs(v.currentTime - t) > 0.1 && t < v.duration) v.currentTime = t;
  });
}, 250);
document.getElementById('play').addEventListener('click', playAll);
document.getElementById('pause').addEventListener('click', pauseAll);
"""

CSS = """
body{font-family:system-ui,sans-serif;margin:1.5rem;background:#111;color:#eee}
h1{font-size:1.4rem} h2{font-size:1.15rem;margin-top:2rem} h3{font-size:1rem}
.controls button{font-size:1rem;margin-right:.5rem;padding:.4rem 1rem}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(600px,1fr));gap:1rem}
a{color:#8cf} a.figure img{display:block;margin:.4rem 0;max-width:100%;min-width:min(600px,100%);background:#fff}
.light .dot{display:inline-block;width:.75em;height:.75em;border-radius:50%;margin-right:.35em;vertical-align:-.05em}
.light.green .dot{background:#3c3} .light.amber .dot{background:#fb3} .light.red .dot{background:#e44}
.legend .light{margin-right:1.2rem;font-size:.8rem} #summary-table td,#summary-table th{vertical-align:top}
details summary h2{display:inline;cursor:pointer}
.tile{background:#1c1c1c;border-radius:8px;padding:.8rem}
.tile video,.tile img,.composite video{width:100%;border-radius:4px;background:#000}
.tile video{max-height:360px;object-fit:contain}
.tile a.figure img{background:#fff}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:.4rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .8rem;font-size:.85rem} dt{color:#9ab}
table{border-collapse:collapse;font-size:.8rem} td,th{border:1px solid #333;padding:.2rem .5rem}
.scroll{overflow-x:auto} .note{color:#888;font-size:.8rem}
#metrics th{cursor:pointer;background:#222} #metrics th[data-dir=up]::after{content:" ▲"}
#metrics th[data-dir=down]::after{content:" ▼"}
.timeline{position:relative;background:#181818;margin:.3rem 0;border-radius:3px;overflow:hidden}
.timeline .event{position:absolute;border-left:2px solid #9ab;padding-left:3px;font-size:10px;font-weight:normal;
 white-space:nowrap;cursor:pointer;color:#ddd;line-height:12px}
.timeline .ci{position:absolute;top:0;bottom:0;background:#345;opacity:.6}
.timeline .event.doubt{color:#777;border-left:2px dashed #666} td.doubt,.doubt{color:#777;font-style:italic}
.timeline .playhead{position:absolute;top:0;bottom:0;width:2px;background:#f55;left:0}
"""


def _page(src: Path, tiles, composite: list[str], align: Path | None, out: Path, metrics: str = "",
          unreadable=(), first: str = "", shown: int = 0) -> str:
    bad = ""
    if unreadable:
        items = "".join(f"<li>{html.escape(why)}</li>" for _, why in unreadable)
        bad = f"<div class=doubt><p>{len(unreadable)} results could not be read and are left out:</p><ul>{items}</ul></div>"
    parts = [f"<h1>corrkin report: {html.escape(src.name or str(src))}</h1>",
             f"<p class=note>{len(tiles)} clips. <a href=#summary>By batter and shot</a> · <a href=#clips-list>the "
             "clips</a> · <a href=#all-swings>all swings together</a> · <a href=#all-metrics>every clip's metrics</a> · "
             "<a href=#dictionary>data dictionary</a></p>", bad, first,
             "<div class=controls><button id=play>Play all</button><button id=pause>Pause all</button> "
             "<span class=note>videos start together and stay in step</span></div>"]
    if composite:
        more = (f"the first {shown} of the {len(tiles)} clips (report composite={shown})" if shown < len(tiles)
                else f"all {len(tiles)} clips")
        parts.append(f"<h2 id=all-swings>All swings together</h2><p class=note>Showing {more}.</p><div class=composite>"
                     + "".join(f'<video src="{c}" muted playsinline loop preload=auto></video>' for c in composite)
                     + "</div>")
    parts.append("<h2>Clips</h2><div class=grid>")
    for name, safe, rec, source in tiles:
        media = (f'<video src="{source}" muted playsinline loop preload=auto></video>' if source else "")
        media += f'<video src="media/{safe}_skeleton.mp4" muted playsinline loop preload=auto></video>'
        dl = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in _numbers(rec))
        kin = (_figure(f"media/{safe}_kinematics.png", f"kinematic sequence of {name}")
               if "kinematic_sequence" in rec else "")
        parts.append(f'<div class=tile id="{safe}"><h3>{html.escape(name)}</h3>'
                     f'<div class="{"pair" if source else ""}">{media}</div>{_timeline(rec)}'
                     f'{_figure(f"media/{safe}_corrpath.png", f"correlation path of {name}")}{kin}'
                     f"<dl>{dl}</dl></div>")
    parts.append("</div>")
    parts.append(metrics)
    if align is not None:
        parts.append("<h2>Library</h2>")
        parts.append(_links_section(align))
        for fig in ("aligned_speed.png", "edge_frequency.png"):
            if (align / fig).is_file():
                shutil.copyfile(align / fig, out / "media" / fig)
                parts.append(_figure(f"media/{fig}", fig))
        for table in ("paths_by_shot", "paths_by_batter", "edges_by_shot", "edges_by_batter", "clips"):
            if (align / f"{table}.csv").is_file():
                parts.append(_table(align / f"{table}.csv"))
    body = "\n".join(parts)
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>corrkin report</title>"
            f"<style>{CSS}</style></head><body>{body}<script>{PLAYER_JS}{TABLE_JS}</script></body></html>\n")


def _links_section(align: Path) -> str:
    """Each batter's chain over the links claimed across their swings, and the claimed links
    (``links.csv``), with what a claim means: coupling is inferred across swings, not per clip."""
    info = align / "alignment.json"
    try:
        chains = json.loads(info.read_text(encoding="utf-8")).get("chains", []) if info.is_file() else []
    except (OSError, ValueError, AttributeError) as e:
        log.warning("%s: not readable (%s), its chains left out of the report", info, type(e).__name__)
        return f"<p class=doubt>{html.escape(str(info))} could not be read; run corrkin align again.</p>"
    if not chains:
        return ("<p>Coupling across swings: no batter has enough swings of one shot "
                "(corrkin align's <code>links.min_swings</code>).</p>")
    rows = []
    if (align / "links.csv").is_file():
        with open(align / "links.csv", newline="", encoding="utf-8", errors="replace") as f:
            rows = [r for r in csv.DictReader(f) if r.get("claimed") == "True"]
    items = []
    for c in chains:
        chain = " → ".join(c["chain"]) if c["chain"] else "no chain of claimed links reaches the bat"
        mine = [r for r in rows if (r["batter"], r["shot"]) == (c["batter"], c["shot"])]
        links = ", ".join(f"{r['src']} → {r['dst']} {float(r['lag_ms']):.0f} ms "
                          f"[{float(r['lag_ci_low_ms']):.0f}, {float(r['lag_ci_high_ms']):.0f}]" for r in mine)
        items.append(f"<li><b>{html.escape(c['batter'])}, {html.escape(c['shot'])}</b> ({c['swings']} swings): "
                     f"{html.escape(chain)}<br><small>claimed links: {html.escape(links) or 'none'}</small></li>")
    return ("<h3>Coupling across each batter's swings</h3><p><small>One swing shows timing only; a link is "
            "claimed where, across a batter's swings of one shot, the pair's lag is consistent beyond what "
            "shuffling the swings gives (Holm over the pairs, 5 %) and its 95 % interval excludes zero "
            "(links.csv).</small></p><ul>" + "".join(items) + "</ul>")


def _biomech_numbers(rec: dict) -> list[tuple[str, str]]:
    """The tile's biomechanics: bat and hand speed in m/s with the calibration, the stride, the
    backlift, the kinematic sequence and whether the events can be trusted."""
    if "kinematic_sequence" not in rec:
        return []
    bat, units, ks, ev = rec["bat"], rec.get("real_units") or {}, rec["kinematic_sequence"], rec.get("events") or {}
    cal = rec.get("calibration") or {}
    out = []
    if bat.get("peak_speed_m_s") is not None:
        lo, hi = bat["peak_speed_m_s_ci"]
        out.append(("bat toe speed", f"{bat['peak_speed_m_s']:.1f} m/s [{lo:.1f}, {hi:.1f}] = {bat['peak_speed_km_h']:.0f} km/h"
                                     + (" (noisy)" if (bat.get("tip_peak") or {}).get("noisy") else "")
                                     + ("; NOT TRUSTED: " + "; ".join(bat["speed_flags"]) if bat.get("speed_flags") else "")))
    if bat.get("sweet_spot_speed_m_s") is not None:
        lo, hi = bat["sweet_spot_speed_m_s_ci"]
        out.append(("bat sweet-spot speed", f"{bat['sweet_spot_speed_m_s']:.1f} m/s [{lo:.1f}, {hi:.1f}]"))
    hands = units.get("hands_peak_speed")
    if hands:
        out.append(("hand speed", f"{hands['m_s']:.1f} m/s [{hands['m_s_ci'][0]:.1f}, {hands['m_s_ci'][1]:.1f}]"))
    for key, label in (("stride", "stride"), ("backlift_height", "backlift height")):
        v = units.get(key)
        if v:
            out.append((label, f"{v['m']:.2f} m [{v['m_ci'][0]:.2f}, {v['m_ci'][1]:.2f}]"))
    out.append(("metres from", cal.get("method", "") + (f": {cal['unavailable']}" if "unavailable" in cal else
                                                         f" (±{cal.get('relative_sd', 0):.0%} sd)")))
    order = " > ".join(s.replace("_", " ") for s in ks.get("order", []))
    verdict = "proximal to distal" if ks.get("proximal_to_distal") else "not proximal to distal"
    out.append(("kinematic sequence", f"{order} ({verdict})" + ("" if ks.get("reliable") else
                                                              f"; NOT TRUSTED: {'; '.join(ks.get('reasons', []))}")))
    out.append(("events", "found in a stroke's order" if ev.get("reliable") else
                f"NOT TRUSTED: {'; '.join(ev.get('reasons', []))}"))
    return out


def _timeline(rec: dict) -> str:
    """The clip's timeline, as wide as the tile: each event a tick at its time in the clip,
    named, with its interval as a band; a playhead that follows the tile's videos; a click on
    an event seeks them there."""
    ev = (rec.get("events") or {}).get("events") or {}
    reference = (rec.get("events") or {}).get("reference", "bat_peak_speed").replace("_", " ")
    found = sorted(((k, v) for k, v in ev.items() if v), key=lambda kv: kv[1]["clip_ms"])
    if not found:
        return ""
    length = max(rec["frames"] / rec["fps"] * 1000.0, 1.0)

    def pct(ms):
        return f"{100.0 * min(max(ms, 0.0), length) / length:.2f}%"

    marks, lanes = [], []  # lanes: where each lane's last label ends (% of the width)
    for name, v in found:
        label = html.escape(name.replace("_", " "))
        at = 100.0 * min(max(v["clip_ms"], 0.0), length) / length
        row = next((i for i, end in enumerate(lanes) if end < at), len(lanes))  # the first lane free here
        lanes[row:row + 1] = [at + LABEL_PCT_PER_CHAR * (len(label) + 2)]
        band = ""
        if v.get("ci_ms"):
            a, b = (v["clip_ms"] + c - v["time_ms"] for c in v["ci_ms"])
            band = f'<i class=ci style="left:{pct(a)};width:calc({pct(b)} - {pct(a)})"></i>'
        trusted = v.get("trusted", True)
        why = "" if trusted else " (not trusted: its interval is wider than the events are held to)"
        marks.append(f'{band}<b class="event{"" if trusted else " doubt"}" style="left:{pct(v["clip_ms"])};'
                     f'top:{3 + 13 * row}px" data-t="{v["clip_ms"] / 1000:.3f}" '
                     f'title="{label}: {v["time_ms"]:+.0f} ms from the {reference}{why}">{label}</b>')
    return (f'<div class=timeline style="height:{6 + 13 * len(lanes)}px" data-length="{length / 1000:.3f}">'
            f'{"".join(marks)}<i class=playhead></i></div>')


LABEL_PCT_PER_CHAR = 1.6  # a timeline label's width per character, as a share of a tile (~380 px)


def _labels(align: Path | None) -> dict[str, tuple[str, str]]:
    """``{clip: (batter, shot)}`` from the alignment's ``clips.csv`` (the labels ``corrkin
    align labels=...`` was given), for results that do not carry their own."""
    if align is None or not (align / "clips.csv").is_file():
        return {}
    with open(align / "clips.csv", newline="") as f:
        return {r["clip"]: (r.get("batter", ""), r.get("shot", "")) for r in csv.DictReader(f)}


def _metric_rows(records: list[dict], labels: dict[str, tuple[str, str]]) -> list[tuple[dict, dict[str, str]]]:
    """Each analysed clip's metrics row as measured (untrusted values kept, for greying) and
    ``{column: why}`` for those not to be trusted."""
    from corrkin.analysis.metrics import measured_row, untrusted_values

    out = []
    for r in records:
        if "kinematic_sequence" in r:
            row = measured_row(r, *labels.get(r["clip"], ("", "")))
            out.append((row, untrusted_values(r, row)))
    return out


def _metrics_section(rows: list[tuple[dict, dict[str, str]]], media: Path) -> str:
    """The sortable table of every clip's metrics and the distributions by batter and by shot."""
    from corrkin.plots.kinematics import plot_distributions

    if not rows:
        return ""
    cols = [c for c in TABLE_COLUMNS if any(r.get(c) not in (None, "") for r, _ in rows)]
    head = "".join(f'<th data-col="{i}" title="click to sort">{html.escape(c)}</th>' for i, c in enumerate(cols))
    body = "".join("<tr>" + "".join(_cell(r.get(c), why.get(c)) for c in cols) + "</tr>" for r, why in rows)
    parts = ["<h2 id=all-metrics>Every clip's metrics</h2><p class=note>One row per clip; click a column to sort. "
             "Units and how each is computed: the <a href=#dictionary>data dictionary</a> below. Empty: not measured "
             "(the clip's reasons say why). <span class=doubt>Grey</span>: measured but not trusted (outside what the "
             "literature says a stroke can be, events out of a stroke's order, a sequence not reliable); hover "
             "for why. metrics.csv leaves the grey values out of their columns (its <code>untrusted</code> column "
             "keeps them).</p>",
             f"<div class=scroll><table id=metrics><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"]
    trusted = [{c: (None if c in why else v) for c, v in r.items()} for r, why in rows]
    for by in ("batter", "shot"):
        if plot_distributions(trusted, by, media / f"metrics_by_{by}.png"):
            parts.append(_figure(f"media/metrics_by_{by}.png", f"metrics by {by}"))
    return "\n".join(parts)


# the coach's first screen: (column, label, unit) per batter and shot
SUMMARY = (("bat_toe_speed_m_s", "bat speed (toe)", "m/s"), ("bat_sweet_spot_speed_m_s", "bat speed (sweet spot)", "m/s"),
           ("hands_speed_m_s", "hand speed", "m/s"), ("stride_m", "stride", "m"),
           ("start_of_backlift_ms", "start of backlift", "ms from impact"),
           ("top_of_backlift_ms", "top of backlift", "ms from impact"),
           ("front_foot_toe_off_ms", "front-foot toe-off", "ms from impact"),
           ("front_foot_contact_ms", "front-foot contact", "ms from impact"),
           ("gap_lead_arm_bat_ms", "lead arm → bat gap", "ms"))
LIGHTS = {"green": "every clip measured and trusted", "amber": "some clips measured and trusted; the rest left out",
          "red": "no clip gives a trusted value"}


def _missing_why(row: dict, col: str) -> str:
    """Why ``row`` has no value in ``col``, from the row's own reasons."""
    if col.endswith("_ms") and not col.startswith("gap_"):
        return "not found: " + (str(row.get("events_reasons") or "").split(" | ")[0] or "no such event in the clip")
    if col.startswith("gap_"):
        return "not measured: " + (str(row.get("sequence_reasons") or "").split(" | ")[0] or "no sequence")
    if col.startswith("stride"):  # from the front foot's toe-off to its contact
        foot = [r for r in str(row.get("events_reasons") or "").split(" | ") if "foot" in r]
        if foot:
            return "not measured: " + foot[0]
    if row.get("calibration_unavailable"):
        return "no metres: " + str(row["calibration_unavailable"])
    if row.get("camera_view") == "along the pitch":
        return "withheld: the camera looks along the pitch (the swing's plane is seen edge-on)"
    if not row.get("bat_found") and col.startswith("bat_"):
        return "no bat seen through the swing"
    return "not measured (the clip's reasons say why)"


def _summary_cell(group: list[tuple[dict, dict[str, str]]], col: str, unit: str) -> str:
    """A metric over a batter's clips of one shot: the median of the trusted values, their range,
    how many clips gave one, a traffic light, and why the rest were left out (on hover and in
    words where none is trusted)."""
    from collections import Counter

    values, left = [], Counter()
    for r, why in group:  # a value trusted, a value not trusted (why), or none (why not)
        if r.get(col) in (None, ""):
            left[_missing_why(r, col)] += 1
        elif col in why:
            left[why[col]] += 1
        else:
            values.append(float(r[col]))
    light = "green" if len(values) == len(group) else "amber" if values else "red"
    reasons = "; ".join(f"{n} clip{'s' if n > 1 else ''}: {w}" for w, n in left.most_common())
    tip = html.escape(LIGHTS[light] + (f". Left out: {reasons}" if reasons else ""))
    if not values:
        first = left.most_common(1)[0][0] if left else ""
        first = html.escape(first if len(first) <= 90 else first[:88].rsplit(" ", 1)[0] + " …")
        return f'<td class="light red" title="{tip}"><span class=dot></span>withheld<br><small>{first}</small></td>'
    med = float(np.median(values))
    spread = f"<br><small>{min(values):.3g} to {max(values):.3g}</small>" if len(values) > 1 else ""
    short = unit.split(" ")[0]  # "ms from impact": the column says from what
    return (f'<td class="light {light}" title="{tip}" data-v="{med!r}"><span class=dot></span>{med:.3g} {short}'
            f"<small> ({len(values)} of {len(group)})</small>{spread}</td>")


def _summary_section(rows: list[tuple[dict, dict[str, str]]]) -> str:
    """The first screen: per batter and shot, the trusted metrics with traffic lights."""
    if not rows:
        return ""
    groups: dict[tuple[str, str], list] = {}
    for r, why in rows:
        groups.setdefault((r.get("batter") or "unlabelled", r.get("shot") or "unlabelled"), []).append((r, why))
    head = "".join(f"<th>{html.escape(label)}<br><small>{html.escape(unit)}</small></th>" for _, label, unit in SUMMARY)
    body = []
    for (batter, shot), group in sorted(groups.items()):
        reliable = sum(bool(r.get("reliable")) for r, _ in group)
        cells = "".join(_summary_cell(group, col, unit) for col, _, unit in SUMMARY)
        body.append(f"<tr><th>{html.escape(batter)}</th><th>{html.escape(shot)}</th>"
                    f"<td>{len(group)}<br><small>{reliable} reliable</small></td>{cells}</tr>")
    legend = " ".join(f'<span class="light {k}"><span class=dot></span>{html.escape(v)}</span>' for k, v in LIGHTS.items())
    return ("<h2 id=summary>By batter and shot</h2><p class=note>Each cell: the median of the clips' trusted values, "
            "their range and how many clips gave one. Times are in ms from impact (the bat's peak speed, or the "
            "ball's contact where given; negative: before it). Hover a cell for what was left out and why.</p>"
            f"<p class=legend>{legend}</p><div class=scroll><table id=summary-table><thead><tr><th>batter</th>"
            f"<th>shot</th><th>clips</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")


def _clip_list(tiles) -> str:
    """Every clip, its verdict and its reasons, each linked to its tile."""
    items = []
    for name, safe, rec, _ in tiles:
        q = rec.get("quality") or {}
        ok = bool(q.get("reliable"))
        why = "; ".join(q.get("reasons", []))
        items.append(f'<tr><td class="light {"green" if ok else "red"}"><span class=dot></span>'
                     f'{"reliable" if ok else "not reliable"}</td><td><a href="#{html.escape(safe)}">'
                     f"{html.escape(name)}</a></td><td><small>{html.escape(why)}</small></td></tr>")
    return (f"<h2 id=clips-list>The clips ({len(tiles)})</h2><div class=scroll><table id=clip-list><thead><tr>"
            "<th>verdict</th><th>clip</th><th>why not reliable</th></tr></thead><tbody>" + "".join(items)
            + "</tbody></table></div>")


def _dictionary() -> str:
    """The data dictionary, inside the page: every metrics column, its unit, definition and
    measured tolerance."""
    from corrkin.analysis.metrics import COLUMNS, TOLERANCE

    rows = "".join(f"<tr><td><code>{html.escape(c)}</code></td><td>{html.escape(u)}</td><td>{html.escape(how)}</td>"
                   f"<td>{html.escape(TOLERANCE.get(c, ''))}</td></tr>" for c, (u, how) in COLUMNS.items())
    return ("<details id=dictionary><summary><h2>Data dictionary</h2></summary><p class=note>Every column of "
            "metrics.csv: its unit, how it is computed and, where measured on strokes built in 3-D and filmed, its "
            "tolerance.</p><div class=scroll><table><thead><tr><th>column</th><th>unit</th><th>how it is computed"
            f"</th><th>tolerance (measured)</th></tr></thead><tbody>{rows}</tbody></table></div></details>")


def _figure(src: str, alt: str) -> str:
    """An image that opens full size on a click."""
    return (f'<a class=figure href="{src}" target=_blank title="open full size"><img src="{src}" '
            f'alt="{html.escape(alt)}"></a>')


TABLE_COLUMNS = ("clip", "batter", "shot", "fps", "reliable", "bat_toe_speed_m_s", "bat_sweet_spot_speed_m_s",
                 "bat_toe_speed_km_h", "hands_speed_m_s", "stride_m", "backlift_height_m", "reference_event",
                 "start_of_backlift_ms", "front_foot_toe_off_ms", "start_of_downswing_ms", "front_foot_contact_ms",
                 "sequence_order",
                 "proximal_to_distal", "gap_pelvis_trunk_ms", "gap_trunk_lead_arm_ms", "gap_lead_arm_bat_ms",
                 "x_factor_top_deg", "sequence_reliable", "events_reliable", "path", "path_weight")


def _cell(v, doubt: str | None = None) -> str:
    """A table cell; numbers carry their value for sorting; a doubted value greyed, with why."""
    attr = f' class=doubt title="{html.escape(doubt)}"' if doubt else ""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return f"<td{attr}>{html.escape('' if v is None else str(v))}</td>"
    return f'<td data-v="{float(v)!r}"{attr}>{float(v):.4g}</td>'


TABLE_JS = """
document.querySelectorAll('#metrics th').forEach(th => th.addEventListener('click', () => {
  const body = th.closest('table').tBodies[0], col = +th.dataset.col;
  const up = th.dataset.dir !== 'up'; th.dataset.dir = up ? 'up' : 'down';
  const key = td => td.dataset.v !== undefined ? +td.dataset.v : td.textContent;
  const rows = Array.from(body.rows).sort((a, b) => {
    const x = key(a.cells[col]), y = key(b.cells[col]);
    const blank = (x === '') - (y === '');  // empty cells last either way
    if (blank) return blank;
    return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1);
  });
  rows.forEach(r => body.appendChild(r));
}));
document.querySelectorAll('.tile').forEach(tile => {
  const line = tile.querySelector('.timeline'); if (!line) return;
  const vids = Array.from(tile.querySelectorAll('video')), head = line.querySelector('.playhead');
  const length = +line.dataset.length;
  line.querySelectorAll('.event').forEach(e => e.addEventListener('click', () => {
    vids.forEach(v => { v.currentTime = +e.dataset.t; });
  }));
  if (vids.length) vids[vids.length - 1].addEventListener('timeupdate', ev => {
    head.style.left = (100 * Math.min(ev.target.currentTime / length, 1)) + '%';
  });
});
"""
