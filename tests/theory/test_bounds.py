"""Global bounds: spectral probe bound, HaoChen identity, Cheeger, Arora, Cantelli, LP oracle."""

import math

import numpy as np
import pytest
import sympy as sp
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
    spectral_contrastive_objective,
    spectral_embedding,
    spectral_probe_bound,
)


def _normalized_laplacian_by_definition(adj):
    """I - D^{-1/2} A D^{-1/2}, entry by entry; an isolated node's row and column are 0."""
    n = adj.shape[0]
    deg = adj.sum(axis=1)
    lap = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if deg[i] > 0 and deg[j] > 0:
                lap[i, j] = (1.0 if i == j else 0.0) - adj[i, j] / math.sqrt(deg[i] * deg[j])
    return lap


def _spectrum_by_charpoly(adj):
    """Eigenvalues of the normalized Laplacian as the real roots of an exact characteristic
    polynomial (sympy, rationals): I - D^{-1} A has the same spectrum as I - D^{-1/2} A D^{-1/2};
    an isolated node's row is 0, as in the library. No LAPACK eigen-solver is involved."""
    n = adj.shape[0]
    a = np.rint(adj).astype(int)
    deg = a.sum(axis=1)
    m = sp.Matrix(n, n, lambda i, j: (sp.Integer(int(i == j)) - sp.Rational(int(a[i, j]),
                                                                              int(deg[i])))
                  if deg[i] else sp.Integer(0))
    x = sp.Symbol("x")
    roots = sp.Poly(m.charpoly(x).as_expr(), x).real_roots()
    assert len(roots) == n  # similar to a symmetric matrix: every root is real
    return np.array(sorted(float(r) for r in roots))


def _projector_by_sign_iteration(lap, cut):
    """Orthogonal projector onto the eigenspace of ``lap`` below ``cut``, without an eigen-solver.

    (I - sign(L - cut I)) / 2 by Newton's iteration X <- (X + X^{-1}) / 2, which converges
    to the matrix sign function when no eigenvalue equals ``cut`` (Higham, Functions of
    Matrices, ch. 5); only linear solves are involved, none of LAPACK's eigen-routines.
    """
    x = lap - cut * np.eye(lap.shape[0])
    for _ in range(200):
        nxt = 0.5 * (x + np.linalg.inv(x))
        if np.abs(nxt - x).max() < 1e-15:
            break
        x = nxt
    return 0.5 * (np.eye(lap.shape[0]) - nxt)


def _bottom_k_projector(lap, adj, k, library_basis):
    """P_k for the probe, checked independently of the library's eigen-solver.

    With a gap lambda_k < lambda_{k+1} (exact eigenvalues from the characteristic
    polynomial) P_k is unique and comes from the sign iteration. Without one, any
    orthonormal basis of k eigenvectors for lambda_1..lambda_k is a valid probe: the
    library's basis is used after checking, against the Laplacian built entry by entry
    and the exact eigenvalues, that it is one.
    """
    exact = _spectrum_by_charpoly(adj)
    if exact[k] - exact[k - 1] > 1e-6:
        return _projector_by_sign_iteration(lap, 0.5 * (exact[k - 1] + exact[k])), exact, True
    v = np.asarray(library_basis)
    assert np.abs(v.T @ v - np.eye(k)).max() < 1e-9
    assert np.abs(lap @ v - v * exact[:k]).max() < 1e-9
    return v @ v.T, exact, False


def _probe_error_and_bound_by_definition(adj, labels, k, library_basis):
    """Degree-weighted error of argmax_c (P_k U)_xc, phi and 2 phi / lambda_{k+1}, from scratch."""
    lap = _normalized_laplacian_by_definition(adj)
    proj_k, exact, unique = _bottom_k_projector(lap, adj, k, library_basis)
    vol = adj.sum()
    w = adj.sum(axis=1) / vol
    classes = sorted(set(labels))
    u = np.array([[math.sqrt(w[x]) * (labels[x] == c) for c in classes] for x in range(len(w))])
    proj = proj_k @ u
    err = 0.0
    for x in range(len(w)):
        own = proj[x, classes.index(labels[x])]
        rivals = [proj[x, j] for j in range(len(classes)) if classes[j] != labels[x]]
        if rivals and own <= max(rivals) + 1e-12:
            err += w[x]
    phi = sum(adj[x, y] / vol for x in range(len(w)) for y in range(len(w))
              if labels[x] != labels[y])
    lam = exact[k]
    return err, phi, (2 * phi / lam if lam > 1e-12 else math.inf), unique


