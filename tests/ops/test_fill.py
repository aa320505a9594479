import numpy as np
import pytest
import torch

from corrkin.ops import fill_gaps


def reference(x, valid):
    t = np.arange(len(x))
    return np.interp(t, t[valid], x[valid]) if valid.any() else np.zeros_like(x)


@pytest.mark.parametrize("bsz", [1, 3])
def test_against_numpy_interp(bsz, device):
    rng = np.random.default_rng(bsz)
    x = rng.normal(size=(bsz, 4, 30))
    valid = rng.random((bsz, 4, 30)) > 0.4
    valid[0, 0] = False  # a series with no valid frame
    y = fill_gaps(torch.tensor(x, device=device), torch.tensor(valid, device=device)).cpu().numpy()
    for idx in np.ndindex(bsz, 4):
        np.testing.assert_allclose(y[idx], reference(x[idx], valid[idx]), atol=1e-12)
    np.testing.assert_array_equal(y[valid], x[valid])


def test_broadcast_mask_and_grad():
    x = torch.randn(2, 3, 2, 12, dtype=torch.float64, requires_grad=True)
    valid = torch.rand(2, 3, 1, 12) > 0.3
    valid[..., 0] = True
    assert fill_gaps(x, valid).shape == x.shape
    assert torch.autograd.gradcheck(lambda v: fill_gaps(v, valid), (x,))


def test_errors():
    with pytest.raises(ValueError, match="expected shape"):
        fill_gaps(torch.tensor(1.0), torch.tensor(True))
