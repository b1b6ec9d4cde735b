"""compare_embeddings and its table, plot_embedding_comparison's column scores, and the
report's per-sample values, new options and spread over folds, checked against
independent dense computations and hand-checkable graphs."""

import csv
import io
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sip_theory.geometry import (
    EmbeddingComparison,
    compare_embeddings,
    geometry_report,
    knn_local_consistency,
    linear_probe,
    plot_embedding_comparison,
)
from sip_theory.geometry._plot import column_scores
from sip_theory.geometry._report import PER_SAMPLE_COLUMNS, REPORT_SCHEMA_VERSION
from sip_theory.theory import local_consistency

N = 30


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    y = np.repeat([0, 1, 2], N // 3)
    centres = rng.normal(size=(3, 4)) * 4.0
    good = centres[y] + rng.normal(size=(N, 4))
    noise = rng.normal(size=(N, 6))
    g = [(i, i + 1) for i in range(N - 1) if y[i] == y[i + 1]] + [(0, 29)]
    return {"good": good, "noise": noise}, g, y


@pytest.fixture(scope="module")
def cmp(data):
    X, g, y = data
    return compare_embeddings(X, g, y, k=5, linear_options={"cv": 3}, per_sample=True)


# ---------------------------------------------------------------------- the comparison
def test_each_column_is_the_value_of_its_own_report(data, cmp):
    X, g, y = data
    assert cmp.names == ("good", "noise")
    for name in cmp.names:
        rep = geometry_report(X[name], g, y, k=5, linear_options={"cv": 3})
        row = cmp.rows()[cmp.names.index(name)]
        assert row["lrap"] == rep.retrieval.lrap and row["mrr"] == rep.retrieval.mrr
        assert row["p_at_5"] == rep.retrieval.precision_at[5]
        assert row["edge_auroc"] == rep.recovery.auroc
        assert row["knn_accuracy"] == rep.knn_probe.accuracy
        assert row["linear_accuracy"] == rep.linear_probe.accuracy
        assert row["linear_accuracy_sd"] == np.std(rep.linear_probe.fold_accuracies, ddof=1)
        assert row["lc_knn"] == rep.consistency.lc_embedding
        assert row["uniformity"] == rep.uniformity and row["nc1"] == rep.nc1
    assert cmp.reference["lc_graph"] == local_consistency(g, y).value
    assert cmp.groups == tuple(sorted(cmp.groups, key=("graph", "labels", "spread").index))


def test_the_clustered_embedding_wins_the_rank_metrics(cmp):
    best = cmp.best()
    for key in ("lrap", "knn_accuracy", "linear_accuracy", "lc_knn"):
        assert best[key] == "good"
    assert "nc1" not in best and "linear_accuracy_sd" not in best  # no direction
    assert dict(zip(cmp.columns, cmp.better, strict=True))["uniformity"] == "lower"


def test_best_is_none_on_a_tie_and_on_an_undefined_column():
    X = np.array([[1.0, 0.0], [1.1, 0.0], [3.0, 3.0], [3.1, 3.0]])
    c = compare_embeddings({"a": X, "b": X + 5.0}, [(0, 1), (2, 3)], [0, 0, 1, 1], k=1,
                           linear=False)
    assert c.best()["lrap"] is None  # both 1.0: a translation changes no rank
    values = c.values.copy()
    values[:, c.columns.index("mrr")] = np.nan
    d = EmbeddingComparison(c.names, c.columns, c.labels, c.groups, c.better, values,
                            c.reference, c.settings)
    assert d.best()["mrr"] is None and d.rows()[0]["mrr"] is None


def test_csv_round_trips_and_markdown_marks_the_best(cmp):
    rows = list(csv.DictReader(io.StringIO(cmp.to_csv())))
    assert [r["embedding"] for r in rows] == list(cmp.names)
    for i, r in enumerate(rows):
        for j, key in enumerate(cmp.columns):
            assert float(r[key]) == cmp.values[i, j]  # repr: exact
    md = cmp.to_markdown(digits=3)
    good = next(line for line in md.splitlines() if line.startswith("| good"))
    acc = cmp.column("linear_accuracy")[0]
    sd = cmp.column("linear_accuracy_sd")[0]
    assert f"**{acc:.3f} ± {sd:.3f}**" in good
    assert "LC on G" in md and "LC on G" in cmp.to_text()
    json.dumps(cmp.to_dict(), allow_nan=False)


def test_a_sequence_is_named_by_position_and_bad_inputs_name_the_embedding(data):
    X, g, y = data
    c = compare_embeddings([X["good"], X["noise"]], g, y, k=3, linear=False)
    assert c.names == ("0", "1")
    with pytest.raises(ValueError, match=r"embeddings\['b'\] has 20 rows but "
                                         r"embeddings\['a'\] has 30"):
        compare_embeddings({"a": X["good"], "b": X["good"][:20]}, g, y)
    with pytest.raises(ValueError, match="at least one embedding"):
        compare_embeddings({}, g, y)
    bad = X["noise"].copy()
    bad[4] = 0.0
    with pytest.raises(ValueError, match=r"^embeddings\['z'\]: normalize_rows: 1 row"):
        compare_embeddings({"a": X["good"], "z": bad}, g, y, normalize_rows=True,
                           linear=False)


def test_the_figure_has_one_cell_text_per_value(cmp, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    fig = plot_embedding_comparison(cmp, path=tmp_path / "c.png")
    n_shown = len(cmp.columns) - 1  # the spread over folds sits under its mean
    ax = fig.axes[0]
    cells = [t for t in ax.texts if t.get_text() not in ("graph", "labels", "spread")]
    assert len(cells) == len(cmp.names) * n_shown
    assert any("±" in t.get_text() for t in cells)
    assert (tmp_path / "c.png").stat().st_size > 1000
    assert not list(tmp_path.glob(".*"))  # the atomic write left no temporary file


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 4)),
                  elements=st.one_of(st.sampled_from([0.0, 1.0, 1.0 + 2**-52, np.nan]),
                                     st.floats(-1e6, 1e6))),
       st.lists(st.sampled_from(["higher", "lower", None]), min_size=4, max_size=4))
