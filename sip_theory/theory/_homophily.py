"""Graph-label alignment: the homophily family, label informativeness and Dirichlet energy.

Every measure reads an undirected graph as a set of arcs, each edge once in
each direction. Auxiliary (non-sample) nodes are dropped first: each measure is
computed on the graph induced on the sample nodes. ``edge_homophily``,
``node_homophily`` and ``class_insensitive_homophily`` also take a directed arc
list (``directed=True``), the convention of some graph-learning libraries.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_labels, check_one_of, known_labels
from ..graphs import as_sample_graph
from ._common import prepare_labels

__all__ = [
    "adjusted_homophily",
    "class_insensitive_homophily",
    "dirichlet_energy",
    "edge_homophily",
    "label_informativeness",
    "node_homophily",
]

DIRICHLET_NORMALIZATIONS = ("unnormalized", "symmetric", "mean")


class _Arcs:
    """Arcs (source -> target) with weights over nodes with class codes 0..C-1."""

    __slots__ = ("n", "source", "target", "weight", "codes", "n_classes")

    def __init__(self, n, source, target, weight, codes, n_classes):
        self.n, self.source, self.target, self.weight = n, source, target, weight
        self.codes, self.n_classes = codes, n_classes

    @property
    def same(self) -> np.ndarray:
        return self.codes[self.source] == self.codes[self.target]


def _arcs(graph, labels, *, weighted=False, directed=False, missing_label=None,
          allow_missing=False) -> _Arcs:
    if directed:
        if not allow_missing:
            arr = check_labels(labels)
        else:
            arr, known = known_labels(labels, missing_label=missing_label)
            if not known.all():
                raise ValueError("labels: missing labels need an undirected graph "
                                 "(directed=False)")
        n = arr.shape[0]
        e = np.asarray(graph)
        if e.ndim != 2 or e.shape[1] != 2 or (e.size and e.dtype.kind not in "iu"):
            raise ValueError(
                f"with directed=True, graph must be an (m, 2) integer array of "
                f"(source, target) arcs; got shape {e.shape}"
            )
        e = e.astype(np.int64)
        if e.size and (e.min() < 0 or e.max() >= n):
            raise ValueError(f"graph has a node index outside [0, {n}) (labels has length {n})")
        if weighted:
            raise ValueError("weighted=True needs an undirected graph with edge weights")
        e = e[e[:, 0] != e[:, 1]]
        classes, codes = np.unique(arr, return_inverse=True)
        return _Arcs(
            n, e[:, 0], e[:, 1], np.ones(e.shape[0]), codes.reshape(-1), classes.shape[0]
        )
    lg = prepare_labels(graph, labels, auxiliary="exclude", missing_label=missing_label,
                        allow_missing=allow_missing)
    target, source, w = lg.arcs(voters="exclude", weighted=weighted)
    keep = lg.labelled[target]
    target, source, w = target[keep], source[keep], w[keep]
    # re-index onto the labelled sample nodes so that auxiliary and unlabelled nodes
    # disappear entirely
    new = np.cumsum(lg.labelled) - 1
    codes = lg.codes[lg.labelled]
    return _Arcs(
        int(lg.labelled.sum()), new[source], new[target], w, codes, lg.n_classes
    )


def edge_homophily(graph, labels, *, weighted: bool = False, directed: bool = False,
                   missing_label=None) -> float:
    """Edge homophily: the fraction of edges whose end points share a label.

    Parameters
    ----------
    graph : SampleGraph, scipy sparse adjacency, networkx graph or (m, 2) edge array
    labels : array-like of shape (n_nodes,)
    weighted : bool, default False
        Weight each edge by its edge weight. On an unweighted graph 1 - h equals
        the degree-weighted heterophily phi^y of the spectral bound.
    directed : bool, default False
        Read ``graph`` as an (m, 2) array of arcs, each counted once.
    missing_label : int, float or str, optional
        A value that marks a missing label; masked entries, NaN and None are always
        missing (:func:`sip_theory._validation.known_labels`). Edges with an end
        point whose label is missing are left out (undirected graphs only).

    Returns
    -------
    float
        h_edge in [0, 1]; NaN for a graph without edges.

    Notes
    -----
    ``h_edge = |{(u, v) in E : y_u = y_v}| / |E|`` (Zhu et al. 2020, "Beyond
    homophily in graph neural networks"). Counting undirected edges once or
    twice gives the same value.

    Examples
    --------
    >>> float(edge_homophily([(0, 1), (1, 2), (2, 0), (3, 4)], [0, 0, 0, 0, 1]))
    0.75
    """
    a = _arcs(graph, labels, weighted=weighted, directed=directed,
              missing_label=missing_label, allow_missing=True)
    total = a.weight.sum()
    if total == 0:
        return float("nan")
    return float(a.weight[a.same].sum() / total)


def node_homophily(
    graph,
    labels,
    *,
    isolated: str = "exclude",
    weighted: bool = False,
    directed: bool = False,
    self_loops: bool = False,
    missing_label=None,
) -> float:
    """Node homophily: the mean over nodes of the fraction of same-label neighbours.

    Parameters
    ----------
    graph, labels, weighted
        As in :func:`edge_homophily`.
    isolated : {"exclude", "zero"}, default "exclude"
        Nodes without neighbours (with ``directed=True``: without incoming arcs)
        are left out of the mean, or score 0. ``"zero"`` reproduces the
        convention of PyTorch Geometric's ``homophily(method="node")``, which
        averages over all nodes.
    directed : bool, default False
        Read ``graph`` as (source, target) arcs; a node's neighbours are the
        sources of its incoming arcs.
    self_loops : bool, default False
        Count every node as one of its own neighbours (a loop of weight 1), the
        convention of the paper's manifold experiments, whose G_PT kept
        self-loops (:attr:`sip_theory.data.SyntheticDataset.self_loops`): a node
        with s same-label neighbours out of d scores (s + 1)/(d + 1), and no
        node is isolated.
    missing_label : int, float or str, optional
        As in :func:`edge_homophily`: nodes whose label is missing are neither
        averaged nor counted as neighbours.

    Returns
    -------
    float
        NaN when no node is averaged.

    Notes
    -----
    ``h_node = mean_v |{u in N(v) : y_u = y_v}| / |N(v)|`` (Pei et al. 2020,
    Geom-GCN). Unlike local consistency it credits a fraction, not a majority.

    Examples
    --------
    >>> edges = [(0, 1), (1, 2), (2, 0), (3, 4)]
    >>> float(node_homophily(edges, [0, 0, 0, 0, 1]))
    0.6
    >>> arcs = [(0, 1), (1, 2), (2, 0), (3, 4)]
    >>> float(node_homophily(arcs, [0, 0, 0, 0, 1], directed=True))
    0.75
    >>> float(node_homophily(arcs, [0, 0, 0, 0, 1], directed=True, isolated="zero"))
    0.6
    >>> float(node_homophily([(0, 1)], [0, 1], self_loops=True))  # each node: 1 of 2
    0.5
    """
    check_one_of(isolated, ("exclude", "zero"), name="isolated")
    a = _arcs(graph, labels, weighted=weighted, directed=directed,
              missing_label=missing_label, allow_missing=True)
    deg = np.bincount(a.target, weights=a.weight, minlength=a.n)
    same = np.bincount(a.target[a.same], weights=a.weight[a.same], minlength=a.n)
    if self_loops:
        deg, same = deg + 1.0, same + 1.0
    has = deg > 0
    frac = np.zeros(a.n)
    frac[has] = same[has] / deg[has]
    if isolated == "exclude":
        return float(frac[has].mean()) if has.any() else float("nan")
    return float(frac.mean()) if a.n else float("nan")


def class_insensitive_homophily(graph, labels, *, directed: bool = False) -> float:
    """Class-insensitive homophily of Lim et al. (2021).

    Parameters
    ----------
    graph, labels, directed
        As in :func:`edge_homophily`.

    Returns
    -------
    float
        In [0, 1]; NaN with fewer than two classes.

    Notes
    -----
    With C classes, n nodes, class sizes ``|C_k|`` and
    h_k = (number of arcs into class-k nodes from class-k nodes) / (number of arcs into
    class-k nodes), the measure is ``(1/(C-1)) sum_k [h_k - |C_k|/n]_+`` (Lim et al.,
    "Large scale learning on non-homophilous graphs", NeurIPS 2021). A class
    without incoming arcs has h_k = 0. C counts the labels that occur.

    Examples
    --------
    >>> arcs = [(0, 1), (1, 2), (2, 0), (3, 4)]
    >>> round(class_insensitive_homophily(arcs, [0, 0, 0, 0, 1], directed=True), 6)
    0.2
    """
    a = _arcs(graph, labels, directed=directed)
    C = a.n_classes
    if C < 2:
        return float("nan")
    tc = a.codes[a.target]
    into = np.bincount(tc, weights=a.weight, minlength=C)
    same = np.bincount(tc[a.same], weights=a.weight[a.same], minlength=C)
    h = np.divide(same, into, out=np.zeros(C), where=into > 0)
    prop = np.bincount(a.codes, minlength=C) / a.n
    return float(np.clip(h - prop, 0.0, None).sum() / (C - 1))


def _degree_class_shares(a: _Arcs) -> np.ndarray:
    """p_bar_k = D_k / 2m: the share of arc end points in class k."""
    dk = np.bincount(a.codes[a.source], weights=a.weight, minlength=a.n_classes)
    return dk / dk.sum()


def adjusted_homophily(graph, labels, *, weighted: bool = False) -> float:
    """Adjusted homophily of Platonov et al. (2023): edge homophily corrected for chance.

    Parameters
    ----------
    graph, labels, weighted
        As in :func:`edge_homophily` (undirected only).

    Returns
    -------
    float
        1 for perfect homophily, about 0 for labels independent of the graph,
        negative for heterophily; NaN without edges or when one class holds all
        edge end points.

    Notes
    -----
    h_adj = (h_edge - sum_k p_k^2) / (1 - sum_k p_k^2), p_k = D_k / 2m with D_k
    the degree sum of class k (Platonov, Kuznedelev, Babenko, Prokhorenkova,
    "Characterizing graph datasets for node classification", NeurIPS 2023).
    On an undirected graph it equals Newman's assortativity coefficient of the
    labels (networkx ``attribute_assortativity_coefficient``).

    Examples
    --------
    >>> round(adjusted_homophily([(0, 1), (2, 3), (1, 2)], [0, 0, 1, 1]), 4)
    0.3333
    """
    a = _arcs(graph, labels, weighted=weighted)
    if a.weight.sum() == 0:
        return float("nan")
    p = _degree_class_shares(a)
    chance = float((p**2).sum())
    if chance >= 1.0:
        return float("nan")
    h = float(a.weight[a.same].sum() / a.weight.sum())
    return (h - chance) / (1.0 - chance)


def _plogp_ratio(joint, left, right) -> float:
    nz = joint > 0
    outer = np.outer(left, right)
    return float((joint[nz] * np.log(joint[nz] / outer[nz])).sum())


def _entropy(p) -> float:
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def label_informativeness(graph, labels, *, variant: str = "edge") -> float:
    """Label informativeness LI of Platonov et al. (2023), edge or node variant.

    How much knowing a neighbour's label tells about a node's label, as a
    fraction of the label entropy.

    Parameters
    ----------
    graph, labels
        As in :func:`edge_homophily` (undirected, unweighted reading).
    variant : {"edge", "node", "node_mi"}, default "edge"
        ``"edge"``: (xi, eta) is a uniformly drawn edge, both directions.
        ``"node"``: xi is a uniformly drawn non-isolated node, eta a uniform
        neighbour, with the published formula (below); it is not a normalized
        mutual information and can exceed 1.
        ``"node_mi"``: the same sampling, with the exact normalized mutual
        information I(y_xi; y_eta) / H(y_xi), which lies in [0, 1].

    Returns
    -------
    float
        NaN without edges or with a single class on the edges (on the
        non-isolated nodes for the node variants).

    Notes
    -----
    Edge variant: LI = I(y_xi; y_eta) / H(y_xi), with joint p(c1, c2) the share of
    arcs from class c1 to class c2 and both marginals p_bar_c = D_c / 2m.
    Node variant, as published: joint q(c1, c2) = (1/n') sum_u 1[y_u = c1]
    ``|{v in N(u): y_v = c2}| / d_u`` over the n' non-isolated nodes,

    .. math:: \\mathrm{LI}_{node} = \\frac{\\sum q(c_1,c_2) \\log\\frac{q(c_1,c_2)}
              {p(c_1)\\,\\bar p(c_2)}}{-\\sum_c p(c) \\log p(c)},

    with p(c) the class shares among those nodes and p_bar the degree-weighted
    shares of the edge variant. This reproduces the reference values of the
    paper's implementation (and DGL's ``node_label_informativeness``). Under
    node sampling, though, y_eta's law is the column margin q_eta of q, not
    p_bar, so the numerator equals I(y_xi; y_eta) + KL(q_eta || p_bar): it
    exceeds the mutual information whenever q_eta != p_bar, and the value can
    exceed 1, although the paper defines LI as I/H in [0, 1]. On the star
    K_{1,3} with the centre alone in its class it is log 2 / H(3/4, 1/4) = 1.2326,
    while a neighbour's label determines the node's (normalized mutual
    information 1). The value is returned as published, not clipped;
    ``variant="node_mi"`` gives I(y_xi; y_eta) / H(y_xi) with q_eta in place of
    p_bar. Reference: Platonov et al., NeurIPS 2023, section 4.

    Examples
    --------
    >>> edges = [(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 5)]
    >>> y = [0, 0, 0, 0, 1, 1]
    >>> round(label_informativeness(edges, y), 5), round(label_informativeness(edges, y,
    ...     variant="node"), 5)
    (0.25178, 0.33819)
    >>> star, centre_alone = [(0, 1), (0, 2), (0, 3)], [1, 0, 0, 0]
    >>> round(label_informativeness(star, centre_alone, variant="node"), 4)
    1.2326
    >>> round(label_informativeness(star, centre_alone, variant="node_mi"), 4)
    1.0
    """
    check_one_of(variant, ("edge", "node", "node_mi"), name="variant")
    a = _arcs(graph, labels)
    C = a.n_classes
    if a.weight.sum() == 0 or C < 2:
        return float("nan")
    pbar = _degree_class_shares(a)
    cs, ct = a.codes[a.source], a.codes[a.target]
    if variant == "edge":
        joint = np.zeros((C, C))
        np.add.at(joint, (cs, ct), a.weight)
        joint /= joint.sum()
        h = _entropy(pbar)
        return _plogp_ratio(joint, pbar, pbar) / h if h > 0 else float("nan")
    deg = np.bincount(a.target, weights=a.weight, minlength=a.n)
    has = deg > 0
    n_eff = int(has.sum())
    joint = np.zeros((C, C))
    # xi = target node, eta = the source of a uniformly drawn incoming arc
    np.add.at(joint, (ct, cs), a.weight / deg[a.target] / n_eff)
    p = np.bincount(a.codes[has], minlength=C) / n_eff
    h = _entropy(p)
    if h <= 0:
        return float("nan")
    eta = pbar if variant == "node" else joint.sum(axis=0)
    return _plogp_ratio(joint, p, eta) / h


def dirichlet_energy(graph, signal, *, normalization: str = "unnormalized") -> float:
    """Dirichlet energy of a node signal (labels one-hot, or embeddings) on a graph.

    Parameters
    ----------
    graph : SampleGraph, scipy sparse adjacency, networkx graph or (m, 2) edge array
        Edge weights are used.
    signal : array-like of shape (n_nodes,) or (n_nodes, d)
        Real node features; a 1-D signal is one feature column.
    normalization : {"unnormalized", "symmetric", "mean"}, default "unnormalized"
        ``"unnormalized"``: tr(X^T L X) = sum over edges {i, j} of w_ij ||x_i - x_j||^2,
        L = D - A. ``"symmetric"``: tr(X^T L_sym X) = sum over edges of
        w_ij ||x_i / sqrt(d_i) - x_j / sqrt(d_j)||^2, L_sym = I - D^{-1/2} A D^{-1/2}
        with isolated nodes contributing 0 (their row of L_sym set to 0; the form
        used in GNN over-smoothing analyses, e.g. Cai & Wang 2020). ``"mean"``:
        (1/n) sum_i sum_{j in N(i)} w_ij ||x_i - x_j||^2 = (2/n) x unnormalized
        (Rusch, Bronstein, Mishra 2023, over-smoothing survey).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Signal with the wrong number of rows or non-finite values.

    Notes
    -----
    With one-hot labels Y, sum over edges w_ij ||Y_i - Y_j||^2 = 2 x (weight of
    heterophilous edges); with U = D^{1/2} Y the symmetric energy equals that
    same sum, the identity behind the spectral probe bound.

    Examples
    --------
    >>> float(dirichlet_energy([(0, 1), (1, 2)], [0.0, 1.0, 3.0]))
    5.0
    >>> float(dirichlet_energy([(0, 1), (1, 2)], [0.0, 1.0, 3.0], normalization="mean"))
    3.3333333333333335
    """
    check_one_of(normalization, DIRICHLET_NORMALIZATIONS, name="normalization")
    g = as_sample_graph(graph)
    x = np.asarray(signal, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] != g.n_nodes:
        raise ValueError(
            f"signal must have shape ({g.n_nodes},) or ({g.n_nodes}, d), got {np.shape(signal)}"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError("signal contains NaN or infinite values")
    e = g.edges()
    w = g.edge_weights()
    if normalization == "symmetric":
        d = g.degrees(weighted=True)
        inv = np.zeros_like(d)
        inv[d > 0] = 1.0 / np.sqrt(d[d > 0])
        x = x * inv[:, None]
    diff = x[e[:, 0]] - x[e[:, 1]]
    energy = float((w * (diff**2).sum(axis=1)).sum())
    if normalization == "mean":
        energy = 2.0 * energy / g.n_nodes
    return energy
