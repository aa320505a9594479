from itertools import product

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from corrkin.ops.robust import apply_swaps, hampel, repair_swaps
from tests.helpers.data import mask_from

# ---------------------------------------------------------------- data


def pair_walk(rng, t, speed=8.0, sep=(30.0, 60.0), noise=1.0):
    """Two points ``(2, C=2, T)`` moving smoothly ``sep`` px apart; the centre's speed is about
    ``speed`` px a frame (three slow sinusoids per axis); ``noise`` px Gaussian on each."""
    tt = np.arange(t)
    centre = np.zeros((2, t))
    for k, _ in product(range(2), range(3)):
        f = rng.uniform(0.005, 0.03)
        centre[k] += speed / (2 * np.pi * f) / 3 * np.sin(2 * np.pi * f * tt + rng.uniform(0, 2 * np.pi))
    angle = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.02, t))
    dist = rng.uniform(*sep) + 10 * np.sin(2 * np.pi * tt / t)
    off = np.stack([np.cos(angle), np.sin(angle)]) * dist / 2
    return np.stack([centre + off, centre - off]) + rng.normal(0, noise, (2, 2, t))


def swap_bursts(rng, t, frac=0.05):
    """``(T,)`` bool: bursts of 1–6 frames, at least 3 frames apart, covering ``frac`` of frames."""
    s = np.zeros(t, bool)
    while s.sum() < frac * t:
        n = rng.integers(1, 7)
        a = rng.integers(1, t - n - 1)
        if not s[max(0, a - 3): a + n + 3].any():
            s[a: a + n] = True
    return s


def swapped_walks(lengths, seed, **kw):
    """A ragged batch ``(B, 2, 2, T)`` of pair walks with swap bursts, the clean walks, the
    bursts ``(B, 1, T)`` and the validity ``(B, 2, T)``."""
    rng = np.random.default_rng(seed)
    t = max(lengths)
    clean = np.zeros((len(lengths), 2, 2, t))
    truth = np.zeros((len(lengths), 1, t), bool)
    for b, n in enumerate(lengths):
        clean[b, ..., :n] = pair_walk(rng, n, **kw)
        truth[b, 0, :n] = swap_bursts(rng, n)
    x = np.where(truth[:, :, None], clean[:, ::-1], clean)
    valid = np.arange(t) < np.array(lengths)[:, None, None]
    return x, clean, truth, np.broadcast_to(valid, (len(lengths), 2, t)).copy()


def glitchy(bsz, n, t, seed, frac=0.06):
    """Smooth motion ``(B, N, 2, T)`` (three sinusoids of 5–40 px per axis, about 2 px a frame,
    1 px noise) with ``frac`` of frames jumped by 20–150 px, and where."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (bsz, n, 2, t))
    for _ in range(3):
        f, a = rng.uniform(0.005, 0.03, (bsz, n, 2, 1)), rng.uniform(5, 40, (bsz, n, 2, 1))
        x += a * np.sin(2 * np.pi * f * np.arange(t) + rng.uniform(0, 2 * np.pi, (bsz, n, 2, 1)))
    hit = rng.random((bsz, n, t)) < frac
    jump = rng.uniform(20, 150, (bsz, n, 1, t)) * rng.choice([-1, 1], (bsz, n, 2, t))
    return x + hit[:, :, None] * jump, hit


# ---------------------------------------------------------------- references (plain loops)


def hampel_reference(x, valid, halves, n_sigma=3.0, min_scale=0.0, floor_ratio=0.1):
    """Per point and frame, the definition in :func:`hampel`'s docstring."""
    y, out = x.copy(), np.zeros(valid.shape, bool)
    for b, n, t in np.ndindex(valid.shape):
        h = halves[b]
        frames = [u for u in range(max(0, t - h), min(valid.shape[-1], t + h + 1)) if valid[b, n, u]]
        if not valid[b, n, t] or len(frames) < 3:
            continue
        w = x[b, n][:, frames]
        k = (len(frames) - 1) // 2  # the lower median
        m = np.sort(w, 1)[:, k]
        s = 1.4826 * np.sort(np.abs(w - m[:, None]), 1)[:, k]
        scale = np.maximum(s, max(floor_ratio * s.max(), min_scale))
        if (np.abs(x[b, n, :, t] - m) > n_sigma * scale).any():
            out[b, n, t], y[b, n, :, t] = True, m
    return y, out


