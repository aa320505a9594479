import numpy as np
import pytest
import torch

from corrkin.ops import central_difference
from tests.helpers.data import ragged


def reference(x: np.ndarray) -> np.ndarray:
    v = np.empty_like(x)
    for t in range(1, len(x) - 1):
        v[t] = (x[t + 1] - x[t - 1]) / 2
    v[0], v[-1] = v[1], v[-2]
    return v


@pytest.mark.parametrize("bsz", [1, 3])
def test_shape(bsz, device, dtype):
    x = torch.randn(bsz, 5, 2, 20, device=device, dtype=dtype)
    assert central_difference(x).shape == x.shape


def test_reference_and_ragged(device):
    lens = [20, 7, 3]
    x, lengths = ragged(lens, 2, device=device)
    v = central_difference(x, lengths)
    for b, n in enumerate(lens):
        np.testing.assert_allclose(v[b, :, :n].cpu().numpy(), reference(x[b, :, :n].cpu().numpy().T).T, atol=1e-14)
        assert (v[b, :, n:] == 0).all()
        assert torch.equal(central_difference(x[b: b + 1, :, :n])[0], v[b, :, :n])


def test_non_contiguous_and_gradcheck():
    x = torch.randn(2, 10, 3, dtype=torch.float64)
    assert torch.equal(central_difference(x.transpose(1, 2)), central_difference(x.transpose(1, 2).contiguous()))
    x = x.transpose(1, 2).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: central_difference(v, torch.tensor([10, 6])), (x,))


def test_errors():
    with pytest.raises(ValueError, match="at least 3 frames"):
        central_difference(torch.zeros(1, 2))
