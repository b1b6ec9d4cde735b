"""CLIQUES (+ noise): one clique per dominant topic, with random non-edges added."""

from __future__ import annotations

import numpy as np

from .._validation import check_positive_int, check_probability
from ..graphs import add_random_edges, cliques_from_labels
from ._synthetic import (
    InvalidGeneration,
    SyntheticDataset,
    generate_with_retries,
    register_synthetic_dataset,
)

__all__ = ["make_cliques_dataset"]


def make_cliques_dataset(
    *,
    seed,
    n_pt: int = 50,
    n_ft: int = 20,
    n_topics: int = 10,
    noise: float = 0.0,
    min_dominance: float = 0.9,
    max_attempts: int = 100,
) -> SyntheticDataset:
    """CLIQUES (+ noise): one clique per dominant topic, random non-edges added.

    Every node draws its dominant topic uniformly from ``n_topics``; nodes with
    the same dominant topic form a clique, nodes of different topics are not
    linked; then each non-edge is added independently with probability
    ``noise`` (the paper's "random_add"). The FT label is the dominant topic.

    Parameters
    ----------
    seed : int or numpy.random.Generator
        A Generator contributes one integer draw, which is recorded as ``config["seed"]``.
    n_pt, n_ft : int, default 50, 20
        PT nodes are 0..n_pt-1, FT nodes follow.
    n_topics : int, default 10
    noise : float in [0, 1], default 0
        Probability of adding each non-edge (the paper uses 0, .05, .10, .15, .50).
    min_dominance : float in (0.5, 1], default 0.9
        A node's dominant-topic weight is uniform on [min_dominance, 1]; the rest
        is spread over the other topics by a flat Dirichlet draw.
    max_attempts : int, default 100
        Attempts before :class:`GenerationError`.

    Returns
    -------
    SyntheticDataset
        ``labels = {"topic": dominant topic}``, ``task = "topic"``.

    Raises
    ------
    GenerationError
        Every attempt left a PT node without neighbours in G_PT (a topic with a
        single PT node and no noise edge to it).
    ValueError
        Bad sizes or probabilities.

    Notes
    -----
    Paper (McDermott et al. 2023, synthetic experiments): 50 PT + 20 FT nodes from
    10 topics, dominant-topic probability >= 0.9, full batch, tiny encoder. The
    noise is applied over all node pairs (PT and FT), so G_PT receives exactly
    the paper's random_add noise. The split of the non-dominant mass is ours.

    Examples
    --------
    >>> d = make_cliques_dataset(seed=0)
    >>> d.pt_nodes.size, d.ft_nodes.size, d.pt_graph.is_cluster_graph()
    (50, 20, True)
    >>> d.task, d.n_topics
    ('topic', 10)
    """
    n_pt = check_positive_int(n_pt, name="n_pt", minimum=2)
    n_ft = check_positive_int(n_ft, name="n_ft", minimum=0)
    n_topics = check_positive_int(n_topics, name="n_topics", minimum=2)
    noise = check_probability(noise, name="noise")
    min_dominance = check_probability(min_dominance, name="min_dominance")
    if min_dominance <= 0.5:
        raise ValueError(f"min_dominance must be > 0.5 so the dominant topic is unique, "
                         f"got {min_dominance}")
    n = n_pt + n_ft
    params = {"n_pt": n_pt, "n_ft": n_ft, "n_topics": n_topics, "noise": noise,
              "min_dominance": min_dominance, "max_attempts": max_attempts}

    def build(rng, record):
        topic = rng.integers(n_topics, size=n)
        dominance = rng.uniform(min_dominance, 1.0, size=n)
        rest = rng.dirichlet(np.ones(n_topics - 1), size=n) * (1.0 - dominance)[:, None]
        mix = np.zeros((n, n_topics))
        others = (np.arange(n_topics)[None, :] != topic[:, None])
        mix[others] = rest.reshape(-1)
        mix[np.arange(n), topic] = dominance
        graph = cliques_from_labels(topic)
        if noise > 0:
            graph = add_random_edges(graph, noise, seed=rng)
        isolated = np.flatnonzero(graph.subgraph(np.arange(n_pt)).degrees() == 0)
        if isolated.size:
            raise InvalidGeneration(f"{isolated.size} isolated PT node(s), e.g. {isolated[0]}")
        return SyntheticDataset(
            name="cliques", graph=graph, pt_nodes=np.arange(n_pt),
            ft_nodes=np.arange(n_pt, n), labels={"topic": topic}, task="topic",
            topic_mixtures=mix, self_loops=False, config={**params, **record},
        )

    return generate_with_retries(build, seed=seed, max_attempts=max_attempts, name="cliques")


register_synthetic_dataset("cliques", make_cliques_dataset)