def step_cost(left, right, seen, k, states, velocity):
    """Cost of seen frame ``seen[k]`` given the states of seen frames ``k-2, k-1, k``."""
    def label(j, s):
        return (left[:, seen[j]], right[:, seen[j]]) if s == 0 else (right[:, seen[j]], left[:, seen[j]])

    now, pred = label(k, states[2]), label(k - 1, states[1])
    if velocity and k >= 2:
        before = label(k - 2, states[0])
        r = (seen[k] - seen[k - 1]) / (seen[k - 1] - seen[k - 2])
        pred = tuple(a + r * (a - b) for a, b in zip(pred, before))
    return sum(np.linalg.norm(u - v) for u, v in zip(now, pred))


def path_cost(left, right, seen, path, velocity):
    return sum(step_cost(left, right, seen, k, (path[k - 2] if k >= 2 else 0, path[k - 1], path[k]), velocity)
               for k in range(1, len(seen)))


def viterbi_reference(left, right, ok, velocity):
    """``(T,)`` states: a 4-state Viterbi over (previous state, state) on the seen frames."""
    seen = np.flatnonzero(ok)
    path = np.zeros(len(seen), int)
    if len(seen) >= 2:
        best = {(0, b): step_cost(left, right, seen, 1, (0, 0, b), velocity) for b in (0, 1)}
        back = [None, None]
        for k in range(2, len(seen)):
            new, ptr = {}, {}
            for a, b in product((0, 1), (0, 1)):
                new[(a, b)], ptr[(a, b)] = min((best[(z, a)] + step_cost(left, right, seen, k, (z, a, b), velocity), z)
                                               for z in (0, 1) if (z, a) in best)
            best = new
            back.append(ptr)
        path[-2:] = min(best, key=best.get)
        for k in range(len(seen) - 1, 1, -1):
            path[k - 2] = back[k][(path[k - 1], path[k])]
    if 2 * path.sum() > len(seen):
        path = 1 - path
    state, cur, j = np.zeros(len(ok), int), path[0] if len(seen) else 0, 0
    for t in range(len(ok)):
        if ok[t]:
            cur, j = path[j], j + 1
        state[t] = cur
    return state


def repair_reference(x, valid, pairs, velocity):
    swapped = np.zeros((x.shape[0], len(pairs), x.shape[-1]), bool)
    for b, (p, (lft, rgt)) in product(range(x.shape[0]), enumerate(pairs)):
        state = viterbi_reference(x[b, lft], x[b, rgt], valid[b, lft] & valid[b, rgt], velocity)
        swapped[b, p] = state.astype(bool) & (valid[b, lft] | valid[b, rgt])
    return swapped


# ---------------------------------------------------------------- hampel


@pytest.mark.parametrize("bsz", [1, 3])
def test_hampel_shape(bsz, device, dtype):
    x = torch.randn(bsz, 4, 2, 30, device=device, dtype=dtype)
    valid = torch.ones(bsz, 4, 30, dtype=torch.bool, device=device)
    y, out = hampel(x, valid, [3] * bsz)
    assert y.shape == x.shape and y.dtype == dtype and y.device == x.device
    assert out.shape == valid.shape and out.dtype == torch.bool


