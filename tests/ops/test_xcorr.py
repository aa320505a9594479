import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st
from scipy.stats import false_discovery_control, norm

from corrkin.ops import (
    benjamini_hochberg,
    effective_n,
    fisher_p_value,
    lag1_autocorrelation,
    lagged_xcorr,
    zscore,
)
from corrkin.ops.reduce import blocked_sum
from tests.helpers.data import mask_from, ragged


def np_xcorr(z, max_lag):
    n, nn = z.shape[1], z.shape[0]
    out = np.zeros((nn, nn, 2 * max_lag + 1))
    for i in range(nn):
        for j in range(nn):
            for k, lag in enumerate(range(-max_lag, max_lag + 1)):
                out[i, j, k] = sum(z[i, t] * z[j, t + lag] for t in range(n) if 0 <= t + lag < n) / n
    return out


@pytest.mark.parametrize("bsz", [1, 3])
def test_shape(bsz, device, dtype):
    x = torch.randn(bsz, 14, 40, device=device, dtype=dtype)
    m = torch.ones(bsz, 40, dtype=torch.bool, device=device)
    assert lagged_xcorr(zscore(x, m), m, 5).shape == (bsz, 14, 14, 11)


def test_reference_loop_ragged(device):
    lens = [30, 17, 24]
    x, lengths = ragged(lens, 4, device=device)
    m = mask_from(lengths, 30)
    z = zscore(x, m)
    c = lagged_xcorr(z, m, 6).cpu().numpy()
    for b, n in enumerate(lens):
        zb = z[b, :, :n].cpu().numpy()
        np.testing.assert_allclose(zb.mean(1), 0, atol=1e-12)
        np.testing.assert_allclose(zb.std(1), 1, atol=1e-12)
        np.testing.assert_allclose(c[b], np_xcorr(zb, 6), atol=1e-12)


@given(st.lists(st.integers(3, 300), min_size=1, max_size=5), st.integers(0, 40), st.integers(1, 16),
       st.sampled_from([torch.float32, torch.float64]))
@example(lens=[3, 6], lag=1, nodes=5, dtype=torch.float32)  # issue 11: MKL's batched GEMM, one ulp
def test_batched_equals_alone_bitwise(lens, lag, nodes, dtype):
    x, lengths = ragged(lens, nodes, dtype=dtype, seed=sum(lens))
    m = mask_from(lengths, max(lens))
    c = lagged_xcorr(zscore(x, m), m, lag)
    r1 = lag1_autocorrelation(x, m)
    for b, n in enumerate(lens):
        mb = torch.ones(1, n, dtype=torch.bool)
        alone = lagged_xcorr(zscore(x[b: b + 1, :, :n], mb), mb, lag)
        assert torch.equal(alone[0], c[b])
        assert torch.equal(lag1_autocorrelation(x[b: b + 1, :, :n], mb)[0], r1[b])


def test_blocked_sum_invariant_to_padding():
    x = torch.randn(7, 301)
    padded = torch.cat([x, torch.zeros(7, 400)], 1)
    assert torch.equal(blocked_sum(x), blocked_sum(padded))
    torch.testing.assert_close(blocked_sum(x.double()), x.double().sum(-1))


def test_constant_series_is_zero_not_nan():
    x = torch.zeros(1, 3, 20)
    x[0, 1] = torch.randn(20)
    m = torch.ones(1, 20, dtype=torch.bool)
    z = zscore(x, m)
    assert torch.isfinite(z).all() and (z[0, 0] == 0).all()
    assert lag1_autocorrelation(x, m)[0, 0] == 0


def test_lag1_matches_corrcoef():
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.normal(size=(2, 3, 50)), -1)
    r = lag1_autocorrelation(torch.tensor(x), torch.ones(2, 50, dtype=torch.bool)).numpy()
    for b in range(2):
        for i in range(3):
            assert r[b, i] == pytest.approx(np.corrcoef(x[b, i, :-1], x[b, i, 1:])[0, 1], abs=1e-12)


def test_fisher_p_and_neff_against_scipy():
    r = torch.tensor([0.1, 0.45, 0.9, -0.6, 1.0], dtype=torch.float64)
    n_eff = effective_n(torch.tensor(120.0, dtype=torch.float64), torch.tensor(0.8, dtype=torch.float64),
                        torch.tensor(0.7, dtype=torch.float64))
    assert n_eff.item() == pytest.approx(120 * (1 - 0.56) / 1.56)
    p = fisher_p_value(r, n_eff).numpy()
    for k, rv in enumerate(r.tolist()[:4]):
        assert p[k] == pytest.approx(2 * norm.sf(abs(np.arctanh(rv)) * np.sqrt(n_eff.item() - 3)), rel=1e-9)
    assert p[4] < 1e-12  # perfect correlation: p = 0, not NaN
    assert fisher_p_value(torch.tensor([0.9]), torch.tensor([2.5])).item() == 1.0


def test_benjamini_hochberg_against_scipy():
    rng = np.random.default_rng(1)
    p = rng.random((3, 40)) ** 3
    mask = rng.random((3, 40)) > 0.3
    q = benjamini_hochberg(torch.tensor(p), torch.tensor(mask)).numpy()
    for b in range(3):
        np.testing.assert_allclose(q[b, mask[b]], false_discovery_control(p[b, mask[b]]), rtol=1e-12)
        assert (q[b, ~mask[b]] == 1).all()


def test_gradcheck_and_errors():
    x, lengths = ragged([12, 9], 3)
    m = mask_from(lengths, 12)
    x.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: lagged_xcorr(zscore(v, m), m, 3), (x,))
    with pytest.raises(ValueError, match=r"lagged_xcorr: z: expected shape \(B,N,T\), got \(3, 12\)"):
        lagged_xcorr(torch.zeros(3, 12), m, 2)
    with pytest.raises(ValueError, match="max_lag must be >= 0"):
        lagged_xcorr(torch.zeros(2, 3, 12), m, -1)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
def test_sums_are_exact_so_their_order_is_free(dtype, device):
    # reversing time reverses the order of every sum: c_ij(l) of the reversed series is
    # c_ij(-l) of the original. Exact sums give the same bits; rounded sums would not.
    x = torch.randn(3, 6, 200, dtype=torch.float64, generator=torch.Generator().manual_seed(4)).cumsum(-1)
    m = torch.ones(3, 200, dtype=torch.bool, device=device)
    z = zscore(x.to(device=device, dtype=dtype), m)
    c = lagged_xcorr(z, m, 7)
    assert torch.equal(lagged_xcorr(z.flip(-1), m, 7), c.flip(-1))


def test_float32_is_as_accurate_as_float32_allows():
    x = torch.randn(2, 14, 3000, dtype=torch.float64, generator=torch.Generator().manual_seed(5)).cumsum(-1)
    m = torch.ones(2, 3000, dtype=torch.bool)
    z = zscore(x, m)
    exact = lagged_xcorr(z, m, 4)  # float64: within 1e-12 of the loop (test_reference_loop_ragged)
    err = (lagged_xcorr(z.float(), m, 4).double() - exact).abs().max().item()
    assert err < 2e-7  # the old float32 matrix product: 3e-7 here
    # a clip's neighbours, however large, do not change its rounding: scales are per clip
    big = torch.cat([z.float(), 1e6 * z[:1].float()])
    assert torch.equal(lagged_xcorr(big, torch.ones(3, 3000, dtype=torch.bool), 4)[:2], lagged_xcorr(z.float(), m, 4))
