"""Sphericity 1, decided exactly: unit interval graphs and their widest realization on a line.

A graph is the radius graph of points on a line (sphericity 1) iff it is a
*unit interval* (proper interval, indifference) graph. Two certificates settle
the question either way, and :func:`unit_interval_recognition` returns one:

* yes: a *proper interval ordering*, an order of the nodes in which every
  closed neighbourhood is a contiguous run (equivalently: u < v < w and uw an
  edge imply uv and vw are edges; Roberts 1969). Sorting a realization's
  points gives one, and conversely the ordering yields points
  (:func:`max_margin_line`). The ordering is found by three sweeps of
  lexicographic breadth-first search (Corneil 2004) and then checked here;
* no: an induced claw K_{1,3}, net, tent (3-sun) or chordless cycle of length
  >= 4, which no unit interval graph contains (Wegner 1967; these four are
  also the only minimal obstructions, so one is always found).

If neither is found the two theorems, or this code, are wrong, and an error
is raised instead of a verdict.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from .._serialization import ToDictMixin
from ._common import to_graph

__all__ = ["LineRealization", "UnitIntervalResult", "max_margin_line",
           "unit_interval_recognition"]

_CITE = ("Roberts 1969 (proper interval orderings); Corneil 2004 (3-sweep LexBFS); Wegner 1967 "
         "(claw, net, tent, holes)")


@dataclass(frozen=True, eq=False)
class UnitIntervalResult(ToDictMixin):
    """Whether a graph is a unit interval graph (sphericity 1), with a certificate.

    Attributes
    ----------
    is_unit_interval : bool
    ordering : ndarray of int or None
        A proper interval ordering (node indices, left to right; each connected
        component a contiguous run) when ``is_unit_interval``.
    obstruction : {"claw", "hole", "net", "tent"} or None
        The induced subgraph that rules out sphericity 1 otherwise.
    obstruction_nodes : tuple of int or None
        Its nodes: claw (centre, three leaves); hole (the cycle in order); net
        and tent (the triangle a, b, c, then x, y, z: in a net x, y, z hang off
        a, b, c; in a tent they are linked to (a, b), (b, c), (c, a)).
    certificate : str
    """

    is_unit_interval: bool
    ordering: np.ndarray | None = field(repr=False)
    obstruction: str | None
    obstruction_nodes: tuple | None
    certificate: str


def _adjacency_sets(g) -> list[set]:
    return [set(g.neighbors(v).tolist()) for v in range(g.n_nodes)]


def _lbfs(adj, nodes, previous=None) -> list:
    """Lexicographic BFS over ``nodes`` by partition refinement (cells in decreasing label order).

    Ties go to the node latest in ``previous`` (LBFS+), or to the first node of the
    cell for the initial sweep.
    """
    rank = None if previous is None else {v: i for i, v in enumerate(previous)}
    cells = [list(nodes)]
    order = []
    while cells:
        first = cells[0]
        v = first[0] if rank is None else max(first, key=rank.__getitem__)
        first.remove(v)
        order.append(v)
        nb = adj[v]
        refined = []
        for cell in cells:
            inside = [u for u in cell if u in nb]
            outside = [u for u in cell if u not in nb]
            refined.extend(c for c in (inside, outside) if c)
        cells = refined
    return order


def _is_proper_ordering(adj, order) -> bool:
    """Every closed neighbourhood occupies a contiguous run of ``order``."""
    pos = {v: i for i, v in enumerate(order)}
    for v in order:
        ranks = [pos[u] for u in adj[v]] + [pos[v]]
        if max(ranks) - min(ranks) + 1 != len(ranks):
            return False
    return True


def _find_claw(adj, n):
    for v in range(n):
        nb = sorted(adj[v])
        for i, a in enumerate(nb):
            for j in range(i + 1, len(nb)):
                b = nb[j]
                if b in adj[a]:
                    continue
                for c in nb[j + 1:]:
                    if c not in adj[a] and c not in adj[b]:
                        return (v, a, b, c)
    return None


def _shortest_path(adj, source, target, allowed) -> list | None:
    prev = {source: None}
    queue = deque([source])
    while queue:
        u = queue.popleft()
        if u == target:
            path = []
            while u is not None:
                path.append(u)
                u = prev[u]
            return path[::-1]
        for w in adj[u]:
            if w in allowed and w not in prev:
                prev[w] = u
                queue.append(w)
    return None


def _find_hole(adj, n):
    """A chordless cycle of length >= 4: for a node v with unlinked neighbours a, b, a
    shortest a-b path avoiding v's other closed neighbourhood closes an induced cycle
    through v (and every hole arises so, from any of its nodes)."""
    for v in range(n):
        nb = sorted(adj[v])
        for i, a in enumerate(nb):
            for b in nb[i + 1:]:
                if b in adj[a]:
                    continue
                allowed = set(range(n)) - adj[v] - {v} | {a, b}
                path = _shortest_path(adj, a, b, allowed)
                if path is not None:
                    return (v, *path)
    return None


def _find_net_or_tent(adj, n, kind):
    for a in range(n):
        for b in adj[a]:
            if b <= a:
                continue
            for c in adj[a] & adj[b]:
                if c <= b:
                    continue
                tri = (a, b, c)
                if kind == "net":  # x, y, z see exactly one corner each: a, b, c
                    want = [({a}, {b, c}), ({b}, {a, c}), ({c}, {a, b})]
                else:  # tent: x sees a, b; y sees b, c; z sees c, a (and not the third)
                    want = [({a, b}, {c}), ({b, c}, {a}), ({c, a}, {b})]
                cands = [[u for u in range(n) if u not in tri and yes <= adj[u]
                          and not (no & adj[u])] for yes, no in want]
                for x in cands[0]:
                    for y in cands[1]:
                        if y in adj[x]:
                            continue
                        for z in cands[2]:
                            if z not in adj[x] and z not in adj[y]:
                                return (a, b, c, x, y, z)
    return None


def unit_interval_recognition(graph) -> UnitIntervalResult:
    """Decide exactly whether a graph is a unit interval graph (has sphericity 1).

    Parameters
    ----------
    graph : SampleGraph, scipy sparse adjacency, networkx graph or (m, 2) edge array

    Returns
    -------
    UnitIntervalResult
        A proper interval ordering when the answer is yes, an induced claw, hole,
        net or tent when it is no; both are checked before they are returned.

    Raises
    ------
    RuntimeError
        If neither certificate is found (impossible by the two theorems below).

    Notes
    -----
    Yes: each connected component is swept three times by lexicographic
    breadth-first search, the second and third sweeps breaking ties towards the
    node latest in the previous sweep; the last sweep is a proper interval
    ordering iff the component is a unit interval graph (Corneil 2004), and the
    ordering is verified directly (every closed neighbourhood contiguous). No:
    a graph is a unit interval graph iff it has no induced claw, net, tent or
    chordless cycle of length >= 4 (Wegner 1967; Roberts 1969 for claw-free
    interval graphs); the obstruction is searched for and returned. Work is
    O(n^2) per sweep (partition refinement over lists) and polynomial for the
    obstruction search (at most O(n^6), for nets and tents in dense graphs).

    Examples
    --------
    >>> unit_interval_recognition([(0, 1), (1, 2), (2, 3)]).ordering.tolist()  # the path P_4
    [0, 1, 2, 3]
    >>> r = unit_interval_recognition([(0, 1), (0, 2), (0, 3)])  # the claw
    >>> r.is_unit_interval, r.obstruction, r.obstruction_nodes
    (False, 'claw', (0, 1, 2, 3))
    >>> unit_interval_recognition([(0, 1), (1, 2), (2, 3), (3, 0)]).obstruction  # C_4
    'hole'
    """
    g = to_graph(graph)
    n = g.n_nodes
    adj = _adjacency_sets(g)
    _, comp = g.connected_components()
    order: list = []
    proper = True
    for c in range(int(comp.max()) + 1 if n else 0):
        nodes = np.flatnonzero(comp == c).tolist()
        sweep = _lbfs(adj, nodes)
        for _ in range(2):
            sweep = _lbfs(adj, nodes, sweep)
        if not _is_proper_ordering(adj, sweep):
            proper = False
            break
        order.extend(sweep)
    if proper:
        return UnitIntervalResult(
            True, np.asarray(order, dtype=np.int64), None, None,
            "a proper interval ordering (every closed neighbourhood contiguous, checked), so "
            f"the graph is a unit interval graph: sphericity 1 ({_CITE})")
    for kind, finder in (("claw", _find_claw), ("hole", _find_hole),
                         ("tent", lambda a, m: _find_net_or_tent(a, m, "tent")),
                         ("net", lambda a, m: _find_net_or_tent(a, m, "net"))):
        nodes = finder(adj, n)
        if nodes is not None:
            what = {"claw": "an induced claw K_{1,3}",
                    "hole": f"a chordless cycle C_{len(nodes)}",
                    "tent": "an induced tent (3-sun)", "net": "an induced net"}[kind]
            return UnitIntervalResult(
                False, None, kind, tuple(int(v) for v in nodes),
                f"has {what} on nodes {tuple(int(v) for v in nodes)}, so it is not a unit "
                f"interval graph: sphericity >= 2 ({_CITE})")
    raise RuntimeError("unit_interval_recognition: no proper interval ordering and no "
                       "obstruction found; this contradicts Corneil 2004 / Wegner 1967")


# ---------------------------------------------------------- the widest line realization
@dataclass(frozen=True, eq=False)
class LineRealization(ToDictMixin):
    """Integer positions on a line realizing a unit interval graph with the largest ratio.

    Attributes
    ----------
    positions : ndarray of float, shape (n,)
        Integers (exact in float64): every linked pair at most ``max_linked``
        apart, every unlinked pair at least ``min_unlinked``.
    ordering : ndarray of int
        The proper interval ordering the positions follow (non-decreasing).
    max_linked, min_unlinked : int
        The extreme linked and unlinked distances of ``positions`` (exact);
        ``max_linked`` is 0 and ``min_unlinked`` the smallest gap between
        components when the graph is a disjoint union of cliques.
    ratio : float
        ``min_unlinked / max_linked``: the largest ratio of smallest unlinked to
        largest linked distance over *all* point sets on a line realizing the
        graph (inf for a disjoint union of cliques, including the empty graph).
    ratio_fraction : tuple of (int, int) or None
        The ratio as a reduced fraction (p, q); None when it is infinite.
    """

    positions: np.ndarray = field(repr=False)
    ordering: np.ndarray = field(repr=False)
    max_linked: int
    min_unlinked: int
    ratio: float
    ratio_fraction: tuple | None

    _to_dict_exclude = ("positions", "ordering")


def _reduced_arcs(adj, order):
    """Difference constraints of the ordered line (ranks as variables), kept to O(n) arcs.

    In a proper ordering node i's neighbours to its right are ranks i+1 .. r(i) and
    its first non-neighbour to the right is r(i) + 1; with positions non-decreasing,
    x_{r(i)} - x_i <= 1 bounds every linked distance and x_{r(i)+1} - x_i >= t every
    unlinked one. Returns (tails, heads, kind) for arcs tail -> head of the constraint
    x_head - x_tail <= weight, kind 0: order (weight 0), 1: linked (q), 2: unlinked (-p).
    """
    n = len(order)
    pos = {v: i for i, v in enumerate(order)}
    tails, heads, kind = [], [], []
    for i, v in enumerate(order):
        right = max([pos[u] for u in adj[v]] + [i])
        if i + 1 < n:
            tails.append(i + 1)
            heads.append(i)
            kind.append(0)  # x_i - x_{i+1} <= 0
        if right > i:
            tails.append(i)
            heads.append(right)
            kind.append(1)  # x_right - x_i <= q
        if right + 1 < n:
            tails.append(right + 1)
            heads.append(i)
            kind.append(2)  # x_i - x_{right+1} <= -p
    return np.asarray(tails), np.asarray(heads), np.asarray(kind)


def _potentials(arcs, n, p, q):
    """Integer solution of the constraints at ratio p/q (Bellman-Ford), or None (infeasible)."""
    tails, heads, kind = arcs
    weight = np.array([0, q, -p], dtype=np.int64)[kind]
    dist = np.zeros(n, dtype=np.int64)
    for _ in range(n + 1):
        new = dist.copy()
        np.minimum.at(new, heads, dist[tails] + weight)
        if np.array_equal(new, dist):
            return dist
        dist = new
    return None  # still relaxing after n rounds: a negative cycle


def max_margin_line(graph, *, recognition: UnitIntervalResult | None = None) -> LineRealization:
    """The realization on a line with the largest ratio min unlinked / max linked distance.

    Parameters
    ----------
    graph : SampleGraph, scipy sparse adjacency, networkx graph or (m, 2) edge array
        A unit interval graph.
    recognition : UnitIntervalResult, optional
        The graph's :func:`unit_interval_recognition`, if already computed.

    Returns
    -------
    LineRealization

    Raises
    ------
    ValueError
        If the graph is not a unit interval graph (no point set on a line realizes it).

    Notes
    -----
    Along the proper interval ordering the problem is the linear program
    ``max t`` subject to non-decreasing positions, linked distances <= 1 and
    unlinked distances >= t: a system of difference constraints, feasible iff
    its constraint graph (arcs of weight 1, -t and 0) has no negative cycle. A
    simple cycle with k linked and l unlinked arcs has k + l <= n, so the optimum
    is min k/l over cycles: one of the fractions k/l with k + l <= n. It is found
    by bisection over those fractions, each step an exact integer Bellman-Ford
    run on O(n) arcs (O(n^2) work), whose potentials at the optimum p/q are the
    returned positions (linked distances <= q, unlinked >= p, both recomputed
    over all pairs).

    Why the optimum over all point sets on a line: sorting any realization
    gives a proper interval ordering (a node between two linked ones is nearer
    to each); in a connected graph every proper interval ordering is the
    found one up to reversal and the order inside classes of nodes with equal
    closed neighbourhoods (Deng, Hell and Huang 1996), which the linear program
    does not see; and components placed far apart realize the union, so the
    optimum is the smallest over components.

    Examples
    --------
    >>> r = max_margin_line([(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)])  # P_6
    >>> r.positions.tolist(), r.ratio_fraction
    ([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], (2, 1))
    >>> r = max_margin_line([(0, 1), (1, 2), (0, 2), (0, 4), (2, 3)])  # triangle, two pendants
    >>> r.positions.tolist(), r.ratio_fraction
    ([2.0, 3.0, 4.0, 6.0, 0.0], (3, 2))
    """
    g = to_graph(graph)
    n = g.n_nodes
    rec = unit_interval_recognition(g) if recognition is None else recognition
    if not rec.is_unit_interval:
        raise ValueError(f"graph is not a unit interval graph: it {rec.certificate}")
    adj = _adjacency_sets(g)
    order = rec.ordering.tolist()
    _, comp = g.connected_components()
    sizes = np.bincount(comp, minlength=int(comp.max()) + 1 if n else 0)
    if np.all(g.degrees() == sizes[comp] - 1):  # cliques: one point each, 1 apart
        rank = {c: i for i, c in enumerate(dict.fromkeys(comp[order].tolist()))}
        x = np.array([rank[int(c)] for c in comp], dtype=np.int64)
    else:
        arcs = _reduced_arcs(adj, order)
        cands = sorted({Fraction(k, ell) for ell in range(1, n + 1) for k in range(0, n + 1 - ell)})
        lo, hi = 0, len(cands) - 1  # cands[lo] feasible (t = 0); find the last feasible
        if _potentials(arcs, n, cands[lo].numerator, cands[lo].denominator) is None:
            raise RuntimeError("max_margin_line: the ordering admits no positions (not proper)")
        while lo < hi:
            mid = (lo + hi + 1) // 2
            t = cands[mid]
            if _potentials(arcs, n, t.numerator, t.denominator) is not None:
                lo = mid
            else:
                hi = mid - 1
        t = cands[lo]
        ranks = _potentials(arcs, n, t.numerator, t.denominator)
        x = np.empty(n, dtype=np.int64)
        x[order] = ranks - ranks.min()
    dense = g.to_dense() > 0
    diff = np.abs(x[:, None] - x[None, :])
    off = ~np.eye(n, dtype=bool)
    linked = diff[dense & off]
    unlinked = diff[~dense & off]
    hi_l = int(linked.max()) if linked.size else 0
    lo_u = int(unlinked.min()) if unlinked.size else 0
    if unlinked.size and lo_u <= hi_l:
        raise RuntimeError("max_margin_line: the positions do not realize the graph")
    if hi_l == 0:
        ratio, frac = math.inf, None
    else:
        f = Fraction(lo_u, hi_l)
        ratio, frac = float(f), (f.numerator, f.denominator)
    return LineRealization(x.astype(np.float64), np.asarray(order, dtype=np.int64), hi_l, lo_u,
                           ratio, frac)
