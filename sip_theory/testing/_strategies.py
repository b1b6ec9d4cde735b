"""Hypothesis strategies for graphs over samples, labelings and realizing embeddings."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as exc:  # pragma: no cover - hypothesis is a dev dependency
    raise ImportError(
        "sip_theory.testing needs hypothesis; install it with `pip install 'sip_theory[dev]'` "
        "or `pip install hypothesis`"
    ) from exc

from .._validation import check_one_of, check_positive_int
from ..graphs._families import cliques_from_labels
from ..graphs._graph import SampleGraph, as_sample_graph

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

_METRICS = ("euclidean", "sqeuclidean", "cosine", "dot")


class Realization(NamedTuple):
    """Points whose radius graph under ``metric`` equals a given graph.

    ``(i, j)`` is an edge iff ``d(points[i], points[j]) < radius`` for a
    distance metric, and iff ``points[i] @ points[j] > radius`` for
    ``metric="dot"`` (the radius is then a similarity threshold), the same
    convention as :func:`sip_theory.graphs.radius_graph`.
    """

    points: np.ndarray
    radius: float
    metric: str


def _check_range(lo, hi, *, lo_name, hi_name, minimum=0):
    lo = check_positive_int(lo, name=lo_name, minimum=minimum)
    hi = check_positive_int(hi, name=hi_name, minimum=minimum)
    if hi < lo:
        raise ValueError(f"{hi_name} must be >= {lo_name}, got {hi} < {lo}")
    return lo, hi


def _check_density(lo, hi):
    for value, name in ((lo, "min_density"), (hi, "max_density")):
        if not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
            raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    if hi < lo:
        raise ValueError(f"max_density must be >= min_density, got {hi} < {lo}")


def _edge_count_range(n: int, lo: float, hi: float) -> tuple[int, int]:
    pairs = n * (n - 1) // 2
    return math.ceil(lo * pairs - 1e-9), math.floor(hi * pairs + 1e-9)


def _pairs_from_codes(codes: np.ndarray, n: int) -> np.ndarray:
    """Map pair codes k in [0, n(n-1)/2) to (i, j), i < j, in row-major upper-triangle order."""
    iu, ju = np.triu_indices(n, k=1)
    return np.stack([iu[codes], ju[codes]], axis=1).astype(np.int64)


@st.composite
def _sample_graphs(draw, min_nodes, max_nodes, min_density, max_density, weighted, auxiliary):
    feasible = [
        n for n in range(min_nodes, max_nodes + 1)
        if _edge_count_range(n, min_density, max_density)[0]
        <= _edge_count_range(n, min_density, max_density)[1]
    ]
    n = draw(st.sampled_from(feasible))
    pairs = n * (n - 1) // 2
    lo, hi = _edge_count_range(n, min_density, max_density)
    m = draw(st.integers(lo, hi))
    if pairs == 0:
        codes = np.zeros(0, dtype=np.int64)
    elif m <= pairs - m:
        chosen = draw(st.sets(st.integers(0, pairs - 1), min_size=m, max_size=m))
        codes = np.array(sorted(chosen), dtype=np.int64)
    else:
        left_out = draw(st.sets(st.integers(0, pairs - 1), min_size=pairs - m,
                                max_size=pairs - m))
        codes = np.setdiff1d(np.arange(pairs), np.fromiter(left_out, np.int64, len(left_out)))
    edges = _pairs_from_codes(codes, n) if n >= 2 else np.zeros((0, 2), np.int64)
    weights = None
    if weighted and m:
        weights = draw(st.lists(
            st.floats(min_value=0.01, max_value=100.0, allow_nan=False, allow_infinity=False),
            min_size=m, max_size=m,
        ))
    aux = None
    if auxiliary:
        aux = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    return SampleGraph.from_edges(edges, n_nodes=n, weights=weights, auxiliary=aux)


def sample_graphs(*, min_nodes: int = 0, max_nodes: int = 10, min_density: float = 0.0,
                  max_density: float = 1.0, weighted: bool = False, auxiliary: bool = False):
    """Strategy for random :class:`~sip_theory.graphs.SampleGraph` objects.

    The density of a graph is its number of edges over the n(n-1)/2 possible
    pairs; every drawn graph has ``min_density <= density <= max_density``
    (graphs with fewer than two nodes have no pairs and always qualify). Node
    counts for which no edge count fits the density bounds are skipped.

    Parameters
    ----------
    min_nodes, max_nodes : int
        Bounds on the number of nodes (inclusive).
    min_density, max_density : float in [0, 1]
        Bounds on the edge density (inclusive).
    weighted : bool, default False
        Draw positive edge weights in [0.01, 100] (else an unweighted graph).
        Graphs without edges are always unweighted.
    auxiliary : bool, default False
        Draw a random auxiliary-node mask as well.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of SampleGraph

    Raises
    ------
    ValueError
        Bounds out of range or inverted, or no node count in range admits an
        edge count within the density bounds.

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(sample_graphs(min_nodes=2, max_nodes=6, min_density=0.5))
    ... def test_handshake(g):
    ...     assert g.degrees().sum() == 2 * g.n_edges
    ...     assert 2 * g.n_edges >= 0.5 * g.n_nodes * (g.n_nodes - 1)
    >>> test_handshake()
    """
    min_nodes, max_nodes = _check_range(min_nodes, max_nodes, lo_name="min_nodes",
                                        hi_name="max_nodes")
    _check_density(min_density, max_density)
    feasible = any(
        _edge_count_range(n, min_density, max_density)[0]
        <= _edge_count_range(n, min_density, max_density)[1]
        for n in range(min_nodes, max_nodes + 1)
    )
    if not feasible:
        raise ValueError(
            f"no graph with {min_nodes}..{max_nodes} nodes has a density in "
            f"[{min_density}, {max_density}]"
        )
    return _sample_graphs(min_nodes, max_nodes, float(min_density), float(max_density),
                          bool(weighted), bool(auxiliary))


@st.composite
def _labelings(draw, n, min_classes, max_classes, all_present):
    c = draw(st.integers(min_classes, max_classes))
    if all_present:
        head = draw(st.permutations(list(range(c))))
        tail = draw(st.lists(st.integers(0, c - 1), min_size=n - c, max_size=n - c))
        values = list(head) + tail
        order = draw(st.permutations(list(range(n))))
        return np.asarray(values, dtype=np.int64)[np.asarray(order, dtype=np.int64)]
    return np.asarray(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)),
                      dtype=np.int64).reshape(n)


def labelings(n: int, *, min_classes: int = 1, max_classes: int = 4, all_present: bool = False):
    """Strategy for integer labelings of ``n`` nodes.

    A number of classes c is drawn in ``[min_classes, max_classes]`` and each
    node gets a label in ``0..c-1``.

    Parameters
    ----------
    n : int
        Length of the labeling.
    min_classes, max_classes : int
        Bounds on the number of classes c (>= 1).
    all_present : bool, default False
        Guarantee that every one of the c classes occurs (needs c <= n, so
        ``max_classes`` is capped at n, and n >= ``min_classes`` is required).

    Returns
    -------
    hypothesis.strategies.SearchStrategy of numpy.ndarray
        int64 arrays of shape (n,).

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(labelings(5, min_classes=2, max_classes=3, all_present=True))
    ... def test_classes(y):
    ...     assert y.shape == (5,) and 2 <= len(set(y.tolist())) <= 3
    >>> test_classes()
    """
    n = check_positive_int(n, name="n", minimum=0)
    min_classes, max_classes = _check_range(min_classes, max_classes, lo_name="min_classes",
                                            hi_name="max_classes", minimum=1)
    if all_present:
        if n < min_classes:
            raise ValueError(f"all_present needs n >= min_classes, got n={n} < {min_classes}")
        max_classes = min(max_classes, n)
    return _labelings(n, min_classes, max_classes, bool(all_present))


def graphs_with_labels(*, min_nodes: int = 1, max_nodes: int = 10, min_density: float = 0.0,
                       max_density: float = 1.0, weighted: bool = False, min_classes: int = 1,
                       max_classes: int = 4):
    """Strategy for ``(graph, labels)`` pairs: a random graph and a labeling of its nodes.

    Parameters are those of :func:`sample_graphs` and :func:`labelings`.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of tuple (SampleGraph, numpy.ndarray)

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(graphs_with_labels(max_nodes=6))
    ... def test_lengths(pair):
    ...     g, y = pair
    ...     assert y.shape == (g.n_nodes,)
    >>> test_lengths()
    """
    graphs = sample_graphs(min_nodes=min_nodes, max_nodes=max_nodes, min_density=min_density,
                           max_density=max_density, weighted=weighted)
    _check_range(min_classes, max_classes, lo_name="min_classes", hi_name="max_classes",
                 minimum=1)
    return graphs.flatmap(
        lambda g: st.tuples(
            st.just(g), labelings(g.n_nodes, min_classes=min_classes, max_classes=max_classes)
        )
    )


def cluster_graphs(*, min_nodes: int = 0, max_nodes: int = 10, min_clusters: int = 1,
                   max_clusters: int | None = None):
    """Strategy for cluster graphs (disjoint unions of cliques, isolated nodes allowed).

    A labeling with between ``min_clusters`` and ``max_clusters`` labels is
    drawn and turned into one clique per label by
    :func:`~sip_theory.graphs.cliques_from_labels`; every cluster is non-empty,
    so the graph has exactly that many connected components.

    Parameters
    ----------
    min_nodes, max_nodes : int
        Bounds on the number of nodes. Graphs with 0 nodes (and 0 clusters) are
        drawn only when ``min_nodes == 0``.
    min_clusters, max_clusters : int
        Bounds on the number of cliques; ``max_clusters`` defaults to ``max_nodes``.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of SampleGraph

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(cluster_graphs(min_nodes=1, max_nodes=8, max_clusters=3))
    ... def test_is_cluster(g):
    ...     assert g.is_cluster_graph() and 1 <= g.connected_components()[0] <= 3
    >>> test_is_cluster()
    """
    min_nodes, max_nodes = _check_range(min_nodes, max_nodes, lo_name="min_nodes",
                                        hi_name="max_nodes")
    if max_clusters is None:
        max_clusters = max(max_nodes, 1)
    min_clusters, max_clusters = _check_range(min_clusters, max_clusters,
                                              lo_name="min_clusters", hi_name="max_clusters",
                                              minimum=1)
    if min_clusters > max_nodes:
        raise ValueError(f"min_clusters={min_clusters} exceeds max_nodes={max_nodes}")
    lo = max(min_nodes, min_clusters)

    def build(n):
        if n == 0:
            return st.just(cliques_from_labels(np.zeros(0, dtype=np.int64)))
        return labelings(n, min_classes=min_clusters, max_classes=min(max_clusters, n),
                         all_present=True).map(cliques_from_labels)

    sizes = st.integers(lo, max_nodes)
    if min_nodes == 0:
        sizes = st.one_of(st.just(0), sizes)
    return sizes.flatmap(build)


def finite_arrays(shape, *, min_value: float = -1e3, max_value: float = 1e3,
                  dtype=np.float64):
    """Strategy for float arrays of a given shape with finite entries in a range.

    Parameters
    ----------
    shape : int, tuple of int, or strategy of those
    min_value, max_value : float
        Bounds on the entries.
    dtype : numpy float dtype, default float64

    Returns
    -------
    hypothesis.strategies.SearchStrategy of numpy.ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(finite_arrays((3, 2), min_value=-1, max_value=1))
    ... def test_finite(x):
    ...     assert x.shape == (3, 2) and np.isfinite(x).all() and np.abs(x).max() <= 1
    >>> test_finite()
    """
    width = 32 if np.dtype(dtype) == np.float32 else 64
    elements = st.floats(min_value=min_value, max_value=max_value, allow_nan=False,
                         allow_infinity=False, width=width)
    return hnp.arrays(dtype, shape, elements=elements)


# ------------------------------------------------------------------ realizations
def _random_rotation(draw, dim: int) -> np.ndarray:
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    return q * np.sign(np.diag(r))


def _gram_realization(draw, g: SampleGraph, metric: str) -> Realization:
    """Any graph: unit vectors with Gram matrix I + eps*A (dimension n)."""
    n = g.n_nodes
    if n == 0:
        return Realization(np.zeros((0, 1)), 1.0, metric)
    adj = (g.to_dense() > 0).astype(np.float64)
    lam_min = float(np.linalg.eigvalsh(adj)[0]) if n else 0.0
    eps = 0.5 / max(1.0, -lam_min)
    vals, vecs = np.linalg.eigh(np.eye(n) + eps * adj)
    pts = vecs * np.sqrt(np.clip(vals, 0.0, None))
    pts = pts @ _random_rotation(draw, n)
    scale = draw(st.floats(0.5, 4.0))
    pts = pts * scale
    if metric == "euclidean":
        shift = np.asarray(draw(st.lists(st.floats(-5, 5), min_size=n, max_size=n)))
        return Realization(pts + shift, float(scale * math.sqrt(2.0 - eps)), metric)
    if metric == "sqeuclidean":
        shift = np.asarray(draw(st.lists(st.floats(-5, 5), min_size=n, max_size=n)))
        return Realization(pts + shift, float(scale**2 * (2.0 - eps)), metric)
    if metric == "cosine":
        return Realization(pts, float(1.0 - eps / 2.0), metric)
    return Realization(pts, float(scale**2 * eps / 2.0), metric)


def _cluster_realization(draw, g: SampleGraph, metric: str) -> Realization:
    """Cluster graphs: tight blobs, far apart (one dimension suffices for distances)."""
    n = g.n_nodes
    _, comp = g.connected_components()
    k = int(comp.max()) + 1 if n else 0
    if metric in ("euclidean", "sqeuclidean"):
        dim = draw(st.integers(1, 3))
        spacing = 10.0
        centers = np.zeros((max(k, 1), dim))
        centers[:, 0] = spacing * np.arange(max(k, 1))
        jitter = draw(finite_arrays((n, dim), min_value=-0.2, max_value=0.2))
        pts = centers[comp] + jitter if n else np.zeros((0, dim))
        # within a cluster d <= 0.4 sqrt(3) < 0.7; across clusters d >= 10 - 0.7
        r = draw(st.floats(1.0, 9.0))
        return Realization(pts, float(r if metric == "euclidean" else r * r), metric)
    # angular: cluster c along basis vector c, slightly perturbed and rescaled per point.
    # With jitter <= 0.01 per coordinate and dim <= 100 the perturbation has norm <= 0.1.
    dim = max(k, 1)
    jitter = draw(finite_arrays((n, dim), min_value=-0.01, max_value=0.01))
    scale = np.asarray(draw(st.lists(st.floats(0.8, 1.25), min_size=n, max_size=n)))
    pts = (np.eye(dim)[comp] + jitter) * scale[:, None] if n else np.zeros((0, dim))
    # cosine: within-cluster distance <= 0.03, across >= 0.8; dot: within >= 0.6, across <= 0.2
    return Realization(pts, 0.5 if metric == "cosine" else 0.4, metric)


def _is_linear_forest(g: SampleGraph) -> bool:
    n_comp, _ = g.connected_components()
    return bool(g.n_nodes == 0 or (g.degrees().max() <= 2 and g.n_edges == g.n_nodes - n_comp))


def _path_realization(draw, g: SampleGraph, metric: str) -> Realization:
    """Disjoint paths: points on a line, neighbours about 1 apart, components 5 apart."""
    n = g.n_nodes
    nxg = g.to_networkx()
    import networkx as nx

    coord = np.zeros(n)
    pos = 0.0
    for comp in sorted(nx.connected_components(nxg), key=min):
        ends = [v for v in comp if nxg.degree(v) <= 1]
        start = min(ends)
        order = [start] + [v for _, v in nx.dfs_edges(nxg, start)]
        for v in order:
            coord[v] = pos
            pos += 1.0
        pos += 4.0
    jitter = np.asarray(draw(st.lists(st.floats(-0.1, 0.1), min_size=n, max_size=n)))
    dim = draw(st.integers(1, 2))
    pts = np.zeros((n, dim))
    pts[:, 0] = coord + jitter
    # linked: d <= 1.2; two apart: d >= 1.8; other components: d >= 4.8
    r = draw(st.floats(1.3, 1.7))
    return Realization(pts, float(r if metric == "euclidean" else r * r), metric)


def realizing_embeddings(graph, *, metric: str = "euclidean", construction: str = "auto"):
    """Strategy for points whose radius graph equals ``graph`` exactly.

    Every finite graph is the radius graph of some point set (Maehara's
    sphericity is finite), so a realization always exists; the constructions
    differ in dimension and look:

    * ``"gram"`` (any graph): n unit-norm vectors with Gram matrix I + eps*A,
      A the 0/1 adjacency and eps = 1/(2 max(1, -lambda_min(A))) so the Gram
      matrix stays positive definite. Linked pairs have squared distance
      2 - 2 eps, unlinked pairs 2; randomly rotated, scaled and (for the
      Euclidean metrics) translated. Dimension n.
    * ``"clusters"`` (cluster graphs only): tight blobs far apart -- on a line
      in 1 to 3 dimensions for the Euclidean metrics (cliques need one
      dimension), along distinct basis directions for ``cosine``/``dot``.
    * ``"path"`` (disjoint unions of paths, Euclidean metrics only): points
      about one unit apart along a line.
    * ``"auto"``: any construction that applies to the graph.

    Edge weights are ignored (the realization is of the unweighted graph).

    Parameters
    ----------
    graph : SampleGraph, scipy sparse adjacency, networkx graph or (m, 2) edge array
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}
        The convention of :func:`sip_theory.graphs.radius_graph`: for distances
        (i, j) is an edge iff d < radius; for ``"dot"`` iff similarity > radius.
    construction : {"auto", "gram", "clusters", "path"}

    Returns
    -------
    hypothesis.strategies.SearchStrategy of Realization
        ``Realization(points, radius, metric)``; points is a float64 (n, dim) array.

    Raises
    ------
    ValueError
        A construction that does not apply to the graph or metric.

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> from sip_theory.graphs import cliques_from_labels, radius_graph
    >>> g = cliques_from_labels([0, 0, 1, 2, 1])
    >>> @settings(max_examples=5, deadline=None)
    ... @given(realizing_embeddings(g, construction="clusters"))
    ... def test_radius_graph_recovers(real):
    ...     assert real.points.shape[1] <= 3
    ...     assert radius_graph(real.points, real.radius, metric=real.metric) == g
    >>> test_radius_graph_recovers()
    """
    g = as_sample_graph(graph)
    if g.weighted:
        g = SampleGraph.from_edges(g.edges(), n_nodes=g.n_nodes)
    check_one_of(metric, _METRICS, name="metric")
    check_one_of(construction, ("auto", "gram", "clusters", "path"), name="construction")
    options = {"gram": _gram_realization}
    if g.is_cluster_graph():
        options["clusters"] = _cluster_realization
    if metric in ("euclidean", "sqeuclidean") and _is_linear_forest(g):
        options["path"] = _path_realization
    if construction != "auto" and construction not in options:
        raise ValueError(
            f"construction={construction!r} does not apply to this graph with metric={metric!r}"
            f" (applicable: {sorted(options)})"
        )
    names = sorted(options) if construction == "auto" else [construction]

    @st.composite
    def _draw(draw):
        name = draw(st.sampled_from(names))
        return options[name](draw, g, metric)

    return _draw()


@st.composite
def _geometric_graphs(draw, min_nodes, max_nodes, min_dim, max_dim, metric):
    n = draw(st.integers(min_nodes, max_nodes))
    dim = draw(st.integers(min_dim, max_dim))
    pts = draw(finite_arrays((n, dim), min_value=-10, max_value=10))
    if metric in ("cosine",):
        norms = np.linalg.norm(pts, axis=1)
        pts[norms < 1e-3] = 1.0
    if n < 2:
        return SampleGraph.from_edges(np.zeros((0, 2), np.int64), n_nodes=n), pts, 1.0
    diff = pts[:, None, :] - pts[None, :, :]
    if metric == "euclidean":
        val = np.sqrt((diff * diff).sum(-1))
    elif metric == "sqeuclidean":
        val = (diff * diff).sum(-1)
    elif metric == "cosine":
        unit = pts / np.linalg.norm(pts, axis=1, keepdims=True)
        val = 1.0 - unit @ unit.T
    else:
        val = -(pts @ pts.T)  # larger similarity = closer
    iu, ju = np.triu_indices(n, k=1)
    v = val[iu, ju]
    levels = np.unique(v)
    # candidate thresholds: below all, between well-separated levels, above all
    gaps = np.flatnonzero(np.diff(levels) > 1e-6 * (1.0 + np.abs(levels[1:])))
    cands = [(levels[i] + levels[i + 1]) / 2 for i in gaps] + [levels[-1] + 1.0]
    if metric == "dot":
        cands.append(levels[0] - 1.0)
    elif levels[0] > 1e-6:  # distances: radii stay non-negative
        cands.append(levels[0] / 2)
    t = float(draw(st.sampled_from(cands)))
    keep = v < t
    graph = SampleGraph.from_edges(np.stack([iu[keep], ju[keep]], axis=1), n_nodes=n)
    return graph, pts, (-t if metric == "dot" else t)


def geometric_graphs(*, min_nodes: int = 0, max_nodes: int = 10, min_dim: int = 1,
                     max_dim: int = 3, metric: str = "euclidean"):
    """Strategy for radius graphs of random points: ``(graph, points, radius)``.

    Points are drawn in [-10, 10]^dim; the radius is drawn among the midpoints
    of well-separated consecutive pairwise distances (plus one below all and
    one above all), so no pair lies within rounding error of it, and the graph
    is computed by brute force over all pairs. Convention as
    :func:`sip_theory.graphs.radius_graph` (strict; ``"dot"``: similarity > radius).

    Parameters
    ----------
    min_nodes, max_nodes : int
        Bounds on the number of points.
    min_dim, max_dim : int
        Bounds on the dimension (>= 1).
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}
        For ``"cosine"``, points of norm below 1e-3 are replaced by all-ones rows.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of tuple (SampleGraph, numpy.ndarray, float)

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5, deadline=None)
    ... @given(geometric_graphs(max_nodes=6, metric="cosine"))
    ... def test_shapes(case):
    ...     g, x, r = case
    ...     assert g.n_nodes == x.shape[0]
    >>> test_shapes()
    """
    min_nodes, max_nodes = _check_range(min_nodes, max_nodes, lo_name="min_nodes",
                                        hi_name="max_nodes")
    min_dim, max_dim = _check_range(min_dim, max_dim, lo_name="min_dim", hi_name="max_dim",
                                    minimum=1)
    check_one_of(metric, _METRICS, name="metric")
    return _geometric_graphs(min_nodes, max_nodes, min_dim, max_dim, metric)
