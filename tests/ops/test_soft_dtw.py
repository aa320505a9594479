"""Soft-DTW against a plain loop in float64, its gradient, dtype and the divergence."""

import numpy as np
import pytest
import torch

from corrkin.ops.dtw import dtw, soft_dtw, soft_dtw_divergence


def loop_soft_dtw(x: np.ndarray, y: np.ndarray, gamma: float, r: int | None = None) -> float:
    n, m = len(x), len(y)
    lo, hi = (-n, m) if r is None else (-r - max(0, n - m), r + max(0, m - n))
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            if lo <= j - i <= hi:
                a = np.array([acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1]])
                low = a.min()
                soft = low - gamma * np.log(np.exp(-(a - low) / gamma).sum()) if np.isfinite(low) else np.inf
                acc[i, j] = ((x[i - 1] - y[j - 1]) ** 2).sum() + soft
    return acc[n, m]


def ragged(seed, b=5, n_max=11, m_max=8, d=2, dtype=torch.float64):
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.normal(size=(b, n_max, d))).to(dtype)
    y = torch.from_numpy(rng.normal(size=(b, m_max, d))).to(dtype)
    n = torch.from_numpy(rng.integers(1, n_max + 1, b))
    m = torch.from_numpy(rng.integers(1, m_max + 1, b))
    return x, y, n, m


@pytest.mark.parametrize("radius", [None, 1, 3])
@pytest.mark.parametrize("gamma", [0.1, 1.0])
def test_equals_the_plain_loop(radius, gamma, dtw_impl):
    device, impl = dtw_impl
    x, y, n, m = ragged(1)
    value = soft_dtw(x.to(device), y.to(device), gamma, n, m, radius, impl=impl).cpu()
    for k in range(len(x)):
        ref = loop_soft_dtw(x[k, : n[k]].numpy(), y[k, : m[k]].numpy(), gamma, radius)
        assert value[k].item() == pytest.approx(ref, rel=1e-10, abs=1e-10), k


@pytest.mark.parametrize("radius", [None, 2])
def test_gradcheck_with_ragged_lengths_and_band(radius, dtw_impl):
    device, impl = dtw_impl
    x, y, n, m = ragged(2, b=3, n_max=7, m_max=5)
    x = x.to(device).requires_grad_(True)
    y = y.to(device).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda a, b: soft_dtw(a, b, 0.7, n, m, radius, impl=impl), (x, y))


def test_no_nan_gradients_with_a_band_and_unequal_lengths_and_dtype_kept(dtw_impl):
    device, impl = dtw_impl
    x, y, n, m = ragged(3, b=6, n_max=30, m_max=12, dtype=torch.float32)
    x = x.to(device).requires_grad_(True)
    y = y.to(device)
    out = soft_dtw(x, y, 0.01, n, m, radius=1, impl=impl)  # a narrow band, small gamma: the hard case
    out.sum().backward()
    assert out.dtype == torch.float32 and x.grad.dtype == torch.float32
    assert torch.isfinite(out).all() and torch.isfinite(x.grad).all()
    # padding beyond a pair's length gets no gradient
    for k in range(len(x)):
        assert (x.grad[k, n[k]:] == 0).all()
    # nor does anything with values far apart (gamma 0.01: exp(-d / gamma) underflows)
    far = soft_dtw(x.detach() * 1e3, y * 1e3, 0.01, n, m, radius=1, impl=impl)
    assert torch.isfinite(far).all()


def test_small_gamma_tends_to_dtw():
    x, y, n, m = ragged(4)
    hard = dtw(x, y, n, m, radius=torch.full((len(x),), 100))
    soft = soft_dtw(x, y, 1e-4, n, m)
    torch.testing.assert_close(soft, hard, rtol=0, atol=1e-2)


def test_divergence_zero_on_itself_and_positive_otherwise():
    x, y, n, m = ragged(5)
    same = soft_dtw_divergence(x, x, 1.0, n, n)
    torch.testing.assert_close(same, torch.zeros_like(same), rtol=0, atol=1e-10)
    assert (soft_dtw_divergence(x, y, 1.0, n, m) > 0).all()


@pytest.mark.parametrize("radius", [None, 2])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_pair_alone_equals_pair_in_a_ragged_batch_bit_for_bit(radius, dtype, dtw_impl):
    """Values and gradients of each pair alone equal its row of a padded batch exactly. One
    exception: the tensor wavefront on the CPU (the fallback where the C++ kernels cannot be
    built) takes ATen's SIMD exp/log for most elements and the scalar ones for a tensor's tail,
    so a pair's gradients can move by an ulp with its place in the batch (its values do not)."""
    device, impl = dtw_impl
    x, y, n, m = ragged(6, b=6, n_max=40, m_max=37, dtype=dtype)
    x, y = x.to(device).requires_grad_(True), y.to(device)
    batch = soft_dtw(x, y, 0.5, n, m, radius, impl=impl)
    batch.sum().backward()
    for k in range(len(x)):
        xk = x.detach()[k: k + 1, : n[k]].clone().requires_grad_(True)
        alone = soft_dtw(xk, y[k: k + 1, : m[k]], 0.5, radius=radius, impl=impl)
        alone.sum().backward()
        assert torch.equal(alone[0], batch[k]), k
        if (device, impl) == ("cpu", "wavefront"):
            torch.testing.assert_close(xk.grad[0], x.grad[k, : n[k]], rtol=4 * torch.finfo(dtype).eps, atol=0)
        else:
            assert torch.equal(xk.grad[0], x.grad[k, : n[k]]), k


def test_the_cpu_kernels_equal_the_wavefront():
    x, y, n, m = ragged(7, b=8, n_max=50, m_max=41)
    for radius in (None, 3):
        grads = []
        for impl in ("cpp", "wavefront"):
            xx, yy = x.clone().requires_grad_(True), y.clone().requires_grad_(True)
            value = soft_dtw(xx, yy, 0.3, n, m, radius, impl=impl)
            value.sum().backward()
            grads.append((value, xx.grad, yy.grad))
        for a, b in zip(*grads):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_bad_input_is_refused_as_for_dtw():
    x, y = torch.randn(2, 5, 2), torch.randn(2, 4, 2)
    with pytest.raises(ValueError, match="soft_dtw: lengths must lie"):
        soft_dtw(x, y, 1.0, torch.tensor([5, 6]), torch.tensor([4, 4]))
    with pytest.raises(ValueError, match="soft_dtw: x .* must agree in B and D"):
        soft_dtw(x, torch.randn(3, 4, 2))
    with pytest.raises(ValueError, match="gamma must be positive"):
        soft_dtw(x, y, 0.0)
