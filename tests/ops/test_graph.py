import itertools

import networkx as nx
import numpy as np
import pytest
import torch

from corrkin.ops import activation_frames, correlation_edges, max_weight_path


def brute_force_path(w, edge, sources, target):
    """Best-weight simple path by enumerating every path in the DAG with networkx."""
    g = nx.DiGraph()
    g.add_nodes_from(range(len(w)))
    g.add_weighted_edges_from((i, j, w[i, j]) for i, j in zip(*np.nonzero(edge)))
    best = (None, -np.inf)
    for s in sources:
        if s == target:
            continue
        for p in nx.all_simple_paths(g, s, target):
            total = sum(w[a, b] for a, b in itertools.pairwise(p))
            if total > best[1]:
                best = (p, total)
    return best


@pytest.mark.parametrize("seed", range(6))
def test_max_weight_path_against_enumeration(seed, device):
    rng = np.random.default_rng(seed)
    bsz, nn = 4, 8
    t_act = np.stack([rng.permutation(nn) for _ in range(bsz)])
    w = rng.uniform(0.4, 1.0, (bsz, nn, nn))
    edge = (t_act[:, :, None] < t_act[:, None, :]) & (rng.random((bsz, nn, nn)) < 0.45)
    path, pw, reaches = max_weight_path(torch.tensor(w, device=device), torch.tensor(edge, device=device), [0, 1], 7)
    for b in range(bsz):
        ref, total = brute_force_path(w[b], edge[b], [0, 1], 7)
        assert reaches[b].item() == (ref is not None)
        if ref is not None:
            assert [int(i) for i in path[b].tolist() if i >= 0] == ref
            assert pw[b].item() == pytest.approx(total)
        else:
            assert (path[b] == -1).all() and pw[b].item() == 0


def test_activation_frames_first_peak_and_mask():
    s = torch.tensor([[[0.0, 1.0, -3.0, 3.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0]]])
    m = torch.tensor([[True, True, True, True, False]])
    assert activation_frames(s, m).tolist() == [[2, 0]]
    m2 = torch.tensor([[False, True, False, True, True]])
    assert activation_frames(s, m2).tolist() == [[3, 1]]


def test_edges_rules():
    # three nodes: 0 leads 1 by 2 frames (strong), 2 is unrelated noise
    bsz, nn, lag_max = 1, 3, 3
    xc = torch.zeros(bsz, nn, nn, 2 * lag_max + 1)
    xc[0, 0, 1, lag_max + 2] = 0.8
    xc[0, 1, 0, lag_max - 2] = 0.8
    xc[0, 0, 2, lag_max + 3] = 0.35  # below theta
    t_act = torch.tensor([[10, 12, 30]])
    g = correlation_edges(xc, t_act, torch.tensor([200]), torch.zeros(1, nn), torch.tensor([3]),
                          torch.ones(1, nn, dtype=torch.bool), theta=0.4, alpha=0.05)
    assert g["edge"][0].nonzero().tolist() == [[0, 1]]
    assert g["lag"][0, 0, 1] == 2 and g["lag"][0, 1, 0] == -2
    # the per-clip lag limit hides the peak at lag 2
    g2 = correlation_edges(xc, t_act, torch.tensor([200]), torch.zeros(1, nn), torch.tensor([1]),
                           torch.ones(1, nn, dtype=torch.bool), theta=0.4, alpha=0.05)
    assert not g2["edge"].any()
    # an invalid node takes part in nothing
    g3 = correlation_edges(xc, t_act, torch.tensor([200]), torch.zeros(1, nn), torch.tensor([3]),
                           torch.tensor([[True, False, True]]), theta=0.4, alpha=0.05)
    assert not g3["edge"].any()
