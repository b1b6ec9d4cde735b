"""Sphericity 1: unit interval recognition and the widest line realization, against brute force."""

import itertools
from fractions import Fraction

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from scipy.optimize import linprog

from sip_theory.graphs import SampleGraph, radius_graph
from sip_theory.testing import sample_graphs
from sip_theory.theory import max_margin_line, unit_interval_recognition


# ------------------------------------------------------------------ independent oracles
def _umbrella_orders(adj):
    """Every ordering with the umbrella property (u < v < w, uw linked => uv, vw linked),
    by backtracking; written from the definition, not from the library's neighbourhood runs."""
    n = len(adj)

    def ok(prefix, w, rest):
        for i, u in enumerate(prefix):
            if adj[u][w] and any(not (adj[u][v] and adj[v][w]) for v in prefix[i + 1:]):
                return False
            # u still has a neighbour to come after w: then w lies between them (pruning)
            if not adj[u][w] and any(adj[u][z] for z in rest if z != w):
                return False
        return True

    def extend(prefix, rest):
        if not rest:
            yield list(prefix)
            return
        for w in sorted(rest):
            if ok(prefix, w, rest):
                yield from extend(prefix + [w], rest - {w})

    yield from extend([], set(range(n)))


def _has_umbrella_order(adj):
    return next(_umbrella_orders(adj), None) is not None


def _lp_ratio(adj, order):
    """max t: positions non-decreasing along order, linked pairs <= 1 apart, unlinked >= t
    (every pair, scipy HiGHS); inf when unbounded."""
    n = len(order)
    pos = {v: i for i, v in enumerate(order)}
    rows, rhs = [], []
    for u, v in itertools.combinations(range(n), 2):
        a, b = (u, v) if pos[u] < pos[v] else (v, u)
        row = np.zeros(n + 1)
        if adj[u][v]:  # x_b - x_a <= 1
            row[b], row[a] = 1.0, -1.0
            rhs.append(1.0)
        else:  # t - (x_b - x_a) <= 0
            row[b], row[a], row[n] = -1.0, 1.0, 1.0
            rhs.append(0.0)
        rows.append(row)
    for i in range(n - 1):  # x_order[i] - x_order[i+1] <= 0
        row = np.zeros(n + 1)
        row[order[i]], row[order[i + 1]] = 1.0, -1.0
        rows.append(row)
        rhs.append(0.0)
    c = np.zeros(n + 1)
    c[n] = -1.0
    res = linprog(c, A_ub=np.array(rows), b_ub=np.array(rhs),
                  bounds=[(0, 2 * n * n)] * n + [(None, None)], method="highs")
    # positions in [0, 2 n^2] hold every optimum: t* <= n - 1 and at most n gaps between runs
    assert res.status == 0
    return -res.fun


def _adj(g):
    return (g.to_dense() > 0).tolist()


def _atlas(max_nodes):
    return [G for G in nx.graph_atlas_g() if 1 <= G.number_of_nodes() <= max_nodes]


# ----------------------------------------------------------------- named tiny graphs
NET = [(0, 1), (1, 2), (0, 2), (0, 3), (1, 4), (2, 5)]
TENT = [(0, 1), (1, 2), (0, 2), (0, 3), (1, 3), (1, 4), (2, 4), (2, 5), (0, 5)]


@pytest.mark.parametrize("edges, n, expected", [
    ([(0, 1), (0, 2), (0, 3)], 4, "claw"),
    ([(0, 1), (1, 2), (2, 3), (3, 0)], 4, "hole"),
    ([(i, (i + 1) % 7) for i in range(7)], 7, "hole"),
    (NET, 6, "net"),
    (TENT, 6, "tent"),
])
def test_named_obstructions(edges, n, expected):
    r = unit_interval_recognition(SampleGraph.from_edges(edges, n_nodes=n))
    assert not r.is_unit_interval and r.obstruction == expected and r.ordering is None


@pytest.mark.parametrize("edges, n, ratio", [
    ([], 1, None),  # one node
    ([], 5, None),  # empty graph: isolated nodes, every pair unlinked, nothing linked
    ([(i, j) for i in range(5) for j in range(i + 1, 5)], 5, None),  # K_5
    ([(0, 1), (2, 3), (3, 4), (2, 4)], 6, None),  # cliques and an isolated node
    ([(0, 1), (1, 2)], 3, (2, 1)),  # P_3: ends 2 apart at best, edges 1
    ([(i, i + 1) for i in range(9)], 10, (2, 1)),  # P_10
    ([(0, 1), (0, 2), (0, 4), (1, 2), (2, 3)], 5, (3, 2)),  # triangle, pendants at two corners
    ([(0, 1), (1, 2)] + [(5, 6)], 7, (2, 1)),  # P_3 plus an edge plus isolated nodes
])
def test_named_unit_interval_graphs(edges, n, ratio):
    g = SampleGraph.from_edges(edges, n_nodes=n)
    r = unit_interval_recognition(g)
    assert r.is_unit_interval and sorted(r.ordering.tolist()) == list(range(n))
    line = max_margin_line(g, recognition=r)
    assert line.ratio_fraction == ratio
    assert (line.ratio == np.inf) == (ratio is None)
    if n >= 2:
        assert radius_graph(line.positions[:, None], line.max_linked + 0.5) == g


