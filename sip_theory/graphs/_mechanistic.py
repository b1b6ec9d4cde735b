"""The mechanistic graph: a cycle with random connected graphlets attached.

The graph of the paper's FT-task-topology experiment; its three label sets of
different locality (MOTIF, NEIGHBORHOOD, STRUCTURAL) and the node text make the
dataset :func:`sip_theory.data.make_mechanistic_dataset`.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_generator, check_positive_int
from ._graph import SampleGraph
from ._graphlets import connected_graphlets

__all__ = ["cycle_with_graphlets"]


def cycle_with_graphlets(cycle_length: int = 36, *, attach_every: int = 4, min_nodes: int = 2,
                         max_nodes: int = 6, seed):
    """A cycle with one random connected graphlet hung from every ``attach_every``-th node.

    Cycle nodes are 0..cycle_length-1. At cycle nodes 0, attach_every,
    2*attach_every, ... a graphlet is drawn uniformly (with replacement) from all
    connected graphs with ``min_nodes``..``max_nodes`` nodes
    (:func:`connected_graphlets`); its nodes get the next indices, and one edge
    joins the cycle node to a uniformly drawn node of the graphlet.

    Returns
    -------
    graph : SampleGraph
    motif : ndarray of int64
        0 on the cycle, k on the nodes of the k-th attached graphlet (k = 1, 2, ...).
    atlas_index : ndarray of int64
        Atlas index of the k-th attached graphlet (entry k-1).

    Examples
    --------
    >>> g, motif, atlas = cycle_with_graphlets(8, attach_every=4, seed=0)
    >>> int(motif.max()), atlas.shape
    (2, (2,))
    >>> g.connected_components()[0]
    1
    """
    cycle_length = check_positive_int(cycle_length, name="cycle_length", minimum=3)
    attach_every = check_positive_int(attach_every, name="attach_every")
    rng = as_generator(seed)
    pool = connected_graphlets(min_nodes, max_nodes)
    ring = np.arange(cycle_length)
    edges = [np.stack([ring, (ring + 1) % cycle_length], 1)]
    motif = [np.zeros(cycle_length, dtype=np.int64)]
    anchors = np.arange(0, cycle_length, attach_every)
    drawn = rng.integers(len(pool), size=anchors.size)
    n = cycle_length
    for k, (anchor, choice) in enumerate(zip(anchors, drawn, strict=True), start=1):
        glet = pool[int(choice)]
        edges.append(glet.edges + n)
        edges.append(np.array([[anchor, n + int(rng.integers(glet.n_nodes))]]))
        motif.append(np.full(glet.n_nodes, k, dtype=np.int64))
        n += glet.n_nodes
    graph = SampleGraph.from_edges(np.concatenate(edges), n_nodes=n)
    atlas = np.array([pool[int(c)].atlas_index for c in drawn], dtype=np.int64)
    return graph, np.concatenate(motif), atlas
