"""Random perturbations of a graph: add non-edges, remove edges, flip pairs.

Each function treats the unordered node pairs as independent Bernoulli
trials. Rather than visiting all n(n-1)/2 pairs, it draws how many pairs are
hit (Binomial(N, p)) and then which ones (a uniform subset of that size),
which has the same distribution and costs time and memory proportional to the
number of pairs hit, not to n^2.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import as_generator, check_probability
from ._graph import SampleGraph, as_sample_graph

__all__ = ["add_random_edges", "flip_pairs", "remove_random_edges"]


def _decode_pairs(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pair code c = i (i - 1) / 2 + j with 0 <= j < i  ->  (j, i) with j < i."""
    codes = codes.astype(np.int64)
    i = np.floor((1.0 + np.sqrt(1.0 + 8.0 * codes.astype(np.float64))) / 2.0).astype(np.int64)
    # correct the floating-point estimate so that i (i - 1) / 2 <= c < i (i + 1) / 2
    for _ in range(2):
        i = np.where(i * (i - 1) // 2 > codes, i - 1, i)
        i = np.where(i * (i + 1) // 2 <= codes, i + 1, i)
    j = codes - i * (i - 1) // 2
    return j, i


def _encode_pairs(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return hi * (hi - 1) // 2 + lo


def _sample_codes(n_pairs: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Codes of the pairs hit by independent Bernoulli(p) trials over n_pairs pairs (sorted)."""
    if n_pairs == 0 or p == 0.0:
        return np.zeros(0, dtype=np.int64)
    count = int(rng.binomial(n_pairs, p))
    if count == n_pairs:
        return np.arange(n_pairs, dtype=np.int64)
    return np.sort(rng.choice(n_pairs, size=count, replace=False).astype(np.int64))


def _node_subset(g: SampleGraph, nodes) -> np.ndarray:
    if nodes is None:
        return np.arange(g.n_nodes, dtype=np.int64)
    idx = np.asarray(nodes)
    if idx.dtype == bool:
        if idx.shape != (g.n_nodes,):
            raise ValueError(f"nodes mask must have shape ({g.n_nodes},), got {idx.shape}")
        return np.flatnonzero(idx).astype(np.int64)
    if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
        raise ValueError("nodes must be a 1-D array of node indices or a boolean mask")
    idx = np.unique(idx.astype(np.int64))
    if idx.size and (idx[0] < 0 or idx[-1] >= g.n_nodes):
        raise ValueError(f"nodes contains indices out of range [0, {g.n_nodes})")
    return idx


def _check_weight(weight) -> float:
    if isinstance(weight, (bool, np.bool_)) or not isinstance(weight, numbers.Real):
        raise TypeError(f"weight must be a positive real number, got {type(weight).__name__}")
    w = float(weight)
    if not (w > 0 and np.isfinite(w)):
        raise ValueError(f"weight must be positive and finite, got {w}")
    return w


def _rebuild(g: SampleGraph, edges: np.ndarray, weights: np.ndarray) -> SampleGraph:
    weighted = g.weighted or bool(np.any(weights != 1.0))
    return SampleGraph.from_edges(
        edges,
        n_nodes=g.n_nodes,
        weights=weights if weighted else None,
        node_ids=g.node_ids,
        auxiliary=None if not g.auxiliary.any() else g.auxiliary,
    )


def _hits(g: SampleGraph, p: float, seed, nodes):
    """Pairs hit by the trials, as (lo, hi) node arrays and codes in node space, and edge codes."""
    rng = as_generator(seed)
    sub = _node_subset(g, nodes)
    s = sub.shape[0]
    lo_s, hi_s = _decode_pairs(_sample_codes(s * (s - 1) // 2, p, rng))
    lo, hi = sub[lo_s], sub[hi_s]  # sub is sorted, so lo < hi
    e = g.edges()
    return lo, hi, _encode_pairs(lo, hi), _encode_pairs(e[:, 0], e[:, 1])


def add_random_edges(graph, p: float, *, seed, weight: float = 1.0, nodes=None) -> SampleGraph:
    """Add each non-edge independently with probability ``p``.

    The noise model of "graph corrupted by spurious links": every original
    edge is kept (with its weight); every absent pair becomes an edge with
    probability p, independently.

    Parameters
    ----------
    graph : SampleGraph, scipy sparse adjacency, networkx graph or (m, 2) edge array
    p : float in [0, 1]
        Probability that a non-edge is added.
    seed : int or numpy.random.Generator
        Source of randomness (required).
    weight : float, default 1.0
        Weight of the added edges (> 0); a value other than 1 makes the result weighted.
    nodes : array of node indices or boolean mask, optional
        Only pairs of these nodes are candidates (e.g. ``graph.sample_nodes``
        to leave auxiliary label nodes alone). Default: all nodes.

    Returns
    -------
    SampleGraph
        Same nodes, node ids and auxiliary mask.

    Raises
    ------
    ValueError
        ``p`` outside [0, 1], non-positive ``weight``, ``seed`` None, bad ``nodes``.

    Notes
    -----
    With N = s(s-1)/2 candidate pairs, the number of pairs hit is drawn from
    Binomial(N, p) and the hit pairs uniformly without replacement among all N
    candidate pairs; hits on existing edges are ignored. This is equivalent to
    independent Bernoulli(p) trials per non-edge, at cost O(p N + m).

    Examples
    --------
    >>> from sip_theory.graphs import cliques_from_labels
    >>> g = cliques_from_labels([0, 0, 1, 1, 2, 2])
    >>> noisy = add_random_edges(g, 0.5, seed=0)
    >>> bool(set(map(tuple, g.edges().tolist())) <= set(map(tuple, noisy.edges().tolist())))
    True
    >>> add_random_edges(g, 1.0, seed=0).n_edges  # the complete graph
    15
    """
    g = as_sample_graph(graph)
    p = check_probability(p, name="p")
    w = _check_weight(weight)
    lo, hi, codes, edge_codes = _hits(g, p, seed, nodes)
    new = ~np.isin(codes, edge_codes)
    edges = np.concatenate([g.edges(), np.stack([lo[new], hi[new]], axis=1)])
    weights = np.concatenate([g.edge_weights(), np.full(int(new.sum()), w)])
    return _rebuild(g, edges, weights)


def remove_random_edges(graph, p: float, *, seed, nodes=None) -> SampleGraph:
    """Remove each edge independently with probability ``p``.

    The noise model of "missing links". Only edges between two nodes of
    ``nodes`` (default all) are candidates.

    Parameters
    ----------
    graph : SampleGraph, scipy sparse adjacency, networkx graph or (m, 2) edge array
    p : float in [0, 1]
    seed : int or numpy.random.Generator
    nodes : array of node indices or boolean mask, optional

    Returns
    -------
    SampleGraph
        Same nodes, node ids and auxiliary mask; a subset of the edges.

    Examples
    --------
    >>> from sip_theory.graphs import cliques_from_labels
    >>> g = cliques_from_labels([0] * 5)
    >>> remove_random_edges(g, 1.0, seed=0).n_edges, remove_random_edges(g, 0.0, seed=0).n_edges
    (0, 10)
    """
    g = as_sample_graph(graph)
    p = check_probability(p, name="p")
    rng = as_generator(seed)
    e = g.edges()
    member = np.zeros(g.n_nodes, dtype=bool)
    member[_node_subset(g, nodes)] = True
    candidate = member[e[:, 0]] & member[e[:, 1]]
    drop = candidate & (rng.random(e.shape[0]) < p)
    return _rebuild(g, e[~drop], g.edge_weights()[~drop])


def flip_pairs(graph, p: float, *, seed, weight: float = 1.0, nodes=None) -> SampleGraph:
    """Flip each unordered node pair independently with probability ``p``.

    A flipped edge is removed and a flipped non-edge is added (with weight
    ``weight``); the symmetric-difference noise model, under which every pair
    is wrong with probability p whatever the graph.

    Parameters
    ----------
    graph : SampleGraph, scipy sparse adjacency, networkx graph or (m, 2) edge array
    p : float in [0, 1]
        Flip probability of each pair.
    seed : int or numpy.random.Generator
        Source of randomness (required).
    weight : float, default 1.0
        Weight of added edges.
    nodes : array of node indices or boolean mask, optional
        Only pairs of these nodes are flipped. Default: all nodes.

    Returns
    -------
    SampleGraph
        Same nodes, node ids and auxiliary mask.

    Notes
    -----
    Sampling as in :func:`add_random_edges`: Binomial(N, p) pairs drawn
    uniformly without replacement, at cost O(p N + m).

    Examples
    --------
    >>> from sip_theory.graphs import cliques_from_labels
    >>> g = cliques_from_labels([0, 0, 0, 1])
    >>> flip_pairs(g, 1.0, seed=0).edges().tolist()  # the complement
    [[0, 3], [1, 3], [2, 3]]
    """
    g = as_sample_graph(graph)
    p = check_probability(p, name="p")
    w = _check_weight(weight)
    lo, hi, codes, edge_codes = _hits(g, p, seed, nodes)
    e = g.edges()
    removed = np.isin(edge_codes, codes)
    added = ~np.isin(codes, edge_codes)
    edges = np.concatenate([e[~removed], np.stack([lo[added], hi[added]], axis=1)])
    weights = np.concatenate([g.edge_weights()[~removed], np.full(int(added.sum()), w)])
    return _rebuild(g, edges, weights)
