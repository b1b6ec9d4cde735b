"""Graphs over samples: the pre-training graph G_PT and its constructors.

The central type is :class:`SampleGraph`; every function that takes a graph
accepts anything :func:`as_sample_graph` converts (a ``SampleGraph``, a scipy
sparse adjacency, a networkx graph, or an (m, 2) edge array).
"""

from ._graph import SampleGraph, as_sample_graph
from ._io import read_edgelist, write_edgelist

__all__ = ["SampleGraph", "as_sample_graph", "read_edgelist", "write_edgelist"]
