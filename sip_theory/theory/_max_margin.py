"""Realizations with a wide margin: points whose unlinked pairs are far beyond their linked pairs.

The scale-free quality of a realization x of a graph is the ratio
``rho(x) = min_{unlinked} d_ij / max_{linked} d_ij`` (> 1 iff some radius graph of
x is G). The losses of :mod:`sip_theory.theory._permissibility` reach zero at a
scaled copy of x exactly when rho(x) >= mu_- / mu_+, so the largest rho in a
dimension decides whether a low-dimensional witness exists. On a line the largest
rho is computed exactly (:func:`~sip_theory.theory.max_margin_line`); in higher
dimension it is approached by optimization, and only the ratio of the returned
points, measured on exact distances, is reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._serialization import ToDictMixin
from .._validation import as_generator, check_positive_int
from ._common import to_graph
from ._sphericity import _initial, _optimize
from ._theorem1 import recovery_margin
from ._unit_interval import LineRealization, max_margin_line, unit_interval_recognition

__all__ = ["MarginRealization", "max_margin_realization"]


@dataclass(frozen=True, eq=False)
class MarginRealization(ToDictMixin):
    """Points in a given dimension with a large ratio of unlinked to linked distances.

    Attributes
    ----------
    embedding : ndarray (n, dim) or None
        The points (None when ``dim = 1`` and the graph is not a unit interval
        graph: no point set on a line realizes it).
    dim : int
    ratio : float
        ``min_unlinked / max_linked`` of ``embedding`` (inf when no linked pair is
        apart, e.g. cliques at points; NaN without an embedding).
    max_linked, min_unlinked : float
        Exact extreme distances of ``embedding`` (:func:`recovery_margin`; -inf
        without linked pairs, inf without unlinked ones).
    realized : bool
        ``max_linked < min_unlinked``: some radius graph of the points is the graph.
    optimal : bool
        Whether ``ratio`` is proved to be the largest in this dimension (on a
        line for unit interval graphs; otherwise False: an optimizer's value).
    method : str
    line : LineRealization or None
        The exact line solution, when ``dim = 1`` or when it seeded the search.
    """

    embedding: np.ndarray | None = field(repr=False)
    dim: int
    ratio: float
    max_linked: float
    min_unlinked: float
    realized: bool
    optimal: bool
    method: str
    line: LineRealization | None = field(default=None, repr=False)

    _to_dict_exclude = ("embedding", "line")


def _ratio(hi: float, lo: float) -> float:
    if hi > 0:
        return lo / hi
    return math.inf if lo > 0 else 0.0


def _widen(g, x0, steps, sharpness=(20.0, 60.0, 200.0), lr=0.01, check_every=50):
    """Ascend a smooth ratio: softmax of log linked distances against softmin of log unlinked
    ones (scale-free), at increasing sharpness; returns the best points by exact ratio."""
    import torch

    n = g.n_nodes
    adj = g.to_dense() > 0
    iu, ju = np.triu_indices(n, 1)
    linked = adj[iu, ju]
    if not linked.any() or linked.all():
        return x0
    li, lj = torch.as_tensor(iu[linked]), torch.as_tensor(ju[linked])
    ui, uj = torch.as_tensor(iu[~linked]), torch.as_tensor(ju[~linked])
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([x], lr=lr)
    rep = recovery_margin(x0, g)
    best = (_ratio(rep.max_linked, rep.min_unlinked), x0)
    per_stage = max(1, steps // len(sharpness))
    for beta in sharpness:
        for step in range(1, per_stage + 1):
            log_l = 0.5 * torch.log(((x[li] - x[lj]) ** 2).sum(1) + 1e-300)
            log_u = 0.5 * torch.log(((x[ui] - x[uj]) ** 2).sum(1) + 1e-300)
            obj = torch.logsumexp(beta * log_l, 0) / beta + torch.logsumexp(-beta * log_u, 0) / beta
            opt.zero_grad()
            obj.backward()
            opt.step()
            if step % check_every == 0 or step == per_stage:
                pts = x.detach().numpy().copy()
                r = recovery_margin(pts, g)
                val = _ratio(r.max_linked, r.min_unlinked)
                if val > best[0]:
                    best = (val, pts)
    return best[1]


def _component_points(sub, dim, rng, n_restarts, max_steps, line):
    """Best points found for one connected, non-clique component, with max linked distance 1."""
    starts = []
    if line is not None:
        pad = np.zeros((sub.n_nodes, dim))
        pad[:, 0] = line.positions
        starts.append(pad)
    for restart in range(n_restarts):
        x0 = _initial(sub, dim, rng, restart)
        x, _ = _optimize(sub, x0, max_steps, 0.05, 0.1, check_every=25)
        starts.append(x)
    best = None
    for x0 in starts:
        x = _widen(sub, x0, max_steps)
        rep = recovery_margin(x, sub)
        val = _ratio(rep.max_linked, rep.min_unlinked)
        if best is None or val > best[0]:
            best = (val, x / rep.max_linked if rep.max_linked > 0 else x)
    return best[1]


def max_margin_realization(graph, dim: int = 2, *, n_restarts: int = 2, max_steps: int = 600,
                           seed=0) -> MarginRealization:
    """Points in R^dim realizing a graph with the largest ratio of unlinked to linked distance.

    Parameters
    ----------
    graph : SampleGraph, scipy sparse adjacency, networkx graph or (m, 2) edge array
    dim : int, default 2
        ``dim = 1``: the exact optimum on a line (:func:`max_margin_line`) for a
        unit interval graph; for any other graph no line realization exists.
    n_restarts : int, default 2
        Optimizer starts per component (``dim >= 2``): the spectral start, then
        Gaussian ones; the line solution is one more start when it exists.
    max_steps : int, default 600
        Steps of the recovery fit and of the ratio ascent per start.
    seed : int or numpy.random.Generator

    Returns
    -------
    MarginRealization

    Notes
    -----
    For ``dim >= 2`` each start is first fitted with the squared-hinge margin
    loss of :func:`estimate_sphericity`, then ``max linked / min unlinked`` is
    decreased through its smooth version (log-sum-exp of log distances, at
    sharpness 20, 60, 200), keeping the points with the best ratio measured on
    exact distances. Components are solved on their own and placed apart along
    the first axis, farther than the smallest component ratio, so the reported
    ratio is the smallest over components. The value is a lower bound on the
    best ratio in that dimension, not proved optimal.

    Examples
    --------
    >>> import networkx as nx
    >>> r = max_margin_realization(nx.cycle_graph(12), 2, max_steps=300)  # near a regular 12-gon
    >>> r.realized, r.ratio > 1.9
    (True, True)
    >>> max_margin_realization(nx.path_graph(6), 1).ratio  # exact: ends of P_3 twice an edge
    2.0
    >>> max_margin_realization(nx.cycle_graph(4), 1).embedding is None
    True
    """
    g = to_graph(graph)
    dim = check_positive_int(dim, name="dim")
    n_restarts = check_positive_int(n_restarts, name="n_restarts")
    max_steps = check_positive_int(max_steps, name="max_steps")
    rng = as_generator(seed)
    n = g.n_nodes
    rec = unit_interval_recognition(g)
    line = max_margin_line(g, recognition=rec) if rec.is_unit_interval else None
    if dim == 1:
        if line is None:
            return MarginRealization(None, 1, math.nan, math.nan, math.nan, False, False,
                                     f"no line realization: the graph {rec.certificate}")
        return MarginRealization(line.positions[:, None], 1, line.ratio, float(line.max_linked),
                                 float(line.min_unlinked), True, True,
                                 "exact line optimum along a proper interval ordering", line)
    _, comp = g.connected_components()
    pieces, ratios = [], []
    for c in range(int(comp.max()) + 1 if n else 0):
        nodes = np.flatnonzero(comp == c)
        sub = g.subgraph(nodes)
        if sub.n_edges == sub.n_nodes * (sub.n_nodes - 1) // 2:
            pieces.append((nodes, np.zeros((nodes.size, dim))))
            continue
        sub_line = max_margin_line(sub) if line is not None else None
        pts = _component_points(sub, dim, rng, n_restarts, max_steps, sub_line)
        rep = recovery_margin(pts, sub)
        ratios.append(_ratio(rep.max_linked, rep.min_unlinked))
        pieces.append((nodes, pts))
    finite = [r for r in ratios if math.isfinite(r)]
    gap = (max(finite) if finite else 1.0) + 1.0
    emb = np.zeros((n, dim))
    offset = 0.0
    for nodes, pts in pieces:
        pts = pts - pts.min(axis=0)
        emb[nodes] = pts
        emb[nodes, 0] += offset
        offset += float(pts[:, 0].max()) + gap
    if n < 2:
        return MarginRealization(emb, dim, math.inf, 0.0, math.inf, True, True, "one point")
    rep = recovery_margin(emb, g)
    ratio = _ratio(rep.max_linked, rep.min_unlinked)
    return MarginRealization(emb, dim, ratio, float(rep.max_linked), float(rep.min_unlinked),
                             bool(rep.realized), False,
                             "hinge fit, then ascent of the smoothed ratio (best of "
                             f"{n_restarts + (line is not None)} starts per component)", line)
