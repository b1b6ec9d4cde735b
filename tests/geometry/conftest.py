"""Shared oracle of the geometry tests."""

import numpy as np
import pytest


def _assert_edge_statistics_match(nb, g, D):
    """Edge distances, ranks, nearest non-edges and pair counts of ``nb`` equal the dense
    brute force over the distance matrix ``D`` (diagonal +inf)."""
    n = D.shape[0]
    rows = np.repeat(np.arange(n), np.diff(g.indptr))
    d = D[rows, g.indices]
    assert (nb.edges.distance == d).all()
    assert (nb.edges.rank_lt == (D[rows] < d[:, None]).sum(1)).all()
    assert (nb.edges.rank_le == (D[rows] <= d[:, None]).sum(1)).all()
    adj = g.to_dense() > 0
    assert np.array_equal(nb.edges.min_nonedge, np.where(adj, np.inf, D).min(1))
    iu = np.triu_indices(n, 1)
    t = np.sort(D[iu][adj[iu]])
    vals = D[iu]
    assert (nb.pairs.thresholds == t).all()
    assert (nb.pairs.n_le == (vals[None, :] <= t[:, None]).sum(1)).all()
    assert (nb.pairs.n_lt == (vals[None, :] < t[:, None]).sum(1)).all()


@pytest.fixture(scope="session")
def edge_statistics_match():
    return _assert_edge_statistics_match
