import math

import numpy as np
import pytest
import torch
from scipy.spatial import procrustes as scipy_procrustes

from corrkin.ops import procrustes


def random_similarity(bsz, g):
    ang = torch.rand(bsz, generator=g, dtype=torch.float64) * 2 * math.pi - math.pi
    rot = torch.stack([torch.stack([ang.cos(), -ang.sin()], -1), torch.stack([ang.sin(), ang.cos()], -1)], -2)
    scale = torch.rand(bsz, generator=g, dtype=torch.float64) * 2 + 0.5
    trans = torch.randn(bsz, 2, generator=g, dtype=torch.float64) * 5
    return scale, rot, trans


@pytest.mark.parametrize("bsz", [1, 3])
def test_recovers_known_similarity(bsz, device):
    g = torch.Generator().manual_seed(bsz)
    x = torch.randn(bsz, 30, 13, 2, generator=g, dtype=torch.float64)
    s, r, t = random_similarity(bsz, g)
    y = s[:, None, None, None] * x @ r.transpose(-1, -2)[:, None] + t[:, None, None]
    aligned, s_hat, r_hat, t_hat = procrustes(x.to(device), y.to(device))
    torch.testing.assert_close(s_hat.cpu(), s)
    torch.testing.assert_close(r_hat.cpu(), r)
    torch.testing.assert_close(t_hat.cpu(), t)
    torch.testing.assert_close(aligned.cpu(), y)


def test_matches_scipy_disparity():
    # scipy allows reflections; on a noisy similarity the best fit is a proper rotation
    rng = np.random.default_rng(0)
    x = rng.normal(size=(25, 2))
    rot = np.array([[np.cos(2.0), -np.sin(2.0)], [np.sin(2.0), np.cos(2.0)]])
    y = 1.7 * x @ rot.T + [3.0, -1.0] + rng.normal(scale=0.3, size=(25, 2))
    aligned, *_ = procrustes(torch.tensor(x)[None], torch.tensor(y)[None])
    # scipy standardises both sets; compare the residual after putting ours in its frame
    _, _, disparity = scipy_procrustes(y, x)
    yc = y - y.mean(0)
    ours = ((aligned[0].numpy() - y) ** 2).sum() / (yc ** 2).sum()
    assert ours == pytest.approx(disparity, rel=1e-9)


def test_mask_ignores_points_and_batch_consistency():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(3, 40, 2, generator=g, dtype=torch.float64)
    y = torch.randn(3, 40, 2, generator=g, dtype=torch.float64)
    mask = torch.arange(40)[None] < torch.tensor([40, 25, 10])[:, None]
    y_garbage = torch.where(mask[..., None], y, 1e6)
    _, s, r, t = procrustes(x, y_garbage, mask)
    for b, n in enumerate([40, 25, 10]):
        _, s1, r1, t1 = procrustes(x[b: b + 1, :n], y[b: b + 1, :n])
        assert torch.equal(s1[0], s[b]) and torch.equal(r1[0], r[b]) and torch.equal(t1[0], t[b])


def test_no_reflection_and_gradcheck():
    x = torch.randn(2, 12, 2, dtype=torch.float64, requires_grad=True)
    y = x.detach() * torch.tensor([-1.0, 1.0], dtype=torch.float64)  # a mirror image
    _, _, r, _ = procrustes(x, y)
    torch.testing.assert_close(torch.linalg.det(r), torch.ones(2, dtype=torch.float64))
    y2 = torch.randn(2, 12, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: procrustes(a, b)[0], (x, y2))


def test_non_contiguous_and_errors():
    x = torch.randn(2, 2, 30, dtype=torch.float64)
    y = torch.randn(2, 30, 2, dtype=torch.float64)
    a1 = procrustes(x.transpose(1, 2), y)[0]
    a2 = procrustes(x.transpose(1, 2).contiguous(), y)[0]
    assert torch.equal(a1, a2)
    with pytest.raises(ValueError, match="same shape"):
        procrustes(torch.zeros(1, 5, 2), torch.zeros(1, 6, 2))
    with pytest.raises(ValueError, match=r"expected shape"):
        procrustes(torch.zeros(1, 5, 3), torch.zeros(1, 5, 3))
