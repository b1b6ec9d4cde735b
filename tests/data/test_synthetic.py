"""The SyntheticDataset container, seeded retries, and the CLIQUES family."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sip_theory.data import (
    SYNTHETIC_DATASETS,
    GenerationError,
    SyntheticDataset,
    make_cliques_dataset,
    make_synthetic_dataset,
    register_synthetic_dataset,
)
from sip_theory.data._synthetic import _BUILDERS
from sip_theory.graphs import SampleGraph


def test_cliques_pt_graph_is_one_clique_per_topic_without_noise():
    d = make_cliques_dataset(seed=0)
    g = d.pt_graph
    y = d.labels["topic"][d.pt_nodes]
    assert g.is_cluster_graph()
    _, comp = g.connected_components()
    assert len(set(zip(comp.tolist(), y.tolist(), strict=True))) == len(set(y.tolist()))
    assert len(set(comp.tolist())) == len(set(y.tolist()))


def test_cliques_paper_sizes_and_topic_mixture_dominance():
    d = make_cliques_dataset(seed=1)
    assert (d.pt_nodes.size, d.ft_nodes.size, d.n_topics) == (50, 20, 10)
    mix = d.topic_mixtures
    assert np.array_equal(mix.argmax(1), d.labels["topic"])
    assert (mix.max(1) >= 0.9).all() and np.allclose(mix.sum(1), 1.0)


@pytest.mark.parametrize("seed", range(12))
def test_cliques_never_returns_an_isolated_pt_node(seed):
    d = make_cliques_dataset(seed=seed)
    assert (d.pt_graph.degrees() > 0).all()
    assert d.config["attempt"] == len(d.config["rejected"])


def test_cliques_rejected_attempts_are_recorded_and_replayable():
    seeds = [s for s in range(40) if make_cliques_dataset(seed=s).config["attempt"] > 0]
    assert seeds, "expected some seed to need a redraw at the paper's sizes"
    d = make_cliques_dataset(seed=seeds[0])
    assert all("isolated" in r for r in d.config["rejected"])


def test_cliques_noise_keeps_every_clique_edge_and_p1_is_complete():
    clean = make_cliques_dataset(seed=3)
    noisy = make_cliques_dataset(seed=3, noise=0.15)
    full = make_cliques_dataset(seed=3, noise=1.0)
    assert np.array_equal(clean.labels["topic"], noisy.labels["topic"])
    assert set(map(tuple, clean.graph.edges().tolist())) <= set(
        map(tuple, noisy.graph.edges().tolist()))
    assert full.graph.n_edges == 70 * 69 // 2


def test_cliques_noise_rate_is_close_to_p():
    d = make_cliques_dataset(seed=4, noise=0.1, n_pt=200, n_ft=0)
    y = d.labels["topic"]
    cross = y[:, None] != y[None, :]
    iu = np.triu_indices(200, 1)
    added = (d.graph.to_dense() > 0)[iu][cross[iu]]
    assert abs(added.mean() - 0.1) < 0.01  # ~18,000 candidate pairs


def test_generator_seed_is_recorded_and_reproduces_the_dataset():
    d = make_cliques_dataset(seed=np.random.default_rng(11))
    again = make_cliques_dataset(seed=d.config["seed"])
    assert isinstance(d.config["seed"], int) and d.graph == again.graph


def test_same_seed_same_dataset_other_seed_differs():
    a, b = make_cliques_dataset(seed=5), make_cliques_dataset(seed=5)
    assert a.graph == b.graph and np.array_equal(a.topic_mixtures, b.topic_mixtures)
    assert not np.array_equal(a.topic_mixtures, make_cliques_dataset(seed=6).topic_mixtures)


def test_cliques_impossible_generation_raises_instead_of_returning_stale_data():
    with pytest.raises(GenerationError, match="isolated"):
        make_cliques_dataset(seed=0, n_pt=3, n_ft=0, n_topics=1000, max_attempts=3)


@pytest.mark.parametrize("kwargs", [{"noise": 1.5}, {"min_dominance": 0.4}, {"n_pt": 1}])
def test_cliques_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        make_cliques_dataset(seed=0, **kwargs)


def test_seed_none_raises():
    with pytest.raises(ValueError, match="seed"):
        make_cliques_dataset(seed=None)


def _tiny(**over):
    parts = dict(name="t", graph=SampleGraph.from_edges([(0, 1), (1, 2)], n_nodes=4),
                 pt_nodes=[0, 1, 2], ft_nodes=[3], labels={"y": np.array([0, 0, 1, 1])},
                 task="y", topic_mixtures=np.eye(2)[[0, 0, 1, 1]])
    parts.update(over)
    return SyntheticDataset(**parts)


def test_self_loops_flag_is_recorded_not_stored_in_the_graph():
    # the flag tells consumers (theory.node_homophily(self_loops=...)) to add the loops
    assert _tiny().self_loops is False
    d = _tiny(self_loops=1)
    assert d.self_loops is True and d.graph.n_edges == 2


@pytest.mark.parametrize("over,match", [
    ({"ft_nodes": [2]}, "disjoint"), ({"pt_nodes": [0, 9]}, "indices"),
    ({"labels": {"y": np.array([0, 1])}}, "labels"), ({"task": "z"}, "task"),
    ({"topic_mixtures": np.ones((4, 2))}, "topic_mixtures")])
def test_inconsistent_dataset_parts_raise(over, match):
    with pytest.raises(ValueError, match=match):
        _tiny(**over)


def test_dataset_is_immutable():
    d = _tiny()
    with pytest.raises(AttributeError):
        d.task = "other"
    with pytest.raises(ValueError):
        d.labels["y"][0] = 5
    with pytest.raises(TypeError):
        d.labels["z"] = np.zeros(4, dtype=int)


@pytest.mark.parametrize("name", SYNTHETIC_DATASETS)
def test_every_dataset_serializes_to_json_with_seed_and_graph_hash(name):
    d = make_synthetic_dataset(name, seed=0)
    blob = json.loads(json.dumps(d.to_dict()))
    assert blob["config"]["seed"] == 0 and blob["graph_hash"] == d.graph.content_hash()
    rebuilt = SampleGraph.from_edges(np.array(blob["edges"]).reshape(-1, 2),
                                     n_nodes=blob["n_nodes"])
    assert rebuilt == d.graph


def test_unknown_dataset_name_raises():
    with pytest.raises(ValueError, match="name"):
        make_synthetic_dataset("klein_bottle", seed=0)


def test_every_family_registers_itself_in_the_paper_order():
    assert SYNTHETIC_DATASETS == ("cliques", "plane", "mobius", "sphere", "torus", "mechanistic")
    assert repr(SYNTHETIC_DATASETS) == repr(tuple(SYNTHETIC_DATASETS))
    assert SYNTHETIC_DATASETS[-1] == "mechanistic" and "torus" in SYNTHETIC_DATASETS


def test_a_registered_family_is_generated_by_name_and_listed():
    def tiny_cliques(*, seed, **options):
        return make_cliques_dataset(seed=seed, n_pt=8, n_ft=0, n_topics=2, **options)

    register_synthetic_dataset("tiny-cliques", tiny_cliques)
    try:
        assert SYNTHETIC_DATASETS[-1] == "tiny-cliques"
        d = make_synthetic_dataset("tiny-cliques", seed=3, noise=0.1)
        assert d.graph == tiny_cliques(seed=3, noise=0.1).graph and d.pt_nodes.size == 8
    finally:
        del _BUILDERS["tiny-cliques"]
    assert "tiny-cliques" not in SYNTHETIC_DATASETS


@pytest.mark.parametrize("name,builder", [("", make_cliques_dataset), ("x", None)])
def test_registering_a_bad_name_or_builder_raises(name, builder):
    with pytest.raises(TypeError):
        register_synthetic_dataset(name, builder)
