"""corrkin as a library others install: ``python -m build`` makes a wheel and an sdist, and the
wheel alone, in a fresh virtual environment, composes its configs and runs."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "data" / "seed_keypoints"


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """The wheel and the sdist, built from this checkout (no isolation: the build backend
    already installed, no network needed)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)], check=True,
                   capture_output=True, text=True)
    wheel, = out.glob("corrkin-*.whl")
    sdist, = out.glob("corrkin-*.tar.gz")
    return wheel, sdist


def test_the_wheel_and_sdist_carry_the_configs_licence_and_version(dist):
    import corrkin

    wheel, sdist = dist
    assert wheel.name.startswith(f"corrkin-{corrkin.__version__}-")
    names = zipfile.ZipFile(wheel).namelist()
    for config in ("corrkin/configs/analyse.yaml", "corrkin/configs/run.yaml", "corrkin/configs/analysis/seed.yaml",
                   "corrkin/configs/pose/mediapipe.yaml", "corrkin/configs/hydra/launcher/slurm.yaml",
                   "corrkin/configs/technique.yaml", "corrkin/ops/csrc/dtw.cpp"):
        assert config in names, config
    meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(meta).decode()
    assert "License-Expression: BSD-3-Clause" in text
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    with tarfile.open(sdist) as tar:
        members = tar.getnames()
    assert any(m.endswith("corrkin/configs/analyse.yaml") for m in members)
    assert any(m.endswith("/LICENSE") for m in members)


def test_a_fresh_environment_with_the_wheel_alone_runs(dist, tmp_path):
    """A new virtual environment holding the wheel (its dependencies taken from this one's
    site-packages through a path file, as pip would have installed them; this checkout nowhere
    on the path): ``corrkin --version``, ``corrkin analyse`` on the seed clips and a small
    ``corrkin demo`` run from a folder outside the checkout."""
    wheel, _ = dist
    env = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    py = env / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # no .pth there runs: no editable finder
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--quiet", "--no-deps", str(wheel)],
                   check=True)
    work = tmp_path / "elsewhere"
    work.mkdir()

    def run(*args):
        return subprocess.run(args, cwd=work, capture_output=True, text=True, timeout=900,
                              env={"PATH": f"{env / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "MPLBACKEND": "Agg"})

    where = run(str(py), "-c", "import corrkin; print(corrkin.__file__)")
    assert where.returncode == 0 and where.stdout.startswith(str(env)), where
    version = run(str(env / "bin" / "corrkin"), "--version")
    import corrkin

    assert version.stdout.strip() == f"corrkin {corrkin.__version__}"
    if SEED.is_dir():
        done = run(str(env / "bin" / "corrkin"), "analyse", f"input={SEED}", f"output={work / 'seed'}", "fps=25",
                   "plots=false", "progress=false")
        assert done.returncode in (0, 1), done.stderr[-2000:]
        assert len(list((work / "seed").glob("*/result.json"))) == 7
        assert (work / "seed" / "metrics.parquet").is_file()
    demo = run(str(env / "bin" / "corrkin"), "demo", f"output={work / 'demo'}", "clips=2", "videos=1",
               "mediapipe=false", "shot_library=1", "progress=false")
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert (work / "demo" / "report" / "index.html").is_file()
    # every public function of the notebook API, from the wheel alone
    api = run(str(py), "-c", f"""
import corrkin
from pathlib import Path
work = Path({str(work)!r})
res = corrkin.analyse(work / "demo" / "keypoints", output=work / "api", progress=False)
assert len(res) == len(res.clips) == len(list(res)) > 0 and res.clips[0] in res
assert res[res.clips[0]]["clip"] == res.clips[0]
table = res.to_pandas()
assert len(table) == len(res) and "bat_toe_speed_m_s" in table.columns and len(res.summary()) == len(res)
assert len(corrkin.load_results(work / "api")) == len(res) == len(corrkin.Results(str(work / "api")))
ran = corrkin.run(work / "demo" / "videos", output=work / "api_run", pose="file",
                  pose_keypoints=work / "demo" / "video_poses")
assert len(ran) == 1 and ran.to_pandas()["bat_found"].notna().all()
print("api ok")
""")
    assert api.returncode == 0 and "api ok" in api.stdout, api.stderr[-3000:]