@settings(max_examples=50, deadline=None)
@given(graphs_with_labels(min_nodes=3, max_nodes=12, max_classes=3), st.integers(1, 4))
def test_spectral_bound_against_the_probe_error_by_definition(case, k):
    g, labels = case
    if g.n_edges == 0 or k >= g.n_nodes:
        return
    adj = g.to_dense().astype(float)
    basis = spectral_embedding(g, k).basis
    err, phi, bound, unique = _probe_error_and_bound_by_definition(adj, list(labels), k, basis)
    assert err <= bound + 1e-9  # the inequality, both sides computed here
    b = spectral_probe_bound(g, labels, k)
    assert b.details["phi"] == pytest.approx(phi, abs=1e-12)
    assert b.value == pytest.approx(bound, rel=1e-9) or (math.isinf(b.value) and math.isinf(bound))
    if unique:  # P_k unique: the library's probe is this probe
        assert b.details["probe_error"] == pytest.approx(err, abs=1e-12)


def test_sign_iteration_projector_on_p4():
    # P_4's normalized Laplacian has eigenvalues 0, 1/2, 3/2, 2; below 1 lie sqrt(w) and
    # D^{1/2} psi with psi = (2, 1, -1, -2): the projector is their normalized outer products
    adj = SampleGraph.from_edges([(0, 1), (1, 2), (2, 3)]).to_dense().astype(float)
    p = _projector_by_sign_iteration(_normalized_laplacian_by_definition(adj), 1.0)
    d = adj.sum(axis=1)
    a, b = np.sqrt(d), np.sqrt(d) * np.array([2.0, 1.0, -1.0, -2.0])
    expected = np.outer(a, a) / (a @ a) + np.outer(b, b) / (b @ b)
    np.testing.assert_allclose(p, expected, atol=1e-13)


P4 = SampleGraph.from_edges([(0, 1), (1, 2), (2, 3)])
K4 = SampleGraph.from_edges([(i, j) for i in range(4) for j in range(i + 1, 4)])
C4 = SampleGraph.from_edges([(0, 1), (1, 2), (2, 3), (3, 0)])
C5 = SampleGraph.from_edges([(0, 1), (1, 2), (2, 3), (3, 4), (4, 0)])
STAR = SampleGraph.from_edges([(0, 1), (0, 2), (0, 3)])  # K_{1,3}, centre 0
TWO_TRIANGLES = SampleGraph.from_edges([(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3)])


@pytest.mark.parametrize("graph, labels, k, error, phi, lam, bound", [
    # P_4, vol 6, labels 0 0 1 1: the cut edge (1, 2) is counted twice, phi = 2/6. L has
    # 1 - cos(pi j / 3) = 0, 1/2, 3/2, 2. k = 1 projects on sqrt(w): both classes have mass 1/2,
    # a tie at every node, error 1; bound 2 (1/3) / (1/2) = 4/3
    (P4, [0, 0, 1, 1], 1, 1.0, 1 / 3, 0.5, 4 / 3),
    # k = 2 adds D^{1/2} psi with psi = (2, 1, -1, -2) (P psi = psi / 2): the projection gives
    # class scores sqrt(w_x) (1/2 +- psi_x / 3), right at every node; bound (2/3) / (3/2) = 4/9
    (P4, [0, 0, 1, 1], 2, 0.0, 1 / 3, 1.5, 4 / 9),
    # two triangles joined by (2, 3), vol 14, phi = 2/14. Random-walk eigenvalues mu from the
    # two symmetric ansatzes: 6mu^2 - 5mu - 1 = 0 (mu = 1, -1/6), 6mu^2 - mu - 3 = 0, and -1/2
    # twice: lambda = 0, (11 - sqrt 73)/12, 7/6, 3/2, 3/2, (11 + sqrt 73)/12. lambda_3 = 7/6,
    # bound (2/7) / (7/6) = 12/49; the Fiedler vector separates the triangles: error 0
    (TWO_TRIANGLES, [0, 0, 0, 1, 1, 1], 2, 0.0, 1 / 7, 7 / 6, 12 / 49),
])
def test_spectral_bound_named_tiny_graphs(graph, labels, k, error, phi, lam, bound):
    b = spectral_probe_bound(graph, labels, k)
    assert b.details["probe_error"] == pytest.approx(error, abs=1e-12)
    assert b.details["phi"] == pytest.approx(phi)
    assert b.details["lambda_k_plus_1"] == pytest.approx(lam)
    assert b.value == pytest.approx(bound)
    assert b.details["trace_identity"] == pytest.approx(phi)
    assert b.vacuous == (bound >= 1)


