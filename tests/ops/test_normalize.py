import numpy as np
import pytest
import torch

from corrkin.ops import masked_median, normalize_pose


def test_masked_median_matches_numpy(device):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 17))
    mask = rng.random((5, 17)) > 0.3
    mask[0] = False
    mask[1, :] = False
    mask[1, :4] = True  # even count: numpy averages the two middle values
    med = masked_median(torch.tensor(x, device=device), torch.tensor(mask, device=device)).cpu().numpy()
    assert np.isnan(med[0])
    for b in range(1, 5):
        assert med[b] == pytest.approx(np.median(x[b, mask[b]]), abs=1e-15)


@pytest.mark.parametrize("bsz", [1, 3])
def test_normalize_pose(bsz, device):
    rng = np.random.default_rng(bsz)
    pose = rng.normal(size=(bsz, 20, 13, 2)) * 50 + 300
    valid = np.ones((bsz, 20, 13), bool)
    valid[:, :5, 7] = False
    out, scale = normalize_pose(torch.tensor(pose, device=device), torch.tensor(valid, device=device), 6, (7, 8))
    for b in range(bsz):
        w = np.linalg.norm(pose[b, 5:, 7] - pose[b, 5:, 8], axis=-1)
        assert scale[b].item() == pytest.approx(np.median(w))
        np.testing.assert_allclose(out[b].cpu().numpy(), (pose[b] - pose[b, :, 6:7]) / np.median(w), atol=1e-12)


def test_zero_width_gives_nan_and_shape_errors():
    pose = torch.zeros(1, 4, 13, 2)
    _, scale = normalize_pose(pose, torch.ones(1, 4, 13, dtype=torch.bool), 6, (7, 8))
    assert torch.isnan(scale).all()
    with pytest.raises(ValueError, match=r"normalize_pose: pose: expected shape \(B,T,J,2\), got \(4, 13, 2\)"):
        normalize_pose(pose[0], torch.ones(4, 13, dtype=torch.bool), 6, (7, 8))
