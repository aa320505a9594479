"""Banded DTW against a plain O(NM) loop, with ragged lengths and per-pair bands."""

import numpy as np
import pytest
import torch

from corrkin.ops.dtw import band_limits, default_radius, dtw, path_cost, sq_dist


def loop_dtw(x: np.ndarray, y: np.ndarray, r: int) -> float:
    """The textbook recurrence over every cell, band as tslearn's Sakoe–Chiba mask."""
    n, m = len(x), len(y)
    lo, hi = -r - max(0, n - m), r + max(0, m - n)
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            if lo <= j - i <= hi:
                acc[i, j] = ((x[i - 1] - y[j - 1]) ** 2).sum() + min(acc[i - 1, j], acc[i, j - 1], acc[i - 1, j - 1])
    return acc[n, m]


def ragged(seed, b=7, n_max=23, m_max=19, d=2):
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.normal(size=(b, n_max, d)))
    y = torch.from_numpy(rng.normal(size=(b, m_max, d)))
    n = torch.from_numpy(rng.integers(1, n_max + 1, b))
    m = torch.from_numpy(rng.integers(1, m_max + 1, b))
    r = torch.from_numpy(rng.integers(0, 6, b))
    return x, y, n, m, r


@pytest.mark.parametrize("seed", range(4))
def test_equals_the_plain_loop(seed, dtw_impl):
    device, impl = dtw_impl
    x, y, n, m, r = ragged(seed)
    cost = dtw(x.to(device), y.to(device), n, m, r, impl=impl).cpu()
    for k in range(len(x)):
        ref = loop_dtw(x[k, : n[k]].numpy(), y[k, : m[k]].numpy(), int(r[k]))
        assert cost[k].item() == pytest.approx(ref, rel=1e-12), k
    assert cost.dtype == torch.float64


def test_default_band_is_ten_percent_of_the_longer_length():
    n, m = torch.tensor([300, 50, 5]), torch.tensor([280, 60, 5])
    torch.testing.assert_close(default_radius(n, m), torch.tensor([30, 6, 1]))
    lo, hi = band_limits(n, m, default_radius(n, m))
    torch.testing.assert_close(lo, torch.tensor([-50, -6, -1]))
    torch.testing.assert_close(hi, torch.tensor([30, 16, 1]))
    x, y = torch.randn(3, 300, 2, dtype=torch.float64), torch.randn(3, 280, 2, dtype=torch.float64)
    ref = loop_dtw(x[1, :50].numpy(), y[1, :60].numpy(), 6)
    assert dtw(x, y, n, m)[1].item() == pytest.approx(ref, rel=1e-12)


def test_paths_are_monotone_in_band_and_cost_what_the_distance_says(dtw_impl):
    device, impl = dtw_impl
    x, y, n, m, r = ragged(9)
    cost, path = dtw(x.to(device), y.to(device), n, m, r, path=True, impl=impl)
    cost, path = cost.cpu(), path.cpu()
    torch.testing.assert_close(path_cost(sq_dist(x, y), path), cost)
    lo, hi = band_limits(n, m, r)
    for k in range(len(x)):
        p = path[k][path[k, :, 0] >= 0]
        assert p[0].tolist() == [0, 0] and p[-1].tolist() == [n[k] - 1, m[k] - 1]
        steps = p[1:] - p[:-1]
        assert ((steps >= 0) & (steps <= 1)).all() and (steps.sum(-1) >= 1).all()
        d = p[:, 1] - p[:, 0]
        assert ((d >= lo[k]) & (d <= hi[k])).all()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_pair_alone_equals_pair_in_a_ragged_batch_bit_for_bit(dtw_impl, dtype):
    device, impl = dtw_impl
    x, y, n, m, r = ragged(3)
    x, y = x.to(device, dtype), y.to(device, dtype)
    batch, paths = dtw(x, y, n, m, r, path=True, impl=impl)
    for k in range(len(x)):
        alone, path = dtw(x[k: k + 1, : n[k]], y[k: k + 1, : m[k]], radius=r[k: k + 1], path=True, impl=impl)
        assert torch.equal(alone[0], batch[k]), k
        steps = int(n[k] + m[k] - 1)
        assert torch.equal(path[0, :steps], paths[k, :steps]) and (paths[k, steps:] == -1).all(), k


def test_the_cpu_kernels_equal_the_wavefront():
    """The C++ kernels (row by row) and the tensor wavefront (diagonal by diagonal) are two
    codes of one recurrence: same costs to rounding, same paths."""
    x, y, n, m, r = ragged(12, b=9, n_max=40, m_max=33)
    for radius in (r, None, 0):
        a, pa = dtw(x, y, n, m, radius, path=True, impl="cpp")
        b, pb = dtw(x, y, n, m, radius, path=True, impl="wavefront")
        torch.testing.assert_close(a, b, rtol=1e-12, atol=0)
        assert torch.equal(pa, pb)


def test_impl_is_checked():
    x = torch.randn(1, 4, 2)
    with pytest.raises(ValueError, match="impl must be"):
        dtw(x, x, impl="numba")


def test_bad_lengths_are_refused():
    x, y = torch.randn(2, 5, 2), torch.randn(2, 4, 2)
    with pytest.raises(ValueError, match="lengths must lie"):
        dtw(x, y, torch.tensor([5, 6]), torch.tensor([4, 4]))
    with pytest.raises(ValueError, match="agree in B and D"):
        dtw(x, torch.randn(2, 4, 3))



def test_equals_tslearn_and_dtaidistance_with_the_matching_band(dtw_impl):
    device, impl = dtw_impl
    tslearn = pytest.importorskip("tslearn.metrics", reason="tslearn is a dev dependency")
    dtai = pytest.importorskip("dtaidistance.dtw", reason="dtaidistance is a dev dependency")
    rng = np.random.default_rng(11)
    for n, m, r in [(40, 40, 4), (35, 28, 3), (20, 31, 5)]:
        x, y = rng.normal(size=(n, 2)), rng.normal(size=(m, 2))
        ours = dtw(torch.from_numpy(x)[None].to(device), torch.from_numpy(y)[None].to(device), radius=r,
                   impl=impl).item()
        ref = tslearn.dtw(x, y, global_constraint="sakoe_chiba", sakoe_chiba_radius=r) ** 2
        assert ours == pytest.approx(ref, rel=1e-10)
        if n == m:  # dtaidistance: 1-D, window w allows |i - j| < w
            one = dtw(torch.from_numpy(x[:, :1])[None].to(device), torch.from_numpy(y[:, :1])[None].to(device),
                      radius=r, impl=impl).item()
            assert one == pytest.approx(dtai.distance(x[:, 0].copy(), y[:, 0].copy(), window=r + 1) ** 2, rel=1e-10)


def test_the_first_build_of_the_kernels_is_announced(tmp_path, monkeypatch):
    """The first alignment on a machine compiles the C++ kernels (about a minute): whether a
    build is already in torch's extension cache decides the message, wherever the cache is."""
    from corrkin.ops.dtw import _built

    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path))
    assert not _built("corrkin_dtw_test")
    (tmp_path / "py311_cpu" / "corrkin_dtw_test").mkdir(parents=True)
    assert not _built("corrkin_dtw_test")  # a folder without a build
    (tmp_path / "py311_cpu" / "corrkin_dtw_test" / "corrkin_dtw_test.so").write_bytes(b"")
    assert _built("corrkin_dtw_test")
