"""corrkin report: a page that loads in headless Chromium, every tile's media there, Play all plays."""

import json
import shutil
from pathlib import Path

import pytest

from corrkin.cli import main
from corrkin.synth import SwingSpec
from corrkin.synth_video import write_rendered
from tests.helpers.browser import Browser, chromium_or_skip
from tests.helpers.config import compose_config
from tests.helpers.data import analysed_shot_library

ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts"


@pytest.fixture(scope="module")
def run_output(tmp_path_factory):
    """Two rendered videos through corrkin run (pose from the truth file, bat from the pixels),
    and an aligned library of keypoint files beside them."""
    from corrkin.commands.run import run_video

    root = tmp_path_factory.mktemp("report")
    videos, poses = root / "videos", root / "poses"
    poses.mkdir(parents=True)
    for i, spec in enumerate([SwingSpec(fps=25, duration_s=1.4, swing_at_s=0.7),
                              SwingSpec(fps=30, duration_s=1.2, swing_at_s=0.6)]):
        _, truth = write_rendered(videos, spec, seed=20 + i, name=f"swing{i}")
        truth.rename(poses / truth.name)
    assert run_video(compose_config("run", [f"input={videos}", f"output={root / 'out' / 'videos'}", "pose=file",
                                            f"pose.keypoints={poses}", "progress=false"])) == 0
    lib = root / "lib"
    manifest = analysed_shot_library(lib, per_group=1, seed=2)
    assert main(["align", f"input={lib / 'res'}", f"output={root / 'out' / 'align'}", f"labels={manifest}",
                 "formats=[csv]"]) == 0
    shutil.copytree(lib / "res", root / "out" / "keypoints")
    return root


