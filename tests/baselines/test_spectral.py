"""Laplacian eigenmaps: a dense generalized-eigenproblem oracle, components, isolated nodes."""

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from sip_theory.baselines import spectral_embedding
from sip_theory.graphs import SampleGraph
from sip_theory.testing import sample_graphs


def _oracle_eigenvalues(g, dim):
    """Non-trivial spectrum of L_rw from one dense solve of (D - A) f = lambda D f."""
    a = g.to_dense().astype(np.float64)
    d = a.sum(axis=1)
    live = d > 0
    n_comp, comp = g.connected_components()
    c_live = len(np.unique(comp[live]))
    if live.sum() == 0:
        vals = np.array([])
    else:
        al, dl = a[np.ix_(live, live)], d[live]
        vals = scipy.linalg.eigh(np.diag(dl) - al, np.diag(dl), eigvals_only=True)
        vals = np.sort(vals)[c_live:]  # one zero per component with an edge
    out = np.full(dim, np.nan)
    out[:min(dim, vals.size)] = vals[:dim]
    return out, vals


def _check_against_oracle(g, dim):
    emb, ev = spectral_embedding(g, dim, return_eigenvalues=True)
    n = g.n_nodes
    assert emb.shape == (n, dim) and ev.shape == (dim,)
    want, full = _oracle_eigenvalues(g, dim)
    np.testing.assert_array_equal(np.isnan(ev), np.isnan(want))
    np.testing.assert_allclose(ev[~np.isnan(ev)], want[~np.isnan(want)], atol=1e-8)
    a = g.to_dense().astype(np.float64)
    d = a.sum(axis=1)
    np.testing.assert_array_equal(emb[d == 0], 0.0)  # isolated nodes at the origin
    k = int((~np.isnan(ev)).sum())
    np.testing.assert_array_equal(emb[:, k:], 0.0)
    f = emb[:, :k]
    # generalized eigenvectors, D-orthonormal, D-orthogonal to every component's indicator
    np.testing.assert_allclose((np.diag(d) - a) @ f, d[:, None] * f * ev[None, :k], atol=1e-8)
    np.testing.assert_allclose(f.T @ (d[:, None] * f), np.eye(k), atol=1e-8)
    _, comp = g.connected_components()
    for c in np.unique(comp):
        on = comp == c
        np.testing.assert_allclose(d[on] @ f[on], 0.0, atol=1e-8)
        # each column lives in one component
    support = [np.unique(comp[np.abs(f[:, j]) > 1e-12]) for j in range(k)]
    assert all(s.size == 1 for s in support)
    return emb, ev, full


@settings(max_examples=60, deadline=None)
@given(g=sample_graphs(min_nodes=0, max_nodes=9, weighted=False),
       dim=st.integers(1, 6))
def test_matches_dense_oracle_on_small_graphs(g, dim):
    _check_against_oracle(g, dim)


@settings(max_examples=40, deadline=None)
@given(g=sample_graphs(min_nodes=1, max_nodes=9, weighted=True), dim=st.integers(1, 6))
def test_matches_dense_oracle_on_weighted_graphs(g, dim):
    _check_against_oracle(g, dim)


def test_simple_eigenvalues_give_the_oracle_eigenvectors_up_to_sign():
    # a path 0-1-2-3-4-5 with chords 1-4 and 0-2: connected, eigenvalues 0.45 apart or more
    g = SampleGraph.from_edges([(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (1, 4), (0, 2)],
                               n_nodes=6)
    emb, ev = spectral_embedding(g, 3, return_eigenvalues=True)
    a = g.to_dense().astype(float)
    d = a.sum(1)
    vals, vecs = scipy.linalg.eigh(np.diag(d) - a, np.diag(d))
    assert np.min(np.diff(vals)) > 0.2
    for j in range(3):
        ref = vecs[:, j + 1]
        ref = ref / np.sqrt(ref @ (d * ref))
        assert min(np.abs(emb[:, j] - ref).max(), np.abs(emb[:, j] + ref).max()) < 1e-9
        assert emb[np.abs(emb[:, j]).argmax(), j] > 0  # the sign convention


def test_two_triangles_and_an_edge_hand_checked():
    # triangle spectrum of L: 0, 3/2, 3/2; an edge: 0, 2. Trivial pairs dropped,
    # ties resolved by component order (the triangles come first)
    g = SampleGraph.from_edges([(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3), (6, 7)],
                               n_nodes=8)
    emb, ev = spectral_embedding(g, 6, return_eigenvalues=True)
    np.testing.assert_allclose(ev[:5], [1.5, 1.5, 1.5, 1.5, 2.0], atol=1e-12)
    assert np.isnan(ev[5]) and (emb[:, 5] == 0).all()  # n - c = 8 - 3 = 5 columns only
    _, comp = g.connected_components()
    owner = [np.unique(comp[np.abs(emb[:, j]) > 1e-12]).tolist() for j in range(5)]
    assert owner == [[comp[0]], [comp[0]], [comp[3]], [comp[3]], [comp[6]]]
    # the edge's column: f = (1, -1) / sqrt(2) over degree 1, sign fixed by the first maximum
    np.testing.assert_allclose(emb[6:, 4], [1 / np.sqrt(2), -1 / np.sqrt(2)], atol=1e-12)


def test_cycle_with_isolated_node_and_single_node():
    g = SampleGraph.from_edges([(0, 1), (1, 2), (2, 3), (3, 0)], n_nodes=5)
    emb, ev = spectral_embedding(g, 4, return_eigenvalues=True)
    np.testing.assert_allclose(ev[:3], [1.0, 1.0, 2.0], atol=1e-12)
    assert np.isnan(ev[3]) and (emb[4] == 0).all()
    # the whole eigenvalue-1 space is selected: distances do not depend on its basis
    one = SampleGraph.from_edges(np.zeros((0, 2), dtype=int), n_nodes=1)
    emb1, ev1 = spectral_embedding(one, 3, return_eigenvalues=True)
    assert emb1.shape == (1, 3) and (emb1 == 0).all() and np.isnan(ev1).all()
    empty = SampleGraph.from_edges(np.zeros((0, 2), dtype=int), n_nodes=0)
    assert spectral_embedding(empty, 2).shape == (0, 2)


def test_large_component_uses_lanczos_and_agrees_with_the_dense_solve():
    # a 3,100-node cycle plus chords: above the dense solver's 3,000-node limit
    n = 3100
    edges = [(i, (i + 1) % n) for i in range(n)] + [(i, (i + 7) % n) for i in range(0, n, 5)]
    g = SampleGraph.from_edges(edges, n_nodes=n)
    emb, ev = spectral_embedding(g, 3, return_eigenvalues=True)
    a = g.to_scipy().astype(float)
    d = np.asarray(a.sum(1)).ravel()
    resid = (a @ emb) - (1 - ev)[None, :] * d[:, None] * emb  # (D - A) f = lambda D f
    assert np.abs(resid).max() < 1e-7
    np.testing.assert_allclose(emb.T @ (d[:, None] * emb), np.eye(3), atol=1e-7)


def test_bad_dim_names_the_argument():
    with pytest.raises(ValueError, match="dim"):
        spectral_embedding([(0, 1)], 0)