@pytest.mark.parametrize("min_scale,floor_ratio", [(0.0, 0.1), (2.0, 0.0), (0.0, 0.5)])
def test_hampel_matches_loop(min_scale, floor_ratio, device):
    x, _ = glitchy(3, 4, 50, seed=1)
    x[:, :, 1] = np.round(x[:, :, 1])  # whole pixels: zero MADs happen
    x[0, 0, :, 10:30] = 7.0  # a still point
    valid = np.random.default_rng(2).random((3, 4, 50)) > 0.15
    valid &= np.arange(50) < np.array([50, 37, 21])[:, None, None]  # ragged clips
    halves = [3, 2, 5]
    y, out = hampel(torch.tensor(x, device=device), torch.tensor(valid, device=device), halves,
                    min_scale=min_scale, floor_ratio=floor_ratio)
    ref_y, ref_out = hampel_reference(x, valid, halves, min_scale=min_scale, floor_ratio=floor_ratio)
    assert ref_out.sum() > 10
    np.testing.assert_array_equal(out.cpu().numpy(), ref_out)
    np.testing.assert_array_equal(y.cpu().numpy(), ref_y)


def test_hampel_removes_glitches(dtype, device):
    x, hit = glitchy(8, 6, 200, seed=3, frac=0.05)
    clean = glitchy(8, 6, 200, seed=3, frac=0.0)[0]  # the same motion, noise included
    valid = torch.ones(8, 6, 200, dtype=torch.bool, device=device)
    y, out = hampel(torch.tensor(x, dtype=dtype, device=device), valid, 3)
    out = out.cpu().numpy()
    assert out[hit].mean() > 0.9  # glitches found (a missed one sits among others) ...
    assert out[~hit].mean() < 0.01  # ... and few good frames touched
    err = np.abs(y.cpu().numpy() - clean).max(2)
    assert np.median(err[hit]) < 5 and np.percentile(err[~hit], 99) < 5


def test_hampel_floor():
    t = 40
    still = np.zeros((1, 1, 2, t))
    still[0, 0, 1, 20] = 0.3  # a still point moves by 0.3 px once
    x = torch.tensor(still)
    ok = torch.ones(1, 1, t, dtype=torch.bool)
    assert hampel(x, ok, 3)[1][0, 0, 20]  # every MAD is 0: any move is flagged at min_scale=0
    assert not hampel(x, ok, 3, min_scale=1.0)[1].any()
    # a point travelling sideways at 5 px a frame, its height whole pixels: s_y = 0
    side = np.stack([5.0 * np.arange(t), np.zeros(t)])[None, None]
    side[0, 0, 1, 20] = 1.0
    x = torch.tensor(side)
    assert not hampel(x, ok, 3)[1].any()  # the relative floor: 0.1 * s_x = 1.5 px
    assert hampel(x, ok, 3, floor_ratio=0.0)[1][0, 0, 20]
    side[0, 0, 1, 20] = 30.0  # a real glitch across the motion is still caught
    assert hampel(torch.tensor(side), ok, 3)[1][0, 0, 20]


def test_hampel_invalid_frames_and_short_windows():
    x = torch.zeros(1, 2, 2, 12, dtype=torch.float64)
    x[0, :, :, 6] = 100.0
    x[0, 1, :, 3] = torch.nan  # an invalid frame may hold anything
    valid = torch.ones(1, 2, 12, dtype=torch.bool)
    valid[0, 1, 3] = False
    valid[0, 0, 4:6] = valid[0, 0, 7:9] = False  # node 0: frame 6 has 1 valid neighbour in +-2
    y, out = hampel(x, valid, 2)
    assert not out[0, 0].any() and out[0, 1, 6] and out.sum() == 1
    unseen = ~valid[:, :, None].expand_as(x)
    torch.testing.assert_close(y[unseen], x[unseen], rtol=0, atol=0, equal_nan=True)  # bit for bit
    assert y[0, 1, 0, 6] == 0


