"""Comparing a result's edges with a reference's."""

from __future__ import annotations

import pytest


def assert_same_edges(have_edges: list[dict], want_edges: list[dict], weight_abs: float,
                      p_rel: float | None = None, p_key: str = "p_value", label: str = "") -> list[tuple[dict, dict]]:
    """The same (src, dst) pairs with equal lags, weights within ``weight_abs`` and, with
    ``p_rel``, p-values (``want``'s under ``p_key``) within ``p_rel``; returns the matched pairs."""
    want = {(e["src"], e["dst"]): e for e in want_edges}
    have = {(e["src"], e["dst"]): e for e in have_edges}
    assert set(have) == set(want), label
    for key, e in want.items():
        assert have[key]["lag_frames"] == e["lag_frames"], (label, key)
        assert have[key]["weight"] == pytest.approx(e["weight"], abs=weight_abs), (label, key)
        if p_rel is not None:
            assert have[key]["p_value"] == pytest.approx(e[p_key], rel=p_rel), (label, key)
    return [(have[k], want[k]) for k in want]
