"""The README's quick start, pasted as written into a shell, works on a video: its commands run
in a fresh folder (the video renamed as the README names it) and leave the page it promises."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _quick_start() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_the_quick_start_runs_as_written(tmp_path):
    pytest.importorskip("mediapipe", reason="the quick start's default pose backend")
    from corrkin.synth import SwingSpec
    from corrkin.synth_video import write_rendered

    lines = _quick_start()
    assert lines[0] == "source .venv/bin/activate"  # the environment make install built
    commands = [shlex.split(line) for line in lines[1:]]
    assert [c[:2] for c in commands] == [["corrkin", "run"], ["corrkin", "report"]]
    named = next(a.split("=", 1)[1] for a in commands[0] if a.startswith("input="))
    video, _ = write_rendered(tmp_path / "render", SwingSpec(fps=25, duration_s=1.6, swing_at_s=0.8), seed=3,
                              name="stroke")
    os.replace(video, tmp_path / named)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    for args in commands:
        done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, (args, done.stderr[-3000:])
    out = next(a.split("=", 1)[1] for a in commands[0] if a.startswith("output="))
    assert (tmp_path / out / "metrics.csv").is_file()
    assert (tmp_path / out / "report" / "index.html").is_file()
    assert (tmp_path / out / Path(named).stem / "keypoints.npz").is_file()
