"""Frame-rate-invariant significance, sub-frame peaks and their errors (corrkin.ops.timing)."""

import numpy as np
import pytest
import torch
from scipy.stats import norm

from corrkin.ops import acf_effective_n, fit_peak_times, lag_search_p_value, refine_peak


def test_gaussian_peak_is_refined_exactly(dtype):
    for true in (-0.4, 0.0, 0.17, 0.49):
        x = torch.tensor([-1.0, 0.0, 1.0], dtype=dtype)
        y = torch.exp(-((x - true) ** 2) / (2 * 0.8**2))
        delta, kappa = refine_peak(y[0], y[1], y[2])
        assert delta.item() == pytest.approx(true, abs=1e-5)
        assert kappa.item() > 0
    # a parabola where a sample is not positive: the vertex of (x - 0.25)^2 flipped
    par = lambda v: 1 - (v - 0.25) ** 2 * 2  # noqa: E731
    delta, _ = refine_peak(torch.tensor(par(-1.0)), torch.tensor(par(0.0)), torch.tensor(par(1.0)))
    assert par(-1.0) < 0 and delta.item() == pytest.approx(0.25, abs=1e-6)


def test_peak_times_fit_a_gaussian_exactly_and_know_their_noise():
    # a speed pulse of 50 ms at 60 fps, peaking between frames
    fps, t = 60.0, torch.arange(180, dtype=torch.float64)
    true = torch.tensor([70.3, 101.75], dtype=torch.float64)
    pulse = torch.exp(-((t[None] - true[:, None]) ** 2) / (2 * (0.05 * fps) ** 2))[None]  # (1, 2, T)
    mask = torch.ones(1, 180, dtype=torch.bool)
    half = torch.tensor([6])
    frame, time, _ = fit_peak_times(-pulse, mask, half)  # |v|: the sign does not matter
    assert frame.tolist() == [[70, 102]]
    torch.testing.assert_close(time, true[None], atol=1e-9, rtol=0)
    # with white noise on the positions, the error the fit states is the spread it shows
    from scipy.special import erf

    from corrkin.ops import central_difference, savgol_filter, smoothing_noise_gains

    rng = np.random.default_rng(0)
    pos = 0.5 * (1 + erf((t.numpy() - 90.4) / (np.sqrt(2) * 3.0)))
    x = torch.tensor(pos[None, None] + rng.normal(0, 0.004, (400, 1, 180)))
    v = central_difference(savgol_filter(x, 13, 2))
    res_var, acov = smoothing_noise_gains(13, 2, 12)
    _, time, se = fit_peak_times(v, torch.ones(400, 180, dtype=torch.bool), torch.full((400,), 6),
                                 torch.full((400, 1), 0.004, dtype=torch.float64),
                                 torch.tensor(acov, dtype=torch.float64)[None].expand(400, -1))
    assert se.median().item() == pytest.approx(time.std().item(), rel=0.25)


def test_lag_error_is_the_spread_of_the_lags():
    from scipy.special import erf

    from corrkin.ops import central_difference, lag_peak, lag_standard_error, lagged_xcorr, savgol_filter, zscore

    fps, t = 60.0, np.arange(180) / 60.0
    step = lambda c: 0.5 * (1 + erf((t - c) / (np.sqrt(2) * 0.06)))  # noqa: E731
    rng = np.random.default_rng(1)
    x = torch.tensor(np.stack([0.4 * step(1.5), 0.6 * step(1.55)])[None] + rng.normal(0, 0.02, (400, 2, 180)))
    v = central_difference(savgol_filter(x, 13, 2))
    mask = torch.ones(400, 180, dtype=torch.bool)
    xc = lagged_xcorr(zscore(v, mask), mask, 24)
    peak = lag_peak(xc, torch.full((400,), 24))
    se = lag_standard_error(xc, peak["lag"], torch.full((400,), 24), mask.sum(1), peak["curvature"])
    lags = peak["lag_sub"][:, 0, 1]
    assert lags.mean().item() == pytest.approx(0.05 * fps, abs=0.1)  # 3 frames
    assert se[:, 0, 1].median().item() == pytest.approx(lags.std().item(), rel=0.3)


def test_effective_n_and_p_against_plain_formulas():
    rng = np.random.default_rng(0)
    acf = np.concatenate([np.ones((2, 4, 1)), rng.uniform(-0.3, 0.9, (2, 4, 6))], -1)
    n, k = np.array([80.0, 300.0]), np.array([6, 4])
    got = acf_effective_n(torch.tensor(acf), torch.tensor(n), torch.tensor(k)).numpy()
    for b in range(2):
        for i in range(4):
            for j in range(4):
                unbiased = n[b] / (n[b] - np.arange(1, k[b] + 1))  # sums over n - k pairs
                s = 1 + 2 * np.sum(acf[b, i, 1: k[b] + 1] * acf[b, j, 1: k[b] + 1] * unbiased**2)
                assert got[b, i, j] == pytest.approx(np.clip(n[b] / s, 1, n[b]), rel=1e-12)
    r, n_eff, lags = torch.tensor([0.2, 0.5, 0.8, -0.3]), torch.tensor(25.0), torch.tensor(21)
    p = lag_search_p_value(r.double(), n_eff.double(), torch.tensor(75.0).double(), lags).numpy()
    for v, pv in zip(r.tolist()[:3], p[:3]):
        p1 = norm.sf(np.arctanh(v) * np.sqrt(22))
        assert pv == pytest.approx(1 - (1 - p1) ** (21 * 25 / 75), rel=1e-9)
    assert p[3] == 1.0  # a negative peak is no evidence for i -> j