def test_the_report_loads_every_tile_plays_together_and_has_no_console_errors(run_output):
    exe = chromium_or_skip()
    out = run_output / "report"
    assert main(["report", f"input={run_output / 'out'}", f"output={out}", f"videos={run_output / 'videos'}"]) == 0
    page = out / "index.html"
    assert "media/" in page.read_text() and "/tmp" not in page.read_text()  # relative links only
    assert "Coupling across swings: no batter has enough swings" in page.read_text()  # one swing per shot here
    tiles = 2 + 4  # two videos and four keypoint clips
    browser = Browser(exe)
    try:
        browser.open(page)
        state = browser.eval("Array.from(document.querySelectorAll('video')).map(v => [v.readyState, !!v.error])")
        images = browser.eval("Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
        assert browser.eval("document.querySelectorAll('.tile').length") == tiles
        # every tile says whether its clip's result is to be trusted
        quality = browser.eval("Array.from(document.querySelectorAll('.tile dt')).filter(d => d.textContent == "
                               "'quality').map(d => d.nextElementSibling.textContent)")
        assert len(quality) == tiles and all(q.startswith(("reliable (", "UNRELIABLE: ")) for q in quality), quality
        # every tile: a skeleton video and its correlation-path figure; the video clips their source too
        assert len(state) == tiles + 2 + 2  # + the source videos + two composites (skeletons, sources)
        assert all(ready >= 2 and not err for ready, err in state), state
        assert all(images) and len(images) >= tiles + 2
        # issue 15's panels: each tile's kinematic-sequence figure and its events on its timeline
        kinematics = browser.eval("Array.from(document.querySelectorAll('.tile img')).filter(i => "
                                  "i.alt.startsWith('kinematic sequence')).map(i => i.naturalWidth)")
        assert len(kinematics) == tiles and all(w > 300 for w in kinematics)
        events = browser.eval("Array.from(document.querySelectorAll('.tile')).map(t => "
                              "t.querySelectorAll('.timeline .event').length)")
        # seven events at most without a given ball contact (the top of the backlift is the downswing's start)
        assert len(events) == tiles and all(n >= 1 for n in events) and 6 <= max(events) <= 7, events
        # where events are missing, the tile says which and why instead of leaving them out silently
        verdicts = browser.eval("Array.from(document.querySelectorAll('.tile dt')).filter(d => d.textContent == "
                                "'events').map(d => d.nextElementSibling.textContent)")
        assert all(v.startswith("NOT TRUSTED: ") for n, v in zip(events, verdicts) if n < 7), (events, verdicts)
        # a click on an event seeks that tile's videos to it
        seek = browser.eval("(() => { const e = document.querySelector('.tile .timeline .event'); e.click(); "
                            "return [+e.dataset.t, e.closest('.tile').querySelector('video').currentTime]; })()")
        assert abs(seek[0] - seek[1]) < 0.05, seek
        # the metric table: a row per clip, sorted numerically by a click on a header
        assert browser.eval("document.querySelectorAll('#metrics tbody tr').length") == tiles
        col = browser.eval("Array.from(document.querySelectorAll('#metrics th')).findIndex(th => "
                           "th.textContent.startsWith('bat_toe_speed_m_s'))")
        assert col >= 0
        browser.eval(f"document.querySelectorAll('#metrics th')[{col}].click()")
        values = browser.eval(f"Array.from(document.querySelectorAll('#metrics tbody tr')).map(r => r.cells[{col}]."
                              "dataset.v).filter(v => v !== undefined).map(Number)")
        assert len(values) >= 4 and values == sorted(values), values
        # the distributions by batter and by shot (the library's labels)
        dist = browser.eval("Array.from(document.images).filter(i => i.alt.startsWith('metrics by '))"
                            ".map(i => [i.alt, i.naturalWidth])")
        assert sorted(a for a, _ in dist) == ["metrics by batter", "metrics by shot"] and all(w > 300 for _, w in dist)
        # the first screen is the coach's: per batter and shot, trusted metrics with traffic lights
        top, groups, lights = browser.eval(
            "(() => { const t = document.getElementById('summary-table'); return [t.getBoundingClientRect().top, "
            "t.tBodies[0].rows.length, t.querySelectorAll('td.light').length]; })()")
        assert top < 700 and groups >= 2 and lights >= 9 * groups, (top, groups, lights)
        assert browser.eval("document.querySelector('#summary-table thead').textContent.includes('ms from impact')")
        # every clip listed, each linked to its tile
        listed = browser.eval("Array.from(document.querySelectorAll('#clip-list tbody a')).map(a => a.textContent)")
        names = browser.eval("Array.from(document.querySelectorAll('.tile h3')).map(h => h.textContent)")
        assert sorted(listed) == sorted(names) and len(names) == tiles
        # no picture shown narrower than 600 px without a full-size view a click away
        small = browser.eval("Array.from(document.images).filter(i => i.getBoundingClientRect().width < 600 && "
                             "!(i.closest('a') && i.closest('a').getAttribute('href') === i.getAttribute('src')))"
                             ".map(i => i.alt)")
        assert small == [], small
        # the data dictionary is inside the page
        from corrkin.analysis.metrics import COLUMNS

        assert browser.eval("document.querySelectorAll('#dictionary tbody tr').length") == len(COLUMNS)
        browser.eval("document.getElementById('play').click()")
        import time

        time.sleep(0.8)  # less than the shortest video (1.2 s): none has looped yet
        playing = browser.eval("Array.from(document.querySelectorAll('video')).map(v => [!v.paused, v.currentTime])")
        assert all(p and t > 0.3 for p, t in playing), playing
        times = [t for _, t in playing]
        assert max(times) - min(times) < 0.3, times  # in step
        browser.eval("document.getElementById('pause').click()")
        assert browser.eval("Array.from(document.querySelectorAll('video')).every(v => v.paused)")
        shot = browser.screenshot(ARTIFACTS / "report.png")
        assert shot.stat().st_size > 10_000
        assert browser.errors == []
    finally:
        browser.close()


def test_clips_whose_names_clash_or_overflow_keep_their_own_media(tmp_path):
    """``a b`` and ``a_b`` read the same once made safe for a file name, and a 250-character name
    leaves no room for ``_kinematics.png``: each clip still gets its own files, linked from its tile."""
    from corrkin.io.keypoints import save_clip
    from corrkin.render.report import write_report
    from corrkin.synth import make_clip

    clips = tmp_path / "clips"
    names = ["a b", "a_b", "y" * 250]
    for k, name in enumerate(names):
        save_clip(clips / f"{name}.npz", make_clip(SwingSpec(fps=25, duration_s=1.2, swing_at_s=0.6), seed=k)[0])
    assert main(["analyse", f"input={clips}", f"output={tmp_path / 'res'}", "progress=false"]) == 0
    page = write_report(tmp_path / "res", tmp_path / "report", composite=0).read_text()
    skeletons = sorted(p.name for p in (tmp_path / "report" / "media").glob("*_skeleton.mp4"))
    assert len(skeletons) == 3 and all(len(n) <= 255 for n in skeletons)
    assert all(f"media/{n}" in page for n in skeletons)


def test_the_library_section_draws_each_batters_chain_from_the_claimed_links(tmp_path):
    from corrkin.render.report import _links_section

    (tmp_path / "alignment.json").write_text(json.dumps({"chains": [
        {"batter": "A", "shot": "drive", "swings": 12, "chain": ["pelvis", "l_shoulder", "bat"]},
        {"batter": "B", "shot": "pull", "swings": 10, "chain": []}]}))
    head = "batter,shot,src,dst,lag_ms,lag_ci_low_ms,lag_ci_high_ms,claimed\n"
    (tmp_path / "links.csv").write_text(head + "A,drive,pelvis,l_shoulder,41.2,30.1,52.0,True\n"
                                        "A,drive,l_shoulder,bat,88,60,110,True\nA,drive,l_knee,r_knee,5,-9,19,False\n")
    text = _links_section(tmp_path)
    assert "pelvis → l_shoulder → bat" in text and "pelvis → l_shoulder 41 ms [30, 52]" in text
    assert "l_knee" not in text  # not claimed
    assert "<b>B, pull</b> (10 swings): no chain of claimed links reaches the bat" in text