@settings(max_examples=50, deadline=None)
@given(graphs_with_labels(min_nodes=3, max_nodes=12, max_classes=3))
def test_trace_identity_equals_degree_weighted_heterophily(case):
    # both sides from their definitions: tr U^T L U with U_xc = sqrt(d_x / vol) [y_x = c] and L
    # entry by entry, and phi = heterophilous arc weight / vol, by loops
    g, labels = case
    if g.n_edges == 0:
        return
    adj = g.to_dense().astype(float)
    lap = _normalized_laplacian_by_definition(adj)
    vol = adj.sum()
    classes = sorted(set(labels.tolist()))
    u = np.array([[math.sqrt(adj[x].sum() / vol) * (labels[x] == c) for c in classes]
                  for x in range(g.n_nodes)])
    trace = float(np.trace(u.T @ lap @ u))
    phi = sum(adj[x, y] for x in range(g.n_nodes) for y in range(g.n_nodes)
              if labels[x] != labels[y]) / vol
    assert trace == pytest.approx(phi, abs=1e-12)  # the identity, both sides computed here
    b = spectral_probe_bound(g, labels, 1)
    assert b.details["trace_identity"] == pytest.approx(trace, abs=1e-12)
    assert b.details["phi"] == pytest.approx(phi, abs=1e-12)
    assert edge_homophily(g, labels, weighted=True) == pytest.approx(1 - phi, abs=1e-12)


def test_spectral_bound_vacuous_with_zero_eigengap():
    g = SampleGraph.from_edges([(0, 1), (2, 3), (4, 5)])
    b = spectral_probe_bound(g, [0, 1, 0, 1, 0, 1], 2)  # 3 components: lambda_3 = 0
    assert b.vacuous and not b.assumptions["eigengap_positive"] and math.isinf(b.value)


@settings(max_examples=40, deadline=None)
@given(sample_graphs(min_nodes=2, max_nodes=10, weighted=True), st.integers(1, 3),
       st.integers(0, 2**16))
def test_haochen_lemma_32_identity(g, dim, seed):
    if g.n_edges == 0:
        return
    f = np.random.default_rng(seed).standard_normal((g.n_nodes, dim))
    chk = haochen_identity(g, f)
    assert chk.holds, (chk.lhs, chk.rhs)


def _rho_by_enumeration(adj, k):
    """min over k disjoint non-empty node sets of max conductance w(S, V-S)/vol(S), by itertools."""
    import itertools

    n = adj.shape[0]
    deg = adj.sum(axis=1)
    best = math.inf
    for assign in itertools.product(range(k + 1), repeat=n):  # 0 = in no set
        sets = [[v for v in range(n) if assign[v] == j] for j in range(1, k + 1)]
        if any(not part for part in sets):
            continue
        worst = 0.0
        for part in sets:
            vol = sum(deg[v] for v in part)
            cut = sum(adj[u, v] for u in part for v in range(n) if v not in part)
            worst = max(worst, cut / vol if vol > 0 else 0.0)
        best = min(best, worst)
    return best


@settings(max_examples=30, deadline=None)
@given(sample_graphs(min_nodes=2, max_nodes=7), st.integers(1, 3))
def test_cheeger_easy_side_against_enumerated_cuts(g, k):
    if k > g.n_nodes:
        return
    adj = g.to_dense().astype(float)
    lam_k = _spectrum_by_charpoly(adj)[k - 1]
    rho = _rho_by_enumeration(adj, k)
    assert lam_k / 2 <= rho + 1e-9  # the inequality, both sides computed here
    b = cheeger_easy_side(g, k)
    assert b.value == pytest.approx(lam_k / 2, abs=1e-9)
    assert b.details["rho_k"] == pytest.approx(rho, abs=1e-12)