def test_column_scores_put_the_best_at_one_and_the_worst_at_zero(values, better):
    better = better[: values.shape[1]]
    s = column_scores(values, better)
    for j, b in enumerate(better):
        col, sc = values[:, j], s[:, j]
        ok = np.isfinite(col)
        if b is None or ok.sum() < 2 or col[ok].min() == col[ok].max():
            assert np.isnan(sc).all()  # no direction, one value, or all tied
            continue
        assert np.isnan(sc[~ok]).all() and ((sc[ok] >= 0) & (sc[ok] <= 1)).all()
        top = col[ok].max() if b == "higher" else col[ok].min()
        assert (sc[ok][col[ok] == top] == 1.0).all() and sc[ok].min() == 0.0
        order = np.argsort(col[ok], kind="stable")  # monotone in the value
        diffs = np.diff(sc[ok][order])
        assert (diffs >= 0).all() if b == "higher" else (diffs <= 0).all()


# ---------------------------------------------------------------------- per sample
def test_per_sample_values_agree_with_dense_computations(data):
    X, g, y = data
    Z = X["noise"]  # continuous: no tied distances
    y = y.astype(float)
    y[[4, 17]] = np.nan  # two missing labels
    rep = geometry_report(Z, g, y, k=5, probe_k=3, linear=False, per_sample=True)
    ps = rep.per_sample
    assert list(ps) == list(PER_SAMPLE_COLUMNS)
    D = np.linalg.norm(Z[:, None] - Z[None], axis=2)
    np.fill_diagonal(D, np.inf)
    adj = np.zeros((N, N), bool)
    for a, b in g:
        adj[a, b] = adj[b, a] = True
    known = ~np.isnan(y)
    for i in range(N):
        d_first = D[i, adj[i]].min()
        assert ps["first_neighbor_rank"][i] == (D[i] <= d_first).sum()
        if not known[i]:
            assert np.isnan(ps["knn_vote"][i]) and ps["knn_prediction"][i] is None
            assert ps["label"][i] is None and np.isnan(ps["lc_graph"][i])
            continue
        others = np.flatnonzero(known & (np.arange(N) != i))
        nn = others[np.argsort(D[i, others])[:3]]
        w = 1.0 / D[i, nn]
        share = w[y[nn] == y[i]].sum() / w.sum()
        assert ps["knn_vote"][i] == pytest.approx(share, abs=1e-12)
        votes = {c: w[y[nn] == c].sum() for c in np.unique(y[nn])}
        assert ps["knn_prediction"][i] == max(votes, key=votes.get)
        assert ps["knn_correct"][i] == (ps["knn_prediction"][i] == y[i])
    lc = local_consistency(g, np.where(known, y, -1), missing_label=-1)
    np.testing.assert_array_equal(ps["lc_graph"], lc.credit)
    assert np.nanmean(ps["lc_graph"]) == pytest.approx(rep.consistency.lc_graph)
    assert np.nanmean(ps["lc_knn"]) == pytest.approx(rep.consistency.lc_embedding)
    assert rep.to_dict().keys() == geometry_report(Z, g, y, k=5, linear=False).to_dict().keys()


