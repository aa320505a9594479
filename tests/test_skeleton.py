"""The joint vocabulary: COCO-17 to the analysis joints, and what imports what (issue 16)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from corrkin.skeleton import COCO17, JOINTS, coco17_to_joints


def test_coco17_to_joints_against_a_plain_loop():
    rng = np.random.default_rng(0)
    kps, scores = rng.normal(size=(3, 4, 17, 2)), rng.uniform(size=(3, 4, 17))
    got_k, got_s = coco17_to_joints(kps, scores)
    assert got_k.shape == (3, 4, 13, 2) and got_s.shape == (3, 4, 13) and got_k.dtype == np.float32
    for a in range(3):
        for b in range(4):
            for j, name in enumerate(JOINTS):
                if name == "pelvis":
                    hips = [COCO17.index("l_hip"), COCO17.index("r_hip")]
                    want_k, want_s = kps[a, b, hips].mean(0), scores[a, b, hips].min()
                else:
                    want_k, want_s = kps[a, b, COCO17.index(name)], scores[a, b, COCO17.index(name)]
                np.testing.assert_allclose(got_k[a, b, j], want_k, rtol=1e-6)
                assert got_s[a, b, j] == np.float32(want_s)


def _loaded(module: str) -> set[str]:
    code = f"import sys, {module}; print(' '.join(m for m in sys.modules if m.startswith('corrkin')))"
    return set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())


def test_what_never_imports_what():
    """``ops`` imports nothing of corrkin but itself and ``corrkin.timing`` (plain arithmetic on
    frame rates, torch-free so that the I/O workers share it); batter selection (``pose``) does
    not import the file readers (``io``): the io <-> pose cycle is gone."""
    assert {m for m in _loaded("corrkin.ops") if not m.startswith("corrkin.ops")} == {"corrkin", "corrkin.timing"}
    assert not any(m.startswith("corrkin.io") for m in _loaded("corrkin.pose.select"))
