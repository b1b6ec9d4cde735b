"""Hypothesis strategies for property-testing code that takes graphs over samples.

These are the strategies the library's own test suite uses; they are public so
that you can property-test *your* functions of a graph, a labeling or an
embedding. They need the ``hypothesis`` package (``pip install
'sip_theory[dev]'``).

* :func:`sample_graphs` -- random :class:`~sip_theory.graphs.SampleGraph`
  objects with node-count and edge-density bounds, optionally weighted;
* :func:`labelings` and :func:`graphs_with_labels` -- labelings of n nodes,
  and random ``(graph, labels)`` pairs;
* :func:`cluster_graphs` -- disjoint unions of cliques (the graphs of
  single-task classification);
* :func:`realizing_embeddings` -- points whose radius graph equals a given
  graph exactly (``Realization(points, radius, metric)``);
* :func:`geometric_graphs` -- ``(graph, points, radius)`` where the graph is
  the brute-force radius graph of random points;
* :func:`finite_arrays` -- float arrays with finite entries in a range.

Examples
--------
A property test of your own code, here a check that counting the edges whose
ends share a label gives a number between 0 and the number of edges, on
random labelled graphs with at most 8 nodes:

>>> from hypothesis import given, settings
>>> from sip_theory.testing import graphs_with_labels
>>> @settings(max_examples=20, deadline=None)
... @given(graphs_with_labels(max_nodes=8, max_classes=3))
... def test_same_label_edges_are_edges(case):
...     graph, labels = case
...     e = graph.edges()
...     same = labels[e[:, 0]] == labels[e[:, 1]]
...     assert 0 <= same.sum() <= graph.n_edges
>>> test_same_label_edges_are_edges()

Realizing embeddings turn a graph into a geometry test case:

>>> from sip_theory.graphs import cliques_from_labels, radius_graph
>>> from sip_theory.testing import realizing_embeddings
>>> g = cliques_from_labels([0, 1, 1, 0, 2])
>>> @settings(max_examples=10, deadline=None)
... @given(realizing_embeddings(g, metric="cosine"))
... def test_recovered(real):
...     assert radius_graph(real.points, real.radius, metric=real.metric) == g
>>> test_recovered()
"""

from ._strategies import (
    Realization,
    cluster_graphs,
    finite_arrays,
    geometric_graphs,
    graphs_with_labels,
    labelings,
    realizing_embeddings,
    sample_graphs,
)

__all__ = [
    "Realization",
    "cluster_graphs",
    "finite_arrays",
    "geometric_graphs",
    "graphs_with_labels",
    "labelings",
    "realizing_embeddings",
    "sample_graphs",
]
