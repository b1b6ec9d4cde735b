"""Missing labels: one convention (masked, NaN, None, ``missing_label``) in every label metric.

Unlabelled samples are never scored and never vote; the k-NN probe then equals the probe on the
labelled rows alone, LC keeps them as graph nodes without a vote (as auxiliary nodes), NC1,
CDNV and the linear probe use the labelled rows.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sip_theory._validation import check_labels, known_labels
from sip_theory.geometry import (
    cdnv,
    compute_neighbors,
    geometry_report,
    knn_local_consistency,
    knn_probe,
    linear_probe,
    nc1,
)
from sip_theory.graphs import SampleGraph
from sip_theory.testing import graphs_with_labels
from sip_theory.theory import edge_homophily, local_consistency, node_homophily


def test_known_labels_markers():
    assert known_labels([1.0, np.nan, 2.0])[1].tolist() == [True, False, True]
    assert known_labels(np.array([None, "a"], dtype=object))[0].tolist() == ["a"]
    masked = np.ma.MaskedArray([5, 6, 7], mask=[False, True, False])
    values, known = known_labels(masked)
    assert values.tolist() == [5, 7] and known.tolist() == [True, False, True]
    assert known_labels(["x", "?"], missing_label="?")[0].tolist() == ["x"]
    # by default -1 is a class (the marker is an option)
    assert known_labels([-1, 0])[1].all()


def test_known_labels_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="missing_label=-1 cannot mark labels of dtype <U1"):
        known_labels(["a", "b"], missing_label=-1)
    with pytest.raises(ValueError, match="y has length 2 but"):
        known_labels([0, 1], 3, name="y")
    with pytest.raises(ValueError, match="y contains NaN or infinite"):
        known_labels([0.0, np.inf], name="y")
    with pytest.raises(ValueError, match="non-integer floats"):
        known_labels([0.5, np.nan])


def test_check_labels_refuses_masked_labels():
    with pytest.raises(ValueError, match=r"y has 1 missing \(masked\) label"):
        check_labels(np.ma.MaskedArray([0, 1], mask=[True, False]), name="y")


# the CiteSeer hub in miniature: two all-zero unlabelled rows marked -1 next to two classes
HUB_X = np.array([[0.0, 0.0], [0.0, 0.0], [0.3, 0.0], [0.7, 0.1], [3.0, 3.0], [3.1, 3.0],
                  [0.8, 0.0]])
HUB_Y = np.array([-1, -1, 0, 0, 1, 1, 0])


def test_hub_of_unlabelled_rows_no_longer_scores_as_a_class():
    as_class = knn_probe(HUB_X, HUB_Y, k=1)
    assert as_class.n_voted == 7 and -1 in as_class.classes.tolist()
    missing = knn_probe(HUB_X, HUB_Y, k=1, missing_label=-1)
    assert missing.n_voted == 5 and missing.n_unlabeled == 2
    assert missing.classes.tolist() == [0, 1]
    # nearest labelled samples: 2 -> 3 (0.41), 3 <-> 6 (0.14), 4 <-> 5
    assert missing.accuracy == 1.0
    assert missing.predictions.tolist() == [0, 0, 1, 1, 0]
    # with -1 as a class the hub rows vote each other right (distance 0), and sample 2,
    # whose nearest neighbour is the hub (0.3), is voted -1: 6 of 7
    assert as_class.predictions.tolist() == [-1, -1, -1, 0, 1, 1, 0]
    assert as_class.accuracy == pytest.approx(6 / 7)


@settings(max_examples=40, deadline=None)
@given(st.integers(4, 12).flatmap(lambda n: st.tuples(
    st.lists(st.lists(st.integers(-2, 2), min_size=2, max_size=2), min_size=n, max_size=n),
    st.lists(st.integers(0, 2), min_size=n, max_size=n),
    st.lists(st.booleans(), min_size=n, max_size=n))), st.integers(1, 3))
def test_probe_with_missing_labels_equals_probe_on_labelled_rows(case, k):
    # small integer grids: many tied distances and duplicate rows
    X, y, drop = (np.array(v) for v in case)
    X = X.astype(np.float64)
    known = ~drop
    if known.sum() < k + 1:
        return
    y_missing = np.where(known, y, -1)
    ref = knn_probe(X[known], y[known], k=k, weights="uniform")
    fresh = knn_probe(X, y_missing, k=k, missing_label=-1, weights="uniform")
    # precomputed lists over every row (the report's path), long enough or not
    for extra in (0, int(drop.sum())):
        nb = compute_neighbors(X, k=min(k + extra, X.shape[0] - 1))
        pre = knn_probe(X, y_missing, k=k, missing_label=-1, weights="uniform", neighbors=nb)
        assert pre.predictions.tolist() == ref.predictions.tolist()
        np.testing.assert_allclose(pre.proba, ref.proba)
    assert fresh.predictions.tolist() == ref.predictions.tolist()
    assert fresh.accuracy == ref.accuracy and fresh.n_unlabeled == int(drop.sum())
    np.testing.assert_allclose(fresh.proba, ref.proba)


def test_probe_bad_input_with_missing_labels():
    y = np.array([0.0, np.nan, 1.0, np.nan])
    X = np.arange(8.0).reshape(4, 2)
    with pytest.raises(ValueError, match="k must be <= the labelled samples - 1 = 1, got 2"):
        knn_probe(X, y, k=2)
    with pytest.raises(ValueError, match="train_index holds 1 sample.*missing, e.g. 1"):
        knn_probe(X, y, k=1, train_index=[0, 1], test_index=[2])
    with pytest.raises(ValueError, match="test_index holds 1 sample.*missing, e.g. 3"):
        knn_probe(X, y, k=1, train_index=[0], test_index=[2, 3])
    with pytest.raises(ValueError, match="labels has 1 known label.*at least 2 needed"):
        knn_probe(X, [0, -1, -1, -1], k=1, missing_label=-1)


@settings(max_examples=60, deadline=None)
@given(graphs_with_labels(min_nodes=1, max_nodes=9, max_classes=3),
       st.data())
def test_lc_with_missing_labels_equals_lc_with_those_nodes_auxiliary(pair, data):
    g, y = pair
    drop = np.array(data.draw(st.lists(st.booleans(), min_size=g.n_nodes,
                                       max_size=g.n_nodes)), dtype=bool)
    y_missing = np.where(drop, -1, y)
    aux = SampleGraph(g.to_scipy(), auxiliary=drop)
    for ties in ("strict", "random"):
        got = local_consistency(g, y_missing, missing_label=-1, ties=ties)
        want = local_consistency(aux, y, ties=ties)
        assert got.n_evaluated == want.n_evaluated and got.n_isolated == want.n_isolated
        assert got.n_unlabeled == int(drop.sum())
        np.testing.assert_array_equal(got.credit, want.credit)
        assert np.isnan(got.value) == np.isnan(want.value)
        if not np.isnan(want.value):
            assert got.value == want.value
    # homophily: the graph induced on the labelled nodes
    keep = np.flatnonzero(~drop)
    sub = SampleGraph(g.to_scipy()[keep][:, keep])
    for fn in (edge_homophily, node_homophily):
        got, want = fn(g, y_missing, missing_label=-1), fn(sub, y[keep]) if keep.size else np.nan
        assert (np.isnan(got) and np.isnan(want)) or got == want


def test_lc_unlabelled_neighbour_does_not_vote():
    # path 0-1-2: node 1's neighbours are 0 (label 0) and 2 (missing): a unique majority
    r = local_consistency([(0, 1), (1, 2)], [0.0, 0.0, np.nan])
    assert r.value == 1.0 and r.n_evaluated == 2 and r.n_unlabeled == 1
    assert np.isnan(r.credit[2])


def test_knn_local_consistency_keeps_unlabelled_rows_as_nodes():
    # 1-D points; the unlabelled point 1 is everyone's nearest neighbour, so in the 1-NN
    # graph (union) nodes 0 and 2 have only it as a neighbour: no vote, excluded
    X = np.array([[0.0], [1.0], [2.1], [10.0], [10.5]])
    y = np.ma.MaskedArray([0, 0, 0, 1, 1], mask=[False, True, False, False, False])
    r = knn_local_consistency(X, y, [(0, 2), (3, 4)], k=1)
    assert r.n_unlabeled == 1
    assert r.lc_embedding == 1.0  # only nodes 3 and 4 are evaluated
    assert r.lc_graph == 1.0


def test_linear_probe_nc1_cdnv_use_the_labelled_rows():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (30, 3)), rng.normal(3, 1, (30, 3))]
    y = np.repeat([0.0, 1.0], 30)
    y_missing = y.copy()
    y_missing[[1, 7, 40]] = np.nan
    keep = ~np.isnan(y_missing)
    assert nc1(X, y_missing) == pytest.approx(nc1(X[keep], y[keep]), rel=1e-12)
    assert cdnv(X, y_missing) == pytest.approx(cdnv(X[keep], y[keep]), rel=1e-12)
    a = linear_probe(X, y_missing, cv=3, seed=0)
    b = linear_probe(X[keep], y[keep], cv=3, seed=0)
    assert a.fold_accuracies == b.fold_accuracies
    with pytest.raises(ValueError, match="test_index holds 1 sample.*missing, e.g. 7"):
        linear_probe(X, y_missing, train_index=[0, 2, 50], test_index=[7, 55])


def _two_blobs():
    rng = np.random.default_rng(1)
    X = np.r_[rng.normal(0, 1, (12, 3)), rng.normal(5, 1, (12, 3))]
    y = np.repeat([0, 1], 12)
    E = [(i, i + 1) for i in range(11)] + [(i, i + 1) for i in range(12, 23)]
    return X, y, E


def test_report_counts_missing_labels_and_skips_theorem1():
    X, y, E = _two_blobs()
    y_missing = np.where(np.isin(np.arange(24), [3, 15]), -1, y)
    rep = geometry_report(X, E, y_missing, missing_label=-1, linear=False)
    assert rep.data["n_unlabeled"] == 2 and rep.knn_probe.n_unlabeled == 2
    assert rep.consistency.n_unlabeled == 2 and rep.theorem1 is None
    assert any("Theorem 1 check skipped: 2 label(s) missing" in s
               for s in rep.settings["notes"])
    assert "labels: 2 of 24 missing" in rep.summary()
    keep = y_missing >= 0
    assert rep.knn_probe.accuracy == knn_probe(X[keep], y[keep], k=3).accuracy
    with pytest.raises(ValueError, match="theorem1=True needs a label for every sample"):
        geometry_report(X, E, y_missing, missing_label=-1, linear=False, theorem1=True)
    with pytest.raises(ValueError, match="labels has 0 known label"):
        geometry_report(X, E, np.full(24, np.nan), linear=False)


def test_report_data_warnings_count_zero_duplicate_rows_and_isolated_nodes():
    X, y, E = _two_blobs()
    X[[0, 5]] = 0.0
    X[9] = X[8]
    rep = geometry_report(X, E[:-3], y, linear=False)  # nodes 21..23 lose their edges
    assert rep.data == {"n_unlabeled": 0, "n_zero_rows": 2, "n_duplicate_rows": 2,
                        "n_isolated_nodes": 3}
    assert rep.warnings() == ["2 all-zero row(s)", "2 duplicate row(s) (equal to an earlier row)",
                              "3 isolated node(s) (no graph neighbour)"]
    X, y, E = _two_blobs()
    clean = geometry_report(X, E, y, linear=False)
    assert clean.warnings() == [] and clean.data["n_isolated_nodes"] == 0


def test_report_explicit_counts_larger_than_the_data_raise_defaults_are_lowered():
    X, y, E = _two_blobs()
    for kw, name in (({"k": 24}, "k"), ({"ks": (1, 30)}, "ks"), ({"probe_k": 24}, "probe_k"),
                     ({"lc_k": 40}, "lc_k")):
        with pytest.raises(ValueError, match=f"^{name} must be <= 23"):
            geometry_report(X, E, y, linear=False, **kw)
    with pytest.raises(ValueError, match="probe_k must be <= 21"):
        geometry_report(X, E, np.where(np.arange(24) < 2, -1, y), missing_label=-1,
                        probe_k=22, linear=False)
    small = geometry_report(X[:6], [(0, 1)], [0, 0, 0, 1, 1, 1], linear=False)
    assert small.settings["k"] == 5 and small.settings["ks"] == [1, 5]
    notes = small.settings["notes"]
    assert "k lowered from its default 10 to 5 (the data allow at most 5)" in notes
    assert any(s.startswith("ks lowered from their default (1, 5, 10) to (1, 5)") for s in notes)


def test_report_on_an_edgeless_graph_says_so():
    from sip_theory.graphs import empty_graph

    X, y, _ = _two_blobs()
    text = geometry_report(X, empty_graph(24), y, linear=False).summary()
    assert "graph: no edges, so link retrieval and graph recovery are undefined" in text
    assert "margin" not in text
