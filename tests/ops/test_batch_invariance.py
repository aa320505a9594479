"""Every op that claims it: a clip gives the same bits alone as in any ragged, padded batch.

One property test per op (any lengths from the op's minimum, float32 and float64), and one for
the whole engine, so a reduction whose order depends on the batch shows up here. CI runs a
fixed, derandomised search (tests/conftest.py); local runs search at random.
"""

import numpy as np
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from corrkin import ops
from corrkin.analysis import analyse, to_records
from corrkin.config import AnalysisConfig, WindowConfig
from corrkin.io.keypoints import collate
from corrkin.ops.reduce import tree_sum
from corrkin.synth import make_clip, random_spec
from tests.helpers.data import mask_from, ragged

LENGTHS = st.lists(st.integers(3, 300), min_size=1, max_size=5)
DTYPES = st.sampled_from([torch.float32, torch.float64])


def alone_vs_batched(op, lens, *arrays, seed=0):
    """``op(batched arrays, lengths)`` row b against ``op(row b trimmed, its length)``."""
    lengths = torch.tensor(lens)
    out = op(*arrays, lengths)
    for b, n in enumerate(lens):
        one = op(*(a[b: b + 1, ..., :n] for a in arrays), lengths[b: b + 1])
        for got, want in zip(_tuple(one), _tuple(out)):
            want = want[b: b + 1]
            if want.ndim and want.shape[-1] == max(lens) and got.shape[-1] == n:
                want = want[..., :n]
            assert torch.equal(got, want), (op.__name__, lens, b)


def _tuple(x):
    return x if isinstance(x, tuple) else (x,)


@given(LENGTHS, st.integers(1, 16), DTYPES)
def test_reductions(lens, nodes, dtype):
    x, lengths = ragged(lens, nodes, dtype=dtype, seed=len(lens) + nodes)

    def sums(v, ln):
        m = mask_from(ln, v.shape[-1])
        return ops.blocked_sum(v, -1), ops.masked_mean(v, m[:, None]), ops.zscore(v, m), \
            ops.lag1_autocorrelation(v, m), ops.activation_frames(v, m)

    alone_vs_batched(sums, lens, x)


@given(st.lists(st.tuples(st.integers(9, 300), st.sampled_from([3, 5, 7, 9])), min_size=1, max_size=5), DTYPES)
def test_smoothing_and_differences(spec, dtype):
    lens, wins = [s[0] for s in spec], [s[1] for s in spec]
    x, _ = ragged(lens, 3, 2, dtype=dtype, seed=sum(lens))
    y = ops.savgol_filter(x, wins, 2, torch.tensor(lens))
    d = ops.central_difference(y, torch.tensor(lens))
    for b, (n, w) in enumerate(zip(lens, wins)):
        one = ops.savgol_filter(x[b: b + 1, ..., :n], w, 2)
        assert torch.equal(one[0], y[b, ..., :n])
        assert torch.equal(ops.central_difference(one)[0], d[b, ..., :n])


@given(LENGTHS, DTYPES, st.integers(0, 2**16))
def test_gaps_medians_and_the_swing(lens, dtype, seed):
    g = torch.Generator().manual_seed(seed)
    x, lengths = ragged(lens, 2, dtype=dtype, seed=seed)  # (B, 2, T): a bat trace, x and y
    valid = (torch.rand(x.shape[0], 1, x.shape[-1], generator=g) > 0.3) & mask_from(lengths, max(lens))[:, None]
    valid[:, :, 0] = True

    def stages(v, ok, ln):
        m = mask_from(ln, v.shape[-1])
        filled = ops.fill_gaps(v, ok)
        trace = filled.transpose(1, 2)
        hand = torch.zeros_like(trace)
        return filled, ops.masked_median(v, ok & m[:, None]), ops.swing_axis(trace, m), \
            *ops.bat_angular_velocity(trace, hand, ln, torch.full(ln.shape, 25.0, dtype=v.dtype))

    alone_vs_batched(stages, lens, x, valid)


@given(LENGTHS, DTYPES)
def test_procrustes(lens, dtype):
    x, _ = ragged(lens, 13, 2, dtype=dtype, seed=sum(lens))
    y, _ = ragged(lens, 13, 2, dtype=dtype, seed=sum(lens) + 1)
    t = max(lens)
    pts = lambda v: v.permute(0, 3, 1, 2)  # (B, T, 13, 2)  # noqa: E731
    m = mask_from(torch.tensor(lens), t)[:, :, None].expand(-1, -1, 13)
    out = ops.procrustes(pts(x), pts(y), m)
    for b, n in enumerate(lens):
        one = ops.procrustes(pts(x[b: b + 1, ..., :n]), pts(y[b: b + 1, ..., :n]))
        assert all(torch.equal(o, w[b: b + 1][:, :n] if o.ndim == 4 else w[b: b + 1]) for o, w in zip(one, out))


@settings(max_examples=12)
@given(st.lists(st.tuples(st.sampled_from([25.0, 30.0, 50.0, 120.0]), st.floats(1.6, 3.5)), min_size=2, max_size=4),
       st.booleans(), st.sampled_from(["float32", "float64"]))
@example(spec=[(25.0, 1.6), (120.0, 3.5)], windowed=True, dtype="float32")
def test_whole_engine(spec, windowed, dtype):
    rng = np.random.default_rng(len(spec))
    clips = [make_clip(random_spec(rng, fps=f, duration_s=d, swing_at_s=d / 2), seed=k, name=f"c{k}")[0]
             for k, (f, d) in enumerate(spec)]
    cfg = AnalysisConfig(dtype=dtype, fdr=True)
    if windowed:
        cfg.window = WindowConfig(before_s=0.6, after_s=0.3)
    batch = collate(clips)
    together = to_records(analyse(batch, cfg), batch, cfg)
    for clip, rec in zip(clips, together):
        one = collate([clip])
        assert to_records(analyse(one, cfg), one, cfg)[0] == rec, clip.name


def test_tree_sum_is_a_sum_in_a_fixed_order():
    x = torch.randn(3, 7, 64, dtype=torch.float64)
    torch.testing.assert_close(tree_sum(x), x.sum(-1))
    # the order is the code's: a row sums to the same bits in any tensor around it
    row = x[1, 2]
    assert torch.equal(tree_sum(row[None])[0], tree_sum(x)[1, 2])
