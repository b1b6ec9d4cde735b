"""Held-out evaluation in the engine: ``link_retrieval(exclude=)`` and split ``knn_probe``.

Oracles are brute force over the kernel's exact distances (the engine's contract) and
scikit-learn's ranking scores, on inputs with ties between edges, excluded pairs and
other candidates, duplicates and isolated nodes.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, ndcg_score
from sklearn.neighbors import KNeighborsClassifier

from sip_theory._kernel import exact_dissimilarities
from sip_theory.geometry import compute_neighbors, knn_probe, link_retrieval
from sip_theory.graphs import SampleGraph

METRICS = ("euclidean", "sqeuclidean", "cosine", "dot")


def _exact_matrix(X, metric):
    n = X.shape[0]
    i, j = np.divmod(np.arange(n * n), n)
    return exact_dissimilarities(X, i, j, metric).reshape(n, n)


def _oracle(X, heldout, exclude, metric, ks):
    """Every score of the filtered protocol, from the full exact matrix."""
    n = X.shape[0]
    D = _exact_matrix(X, metric)
    rel = np.zeros((n, n), dtype=bool)
    ex = np.zeros((n, n), dtype=bool)
    for a, b in heldout:
        rel[a, b] = rel[b, a] = True
    for a, b in exclude:
        ex[a, b] = ex[b, a] = True
    cand = ~ex & ~np.eye(n, dtype=bool)
    lrap, ndcg, rr, prec, rec = [], [], [], {k: [] for k in ks}, {k: [] for k in ks}
    for i in range(n):
        if not rel[i].any():
            continue
        c = np.flatnonzero(cand[i])
        d, y = D[i, c], rel[i, c]
        rank = np.array([(d <= v).sum() for v in d])  # pessimistic ties
        L = np.array([(d[y] <= v).sum() for v in d])
        lrap.append(np.mean(L[y] / rank[y]))
        ndcg.append(ndcg_score(y[None].astype(float), -d[None]) if c.size > 1 else 1.0)
        dmin = d[y].min()
        rr.append(1.0 / ((d < dmin).sum() + (~y & (d == dmin)).sum() + 1))
        order = c[np.lexsort((c, D[i, c]))]
        for k in ks:
            hits = rel[i, order[:k]].sum()
            prec[k].append(hits / k)
            rec[k].append(hits / rel[i].sum())
    iu, ju = np.triu_indices(n, 1)
    keep = cand[iu, ju]
    ap = average_precision_score(rel[iu, ju][keep], -D[iu, ju][keep])
    return {"lrap": np.mean(lrap), "ndcg": np.mean(ndcg), "mrr": np.mean(rr), "ap_micro": ap,
            "precision_at": {k: np.mean(v) for k, v in prec.items()},
            "recall_at": {k: np.mean(v) for k, v in rec.items()}}


@st.composite
def _case(draw):
    """Small embeddings on an integer grid (ties everywhere), split pairs into held-out,
    excluded and the rest."""
    n = draw(st.integers(4, 14))
    d = draw(st.integers(1, 3))
    X = np.array(draw(st.lists(st.lists(st.integers(-2, 2), min_size=d, max_size=d),
                               min_size=n, max_size=n)), dtype=np.float64)
    metric = draw(st.sampled_from(METRICS))
    if metric == "cosine":
        X[np.abs(X).sum(1) == 0] = 1.0  # cosine needs non-zero rows
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    role = draw(st.lists(st.sampled_from("hhxoo"), min_size=len(pairs), max_size=len(pairs)))
    held = [p for p, r in zip(pairs, role, strict=True) if r == "h"]
    excl = [p for p, r in zip(pairs, role, strict=True) if r == "x"]
    if not held:
        held = [pairs[0]]
        excl = [p for p in excl if p != pairs[0]]
    deg = np.bincount(np.array(excl, dtype=np.int64).reshape(-1), minlength=n) if excl else \
        np.zeros(n, dtype=np.int64)
    kmax = n - 1 - int(deg.max())
    if kmax < 1:  # a sample with no candidate left: drop its exclusions
        excl = []
        kmax = n - 1
    return X, held, excl, metric, tuple(sorted({1, min(3, kmax), kmax}))


@settings(max_examples=120, deadline=None)
@given(_case(), st.sampled_from([None, 1, 3]))
def test_filtered_link_retrieval_equals_the_exact_brute_force(case, chunk):
    X, held, excl, metric, ks = case
    r = link_retrieval(X, held, exclude=excl or None, ks=ks, metric=metric, chunk_size=chunk)
    o = _oracle(X, held, excl, metric, ks)
    for key in ("lrap", "ndcg", "mrr", "ap_micro"):
        assert getattr(r, key) == pytest.approx(o[key], rel=1e-12, abs=1e-12), key
    for k in ks:
        assert r.precision_at[k] == pytest.approx(o["precision_at"][k], abs=1e-12)
        assert r.recall_at[k] == pytest.approx(o["recall_at"][k], abs=1e-12)


def test_exclusion_ties_between_heldout_excluded_and_other_pairs():
    # from sample 0: 1 (excluded), 2 (held out) and 3 (other) all at distance 1
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [5.0, 5.0]])
    r = link_retrieval(X, [(0, 2)], exclude=[(0, 1)], ks=(1, 2))
    o = _oracle(X, [(0, 2)], [(0, 1)], "euclidean", (1, 2))
    assert r.lrap == pytest.approx(o["lrap"]) and r.mrr == pytest.approx(o["mrr"])
    # the tie with the excluded pair is gone, the tie with sample 3 stays
    assert r.per_node["lrap"][0] == pytest.approx(1 / 2)
    assert r.per_node["reciprocal_rank"][0] == pytest.approx(1 / 2)
    assert r.ap_micro == pytest.approx(o["ap_micro"])


def test_no_or_empty_exclusion_changes_nothing():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(25, 4))
    g = [(0, 1), (2, 3), (4, 9), (10, 11), (1, 20)]
    base = link_retrieval(X, g, ks=(1, 5))
    empty = SampleGraph.from_edges(np.zeros((0, 2), dtype=np.int64), n_nodes=25)
    other = link_retrieval(X, g, exclude=empty, ks=(1, 5))
    assert base.to_dict() == other.to_dict()


def test_excluded_pairs_leave_knn_lists_and_pair_counts():
    X = np.arange(6, dtype=np.float64)[:, None]
    nb = compute_neighbors(X, k=2, graph=[(0, 3)], exclude=[(0, 1), (2, 3)])
    assert nb.indices[0].tolist() == [2, 3]  # 1 excluded
    assert nb.indices[3].tolist() == [4, 1]  # 2 excluded; 4 (d = 1) before 1 (d = 2)
    assert nb.pairs.n_pairs == 15 - 2
    # pairs at distance <= 3 among the candidates: 5 + 4 + 3 = 12, less (0, 1) and (2, 3)
    assert nb.pairs.n_le.tolist() == [10]
    # 0 -> 3: candidates 2, 3 within d = 3; 3 -> 0: candidates 4, 1, 5, 0 (2 excluded)
    assert nb.edges.rank_le.tolist() == [2, 4]


def test_exclusion_errors_name_the_argument():
    X = np.arange(5, dtype=np.float64)[:, None]
    with pytest.raises(ValueError, match="exclude shares 1 edge"):
        link_retrieval(X, [(0, 1)], exclude=[(0, 1), (1, 2)], ks=(1,))
    with pytest.raises(ValueError, match="k must be <= 2"):
        link_retrieval(X, [(0, 4)], exclude=[(0, 1), (0, 2)], ks=(3,))
    with pytest.raises(ValueError, match="exclude does not apply to uniformity"):
        compute_neighbors(X, k=1, exclude=[(0, 1)], uniformity_t=(2.0,))
    with pytest.raises(ValueError, match="^exclude: .*out of range"):
        compute_neighbors(X, k=1, exclude=[(0, 9)])
    nb = compute_neighbors(X, k=1, graph=[(0, 4)])
    with pytest.raises(ValueError, match="different exclude"):
        link_retrieval(X, [(0, 4)], exclude=[(0, 1)], ks=(1,), neighbors=nb)
    nbx = compute_neighbors(X, k=1, graph=[(0, 4)], exclude=[(0, 1)])
    r = link_retrieval(X, [(0, 4)], exclude=[(0, 1)], ks=(1,), neighbors=nbx)
    assert r.lrap == link_retrieval(X, [(0, 4)], exclude=[(0, 1)], ks=(1,)).lrap
    with pytest.raises(ValueError, match="different exclude"):
        knn_probe(X, [0, 0, 1, 1, 1], k=1, neighbors=nbx)


# ----------------------------------------------------------------------------- split k-NN
def _vote_oracle(X, y, tr, te, k, metric):
    D = _exact_matrix(X, metric)
    classes = np.unique(y)
    preds = []
    for i in te:
        order = tr[np.lexsort((tr, D[i, tr]))][:k]
        d = D[i, order]
        w = (d == 0).astype(float) if (d == 0).any() else 1.0 / d
        votes = np.array([w[y[order] == c].sum() for c in classes])
        preds.append(classes[np.argmax(votes)])
    return np.array(preds)


@settings(max_examples=80, deadline=None)
@given(st.integers(6, 30), st.integers(1, 3), st.integers(1, 4), st.integers(0, 10**6),
       st.sampled_from(["euclidean", "sqeuclidean", "cosine"]), st.booleans())
def test_split_vote_equals_the_exact_brute_force(n, d, k, seed, metric, grid):
    rng = np.random.default_rng(seed)
    X = rng.integers(-2, 3, size=(n, d)).astype(float) if grid else rng.normal(size=(n, d))
    if metric == "cosine":
        X[np.abs(X).sum(1) == 0] = 1.0
    y = rng.integers(0, 3, size=n)
    perm = rng.permutation(n)
    n_tr = max(k, n // 2)
    tr, te = perm[:n_tr], perm[n_tr:]
    if te.size == 0:
        return
    r = knn_probe(X, y, k=k, metric=metric, train_index=tr, test_index=te)
    assert r.protocol == "given" and r.n_voted == te.size
    assert r.predictions.tolist() == _vote_oracle(X, y, np.sort(tr), te, k, metric).tolist()
    assert r.accuracy == pytest.approx(np.mean(r.predictions == y[te]))


def test_split_vote_matches_scikit_learn_without_ties():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5))
    y = rng.integers(0, 4, size=60)
    tr, te = np.arange(0, 40), np.arange(40, 60)
    r = knn_probe(X, y, k=3, train_index=tr, test_index=te)
    clf = KNeighborsClassifier(3, weights="distance").fit(X[tr], y[tr])
    np.testing.assert_allclose(r.proba, clf.predict_proba(X[te]), rtol=1e-12)
    assert r.accuracy == pytest.approx(clf.score(X[te], y[te]))


def test_split_vote_with_a_single_class_and_a_duplicate():
    X = np.array([[0.0], [0.0], [1.0], [3.0]])
    r = knn_probe(X, [1, 1, 1, 1], k=2, train_index=[0, 2, 3], test_index=[1])
    assert r.accuracy == 1.0 and np.isnan(r.macro_auroc)  # one class: AUROC undefined
    assert r.proba.tolist() == [[1.0]]  # the duplicate at distance 0 votes alone


def test_split_errors_name_the_argument():
    X = np.arange(6, dtype=np.float64)[:, None]
    y = [0, 0, 0, 1, 1, 1]
    with pytest.raises(ValueError, match="both train_index and test_index"):
        knn_probe(X, y, train_index=[0, 1])
    with pytest.raises(ValueError, match="share samples"):
        knn_probe(X, y, k=1, train_index=[0, 1, 2], test_index=[2, 3])
    with pytest.raises(ValueError, match="test_index must hold indices"):
        knn_probe(X, y, k=1, train_index=[0, 1], test_index=[7])
    with pytest.raises(ValueError, match="train_index holds repeated"):
        knn_probe(X, y, k=1, train_index=[0, 0, 1], test_index=[3])
    with pytest.raises(ValueError, match="len\\(train_index\\) = 2"):
        knn_probe(X, y, k=3, train_index=[0, 1], test_index=[3])
    nb = compute_neighbors(X, k=2)
    with pytest.raises(ValueError, match="neighbors=None"):
        knn_probe(X, y, k=1, train_index=[0, 1], test_index=[3], neighbors=nb)