@pytest.mark.parametrize("graph, k, lam_half, rho", [
    # C_4: lambda = 0, 1, 1, 2; two paths of 2: cut 2, vol 4
    (C4, 2, 0.5, 0.5),
    # P_3: lambda = 0, 1, 2; any two disjoint sets include one without the middle node: phi 1
    (SampleGraph.from_edges([(0, 1), (1, 2)]), 2, 0.5, 1.0),
    # P_4: lambda_2 = 1 - cos(pi/3) = 1/2; {0, 1}, {2, 3}: cut 1, vol 3 (a leaf alone has phi 1)
    (P4, 2, 0.25, 1 / 3),
    # C_5: lambda_2 = 1 - cos(2 pi / 5) = (5 - sqrt 5)/4; two arcs, the shorter has <= 2 nodes:
    # cut 2 over vol <= 4
    (C5, 2, (5 - math.sqrt(5)) / 8, 0.5),
    # K_{1,3}: lambda = 0, 1, 1, 2; one of two disjoint sets holds only leaves: phi 1
    (STAR, 2, 0.5, 1.0),
    # K_4: lambda = 0, 4/3, 4/3, 4/3; two pairs: cut 4, vol 6, so the easy side is tight here
    (K4, 2, 2 / 3, 2 / 3),
    # K_4, k = 3: two of three disjoint sets are singletons: phi 1
    (K4, 3, 2 / 3, 1.0),
    # two triangles and an edge: lambda_2 = (11 - sqrt 73)/12 (see the probe bound above);
    # the triangles: cut 1, vol 7
    (TWO_TRIANGLES, 2, (11 - math.sqrt(73)) / 24, 1 / 7),
    # k = 1: lambda_1 = 0 and V itself has no boundary
    (C5, 1, 0.0, 0.0),
])
def test_cheeger_named_tiny_graphs(graph, k, lam_half, rho):
    b = cheeger_easy_side(graph, k)
    assert b.value == pytest.approx(lam_half, abs=1e-12)
    assert b.details["rho_k"] == pytest.approx(rho, abs=1e-12)
    assert b.details["holds"] and b.value <= rho + 1e-12
    assert _spectrum_by_charpoly(graph.to_dense())[k - 1] / 2 == pytest.approx(lam_half,
                                                                              abs=1e-12)


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


def _arora_by_definition(x, y, loss):
    """L_un and the mean-classifier loss, enumerating (c, x, x+, c', x-) with probabilities."""
    ell = (lambda v: max(0.0, 1.0 - v)) if loss == "hinge" else (
        lambda v: math.log1p(math.exp(-v)) / math.log(2.0))
    classes = sorted(set(y.tolist()))
    members = {c: [i for i in range(len(y)) if y[i] == c] for c in classes}
    rho = {c: len(members[c]) / len(y) for c in classes}
    mu = {c: np.mean(x[members[c]], axis=0) for c in classes}
    l_un = 0.0
    for c in classes:
        for cn in classes:
            for i in members[c]:
                for ip in members[c]:
                    for jn in members[cn]:
                        p = rho[c] * rho[cn] / (len(members[c]) ** 2 * len(members[cn]))
                        l_un += p * ell(float(x[i] @ (x[ip] - x[jn])))
    tau = sum(r * r for r in rho.values())
    l_mean = sum(rho[c] * rho[cn] / len(members[c]) * ell(float(x[i] @ (mu[c] - mu[cn])))
                 for c in classes for cn in classes if cn != c for i in members[c]) / (1 - tau)
    return l_un, tau, l_mean, (l_un - tau * ell(0.0)) / (1 - tau)


@settings(max_examples=40, deadline=None)
@given(class_tables(), st.sampled_from(["hinge", "logistic"]))
def test_arora_mean_classifier_inequality_by_enumeration(table, loss):
    x, y = table
    l_un, tau, l_mean, bound = _arora_by_definition(x, y, loss)
    assert l_mean <= bound + 1e-9  # the inequality, both sides computed here
    b = mean_classifier_bound(x, y, loss=loss)
    assert b.details["unsupervised_loss"] == pytest.approx(l_un, rel=1e-9, abs=1e-12)
    assert b.details["mean_classifier_loss"] == pytest.approx(l_mean, rel=1e-9, abs=1e-12)
    assert b.value == pytest.approx(bound, rel=1e-9, abs=1e-12)