def test_per_sample_on_a_path_with_an_isolated_node():
    # points 0, 1, 3, 4.5 on a line; G = 0 - 1 - 2 with node 3 isolated; labels a a b a
    X = np.array([[0.0], [1.0], [3.0], [4.5]])
    rep = geometry_report(X, [(0, 1), (1, 2)], ["a", "a", "b", "a"], k=2, probe_k=1,
                          linear=False, per_sample=True)
    ps = rep.per_sample
    # node 2's only neighbour (1, at 2) comes after node 3 (at 1.5): rank 2
    assert ps["first_neighbor_rank"][:3].tolist() == [1.0, 1.0, 2.0]
    assert np.isnan(ps["first_neighbor_rank"][3])
    # LC on G: 0's neighbour agrees; 1 sees a and b (a tie: 0, strict); 2 sees a; 3 isolated
    assert np.nan_to_num(ps["lc_graph"], nan=-1).tolist() == [1.0, 0.0, 0.0, -1.0]
    # 1-NN votes: 0 <- 1 (a), 1 <- 0 (a), 2 <- 3 (a, wrong), 3 <- 2 (b, wrong)
    assert ps["knn_prediction"].tolist() == ["a", "a", "a", "b"]
    assert ps["knn_vote"].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert ps["knn_correct"].tolist() == [True, True, False, False]


def test_without_per_sample_nothing_is_kept(data):
    X, g, y = data
    assert geometry_report(X["good"], g, y, k=3, linear=False).per_sample is None
    only = geometry_report(X["good"], None, y, k=3, linear=False, per_sample=True)
    assert "first_neighbor_rank" not in only.per_sample and "lc_graph" not in only.per_sample


# ---------------------------------------------------------------------- report options
def test_normalize_rows_scores_the_unit_rows(data):
    X, g, y = data
    Z = X["good"] + 0.5
    a = geometry_report(Z, g, y, k=3, linear=False, normalize_rows=True)
    b = geometry_report(Z / np.linalg.norm(Z, axis=1, keepdims=True), g, y, k=3, linear=False)
    assert a.retrieval.lrap == b.retrieval.lrap and a.nc1 == pytest.approx(b.nc1)
    assert a.settings["normalize_rows"] is True
    with pytest.raises(ValueError, match=r"normalize_rows: 1 row\(s\) of zero norm .*row 0\)"):
        geometry_report(np.r_[np.zeros((1, 4)), Z[1:]], g, y, normalize_rows=True)


def test_lc_mode_reaches_the_consistency(data):
    X, g, y = data
    rep = geometry_report(X["noise"], g, y, k=4, lc_k=4, lc_mode="mutual", linear=False)
    want = knn_local_consistency(X["noise"], y, g, k=4, mode="mutual")
    assert rep.consistency.mode == "mutual"
    assert rep.consistency.lc_embedding == want.lc_embedding
    with pytest.raises(ValueError, match="lc_mode"):
        geometry_report(X["noise"], g, y, lc_mode="both")


def test_json_names_its_schema_package_and_options(data):
    import sip_theory

    X, g, y = data
    d = geometry_report(X["good"], g, y, k=3, linear_options={"cv": 2, "C": 0.5}).to_dict()
    assert d["schema_version"] == REPORT_SCHEMA_VERSION
    assert d["package_version"] == sip_theory.__version__
    s = d["settings"]
    assert s["linear_options"] == {"cv": 2, "C": 0.5} and s["lc_mode"] == "union"
    assert s["seed"] == 0 and s["normalize_rows"] is False
    assert d["linear_probe"]["accuracy_sd"] == pytest.approx(
        np.std(d["linear_probe"]["fold_accuracies"], ddof=1))


def test_accuracy_sd_is_the_spread_over_folds(data):
    X, g, y = data
    cv = linear_probe(X["noise"], y, cv=5, seed=1)
    assert len(cv.fold_accuracies) == 5
    assert cv.accuracy_sd == np.std(cv.fold_accuracies, ddof=1)
    assert np.isnan(linear_probe(X["noise"], y, seed=1).accuracy_sd)  # one split


def test_a_reversed_view_is_scored_like_its_copy(data):
    X, g, y = data
    view = X["good"][::-1]  # negative strides: torch.from_numpy alone refuses them
    a = geometry_report(view, g, y, k=3, linear=False)
    b = geometry_report(view.copy(), g, y, k=3, linear=False)
    assert a.retrieval.lrap == b.retrieval.lrap and a.knn_probe.accuracy == b.knn_probe.accuracy
