import numpy as np
import pytest
import torch

from corrkin.ops import bat_angular_velocity, swing_axis


@pytest.mark.parametrize("bsz", [1, 3])
def test_axis_matches_svd(bsz, device):
    rng = np.random.default_rng(bsz)
    bat = rng.normal(size=(bsz, 50, 2)) * [3.0, 1.0] @ np.array([[0.8, 0.6], [-0.6, 0.8]])
    lens = [50, 31, 12][:bsz]
    mask = np.arange(50)[None] < np.array(lens)[:, None]
    axis = swing_axis(torch.tensor(bat, device=device), torch.tensor(mask, device=device)).cpu().numpy()
    for b, n in enumerate(lens):
        c = bat[b, :n] - bat[b, :n].mean(0)
        pc = np.linalg.svd(c, full_matrices=False)[2][0]
        assert abs(abs(axis[b] @ pc) - 1) < 1e-12


def test_direction_sets_sign():
    bat = torch.tensor([[[0.0, 0.0], [1.0, 0.1], [2.0, -0.1], [3.0, 0.0]]], dtype=torch.float64)
    mask = torch.ones(1, 4, dtype=torch.bool)
    for d in ([1.0, 0.0], [-1.0, 0.0]):
        axis = swing_axis(bat, mask, torch.tensor([d], dtype=torch.float64))
        assert (axis[0] @ torch.tensor(d, dtype=torch.float64)) > 0.99


def test_angular_velocity_of_a_known_rotation():
    fps, t = 25.0, 40
    w = 3.0  # rad/s counter-clockwise on screen: y is down, so the tip's y decreases
    ang = w * torch.arange(t, dtype=torch.float64) / fps
    hand = torch.zeros(1, t, 2, dtype=torch.float64)
    tip = torch.stack([ang.cos(), -ang.sin()], -1)[None]
    angle, omega = bat_angular_velocity(tip, hand, torch.tensor([t]), torch.tensor([fps], dtype=torch.float64))
    torch.testing.assert_close(omega, torch.full_like(omega, w))
    torch.testing.assert_close(angle[0], ang)  # unwrapped past pi


def test_errors():
    with pytest.raises(ValueError, match=r"swing_axis: bat: expected shape \(B,T,2\)"):
        swing_axis(torch.zeros(5, 2), torch.ones(5, dtype=torch.bool))


def test_batch_stable_atan2_and_atanh():
    from corrkin.ops._math import atan2, atanh

    g = torch.Generator().manual_seed(0)
    for dtype in (torch.float32, torch.float64):
        y = torch.randn(500, generator=g).to(dtype)
        x = torch.randn(500, generator=g).to(dtype)
        x[:5], y[:3] = 0, 0
        torch.testing.assert_close(atan2(y, x), torch.atan2(y, x))
        r = torch.rand(500, generator=g).to(dtype) * 1.98 - 0.99
        torch.testing.assert_close(atanh(r), torch.atanh(r))
        full_a, full_h = atan2(y, x), atanh(r)
        for off in range(1, 30):  # the same element gives the same bits wherever it sits
            assert torch.equal(atan2(y[off: off + 37], x[off: off + 37]), full_a[off: off + 37])
            assert torch.equal(atanh(r[off: off + 37]), full_h[off: off + 37])