def test_hampel_lower_median():
    # frame 1's window (half 2) holds the 4 frames 0..3: values 0, 100, 3, 10; sorted 0 3 10 100
    x = torch.tensor([[[[0.0, 100.0, 3.0, 10.0, 11.0, 12.0]] * 2]], dtype=torch.float64)
    y, out = hampel(x, torch.ones(1, 1, 6, dtype=torch.bool), 2)
    assert out[0, 0, 1] and y[0, 0, 0, 1] == 3.0  # the lower of 3 and 10


@given(st.lists(st.tuples(st.integers(1, 90), st.integers(1, 6)), min_size=1, max_size=4),
       st.sampled_from([torch.float32, torch.float64]))
def test_hampel_batched_equals_alone_bitwise(spec, dtype):
    lens, halves = [s[0] for s in spec], [s[1] for s in spec]
    x, _ = glitchy(len(lens), 3, max(lens), seed=sum(lens))
    x = torch.tensor(x, dtype=dtype)
    valid = (torch.rand(len(lens), 3, max(lens), generator=torch.Generator().manual_seed(len(lens))) > 0.2)
    valid &= mask_from(torch.tensor(lens), max(lens))[:, None]
    y, out = hampel(x, valid, halves)
    for b, (n, h) in enumerate(zip(lens, halves)):
        y1, out1 = hampel(x[b: b + 1, ..., :n], valid[b: b + 1, :, :n], [h])
        assert torch.equal(y1[0], y[b, ..., :n]) and torch.equal(out1[0], out[b, :, :n])
    assert not out[~valid].any()


def test_hampel_non_contiguous_and_grad():
    x, _ = glitchy(2, 3, 20, seed=5)
    x = torch.tensor(x).transpose(2, 3).contiguous().transpose(2, 3)
    valid = torch.ones(2, 3, 20, dtype=torch.bool)
    assert not x.is_contiguous()
    assert all(torch.equal(a, b) for a, b in zip(hampel(x, valid, 3), hampel(x.contiguous(), valid, 3)))
    x = x.contiguous().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: hampel(v, valid, [2, 3])[0], (x,))


def test_hampel_errors():
    x, ok = torch.zeros(2, 3, 2, 10), torch.ones(2, 3, 10, dtype=torch.bool)
    with pytest.raises(ValueError, match=r"hampel: x: expected shape \(B,N,C,T\), got \(3, 2, 10\)"):
        hampel(x[0], ok, 3)
    with pytest.raises(ValueError, match=r"valid must be \(B, N, T\) = \(2, 3, 10\), got \(2, 3, 9\)"):
        hampel(x, ok[..., :9], 3)
    with pytest.raises(TypeError, match="bool"):
        hampel(x, ok.float(), 3)
    with pytest.raises(ValueError, match="3 half-windows for 2 clips"):
        hampel(x, ok, [3, 3, 3])
    with pytest.raises(ValueError, match=">= 1 frame"):
        hampel(x, ok, [3, 0])
    with pytest.raises(ValueError, match="n_sigma"):
        hampel(x, ok, 3, 0.0)
    with pytest.raises(ValueError, match="min_scale and floor_ratio"):
        hampel(x, ok, 3, min_scale=-1.0)


# ---------------------------------------------------------------- repair_swaps


@pytest.mark.parametrize("bsz", [1, 3])
def test_repair_shape(bsz, device, dtype):
    x = torch.randn(bsz, 6, 2, 30, device=device, dtype=dtype)
    valid = torch.ones(bsz, 6, 30, dtype=torch.bool, device=device)
    y, sc, sw = repair_swaps(x, valid, [(0, 1), (4, 2)], torch.rand(bsz, 6, 30, device=device))
    assert y.shape == x.shape and y.dtype == dtype and y.device == x.device
    assert sc.shape == valid.shape and sw.shape == (bsz, 2, 30) and sw.dtype == torch.bool
    assert repair_swaps(x, valid, [(0, 1)])[1] is None


