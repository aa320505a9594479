import numpy as np
import pytest
import torch

from corrkin.ops.geometry import point_segment_distance


def reference(p, a, b):
    """Closest point by dense sampling of the segment."""
    s = np.linspace(0, 1, 20001)[:, None]
    return np.min(np.linalg.norm(a + s * (b - a) - p, axis=-1))


@pytest.mark.parametrize("seed", range(3))
def test_against_dense_sampling(seed, device):
    rng = np.random.default_rng(seed)
    p, a, b = (rng.normal(size=(50, 2)) * 10 for _ in range(3))
    b[:5] = a[:5]  # degenerate segments are points
    d = point_segment_distance(*(torch.tensor(x, device=device) for x in (p, a, b))).cpu().numpy()
    ref = np.array([reference(*xs) for xs in zip(p, a, b)])
    np.testing.assert_allclose(d, ref, atol=1e-3)


def test_broadcasts_points_against_segments():
    p = torch.randn(4, 7, 2, dtype=torch.float64)
    a, b = torch.randn(3, 1, 1, 2, dtype=torch.float64), torch.randn(3, 1, 1, 2, dtype=torch.float64)
    d = point_segment_distance(p[None], a, b)
    assert d.shape == (3, 4, 7)
    torch.testing.assert_close(d[1], point_segment_distance(p, a[1], b[1]))
