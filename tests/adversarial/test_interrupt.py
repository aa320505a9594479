"""Stopped mid-run (Ctrl-C, SIGTERM, SIGKILL), ``corrkin analyse`` and ``corrkin library`` leave
only whole results, no process behind them, and a re-run ends exactly where an uninterrupted
run would (issue 14)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.adversarial.test_bad_input import _without_provenance

psutil = pytest.importorskip("psutil", reason="the interruption tests find worker processes with psutil")

if sys.platform != "linux":
    pytest.skip("signals and fork as on Linux", allow_module_level=True)

CLIPS = 120


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """``CLIPS`` clips, and the results of an uninterrupted run over them."""
    from corrkin.synth import make_library

    root = tmp_path_factory.mktemp("lib")
    make_library(root / "clips", CLIPS, seed=3)  # all different: the library analyses each file once
    out = root / "clean"
    assert _corrkin("analyse", f"input={root / 'clips'}", f"output={out}", *ANALYSE).wait(300) == 0
    return root


ANALYSE = ("progress=false", "batch_size=8", "plots=true")


def _corrkin(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "corrkin", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)


def _stop_midway(proc: subprocess.Popen, folder: Path, sig: int, marker: str) -> list[int]:
    """Wait until a few results exist under ``folder``, note the run's processes, send ``sig``
    (to the whole process group, as a terminal's Ctrl-C does) and return their PIDs."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _count(folder, marker) < 3:
        assert proc.poll() is None, "the run ended before it could be stopped"
        time.sleep(0.02)
    pids = [proc.pid] + [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    os.killpg(proc.pid, sig) if sig == signal.SIGINT else os.kill(proc.pid, sig)
    return pids


def _count(folder: Path, name: str) -> int:
    """Files called ``name`` under ``folder`` while a run writes there: a clip's folder is
    built under a temporary name and renamed into place, so a folder listed a moment ago may be
    gone when it is read (``os.walk`` skips it; ``Path.rglob`` raised FileNotFoundError, and
    the test failed by the timing of the two processes)."""
    return sum(name in files for _, _, files in os.walk(folder))


def _gone(pids: list[int], wait_s: float = 10.0) -> list[int]:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        alive = [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
        if not alive:
            return []
        time.sleep(0.1)
    return alive


def _leftovers(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.name.startswith(".") and ".tmp" in p.name]


def _whole(clip_dir: Path, plots: bool = True) -> bool:
    want = {"result.json", "series.npz"} | ({"corrpath.png"} if plots else set())
    return want <= {p.name for p in clip_dir.iterdir()}


def _same_results(out: Path, clean: Path, names) -> None:
    for name in names:
        # the same numbers; provenance names the input file, which each run of a test copies anew
        assert _without_provenance(out / name / "result.json") == _without_provenance(clean / name / "result.json")
        with np.load(out / name / "series.npz") as a, np.load(clean / name / "series.npz") as b:
            for k in b.files:
                np.testing.assert_array_equal(a[k], b[k])


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL],
                         ids=["SIGINT", "SIGTERM", "SIGHUP", "SIGKILL"])
def test_analyse_stopped_midway_then_rerun(sig, library, tmp_path):
    out = tmp_path / "out"
    proc = _corrkin("analyse", f"input={library / 'clips'}", f"output={out}", *ANALYSE)
    pids = _stop_midway(proc, out, sig, "result.json")
    code = proc.wait(120)
    assert not _gone(pids), "worker processes outlived the run"
    if sig == signal.SIGKILL:
        assert code == -signal.SIGKILL
    else:
        assert code == 128 + sig, proc.stderr.read().decode()[-2000:]  # 130 for Ctrl-C, 143 for SIGTERM
        with open(out / "summary.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert 0 < len(rows) < CLIPS and all(r["status"] == "ok" for r in rows)
        assert all(_whole(out / r["clip"]) for r in rows)  # every clip listed is whole
        assert not _leftovers(out)
    for clip_dir in (p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")):
        assert _whole(clip_dir), f"{clip_dir} half-written"
    # the re-run finishes the job: every clip, exactly as an uninterrupted run, nothing stale
    assert _corrkin("analyse", f"input={library / 'clips'}", f"output={out}", *ANALYSE).wait(300) == 0
    with open(out / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == CLIPS and all(r["status"] == "ok" for r in rows)
    _same_results(out, library / "clean", [r["clip"] for r in rows])
    assert not _leftovers(out)


@pytest.mark.parametrize("workers", [0, 2])
def test_a_stop_ends_the_writes_after_the_clip_under_way(workers, library, tmp_path):
    """One chunk of every clip, written with figures by the I/O workers in a few long groups:
    after Ctrl-C each worker finishes the clip under way and writes no more, rather than the
    rest of its group (tens of clips, many seconds)."""
    out = tmp_path / "out"
    proc = _corrkin("analyse", f"input={library / 'clips'}", f"output={out}", "progress=false",
                    f"batch_size={CLIPS}", "plots=true", f"io_workers={workers}")
    _stop_midway(proc, out, signal.SIGINT, "result.json")
    at_signal = _count(out, "result.json")
    assert proc.wait(120) == 130
    with open(out / "summary.csv", newline="") as f:
        listed = [r["clip"] for r in csv.DictReader(f)]
    assert listed and all(_whole(out / name) for name in listed)
    # each worker (or the one thread) may finish the clip it had begun, and one more may have
    # been renamed into place between the signal and the count above
    assert len(listed) <= at_signal + 2 * max(workers, 1), (at_signal, len(listed))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["SIGINT", "SIGTERM", "SIGKILL"])
def test_library_stopped_midway_then_rerun(sig, library, tmp_path):
    out = tmp_path / "lib"
    args = ("library", f"input={library / 'clips'}", f"output={out}", "progress=false", "batch_size=8",
            "plots=true", "align=false", "formats=[csv]")
    proc = _corrkin(*args)
    pids = _stop_midway(proc, out, sig, "done.json")
    code = proc.wait(120)
    assert not _gone(pids)
    assert code == (-signal.SIGKILL if sig == signal.SIGKILL else 128 + sig), proc.stderr.read().decode()[-2000:]
    for clip_dir in (p for p in (out / "clips").iterdir() if not p.name.startswith(".")):
        if (clip_dir / "done.json").exists():
            assert _whole(clip_dir)
    assert _corrkin(*args).wait(300) == 0
    with open(out / "library.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == CLIPS and all(r["status"] == "ok" for r in rows)
    for row in rows:  # the same numbers as the uninterrupted analyse run of the same files
        rec = json.loads((out / "clips" / row["key"] / "result.json").read_text())
        clean = json.loads((library / "clean" / row["clip"] / "result.json").read_text())
        assert {k: rec[k] for k in clean} == clean
    assert not _leftovers(out)


def test_report_stopped_midway_is_one_line_and_the_signal_s_code(tmp_path):
    """Outside a loop that finishes its step, a signal ends the step at once: one line, no
    traceback, exit 128 + the signal; the page is not half-written."""
    from corrkin.synth import make_library

    make_library(tmp_path / "clips", 8, seed=1)
    assert _corrkin("analyse", f"input={tmp_path / 'clips'}", f"output={tmp_path / 'res'}", "progress=false",
                    "plots=false").wait(300) == 0
    proc = _corrkin("report", f"input={tmp_path / 'res'}", f"output={tmp_path / 'rep'}", "composite=0")
    deadline = time.monotonic() + 120
    media = tmp_path / "rep" / "media"
    while time.monotonic() < deadline and proc.poll() is None and not (media.is_dir() and any(media.iterdir())):
        time.sleep(0.02)
    if proc.poll() is not None:
        pytest.skip("the report finished before it could be stopped")
    os.kill(proc.pid, signal.SIGTERM)
    code = proc.wait(60)
    err = proc.stderr.read().decode()
    assert code == 128 + signal.SIGTERM, err[-2000:]
    assert "Traceback" not in err and "stopped" in err
    assert not (tmp_path / "rep" / "index.html").exists() or "</html>" in (tmp_path / "rep" / "index.html").read_text()
