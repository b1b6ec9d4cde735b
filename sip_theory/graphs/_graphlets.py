"""Small connected graphs: the graph atlas, exact graphlet orbits, graphlet-degree vectors.

Everything here is exact. Isomorphism classes and automorphism orbits of graphs
with at most five nodes are computed by brute force over all node permutations
(at most 120), and connected induced subgraphs are enumerated with the ESU
algorithm (Wernicke 2006), so every subgraph is visited exactly once.
"""

from __future__ import annotations

import functools
from itertools import combinations, permutations
from typing import NamedTuple

import numpy as np

from .._validation import check_positive_int
from ._graph import as_sample_graph

__all__ = [
    "Graphlet",
    "GraphletOrbits",
    "connected_graphlets",
    "graphlet_degree_vectors",
    "graphlet_orbits",
]


class Graphlet(NamedTuple):
    """One connected graph of the networkx graph atlas.

    Attributes
    ----------
    atlas_index : int
        Its index in :func:`networkx.graph_atlas_g` (the name ``G<index>`` there).
    n_nodes : int
    edges : ndarray of int64, shape (m, 2)
        Edges over nodes ``0..n_nodes-1``.
    """

    atlas_index: int
    n_nodes: int
    edges: np.ndarray


@functools.lru_cache(maxsize=8)
def _atlas_graphlets(min_nodes: int, max_nodes: int) -> tuple[Graphlet, ...]:
    import networkx as nx

    out = []
    for idx, g in enumerate(nx.graph_atlas_g()):
        n = g.number_of_nodes()
        if min_nodes <= n <= max_nodes and nx.is_connected(g):
            edges = np.array(sorted(tuple(sorted(e)) for e in g.edges()), dtype=np.int64)
            edges.setflags(write=False)
            out.append(Graphlet(idx, n, edges))
    return tuple(out)


def connected_graphlets(min_nodes: int = 2, max_nodes: int = 6) -> tuple[Graphlet, ...]:
    """All connected graphs with ``min_nodes`` to ``max_nodes`` nodes, one per isomorphism class.

    Taken from the networkx graph atlas (all graphs with up to 7 nodes, each
    isomorphism class exactly once), keeping the connected ones.

    Parameters
    ----------
    min_nodes, max_nodes : int
        Size range, ``1 <= min_nodes <= max_nodes <= 7``.

    Returns
    -------
    tuple of Graphlet
        In atlas order (by number of nodes, then edges, then degree sequence).

    Raises
    ------
    ValueError
        Sizes outside the atlas range.

    Notes
    -----
    There are 1, 1, 2, 6, 21, 112 connected graphs on 1..6 nodes (OEIS A001349),
    so 142 with 2 to 6 nodes: the pool from which the mechanistic graphs draw.

    Examples
    --------
    >>> len(connected_graphlets(2, 6))
    142
    >>> connected_graphlets(3, 3)[0].edges.tolist()  # the path on 3 nodes
    [[0, 1], [0, 2]]
    """
    min_nodes = check_positive_int(min_nodes, name="min_nodes")
    max_nodes = check_positive_int(max_nodes, name="max_nodes")
    if max_nodes > 7:
        raise ValueError(f"max_nodes must be <= 7 (the atlas size), got {max_nodes}")
    if min_nodes > max_nodes:
        raise ValueError(f"min_nodes={min_nodes} exceeds max_nodes={max_nodes}")
    return _atlas_graphlets(min_nodes, max_nodes)


class GraphletOrbits(NamedTuple):
    """Lookup tables of the graphlets with 2..k nodes and their automorphism orbits.

    Attributes
    ----------
    n_graphlets, n_orbits : int
    orbit_graphlet : ndarray, shape (n_orbits,)
        The graphlet each orbit belongs to.
    graphlet_size : ndarray, shape (n_graphlets,)
        Number of nodes of each graphlet.
    tables : dict
        ``k -> (graphlet_id, orbit_id)`` arrays indexed by the adjacency bitmask of a
        labelled k-node graph (bit e set when the e-th pair of
        ``itertools.combinations(range(k), 2)`` is an edge); ``graphlet_id`` is -1
        for disconnected masks, ``orbit_id`` has shape (2**pairs, k).
    """

    n_graphlets: int
    n_orbits: int
    orbit_graphlet: np.ndarray
    graphlet_size: np.ndarray
    tables: dict


def _connected_mask(bits_row: np.ndarray, pairs, k: int) -> bool:
    adj = [[] for _ in range(k)]
    for e, (a, b) in enumerate(pairs):
        if bits_row[e]:
            adj[a].append(b)
            adj[b].append(a)
    seen, stack = {0}, [0]
    while stack:
        for u in adj[stack.pop()]:
            if u not in seen:
                seen.add(u)
                stack.append(u)
    return len(seen) == k


def _canonical_tables(k: int):
    """Canonical code and canonical position of every node, for every k-node mask."""
    pairs = list(combinations(range(k), 2))
    pair_index = {p: e for e, p in enumerate(pairs)}
    n_pairs = len(pairs)
    masks = np.arange(2**n_pairs, dtype=np.int64)
    bits = (masks[:, None] >> np.arange(n_pairs)) & 1
    weights = np.int64(1) << np.arange(n_pairs, dtype=np.int64)
    perms = np.array(list(permutations(range(k))), dtype=np.int64)
    codes = np.empty((masks.shape[0], perms.shape[0]), dtype=np.int64)
    for j, pi in enumerate(perms):
        target = [pair_index[tuple(sorted((int(pi[a]), int(pi[b]))))] for a, b in pairs]
        codes[:, j] = bits @ weights[target]
    canon = codes.min(1)
    optimal = codes == canon[:, None]
    big = np.int64(k)
    pos = np.stack(
        [np.where(optimal, perms[:, i][None, :], big).min(1) for i in range(k)], axis=1
    )
    connected = np.array([_connected_mask(b, pairs, k) for b in bits])
    return canon, pos, connected


