"""The mechanistic datasets: a cycle with graphlets attached, and three FT label sets.

The paper's FT-task-topology experiment asks whether structure-inducing
pre-training helps a fine-tuning task according to how *local* the task is in
G_PT. One graph carries three label sets of different locality:

* MOTIF: which attached graphlet a node belongs to (the cycle is class 0);
* NEIGHBORHOOD: k-means (k = 4) on the rows of the 0/1 "within 4 hops" matrix;
* STRUCTURAL: k-means (k = 3) on graphlet-degree vectors (orbits of connected
  graphlets with up to 5 nodes) -- a role, not a place, so it is not local.

Node text is generated from one topic per class of the *feature-aligned* label
set (``text_labels``), the topics drawn without replacement. The graph and its
graphlet orbits are :mod:`sip_theory.graphs`' (:func:`~sip_theory.graphs.cycle_with_graphlets`,
:func:`~sip_theory.graphs.graphlet_degree_vectors`).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import shortest_path

from .._validation import check_one_of, check_positive_int
from ..graphs import SampleGraph, cycle_with_graphlets, graphlet_degree_vectors
from ..graphs._kmeans import kmeans
from ._synthetic import (
    InvalidGeneration,
    SyntheticDataset,
    generate_with_retries,
    register_synthetic_dataset,
)

__all__ = ["MECHANISTIC_TASKS", "make_mechanistic_dataset"]

#: The three label sets of the mechanistic graphs.
MECHANISTIC_TASKS = ("motif", "neighborhood", "structural")


def _within_hops(graph: SampleGraph, hops: int) -> np.ndarray:
    dist = shortest_path(graph.to_scipy(), unweighted=True, directed=False)
    return (dist <= hops).astype(np.float64)


def make_mechanistic_dataset(
    *,
    seed,
    text_labels: str = "motif",
    cycle_length: int = 36,
    attach_every: int = 4,
    min_graphlet_nodes: int = 2,
    max_graphlet_nodes: int = 6,
    neighborhood_hops: int = 4,
    n_neighborhood: int = 4,
    n_structural: int = 3,
    orbit_max_nodes: int = 5,
    gdv_transform: str = "none",
    n_topics: int = 10,
    max_attempts: int = 10,
) -> SyntheticDataset:
    """The mechanistic dataset: cycle + graphlets with MOTIF, NEIGHBORHOOD, STRUCTURAL labels.

    Parameters
    ----------
    seed : int or numpy.random.Generator
    text_labels : {"motif", "neighborhood", "structural"}, default "motif"
        The feature-aligned label set: node text follows it.
    cycle_length, attach_every, min_graphlet_nodes, max_graphlet_nodes
        Graph shape; defaults are the paper's (36-cycle, every 4th node, graphlets
        with 2..6 nodes: 9 graphlets, about 87 nodes).
    neighborhood_hops, n_neighborhood : int, default 4, 4
        NEIGHBORHOOD = k-means with k = n_neighborhood on the 0/1 rows
        "node u is within neighborhood_hops hops of v" (v itself included).
    n_structural, orbit_max_nodes : int, default 3, 5
        STRUCTURAL = k-means with k = n_structural on the exact graphlet-degree
        vectors over connected graphlets with 2..orbit_max_nodes nodes (73 orbits).
    gdv_transform : {"none", "log1p"}, default "none"
        Raw orbit counts (default), or log(1 + count) before clustering.
    n_topics : int, default 10
        Topics to draw the classes' topics from (without replacement); must be at
        least the number of classes of ``text_labels``.
    max_attempts : int, default 10

    Returns
    -------
    SyntheticDataset
        All nodes are PT nodes (the FT tasks are evaluated on them; ``ft_nodes``
        is empty). ``labels`` has the three label sets, ``task = text_labels``,
        ``topic_mixtures`` is one-hot on the topic of the node's ``text_labels``
        class (``extras["class_topics"]``); ``extras["atlas_index"]`` lists the
        attached graphlets and ``extras["gdv"]`` the graphlet-degree vectors.

    Raises
    ------
    GenerationError
        Every attempt gave a k-means label set with an empty class (too few distinct
        feature rows) or a disconnected graph.
    ValueError
        Unknown ``text_labels``/``gdv_transform``, or too few topics.

    Notes
    -----
    MOTIF mapping (ours, matching the paper's "cycle = 0, graphlet k = k; 10 classes"):
    class k >= 1 is the k-th attached graphlet in cycle order, so there are always
    1 + ceil(cycle_length/attach_every) classes even when two drawn graphlets are
    isomorphic; their atlas indices are recorded. Graphlets are drawn from all 142
    connected graphs with 2-6 nodes under exact isomorphism (the original's
    approximate test kept 138). k-means is a seeded k-means++/Lloyd with 10
    restarts; its classes are numbered by first appearance.

    Examples
    --------
    >>> d = make_mechanistic_dataset(seed=0)
    >>> sorted(d.labels), len(np.unique(d.labels["motif"]))
    (['motif', 'neighborhood', 'structural'], 10)
    """
    check_one_of(text_labels, MECHANISTIC_TASKS, name="text_labels")
    check_one_of(gdv_transform, ("none", "log1p"), name="gdv_transform")
    hops = check_positive_int(neighborhood_hops, name="neighborhood_hops")
    k_nb = check_positive_int(n_neighborhood, name="n_neighborhood")
    k_st = check_positive_int(n_structural, name="n_structural")
    n_topics = check_positive_int(n_topics, name="n_topics")
    cycle_length = check_positive_int(cycle_length, name="cycle_length", minimum=3)
    attach_every = check_positive_int(attach_every, name="attach_every")
    n_classes = {"motif": 1 + len(range(0, cycle_length, attach_every)),
                 "neighborhood": k_nb, "structural": k_st}
    if n_topics < n_classes[text_labels]:
        raise ValueError(f"n_topics={n_topics} is smaller than the {n_classes[text_labels]} "
                         f"classes of text_labels={text_labels!r}")
    params = {"text_labels": text_labels, "cycle_length": cycle_length,
              "attach_every": attach_every, "min_graphlet_nodes": min_graphlet_nodes,
              "max_graphlet_nodes": max_graphlet_nodes, "neighborhood_hops": hops,
              "n_neighborhood": k_nb, "n_structural": k_st, "orbit_max_nodes": orbit_max_nodes,
              "gdv_transform": gdv_transform, "n_topics": n_topics, "max_attempts": max_attempts}

    def build(rng, record):
        graph, motif, atlas = cycle_with_graphlets(
            cycle_length, attach_every=attach_every, min_nodes=min_graphlet_nodes,
            max_nodes=max_graphlet_nodes, seed=rng)
        if graph.connected_components()[0] != 1:
            raise InvalidGeneration("graph is disconnected")
        gdv = graphlet_degree_vectors(graph, max_nodes=orbit_max_nodes)
        feats = np.log1p(gdv) if gdv_transform == "log1p" else gdv.astype(np.float64)
        labels = {"motif": motif}
        for key, x, k in (("neighborhood", _within_hops(graph, hops), k_nb),
                          ("structural", feats, k_st)):
            try:
                lab, _ = kmeans(x, k, seed=rng)
            except ValueError as exc:
                raise InvalidGeneration(f"{key}: {exc}") from exc
            if np.unique(lab).size != k:
                raise InvalidGeneration(f"{key}: k-means left an empty class")
            labels[key] = lab
        class_topics = rng.choice(n_topics, size=n_classes[text_labels], replace=False)
        mix = np.zeros((graph.n_nodes, n_topics))
        mix[np.arange(graph.n_nodes), class_topics[labels[text_labels]]] = 1.0
        return SyntheticDataset(
            name="mechanistic", graph=graph, pt_nodes=np.arange(graph.n_nodes),
            ft_nodes=np.zeros(0, dtype=np.int64), labels=labels, task=text_labels,
            topic_mixtures=mix, self_loops=False, config={**params, **record},
            extras={"atlas_index": atlas, "class_topics": class_topics, "gdv": gdv},
        )

    return generate_with_retries(build, seed=seed, max_attempts=max_attempts,
                                 name="mechanistic")


register_synthetic_dataset("mechanistic", make_mechanistic_dataset)