def test_arora_two_points_is_tight_by_hand():
    # x = +1 (class 0), -1 (class 1), hinge: a same-class negative costs l(0) = 1, a cross-class
    # one l(2) = 0, so L_un = 1/2 and tau = 1/2: bound (1/2 - 1/2)/(1/2) = 0 = the mean loss
    b = mean_classifier_bound([[1.0], [-1.0]], [0, 1])
    assert b.details["unsupervised_loss"] == pytest.approx(0.5)
    assert b.value == pytest.approx(0.0) and b.details["mean_classifier_loss"] == 0.0


def test_arora_reference_tau_and_l0():
    b = mean_classifier_bound([[1.0], [2.0], [-1.0]], [0, 0, 1])
    assert b.details["tau"] == pytest.approx((2 / 3) ** 2 + (1 / 3) ** 2)
    assert b.details["loss_at_zero"] == 1.0


def _cantelli_by_definition(x, y):
    """Nearest-class-mean error and the Cantelli union bound, with loops over points and classes."""
    classes = sorted(set(y.tolist()))
    members = {c: [i for i in range(len(y)) if y[i] == c] for c in classes}
    mu = {c: np.mean(x[members[c]], axis=0) for c in classes}
    wrong = 0
    for i in range(len(y)):
        own = float(np.sum((x[i] - mu[y[i]]) ** 2))
        if any(float(np.sum((x[i] - mu[c]) ** 2)) <= own for c in classes if c != y[i]):
            wrong += 1
    bound = 0.0
    for c in classes:
        total = 0.0
        for c2 in classes:
            if c2 == c:
                continue
            direction = mu[c2] - mu[c]
            delta = float(np.linalg.norm(direction))
            if delta == 0:
                total += 1.0
                continue
            var = float(np.mean([(float((x[i] - mu[c]) @ direction) / delta) ** 2
                                 for i in members[c]]))
            total += var / (var + delta**2 / 4)
        bound += len(members[c]) / len(y) * min(1.0, total)
    return wrong / len(y), bound


@settings(max_examples=40, deadline=None)
@given(class_tables())
def test_cantelli_bound_against_ncm_error_by_definition(table):
    x, y = table
    err, bound = _cantelli_by_definition(x, y)
    assert err <= bound + 1e-12  # the inequality, both sides computed here
    b = ncm_cantelli_bound(x, y)
    assert b.details["measured_error"] == pytest.approx(err)
    assert b.value == pytest.approx(bound, rel=1e-9, abs=1e-12)


def test_cantelli_two_pairs_by_hand():
    # class means 1 and 11 (Delta = 10), variance 1 along the axis: 1 / (1 + 25) per class
    b = ncm_cantelli_bound([[0.0], [2.0], [10.0], [12.0]], [0, 0, 1, 1])
    assert b.value == pytest.approx(1 / 26) and b.details["measured_error"] == 0.0


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


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_spectral_contrastive_objective_takes_embeddings_first_and_meets_its_definition(seed):
    # the theory objective (numpy) is the population loss of the torch losses module too
    import torch

    from sip_theory.losses import spectral_contrastive_graph_loss

    rng = np.random.default_rng(seed)
    w = np.triu(rng.random((6, 6)) * (rng.random((6, 6)) < 0.6), 1)
    w[0, 1] = max(w[0, 1], 0.5)
    g = SampleGraph.from_dense(w + w.T)
    f = rng.normal(size=(6, 2))
    value = spectral_contrastive_objective(f, g)
    assert value == pytest.approx(_spectral_contrastive_loss_by_definition(g.to_dense(), f),
                                  rel=1e-10, abs=1e-12)
    torch_value = float(spectral_contrastive_graph_loss(torch.as_tensor(f), g))
    assert value == pytest.approx(torch_value, rel=1e-10, abs=1e-12)


def test_theory_and_losses_share_no_public_name():
    # the theory's exact objectives of a fixed embedding are named *_objective; the training
    # losses (torch, on sampled pairs) keep *_loss: one name, one function
    import sip_theory.losses as losses
    import sip_theory.theory as theory

    assert set(theory.__all__) & set(losses.__all__) == set()


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