@functools.lru_cache(maxsize=4)
def graphlet_orbits(max_nodes: int = 5) -> GraphletOrbits:
    """Enumerate the connected graphlets with 2..``max_nodes`` nodes and their node orbits.

    Two nodes of a graphlet are in the same orbit when an automorphism maps one to
    the other. Graphlets are ordered by size then canonical code, orbits by graphlet
    then the smallest canonical position of their nodes (our numbering: the same
    orbits as Przulj's, possibly in another order).

    Parameters
    ----------
    max_nodes : int, default 5
        At most 5 (the brute-force permutation tables grow as k!·2^(k(k-1)/2)).

    Returns
    -------
    GraphletOrbits

    Notes
    -----
    For 2..5 nodes there are 30 graphlets with 73 orbits (Przulj 2007,
    "Biological network comparison using graphlet degree distribution").

    Examples
    --------
    >>> o = graphlet_orbits(5)
    >>> o.n_graphlets, o.n_orbits
    (30, 73)
    >>> graphlet_orbits(3).n_orbits
    4
    """
    max_nodes = check_positive_int(max_nodes, name="max_nodes", minimum=2)
    if max_nodes > 5:
        raise ValueError(f"max_nodes must be <= 5, got {max_nodes}")
    raw = {k: _canonical_tables(k) for k in range(2, max_nodes + 1)}
    graphlet_keys = sorted({(k, int(c)) for k, (canon, _, conn) in raw.items()
                            for c in np.unique(canon[conn])})
    gid = {key: i for i, key in enumerate(graphlet_keys)}
    orbit_keys = sorted({(gid[(k, int(canon[m]))], int(pos[m, i]))
                         for k, (canon, pos, conn) in raw.items()
                         for m in np.flatnonzero(conn) for i in range(k)})
    oid = {key: i for i, key in enumerate(orbit_keys)}
    tables = {}
    for k, (canon, pos, conn) in raw.items():
        g_tab = np.full(canon.shape[0], -1, dtype=np.int64)
        o_tab = np.full(pos.shape, -1, dtype=np.int64)
        for m in np.flatnonzero(conn):
            g = gid[(k, int(canon[m]))]
            g_tab[m] = g
            o_tab[m] = [oid[(g, int(p))] for p in pos[m]]
        g_tab.setflags(write=False)
        o_tab.setflags(write=False)
        tables[k] = (g_tab, o_tab)
    orbit_graphlet = np.array([g for g, _ in orbit_keys], dtype=np.int64)
    graphlet_size = np.array([k for k, _ in graphlet_keys], dtype=np.int64)
    return GraphletOrbits(len(graphlet_keys), len(orbit_keys), orbit_graphlet,
                          graphlet_size, tables)


def _connected_subsets(adj: list[set], max_k: int):
    """Yield every connected node subset of size 2..max_k once (ESU enumeration)."""
    n = len(adj)

    def extend(sub, closed, ext, v):
        if len(sub) >= 2:
            yield sub
        if len(sub) == max_k:
            return
        ext = list(ext)
        while ext:
            w = ext.pop()
            new = [u for u in adj[w] if u > v and u not in closed]
            yield from extend(sub + (w,), closed | adj[w] | {w}, ext + new, v)

    for v in range(n):
        yield from extend((v,), adj[v] | {v}, [u for u in adj[v] if u > v], v)


def graphlet_degree_vectors(graph, *, max_nodes: int = 5) -> np.ndarray:
    """Graphlet-degree vectors: per node, how often it sits in each graphlet orbit.

    Entry (v, o) counts the connected *induced* subgraphs with 2..``max_nodes``
    nodes in which v occupies orbit o (orbits as numbered by :func:`graphlet_orbits`).

    Parameters
    ----------
    graph : SampleGraph, scipy sparse adjacency, networkx graph or (m, 2) edge array
    max_nodes : int, default 5

    Returns
    -------
    ndarray of int64, shape (n_nodes, n_orbits)
        73 columns for ``max_nodes=5``. The column of the 2-node orbit is the degree.

    Notes
    -----
    Exact enumeration: every connected induced subgraph is listed once by ESU
    (Wernicke 2006), its isomorphism class and node orbits read from the
    brute-force canonical tables. Cost grows with the number of such subgraphs;
    fine for graphs of a few hundred sparse nodes, not for large dense graphs.

    Examples
    --------
    >>> gdv = graphlet_degree_vectors([(0, 1), (1, 2)], max_nodes=3)
    >>> gdv.shape
    (3, 4)
    >>> gdv.sum(axis=1).tolist()
    [2, 3, 2]
    """
    g = as_sample_graph(graph)
    orbits = graphlet_orbits(max_nodes)
    n = g.n_nodes
    adj = [set(g.neighbors(i).tolist()) for i in range(n)]
    pair_lists = {k: list(combinations(range(k), 2)) for k in orbits.tables}
    gdv = np.zeros((n, orbits.n_orbits), dtype=np.int64)
    for sub in _connected_subsets(adj, max_nodes):
        k = len(sub)
        mask = 0
        for e, (a, b) in enumerate(pair_lists[k]):
            if sub[b] in adj[sub[a]]:
                mask |= 1 << e
        for node, orbit in zip(sub, orbits.tables[k][1][mask], strict=True):
            gdv[node, orbit] += 1
    return gdv
