"""The one-pass geometry report and its figure."""

import json

import matplotlib
import numpy as np
import pytest

import sip_theory.geometry._neighbors as neighbors_module
from sip_theory.geometry import (
    geometry_report,
    graph_recovery,
    knn_probe,
    link_retrieval,
    plot_geometry_report,
    rankme,
    uniformity,
)

matplotlib.use("Agg")


def case():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 15)
    X = rng.normal(size=(45, 6)) + 2.5 * np.eye(6)[y]
    E = [(i, j) for i in range(45) for j in range(i + 1, 45)
         if (y[i] == y[j] and rng.random() < 0.3) or rng.random() < 0.02]
    return X, np.array(E), y


def test_report_equals_the_individual_metrics():
    X, E, y = case()
    rep = geometry_report(X, E, y, linear=False, ks=(1, 5))
    r = link_retrieval(X, E, ks=(1, 5))
    assert (rep.retrieval.lrap, rep.retrieval.ap_micro, rep.retrieval.precision_at) == (
        r.lrap, r.ap_micro, r.precision_at)
    g = graph_recovery(X, E)
    assert (rep.recovery.auroc, rep.recovery.margin, rep.recovery.best_f1) == (
        g.auroc, g.margin, g.best_f1)
    assert rep.knn_probe.accuracy == knn_probe(X, y).accuracy
    assert abs(rep.uniformity - float(uniformity(X))) < 1e-12
    assert rep.rankme["garrido2023"] == float(rankme(X))


def test_report_sweeps_the_distances_once(monkeypatch):
    X, E, y = case()
    calls = []
    original = neighbors_module._sweep

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(neighbors_module, "_sweep", counting)
    geometry_report(X, E, y, linear=False)
    assert len(calls) == 1


def test_report_histogram_counts_every_pair_once():
    X, E, y = case()
    rep = geometry_report(X, E, y, linear=False)
    h = rep.histogram
    assert h["linked"].sum() == len(E)
    assert h["linked"].sum() + h["unlinked"].sum() == 45 * 44 // 2


def test_to_dict_is_json_and_carries_every_section():
    X, E, y = case()
    d = geometry_report(X, E, y, inputs=X[:, :3]).to_dict()
    text = json.dumps(d, allow_nan=False)
    for key in ("retrieval", "recovery", "knn_probe", "linear_probe", "consistency",
                "homophily", "rankme", "neighborhood", "histogram", "timings"):
        assert d[key] is not None, key
    assert json.loads(text)["retrieval"]["curve"]["k"][-1] == 10


def test_report_without_graph_or_labels_keeps_what_it_can():
    X, _, _ = case()
    rep = geometry_report(X, linear=False)
    assert rep.retrieval is None and rep.knn_probe is None and rep.histogram is None
    assert rep.uniformity is not None and "embedding: 45 samples" in rep.summary()


def test_zero_rows_skip_normalised_spread_with_a_note():
    X, E, y = case()
    X[4] = 0.0
    rep = geometry_report(X, E, y, linear=False)
    assert rep.uniformity is None and rep.alignment is None
    assert "zero norm" in rep.settings["notes"][0]


def test_inconsistent_sizes_raise():
    X, E, y = case()
    with pytest.raises(ValueError, match="labels has length 44"):
        geometry_report(X, E, y[:44])
    with pytest.raises(ValueError, match="inputs has 10 rows"):
        geometry_report(X, E, y, inputs=X[:10])


def test_plot_draws_three_panels_and_saves(tmp_path):
    X, E, y = case()
    rep = geometry_report(X, E, y, linear=False)
    fig = plot_geometry_report(rep, path=tmp_path / "fig.png")
    assert len(fig.axes) == 3 and (tmp_path / "fig.png").stat().st_size > 1000
    assert "linked" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()][1]


def test_report_carries_theorem1_with_its_robust_bound():
    from sip_theory.theory import check_theorem1

    X, E, y = case()
    rep = geometry_report(X, E, y, linear=False)
    direct = check_theorem1(X, E, y)
    assert rep.theorem1.to_dict() == direct.to_dict()
    rb = rep.theorem1.robust
    assert rb.lower <= rb.gap <= rb.upper
    assert "Theorem 1:" in rep.summary() and f"{rb.vote_accuracy:.4f}" in rep.summary()
    assert geometry_report(X, E, y, linear=False, theorem1=False).theorem1 is None
    with pytest.raises(TypeError, match="theorem1"):
        geometry_report(X, E, y, linear=False, theorem1="yes")


def test_report_skips_theorem1_above_the_limit_with_a_note(monkeypatch):
    import sip_theory.geometry._report as report

    X, E, y = case()
    monkeypatch.setattr(report, "THEOREM1_AUTO_WORK", X.shape[0] ** 2 * X.shape[1] - 1)
    rep = geometry_report(X, E, y, linear=False)
    assert rep.theorem1 is None
    assert any("Theorem 1 check skipped" in note for note in rep.settings["notes"])
    assert geometry_report(X, E, y, linear=False, theorem1=True).theorem1 is not None
