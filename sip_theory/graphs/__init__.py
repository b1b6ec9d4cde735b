"""Graphs over samples: the pre-training graph G_PT and its constructors.

The central type is :class:`SampleGraph`; every function that takes a graph
accepts anything :func:`as_sample_graph` converts (a ``SampleGraph``, a scipy
sparse adjacency, a networkx graph, or an (m, 2) edge array).

Constructors:

* families of existing methods (theory.md section 2): :func:`empty_graph`,
  :func:`cliques_from_labels`, :func:`cartesian_product_cliques`,
  :func:`multitask_label_graph`, :func:`augmentation_stars`,
  :func:`kpartite_matching`, :func:`sentence_sticks`;
* geometric, computed in blocks: :func:`radius_graph`, :func:`knn_graph`;
* noise: :func:`add_random_edges`, :func:`remove_random_edges`, :func:`flip_pairs`;
* edge splits for held-out evaluation: :func:`split_edges` (:class:`EdgeSplit`);
* the geometry under the paper's synthetic datasets: triangulated surfaces
  (:func:`triangulation`, :class:`Triangulation`) with exact short geodesics
  (:func:`geodesic_distances`), the mechanistic :func:`cycle_with_graphlets` and
  exact graphlet orbits (:func:`graphlet_degree_vectors`). The datasets built on
  them are :mod:`sip_theory.data`'s.
"""

from ._families import (
    AugmentationStars,
    KPartiteMatching,
    SentenceSticks,
    augmentation_stars,
    cartesian_product_cliques,
    cliques_from_labels,
    empty_graph,
    kpartite_matching,
    multitask_label_graph,
    sentence_sticks,
)
from ._geometric import knn_graph, radius_graph
from ._graph import SampleGraph, as_sample_graph
from ._graphlets import (
    Graphlet,
    GraphletOrbits,
    connected_graphlets,
    graphlet_degree_vectors,
    graphlet_orbits,
)
from ._io import read_edgelist, write_edgelist
from ._manifolds import Triangulation, geodesic_distances, sample_surface_points, triangulation
from ._mechanistic import cycle_with_graphlets
from ._noise import add_random_edges, flip_pairs, remove_random_edges
from ._splits import EdgeSplit, split_edges

__all__ = [
    "Graphlet",
    "GraphletOrbits",
    "Triangulation",
    "connected_graphlets",
    "cycle_with_graphlets",
    "geodesic_distances",
    "graphlet_degree_vectors",
    "graphlet_orbits",
    "sample_surface_points",
    "triangulation",
    "AugmentationStars",
    "EdgeSplit",
    "KPartiteMatching",
    "SampleGraph",
    "SentenceSticks",
    "add_random_edges",
    "as_sample_graph",
    "augmentation_stars",
    "cartesian_product_cliques",
    "cliques_from_labels",
    "empty_graph",
    "flip_pairs",
    "kpartite_matching",
    "knn_graph",
    "multitask_label_graph",
    "radius_graph",
    "read_edgelist",
    "remove_random_edges",
    "sentence_sticks",
    "split_edges",
    "write_edgelist",
]
