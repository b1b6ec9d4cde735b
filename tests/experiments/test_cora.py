"""The Cora case study: edge split, held-out ranking, label-free selection, end to end (tiny)."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import label_ranking_average_precision_score

from sip_theory.cli import main
from sip_theory.data import load_cora
from sip_theory.experiments import (
    cora_spec,
    run_experiment,
    select_lambda,
    split_edges,
)
from sip_theory.geometry import link_retrieval
from sip_theory.graphs import SampleGraph

TINY = {"data": {"n_nodes": 500}, "encoder": {"hidden_sizes": [16], "out_features": 8},
        "train": {"epochs": 2, "batch_size": 256}, "ks": [1, 5]}


def _edge_set(edges):
    return {tuple(e) for e in np.asarray(edges).tolist()}


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    """Two arms, one seed, on 500 papers; once with the true topics, once with permuted ones."""
    out = tmp_path_factory.mktemp("cora")
    true = run_experiment(cora_spec(seeds=[0], lambdas=(0.0, 0.9), raw=False, overrides=TINY),
                          out, progress=False, torch_threads=1)
    perm = run_experiment(cora_spec(seeds=[0], lambdas=(0.0, 0.9), raw=False, overrides=TINY,
                                    permute_labels=7, name="cora-permuted"),
                          out, progress=False, torch_threads=1)
    return true, perm


# ----------------------------------------------------------------------------- edge split
def test_split_holds_out_disjoint_edges_absent_from_pretraining_graph():
    g = load_cora().graph
    s = split_edges(g, test_fraction=0.10, val_fraction=0.05, seed=3)
    pt, test, val = _edge_set(s.pt_graph.edges()), _edge_set(s.test_edges), _edge_set(s.val_edges)
    assert (len(test), len(val)) == (528, 264)
    assert not pt & test and not pt & val and not test & val
    assert pt | test | val == _edge_set(g.edges())
    assert s.pt_graph.n_nodes == g.n_nodes


def test_split_is_a_function_of_the_seed():
    g = load_cora().graph
    a, b = split_edges(g, seed=1), split_edges(g, seed=1)
    c = split_edges(g, seed=2)
    assert np.array_equal(a.test_edges, b.test_edges)
    assert not np.array_equal(a.test_edges, c.test_edges)


def test_split_rejects_fractions_summing_to_one():
    with pytest.raises(ValueError, match="test_fraction"):
        split_edges([(0, 1), (1, 2)], test_fraction=0.6, val_fraction=0.4)


def test_run_record_pretraining_graph_is_the_graph_minus_its_heldout_edges(tiny_runs):
    rec = tiny_runs[0][0]
    split = rec["split"]
    held = _edge_set(split["test_edges"]) | _edge_set(split["val_edges"])
    from sip_theory.experiments._cora import _cora_data

    full, _ = _cora_data(TINY["data"]["n_nodes"])
    assert rec["graph_hash"] == full.graph.content_hash()
    keep = [e for e in full.graph.edges().tolist() if tuple(e) not in held]
    pt = SampleGraph.from_edges(np.array(keep).reshape(-1, 2), n_nodes=full.n_samples)
    assert held and held <= _edge_set(full.graph.edges())
    assert split["pt_graph_hash"] == pt.content_hash()
    assert split["n_pt_edges"] + len(held) == full.graph.n_edges


# ------------------------------------------------------------------------ held-out ranking
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_filtered_lrap_equals_sklearn_with_known_edges_scored_last(seed):
    rng = np.random.default_rng(seed)
    n = 30
    x = rng.integers(0, 3, size=(n, 3)).astype(float)
    edges = np.array([(i, j) for i in range(n) for j in range(i + 1, n) if rng.random() < 0.15]
                     + [(0, 1), (2, 3)])
    edges = SampleGraph.from_edges(edges, n_nodes=n, duplicates="merge")
    s = split_edges(edges, test_fraction=0.3, val_fraction=0.0, seed=seed)
    r = link_retrieval(x, s.test_edges, exclude=s.pt_graph, ks=(1,))
    d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    score = -d
    score[np.eye(n, dtype=bool) | (s.pt_graph.to_dense() > 0)] = -1e9  # never outranks
    h = SampleGraph.from_edges(s.test_edges, n_nodes=n).to_dense() > 0
    q = h.any(1)
    assert r.lrap == pytest.approx(label_ranking_average_precision_score(h[q], score[q]),
                                   abs=1e-12)


def test_excluding_a_known_neighbour_raises_the_heldout_rank():
    x = np.array([[0.0], [1.0], [2.0], [10.0]])
    before = link_retrieval(x, [(0, 2)], ks=(1,))
    after = link_retrieval(x, [(0, 2)], exclude=[(0, 1)], ks=(1,))
    # query 0: paper 1 was ranked before paper 2; once known, it leaves the candidates
    assert before.per_node["reciprocal_rank"][0] == 0.5
    assert after.per_node["reciprocal_rank"][0] == 1.0
    # query 2: its known neighbours are unchanged (none), so is its rank
    assert before.per_node["reciprocal_rank"][2] == after.per_node["reciprocal_rank"][2] == 0.5


def test_heldout_edge_also_known_is_rejected_naming_the_arguments():
    with pytest.raises(ValueError, match="exclude shares 1 edge"):
        link_retrieval(np.eye(3), [(0, 1)], exclude=[(0, 1), (1, 2)], ks=(1,))


# ---------------------------------------------------------------------- label-free choice
def test_permuting_the_topics_changes_no_selection_metric_and_no_choice(tiny_runs):
    true, perm = tiny_runs
    for a, b in zip(true, perm, strict=True):
        assert a["metrics"]["val_edges"] == b["metrics"]["val_edges"]
        assert a["metrics"]["train_edges"] == b["metrics"]["train_edges"]
    for criterion in ("val_lrap", "train_lrap"):
        assert select_lambda(true, criterion=criterion) == select_lambda(perm, criterion=criterion)
    # the control bites: the labels really were permuted
    assert any(a["metrics"]["topic"] != b["metrics"]["topic"]
               for a, b in zip(true, perm, strict=True))


def test_selection_reads_no_topic_or_test_edge_metric(tiny_runs):
    true = tiny_runs[0]
    stripped = [{**r, "metrics": {"val_edges": r["metrics"]["val_edges"],
                                  "train_edges": r["metrics"]["train_edges"]}} for r in true]
    assert select_lambda(stripped) == select_lambda(true)


def test_selection_breaks_ties_toward_the_smaller_lambda():
    recs = [{"status": "ok", "config": {"seed": 0, "params": {"lambda_si": lam}},
             "metrics": {"val_edges": {"lrap": 0.5}}} for lam in (0.9, 0.1)]
    assert select_lambda(recs)["chosen_lambda"] == 0.1


# --------------------------------------------------------------------------- end to end
def test_cli_runs_a_tiny_case_study_writes_every_output_and_resumes(tmp_path):
    argv = ["cora", "--out", str(tmp_path), "--seeds", "1", "--epochs", "1",
            "--n-nodes", "400", "--no-graph-report", "--quiet"]
    assert main(argv) == 0
    exp = tmp_path / "cora"
    for name in ("summary.json", "table.md", "gains.md", "selection.md", "table.csv",
                 "lambda.png", "theorem1.png", "results.csv", "spec.json"):
        assert (exp / name).stat().st_size > 0, name
    summary = json.loads((exp / "summary.json").read_text())
    assert list(summary["arms"]) == ["lambda0", "lambda0.01", "lambda0.1", "lambda0.5",
                                     "lambda0.9", "raw"]
    assert summary["selection"]["val_lrap"]["chosen_lambda"] in (0.0, 0.01, 0.1, 0.5, 0.9)
    assert len(list((exp / "runs").glob("*.json"))) == 6
    assert summary["run"]["n_resumed"] == 0
    assert main(argv) == 0
    again = json.loads((exp / "summary.json").read_text())
    # nothing recomputed; the timing of the computing invocation is kept
    assert again["run"]["resumed_invocation"]["n_resumed"] == 6
    assert again["run"]["wall_time_s"] == summary["run"]["wall_time_s"]
    assert again["arms"] == summary["arms"]