def test_triangle_with_two_pendants_ratio_by_hand():
    # triangle 0, 1, 2 with pendant 4 at corner 0 and pendant 3 at corner 2, ordered 4 0 1 2 3:
    # x_3 - x_4 <= 3 over the linked pairs (4,0), (0,2), (2,3), and x_3 - x_4 >= 2t over the
    # unlinked pairs (4,1), (1,3), so t <= 3/2; positions 0, 2, 3, 4, 6 (for 4, 0, 1, 2, 3) reach
    # it with linked pairs <= 2 and unlinked pairs >= 3
    g = SampleGraph.from_edges([(0, 1), (0, 2), (0, 4), (1, 2), (2, 3)], n_nodes=5)
    x = np.array([2.0, 3.0, 4.0, 6.0, 0.0])
    d = np.abs(x[:, None] - x[None, :])
    adj = g.to_dense() > 0
    off = ~np.eye(5, dtype=bool)
    assert d[adj].max() == 2 and d[~adj & off].min() == 3
    line = max_margin_line(g)
    assert line.ratio_fraction == (3, 2) and line.ratio == 1.5


# ------------------------------------------------------ recognition against brute force
def test_recognition_matches_brute_force_on_all_graphs_up_to_7_nodes():
    seen = {True: 0, False: 0}
    for G in _atlas(7):
        g = SampleGraph.from_networkx(G)
        r = unit_interval_recognition(g)
        truth = _has_umbrella_order(_adj(g))
        assert r.is_unit_interval == truth, sorted(G.edges())
        seen[truth] += 1
        if truth:
            order = r.ordering.tolist()
            assert sorted(order) == list(range(g.n_nodes))
            assert _check_umbrella(_adj(g), order)
        else:
            _check_obstruction(g, r)
    assert seen[True] > 100 and seen[False] > 500, seen


def _check_umbrella(adj, order):
    return all(not adj[order[i]][order[k]] or (adj[order[i]][order[j]] and adj[order[j]][order[k]])
               for i, j, k in itertools.combinations(range(len(order)), 3))


def _check_obstruction(g, r):
    nodes = list(r.obstruction_nodes)
    assert len(set(nodes)) == len(nodes)
    sub = g.to_networkx().subgraph(nodes)
    model = {"claw": nx.star_graph(3), "hole": nx.cycle_graph(len(nodes)),
             "net": nx.Graph(NET), "tent": nx.Graph(TENT)}[r.obstruction]
    assert len(nodes) >= 4 and nx.is_isomorphic(sub, model)


@settings(max_examples=60, deadline=None)
@given(sample_graphs(min_nodes=0, max_nodes=9, min_density=0.2, max_density=0.8))
def test_recognition_on_random_labelled_graphs(g):
    # node labels in arbitrary order exercise the sweeps' tie-breaking; the oracle is the
    # umbrella definition (an ordering exists) and the obstruction's isomorphism type
    r = unit_interval_recognition(g)
    if r.is_unit_interval:
        assert _check_umbrella(_adj(g), r.ordering.tolist())
    else:
        _check_obstruction(g, r)
        if g.n_nodes <= 7:
            assert not _has_umbrella_order(_adj(g))


def test_cycles_and_paths():
    for n in range(4, 12):
        assert unit_interval_recognition(nx.cycle_graph(n)).obstruction == "hole"
        assert unit_interval_recognition(nx.path_graph(n)).is_unit_interval


# ---------------------------------------------------- the line LP against brute force
def test_line_ratio_is_the_best_over_every_ordering_on_small_graphs():
    # the library solves one ordering exactly; the oracle solves the LP (float, HiGHS) over
    # every umbrella ordering and takes the best, so it does not rely on the uniqueness theorem
    checked = 0
    for G in _atlas(6):
        g = SampleGraph.from_networkx(G)
        if g.n_nodes < 3 or g.is_cluster_graph() or not _has_umbrella_order(_adj(g)):
            continue
        line = max_margin_line(g)
        adj = _adj(g)
        orders = list(_umbrella_orders(adj))
        best = max(_lp_ratio(adj, o) for o in orders[:60])
        assert line.ratio == pytest.approx(best, abs=1e-9), sorted(G.edges())
        checked += 1
    assert checked > 50


@settings(max_examples=40, deadline=None)
@given(sample_graphs(min_nodes=2, max_nodes=12, min_density=0.1, max_density=0.7))
def test_line_realization_is_exact(g):
    r = unit_interval_recognition(g)
    if not r.is_unit_interval:
        with pytest.raises(ValueError, match="graph"):
            max_margin_line(g, recognition=r)
        return
    line = max_margin_line(g, recognition=r)
    x = line.positions
    assert np.array_equal(x, np.round(x))  # integers: float64 distances are exact
    ints = [int(v) for v in x]
    adj = _adj(g)
    n = g.n_nodes
    linked = [abs(ints[i] - ints[j]) for i in range(n) for j in range(i + 1, n) if adj[i][j]]
    unlinked = [abs(ints[i] - ints[j]) for i in range(n) for j in range(i + 1, n) if not adj[i][j]]
    assert max(linked, default=0) == line.max_linked
    assert min(unlinked, default=0) == line.min_unlinked
    if line.ratio_fraction is None:
        assert line.max_linked == 0
    else:
        assert Fraction(*line.ratio_fraction) == Fraction(line.min_unlinked, line.max_linked)
        assert line.ratio_fraction[0] > line.ratio_fraction[1]  # strictly realizes
    # positions follow the ordering
    assert all(x[a] <= x[b] for a, b in zip(line.ordering[:-1], line.ordering[1:], strict=True))


def test_line_rejects_a_non_unit_interval_graph():
    with pytest.raises(ValueError, match="graph is not a unit interval graph.*claw"):
        max_margin_line([(0, 1), (0, 2), (0, 3)])
