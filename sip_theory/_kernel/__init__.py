"""The distance kernel at the bottom of the house: one metric vocabulary, one exact formula.

Every package that compares pairs of points (``graphs`` for radius and kNN
graphs, ``theory`` for Theorem 1 and permissibility, ``geometry`` for the
metrics) draws its conventions from here:

* :data:`METRICS` and :func:`check_metric`: the four metrics and their names;
  smaller is nearer for every one of them as a *dissimilarity* (``"dot"`` is the
  negative inner product), see :func:`to_dissimilarity`.
* :func:`exact_dissimilarities` (numpy) and :func:`exact_dissimilarities_torch`:
  **the** value of a pair, the direct formula in float64. It is a function of
  the two rows alone, so it is exactly symmetric, does not depend on blocking,
  gives equal values to equal rows, and 0 for duplicates under every distance
  (cosine included); torch tensors on CPU go through the numpy function.
* :func:`fast_error_bound`: a rigorous bound on how far a fast value (the
  expansion |x|^2 + |y|^2 - 2 x.y, or 1 - x.y/(|x||y|), computed by one matrix
  product in float32 or float64) can lie from the exact value.
* :class:`PairSpace`: the sweep kernel. Query and reference points prepared for
  one metric, their fast distance blocks (numpy arrays or torch tensors, CPU or
  GPU), the rounding bounds, and the graph-free exact selectors (k nearest,
  within a threshold, exact values near thresholds, exact row minima) that
  ``graphs``, ``theory`` and ``geometry`` all decide with.

The exactness rule every consumer follows: a decision (is this pair nearer than
that one, is it within the radius, which k are nearest) is made on fast values
only when the error bound proves that the exact values decide the same way;
every other pair is recomputed with the exact formula. So the results equal a
brute force over the exact values, whatever the blocking and whether or not a
graph is given.

This package imports numpy only; torch is imported when a tensor first arrives.
"""

from ._exact import (
    band,
    exact_dissimilarities,
    exact_dissimilarities_torch,
    fast_error_bound,
    fast_error_factor,
)
from ._metrics import METRICS, check_metric, from_dissimilarity, to_dissimilarity
from ._space import PairSpace, inverse_norms

__all__ = [
    "METRICS",
    "PairSpace",
    "band",
    "check_metric",
    "exact_dissimilarities",
    "exact_dissimilarities_torch",
    "fast_error_bound",
    "fast_error_factor",
    "from_dissimilarity",
    "inverse_norms",
    "to_dissimilarity",
]