@pytest.mark.parametrize("predict", ["velocity", "position"])
def test_repair_matches_viterbi_loop(predict, device):
    rng = np.random.default_rng(7)
    x = rng.normal(0, 10, (3, 5, 2, 40)).cumsum(-1)  # random walks: swaps of every length
    valid = rng.random((3, 5, 40)) > 0.2
    valid &= np.arange(40) < np.array([40, 25, 9])[:, None, None]
    pairs = [(0, 1), (3, 2)]
    _, _, sw = repair_swaps(torch.tensor(x, device=device), torch.tensor(valid, device=device), pairs,
                            predict=predict)
    ref = repair_reference(x, valid, pairs, predict == "velocity")
    assert 10 < ref.sum() < ref.size / 2
    np.testing.assert_array_equal(sw.cpu().numpy(), ref)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("predict", ["velocity", "position"])
def test_repair_is_least_cost_labelling(seed, predict):
    """Against every labelling of a short clip (brute force)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 10, (1, 2, 2, 11)).cumsum(-1)
    ok = rng.random(11) > 0.15
    valid = np.broadcast_to(ok, (1, 2, 11))
    _, _, sw = repair_swaps(torch.tensor(x), torch.tensor(valid), [(0, 1)], predict=predict)
    seen = np.flatnonzero(ok)
    velocity = predict == "velocity"
    costs = [path_cost(x[0, 0], x[0, 1], seen, (0, *p), velocity) for p in product((0, 1), repeat=len(seen) - 1)]
    got = sw[0, 0].numpy()[seen].astype(int)
    assert path_cost(x[0, 0], x[0, 1], seen, got, velocity) == pytest.approx(min(costs), abs=1e-9)
    assert 2 * got.sum() <= len(seen)


def test_repair_synthetic_walk_exactly(dtype, device):
    x, clean, truth, valid = swapped_walks([300, 180, 240, 300], seed=11)
    scores = torch.tensor(np.stack([np.ones(truth.shape[-1]), np.zeros(truth.shape[-1])])[None].repeat(4, 0))
    y, sc, sw = repair_swaps(torch.tensor(x, dtype=dtype, device=device), torch.tensor(valid, device=device), [(0, 1)],
                             scores.to(device))
    assert truth.sum() > 50
    np.testing.assert_array_equal(sw.cpu().numpy(), truth)
    np.testing.assert_allclose(y.cpu().numpy(), clean, atol=1e-4 * (dtype == torch.float32))
    np.testing.assert_array_equal(sc[:, 0].cpu().numpy(), np.where(truth[:, 0], 0.0, 1.0))


@pytest.mark.parametrize("predict", ["velocity", "position"])
def test_repair_no_false_repairs_on_smooth_pairs(predict):
    x = np.stack([pair_walk(np.random.default_rng(s), 300, speed=15.0) for s in range(30)])
    _, _, sw = repair_swaps(torch.tensor(x), torch.ones(30, 2, 300, dtype=torch.bool), [(0, 1)], predict=predict)
    assert not sw.any()


def test_velocity_prediction_beats_position_when_fast():
    """Hands moving further a frame than they are apart: the least-motion labelling is wrong."""
    x, _, truth, valid = swapped_walks([300] * 30, seed=13, speed=60.0)
    x, valid = torch.tensor(x), torch.tensor(valid)
    by_velocity = repair_swaps(x, valid, [(0, 1)])[2].numpy()
    by_position = repair_swaps(x, valid, [(0, 1)], predict="position")[2].numpy()
    assert (by_velocity == truth).all()
    assert (by_position != truth).any(-1).sum() >= 5  # clips with a wrong frame


def test_repair_one_sided_frames_and_apply_swaps():
    x, clean, truth, valid = swapped_walks([120], seed=17)
    starts = np.flatnonzero(truth[0, 0, 1:-1] & truth[0, 0, 2:])  # a burst frame after a burst frame
    start = int(starts[0]) + 2
    valid[0, 1, start] = False  # only one point seen there: relabelled with the frame before
    valid[0, :, 5] = False  # neither seen: never swapped
    truth[0, 0, 5] = False
    x[0, :, :, 5] = np.nan
    y, _, sw = repair_swaps(torch.tensor(x), torch.tensor(valid), [(0, 1)])
    assert sw[0, 0, start] and not sw[0, 0, 5]
    np.testing.assert_array_equal(sw.numpy(), truth)
    fixed_valid = apply_swaps(torch.tensor(valid), [(0, 1)], sw)
    assert not fixed_valid[0, 0, start] and fixed_valid[0, 1, start]
    torch.testing.assert_close(apply_swaps(y, [(0, 1)], sw), torch.tensor(x), rtol=0, atol=0, equal_nan=True)


@given(st.lists(st.integers(2, 120), min_size=1, max_size=4), st.sampled_from([torch.float32, torch.float64]),
       st.sampled_from(["velocity", "position"]))
def test_repair_batched_equals_alone_bitwise(lens, dtype, predict):
    g = torch.Generator().manual_seed(sum(lens))
    t = max(lens)
    x = (10 * torch.randn(len(lens), 4, 2, t, generator=g, dtype=torch.float64)).cumsum(-1).to(dtype)
    valid = (torch.rand(len(lens), 4, t, generator=g) > 0.2) & mask_from(torch.tensor(lens), t)[:, None]
    scores = torch.rand(len(lens), 4, t, generator=g)
    pairs = [(0, 1), (3, 2)]
    y, sc, sw = repair_swaps(x, valid, pairs, scores, predict=predict)
    for b, n in enumerate(lens):
        y1, sc1, sw1 = repair_swaps(x[b: b + 1, ..., :n], valid[b: b + 1, :, :n], pairs, scores[b: b + 1, :, :n],
                                    predict=predict)
        assert torch.equal(y1[0], y[b, ..., :n]) and torch.equal(sc1[0], sc[b, :, :n])
        assert torch.equal(sw1[0], sw[b, :, :n])
    assert not sw[~mask_from(torch.tensor(lens), t)[:, None].expand_as(sw)].any()


def test_repair_non_contiguous_and_grad():
    x, _, _, valid = swapped_walks([40, 30], seed=19)
    x = torch.tensor(x).transpose(2, 3).contiguous().transpose(2, 3)
    valid = torch.tensor(valid)
    assert not x.is_contiguous()
    a, b = repair_swaps(x, valid, [(0, 1)]), repair_swaps(x.contiguous(), valid, [(0, 1)])
    assert torch.equal(a[0], b[0]) and torch.equal(a[2], b[2])
    x = x.contiguous().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: repair_swaps(v, valid, [(0, 1)])[0], (x,))


def test_repair_errors():
    x, ok = torch.zeros(2, 4, 2, 10), torch.ones(2, 4, 10, dtype=torch.bool)
    with pytest.raises(ValueError, match=r"repair_swaps: x: expected shape \(B,N,C,T\), got \(4, 2, 10\)"):
        repair_swaps(x[0], ok, [(0, 1)])
    with pytest.raises(ValueError, match=r"valid must be \(B, N, T\) = \(2, 4, 10\), got \(2, 3, 10\)"):
        repair_swaps(x, ok[:, :3], [(0, 1)])
    with pytest.raises(ValueError, match=r"scores, valid: leading shapes differ"):
        repair_swaps(x, ok, [(0, 1)], torch.zeros(2, 4, 9))
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 4\)"):
        repair_swaps(x, ok, [(0, 4)])
    with pytest.raises(ValueError, match="one pair only"):
        repair_swaps(x, ok, [(0, 1), (1, 2)])
    with pytest.raises(ValueError, match="predict"):
        repair_swaps(x, ok, [(0, 1)], predict="spline")
    with pytest.raises(ValueError, match=r"swapped must be \(B, P, T\) = \(2, 1, 10\)"):
        apply_swaps(x, [(0, 1)], torch.zeros(2, 2, 10, dtype=torch.bool))
