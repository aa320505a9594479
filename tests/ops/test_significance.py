import numpy as np
import pytest
import torch

from corrkin.ops.significance import circular_shift_test
from corrkin.ops.xcorr import zscore


def reference(zi: np.ndarray, zj: np.ndarray, lag: int) -> tuple[float, float]:
    """The test by hand: roll one series past the other, every shift, every lag around it."""
    n = len(zi)
    circ = [float(np.dot(zi, np.roll(zj, -s))) / n for s in range(n)]
    stat = [max(circ[(s + m) % n] for m in range(-lag, lag + 1)) for s in range(n)]
    return float(np.mean(np.array(stat) >= stat[0])), stat[0]


def _batch(rng, lengths, nodes=4, t=None):
    t = t or max(lengths)
    x = rng.normal(size=(len(lengths), nodes, t)).cumsum(-1)
    used = np.zeros((len(lengths), t), bool)
    for b, n in enumerate(lengths):
        start = (t - n) // 2
        used[b, start: start + n] = True
    return torch.tensor(x), torch.tensor(used)


@pytest.mark.parametrize("bsz", [1, 3])
def test_against_rolling_by_hand(bsz, device):
    rng = np.random.default_rng(bsz)
    x, used = _batch(rng, [40, 33, 40][:bsz], t=44)
    lags = torch.tensor([3, 2, 5][:bsz])
    z = zscore(x, used)
    out = circular_shift_test(z.to(device), used.to(device), lags.to(device))
    for b in range(bsz):
        seg = z[b][:, used[b]].numpy()
        for i in range(4):
            for j in range(4):
                if i == j:
                    continue
                p, stat = reference(seg[i], seg[j], int(lags[b]))
                assert float(out["p"][b, i, j]) == pytest.approx(p, abs=1e-12), (b, i, j)
                assert float(out["statistic"][b, i, j]) == pytest.approx(stat, abs=1e-12)
        assert float(out["floor"][b]) == pytest.approx((2 * int(lags[b]) + 1) / int(used[b].sum()))
        assert (out["p"][b].cpu() >= out["floor"][b].cpu() - 1e-12).all()


def test_batched_equals_alone_bit_for_bit():
    rng = np.random.default_rng(5)
    x, used = _batch(rng, [50, 31, 50, 44], t=60)
    lags = torch.tensor([4, 3, 6, 4])
    z = zscore(x.float(), used)
    together = circular_shift_test(z, used, lags)
    for b in range(4):
        alone = circular_shift_test(z[b: b + 1, :, :int(used[b].nonzero().max()) + 1], used[b: b + 1, :int(used[b].nonzero().max()) + 1], lags[b: b + 1])
        for key in ("p", "statistic", "floor"):
            assert torch.equal(alone[key][0], together[key][b]), key


def test_a_single_pulse_cannot_be_significant():
    """Two identical pulses: the statistic is as large as it gets, yet the p-value is only the
    floor, (2 L + 1) / n, the share of shifts whose lag window still holds the peak."""
    t = np.arange(75)
    pulse = np.exp(-0.5 * ((t - 30) / 3.0) ** 2)
    x = torch.tensor(np.stack([pulse, np.roll(pulse, 2)])[None])
    used = torch.ones(1, 75, dtype=torch.bool)
    out = circular_shift_test(zscore(x, used), used, torch.tensor([10]))
    assert float(out["statistic"][0, 0, 1]) > 0.95
    assert float(out["p"][0, 0, 1]) == pytest.approx(21 / 75, abs=1 / 75)


def test_too_short_and_shapes():
    x = torch.randn(2, 3, 10, dtype=torch.float64)
    used = torch.ones(2, 10, dtype=torch.bool)
    out = circular_shift_test(zscore(x, used), used, torch.tensor([5, 2]))
    assert (out["p"][0] == 1).all() and out["floor"][0] == 1  # 10 frames < 2 * 5 + 2
    assert (out["p"][1] < 1).any()
    with pytest.raises(ValueError, match="expected shape"):
        circular_shift_test(x[0], used, torch.tensor([2, 2]))
