"""Global bounds: spectral probe bound, HaoChen identity, Cheeger, Arora, Cantelli, LP oracle."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sip_theory.graphs import SampleGraph
from sip_theory.testing import graphs_with_labels, sample_graphs
from sip_theory.theory import (
    cheeger_easy_side,
    edge_homophily,
    haochen_identity,
    linear_separability,
    mean_classifier_bound,
    ncm_cantelli_bound,
    normalized_laplacian_spectrum,
    sparsest_k_partition,
    spectral_embedding,
    spectral_probe_bound,
)


@settings(max_examples=50, deadline=None)
@given(graphs_with_labels(min_nodes=3, max_nodes=12, max_classes=3), st.integers(1, 4))
def test_spectral_bound_at_least_measured_probe_error(case, k):
    g, labels = case
    if g.n_edges == 0 or k >= g.n_nodes:
        return
    b = spectral_probe_bound(g, labels, k)
    assert b.details["probe_error"] <= b.value + 1e-9
    assert b.details["residual"] <= b.details["residual_bound"] + 1e-9


@settings(max_examples=50, deadline=None)
@given(graphs_with_labels(min_nodes=3, max_nodes=12, max_classes=3))
def test_trace_identity_equals_degree_weighted_heterophily(case):
    g, labels = case
    if g.n_edges == 0:
        return
    b = spectral_probe_bound(g, labels, 1)
    assert b.details["trace_identity"] == pytest.approx(b.details["phi"], abs=1e-9)
    assert b.details["phi"] == pytest.approx(1 - edge_homophily(g, labels, weighted=True))


def test_spectral_bound_vacuous_with_zero_eigengap():
    g = SampleGraph.from_edges([(0, 1), (2, 3), (4, 5)])
    b = spectral_probe_bound(g, [0, 1, 0, 1, 0, 1], 2)  # 3 components: lambda_3 = 0
    assert b.vacuous and not b.assumptions["eigengap_positive"] and math.isinf(b.value)


def test_spectral_bound_reference_two_cliques_joined():
    # two triangles joined by one edge, labels = the triangles: error 0, small bound
    g = SampleGraph.from_edges([(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3)])
    b = spectral_probe_bound(g, [0, 0, 0, 1, 1, 1], 2)
    assert b.details["probe_error"] == 0.0
    assert b.details["phi"] == pytest.approx(2 / 14)
    assert not b.vacuous


@settings(max_examples=40, deadline=None)
@given(sample_graphs(min_nodes=2, max_nodes=10, weighted=True), st.integers(1, 3),
       st.integers(0, 2**16))
def test_haochen_lemma_32_identity(g, dim, seed):
    if g.n_edges == 0:
        return
    f = np.random.default_rng(seed).standard_normal((g.n_nodes, dim))
    chk = haochen_identity(g, f)
    assert chk.holds, (chk.lhs, chk.rhs)


@settings(max_examples=40, deadline=None)
@given(sample_graphs(min_nodes=2, max_nodes=8), st.integers(1, 3))
def test_cheeger_easy_side_against_brute_force(g, k):
    if k > g.n_nodes:
        return
    b = cheeger_easy_side(g, k)
    assert b.value <= b.details["rho_k"] + 1e-9


def test_sparsest_partition_reference_cycle():
    # C_6 split into two paths of 3: cut 2 each side... one cut edge per boundary: phi = 2/6
    rho, sets = sparsest_k_partition([(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 0)], 2)
    assert rho == pytest.approx(1 / 3)


def test_cheeger_zero_eigenvalues_count_components():
    vals = normalized_laplacian_spectrum(SampleGraph.from_edges([(0, 1), (2, 3)], n_nodes=5))
    assert int(np.sum(vals < 1e-12)) == 3


@st.composite
def class_tables(draw):
    C = draw(st.integers(2, 3))
    dim = draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, 5)) for _ in range(C)]
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((C, dim)) * draw(st.floats(0, 3))
    x = np.concatenate([centers[c] + rng.standard_normal((s, dim)) for c, s in enumerate(sizes)])
    y = np.repeat(np.arange(C), sizes)
    return x, y


@settings(max_examples=50, deadline=None)
@given(class_tables(), st.sampled_from(["hinge", "logistic"]))
def test_arora_mean_classifier_inequality_on_finite_tables(table, loss):
    x, y = table
    b = mean_classifier_bound(x, y, loss=loss)
    assert b.details["mean_classifier_loss"] <= b.value + 1e-9


def test_arora_reference_tau_and_l0():
    b = mean_classifier_bound([[1.0], [2.0], [-1.0]], [0, 0, 1])
    assert b.details["tau"] == pytest.approx((2 / 3) ** 2 + (1 / 3) ** 2)
    assert b.details["loss_at_zero"] == 1.0


@settings(max_examples=50, deadline=None)
@given(class_tables())
def test_cantelli_bound_at_least_measured_ncm_error(table):
    x, y = table
    b = ncm_cantelli_bound(x, y)
    assert b.details["measured_error"] <= b.value + 1e-12


def _svc_separates(x, y, max_iter=-1):
    from sklearn.svm import SVC

    clf = SVC(kernel="linear", C=1e6, tol=1e-8, max_iter=max_iter).fit(x, y)
    return bool((clf.predict(x) == y).all())


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**16), st.integers(1, 3), st.integers(4, 20))
def test_lp_oracle_agrees_with_hard_margin_svm_on_separable_sets(seed, dim, n):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(dim)
    x = rng.uniform(-3, 3, size=(n, dim))
    score = x @ w
    keep = np.abs(score) > 0.3 * np.linalg.norm(w)  # a margin
    x, y = x[keep], (score[keep] > 0).astype(int)
    if len(np.unique(y)) < 2:
        return
    assert linear_separability(x, y).separable
    assert _svc_separates(x, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**16), st.integers(1, 3), st.integers(3, 12))
def test_lp_oracle_agrees_with_hard_margin_svm_on_non_separable_sets(seed, dim, n):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim))
    y = np.zeros(n, dtype=int)
    # a class-1 point at the centroid of class 0 (inside its convex hull): not separable
    w = rng.dirichlet(np.ones(n))
    x = np.vstack([x, w @ x, rng.standard_normal((1, dim)) + 5])
    y = np.concatenate([y, [1, 1]])
    assert not linear_separability(x, y).separable
    assert not _svc_separates(x, y, max_iter=20000)  # no linear rule can be perfect


def test_lp_oracle_returns_a_separating_classifier():
    x = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 5.0], [1.0, 5.0], [9.0, 9.0]])
    y = np.array([0, 0, 1, 1, 2])
    res = linear_separability(x, y)
    scores = x @ res.coef.T + res.intercept
    assert res.separable and (scores.argmax(axis=1) == y).all()


def test_lp_oracle_xor_is_not_separable():
    x = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    assert not linear_separability(x, [0, 0, 1, 1]).separable


# ------------------------------------------- issue 13: when the spectral embedding is a minimizer
def _spectral_contrastive_loss_by_definition(adj, f):
    """-2 sum_xy w_xy f(x).f(y) + sum_xy w_x w_y (f(x).f(y))^2, w = A / vol, loops over pairs."""
    vol = adj.sum()
    w = adj.sum(axis=1) / vol
    n = adj.shape[0]
    total = 0.0
    for x in range(n):
        for y in range(n):
            dot = float(f[x] @ f[y])
            total += -2.0 * adj[x, y] / vol * dot + w[x] * w[y] * dot**2
    return total


def _brute_force_min_spectral_loss(adj, k, restarts=12):
    from scipy.optimize import minimize

    n = adj.shape[0]
    vol = adj.sum()
    w = adj.sum(axis=1) / vol
    wa = adj / vol

    def fun(v):
        f = v.reshape(n, k)
        g = f @ f.T
        return float(-2.0 * (wa * g).sum() + (np.outer(w, w) * g**2).sum())

    rng = np.random.default_rng(0)
    best = math.inf
    for _ in range(restarts):
        res = minimize(fun, rng.standard_normal(n * k), method="BFGS", options={"gtol": 1e-10})
        best = min(best, res.fun)
    return best


K4 = SampleGraph.from_edges([(i, j) for i in range(4) for j in range(i + 1, 4)])
P4 = SampleGraph.from_edges([(0, 1), (1, 2), (2, 3)])


def test_spectral_embedding_spans_a_minimizer_on_the_path_p4():
    # normalized Laplacian of P_4: 1 - cos(pi j / 3) = 0, 0.5, 1.5, 2; with k = 2 the minimum of
    # the spectral contrastive loss is -(1^2 + 0.5^2) = -1.25 (Eckart-Young on A_bar)
    emb = spectral_embedding(P4, 2)
    assert emb.eigenvalues.tolist() == pytest.approx([0.0, 0.5, 1.5])
    assert emb.spans_minimizer is True
    adj = P4.to_dense()
    assert _brute_force_min_spectral_loss(adj, 2) == pytest.approx(-1.25, abs=1e-7)
    assert _spectral_contrastive_loss_by_definition(adj, emb.minimizer) == pytest.approx(-1.25)
    assert np.allclose(emb.minimizer, emb.embedding * np.sqrt([1.0, 0.5]))


def test_spectral_embedding_is_not_a_minimizer_of_k4_with_k2():
    # K_4: eigenvalues 0, 4/3, 4/3, 4/3; lambda_2 = 4/3 >= 1, so A_bar's second eigenvalue is -1/3
    # and the minimizer (loss -1) has rank 1: the bottom-2 eigenvectors do not span it
    emb = spectral_embedding(K4, 2)
    assert emb.eigenvalues.tolist() == pytest.approx([0.0, 4 / 3, 4 / 3])
    assert emb.spans_minimizer is False
    adj = K4.to_dense()
    assert _brute_force_min_spectral_loss(adj, 2) == pytest.approx(-1.0, abs=1e-7)
    assert _spectral_contrastive_loss_by_definition(adj, emb.minimizer) == pytest.approx(-1.0)
    assert np.allclose(emb.minimizer[:, 1], 0.0)
    # the embedding itself is worse than the minimum: its second coordinate costs
    assert _spectral_contrastive_loss_by_definition(adj, emb.embedding) > -1.0 + 1e-3
    b = spectral_probe_bound(K4, [0, 0, 1, 1], 2)
    assert b.assumptions["minimizer_spans_bottom_k_eigenvectors"] is False
    # the minimizer spans only the bottom 1 eigenvector: its bound uses lambda_2 = 4/3
    assert b.details["minimizer_rank"] == 1
    assert b.details["minimizer_bound"] == pytest.approx(2 * b.details["phi"] / (4 / 3))


def test_spectral_probe_bound_checks_its_eigenvectors(monkeypatch):
    import sip_theory.theory._bounds as bounds

    real = bounds._bottom_eigs

    def wrong(g, k):
        vals, vecs = real(g, k)
        rot = np.linalg.qr(np.random.default_rng(0).standard_normal((g.n_nodes, k)))[0]
        return vals, rot  # orthonormal, but not eigenvectors

    b = spectral_probe_bound(P4, [0, 0, 1, 1], 1)
    assert b.assumptions["probe_spans_bottom_k_eigenvectors"] is True
    assert b.details["eigen_residual"] < 1e-10
    monkeypatch.setattr(bounds, "_bottom_eigs", wrong)
    b = spectral_probe_bound(P4, [0, 0, 1, 1], 1)
    assert b.assumptions["probe_spans_bottom_k_eigenvectors"] is False
    assert not b.assumptions_hold
