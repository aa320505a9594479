import numpy as np
import pytest
import scipy.signal
import torch
from hypothesis import given
from hypothesis import strategies as st

from corrkin.ops import savgol_coeffs, savgol_filter, savgol_window
from tests.helpers.data import ragged


@pytest.mark.parametrize("bsz", [1, 3])
def test_shape(bsz, device, dtype):
    x = torch.randn(bsz, 4, 2, 30, device=device, dtype=dtype)
    y = savgol_filter(x, 5, 2)
    assert y.shape == x.shape and y.dtype == dtype and y.device == x.device


@pytest.mark.parametrize("window,order", [(5, 2), (7, 3), (9, 2), (11, 4), (3, 1)])
def test_matches_scipy_interp(window, order, device):
    x, lens = ragged([40, 40], 3, device=device)
    y = savgol_filter(x, window, order).cpu().numpy()
    ref = scipy.signal.savgol_filter(x.cpu().numpy(), window, order, mode="interp", axis=-1)
    np.testing.assert_allclose(y, ref, atol=1e-12)


def test_coeffs_match_scipy():
    for w, p in [(5, 2), (7, 3), (13, 2)]:
        np.testing.assert_allclose(savgol_coeffs(w, p).numpy(), scipy.signal.savgol_coeffs(w, p), atol=1e-13)


def test_window_in_seconds():
    assert savgol_window(0.20, 25, 2) == 5
    assert savgol_window(0.20, 30, 2) == 7
    assert savgol_window(0.20, 60, 2) == 13
    assert savgol_window(0.10, 25, 2) == 3  # no longer than the fit's terms: every frame fitted exactly
    assert savgol_window(0.01, 25, 3) == 5  # an odd window longer than the order


def test_ragged_per_clip_windows_match_scipy(device):
    lens, wins = [50, 21, 33], [5, 9, 7]
    x, lengths = ragged(lens, 2, device=device)
    y = savgol_filter(x, wins, 2, lengths)
    for b, (n, w) in enumerate(zip(lens, wins)):
        ref = scipy.signal.savgol_filter(x[b, :, :n].cpu().numpy(), w, 2, mode="interp", axis=-1)
        np.testing.assert_allclose(y[b, :, :n].cpu().numpy(), ref, atol=1e-12)
        assert (y[b, :, n:] == 0).all()


@given(st.lists(st.tuples(st.integers(9, 70), st.sampled_from([3, 5, 7, 9])), min_size=1, max_size=4))
def test_batched_equals_alone_bitwise(spec):
    lens, wins = [s[0] for s in spec], [s[1] for s in spec]
    x, lengths = ragged(lens, 2, dtype=torch.float32, seed=len(spec))
    y = savgol_filter(x, wins, 2, lengths)
    for b, (n, w) in enumerate(zip(lens, wins)):
        alone = savgol_filter(x[b: b + 1, :, :n], w, 2)
        assert torch.equal(alone[0], y[b, :, :n])


def test_non_contiguous(device):
    x = torch.randn(2, 40, 3, device=device, dtype=torch.float64)
    y1 = savgol_filter(x.transpose(1, 2), 5, 2)
    y2 = savgol_filter(x.transpose(1, 2).contiguous(), 5, 2)
    assert torch.equal(y1, y2)


def test_gradcheck():
    x, lengths = ragged([12, 9], 2, dtype=torch.float64)
    x.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: savgol_filter(v, [5, 7], 2, lengths), (x,))


def test_errors():
    x = torch.randn(2, 10)
    with pytest.raises(ValueError, match="odd"):
        savgol_filter(x, 4, 2)
    with pytest.raises(ValueError, match="order .* less than the window"):
        savgol_filter(x, 5, 5)
    with pytest.raises(ValueError, match="longer than the 10 frames"):
        savgol_filter(x, 11, 2)
    with pytest.raises(ValueError, match=r"expected shape"):
        savgol_filter(torch.randn(10), 5, 2)
    with pytest.raises(ValueError, match="3 windows for 2 clips"):
        savgol_filter(x, [5, 5, 5], 2)


def test_a_window_no_longer_than_the_fit_smooths_nothing_and_the_noise_is_read_by_the_least_smoother():
    from corrkin.timing import noise_window

    x = torch.randn(2, 3, 40, dtype=torch.float64)
    y = savgol_filter(x, [3, 3], 2, torch.tensor([40, 31]))
    assert torch.allclose(y[0], x[0]) and torch.allclose(y[1, :, :31], x[1, :, :31])
    assert [noise_window(w, 2) for w in (3, 5, 7)] == [5, 5, 7]
    assert [noise_window(w, 3) for w in (5, 9)] == [5, 9]
