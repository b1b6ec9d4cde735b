"""Depth made measurable: how many dimensions a graph needs to be a radius graph.

The sphericity of a graph is the smallest dimension d in which it is the
unit-ball (radius) graph of some point set. Computing it is hard in general; we
estimate it from above by optimizing a margin loss in d = 2, 3, ... and
reporting the first dimension whose optimum recovers the graph exactly, and
from below by certificates. Dimension 1 is decided exactly: a graph has
sphericity 1 iff it is a unit interval graph, recognized with a certificate
either way (:mod:`sip_theory.theory._unit_interval`: a proper interval
ordering and a line realization, or an induced claw, net, tent or chordless
cycle of length >= 4). An induced star K_{1,k} rules out every dimension whose
kissing configuration is smaller (k >= 6: no radius graph in the plane;
k >= 13: none in R^3; k >= 25: none in R^4).

Sphericity is about Euclidean distance: the radius graph of points in R^D
under the ambient Euclidean distance has sphericity at most D, but a radius
graph under a manifold's *geodesic* distance need not be a Euclidean radius
graph in the manifold's ambient dimension at all (a flat planar domain with
slits has the geodesic radius graph K_{1,7}, of sphericity >= 3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._serialization import ToDictMixin
from .._validation import as_generator, check_positive_int
from ._common import to_graph
from ._theorem1 import recovery_margin
from ._unit_interval import max_margin_line, unit_interval_recognition

__all__ = ["SphericityEstimate", "estimate_sphericity"]


@dataclass(frozen=True, eq=False)
class SphericityEstimate(ToDictMixin):
    """Bounds on the sphericity of a graph.

    Attributes
    ----------
    upper_bound : int or None
        The smallest dimension tried in which the optimizer found points whose
        radius graph equals the graph (None: none up to ``max_dim``).
    lower_bound : int
        1; 2 when the graph is certified not to be a unit interval graph; 3, 4 or
        5 when a node has 6, 13 or 25 pairwise unlinked neighbours.
    trials : list of dict
        One per solved (component, dimension): ``component, n_nodes, dim,
        realized, margin, min_violations, steps, method`` (``"unit interval
        line"``: the exact line realization, 0 steps; ``"optimizer"``).
    embedding : ndarray or None
        Realizing points in ``upper_bound`` dimensions.
    radius : float or None
        Their recovering radius (Euclidean; 1.0).
    certificate : str
        Why the lower bound holds.
    """

    upper_bound: int | None
    lower_bound: int
    trials: list = field(repr=False)
    embedding: np.ndarray | None = field(repr=False)
    radius: float | None
    certificate: str

    @property
    def exact(self) -> bool:
        """Whether the bounds meet (the sphericity is then known)."""
        return self.upper_bound is not None and self.upper_bound == self.lower_bound

    _to_dict_exclude = ("embedding",)
    _to_dict_extra = ("exact",)


# k unit vectors pairwise more than 60 degrees apart exist in R^d only for k <= _STRICT_KISSING[d]
_STRICT_KISSING = {1: 2, 2: 5, 3: 12, 4: 24}
_EXACT_NEIGHBOURHOOD = 24  # exact independence number up to this many neighbours, else greedy


def _independent_neighbours(g, v) -> int:
    """The most pairwise unlinked neighbours of v (exact for small degree, else a greedy count)."""
    import networkx as nx

    nb = g.neighbors(v).tolist()
    if len(nb) < 2:
        return len(nb)
    sub = g.subgraph(nb).to_networkx()
    if len(nb) <= _EXACT_NEIGHBOURHOOD:
        clique, _ = nx.max_weight_clique(nx.complement(sub), weight=None)
        return len(clique)
    return len(nx.maximal_independent_set(sub, seed=0))  # a lower bound: still a certificate


def _star_bound(g) -> tuple[int, str] | None:
    """Sphericity >= d + 1 when some node has more pairwise unlinked neighbours than R^d allows.

    If d(z_v, z_i) < r for k neighbours i with d(z_i, z_j) >= r pairwise, then with
    a = |z_i - z_v|, b = |z_j - z_v| in (0, r) the angle at z_v exceeds 60 degrees
    (a^2 + b^2 - ab < r^2), so k <= the strict kissing number of R^d.
    """
    best = max((_independent_neighbours(g, v) for v in range(g.n_nodes)), default=0)
    dims = [d for d, kiss in _STRICT_KISSING.items() if best > kiss]
    if not dims or max(dims) < 2:
        return None
    d = max(dims)
    return d + 1, (f"has an induced star K_{{1,{_STRICT_KISSING[d] + 1}}} (a node with "
                   f"{best} pairwise unlinked neighbours, more than the {_STRICT_KISSING[d]} "
                   f"directions pairwise over 60 degrees apart in R^{d}), so no radius graph "
                   f"in R^{d}")


def _lower_bound(g, rec=None) -> tuple[int, str]:
    if g.n_edges == 0 or g.is_cluster_graph():
        return 1, "cluster graph (sphericity 1)"
    star = _star_bound(g)
    if star is not None:
        return star
    rec = unit_interval_recognition(g) if rec is None else rec
    return (1 if rec.is_unit_interval else 2), rec.certificate


def _initial(g, dim, rng, restart):
    n = g.n_nodes
    if restart == 0 and n > dim + 1:
        lap = np.diag(g.degrees().astype(np.float64)) - (g.to_dense() > 0)
        _, vecs = np.linalg.eigh(lap)
        null = int(np.sum(np.linalg.eigvalsh(lap) < 1e-9))
        basis = vecs[:, : max(null, 1)] @ rng.standard_normal((max(null, 1), dim))
        spec = vecs[:, 1 : dim + 1] if null <= 1 else basis
        if spec.shape[1] < dim:
            spec = np.hstack([spec, np.zeros((n, dim - spec.shape[1]))])
        x = spec + 0.01 * rng.standard_normal((n, dim)) * spec.std()
    else:
        x = rng.standard_normal((n, dim))
    e = g.edges()
    if e.shape[0]:
        linked = np.linalg.norm(x[e[:, 0]] - x[e[:, 1]], axis=1)
        scale = np.median(linked)
    else:
        scale = np.median(np.linalg.norm(x[:, None] - x[None], axis=-1))
    return x * (0.7 / scale if scale > 0 else 1.0)


def _optimize(g, x0, max_steps, lr, margin, check_every):
    import torch

    n = g.n_nodes
    adj = g.to_dense() > 0
    off = ~np.eye(n, dtype=bool)
    pos, neg = adj & off, ~adj & off
    w_pos = torch.as_tensor(pos / max(pos.sum(), 1), dtype=torch.float64)
    w_neg = torch.as_tensor(neg / max(neg.sum(), 1), dtype=torch.float64)
    pos_t, neg_t = torch.as_tensor(pos), torch.as_tensor(neg)
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([x], lr=lr)
    step = 0
    for step in range(1, max_steps + 1):
        sq = (x * x).sum(1)
        d = torch.sqrt(torch.clamp(sq[:, None] + sq[None, :] - 2.0 * (x @ x.T), min=0.0) + 1e-12)
        loss = (torch.relu(d - (1.0 - margin)) ** 2 * w_pos).sum() + (
            torch.relu((1.0 + margin) - d) ** 2 * w_neg).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % check_every == 0 or step == max_steps:
            with torch.no_grad():
                dd = d.detach()
                hi = float(dd[pos_t].max()) if pos.any() else -math.inf
                lo = float(dd[neg_t].min()) if neg.any() else math.inf
                if hi < lo:
                    break
    return x.detach().numpy(), step


def estimate_sphericity(
    graph,
    *,
    max_dim: int = 4,
    n_restarts: int = 2,
    max_steps: int = 1000,
    lr: float = 0.05,
    margin: float = 0.1,
    seed=0,
) -> SphericityEstimate:
    """Estimate the sphericity (smallest unit-ball dimension) of a graph by optimization.

    A connected component that is a unit interval graph gets its exact
    realization on a line (:func:`max_margin_line`); for any other component,
    which then needs d >= 2, points in R^d, d = 2, ..., ``max_dim``, are fitted by
    minimizing the squared-hinge margin loss
    mean_E (d_ij - (1 - margin))_+^2 + mean_{not E} ((1 + margin) - d_ij)_+^2 with
    Adam (torch), from a spectral start and random restarts; the first d whose
    points recover the graph exactly (:func:`recovery_margin`) is reported.
    Each connected component is fitted on its own (components placed far
    apart realize the union, so the sphericity of a graph is the largest of its
    components'); cliques need one point, and dimensions below a component's
    certified lower bound are skipped.

    Parameters
    ----------
    graph : SampleGraph, scipy sparse adjacency, networkx graph or (m, 2) edge array
        Small graphs (all pairs are used at every step: O(n^2 d)).
    max_dim : int, default 4
    n_restarts : int, default 2
        Starts per dimension (the first spectral, the others Gaussian).
    max_steps : int, default 1000
        Adam steps per start; stops early on exact recovery.
    lr, margin : float
    seed : int or numpy.random.Generator

    Returns
    -------
    SphericityEstimate

    Notes
    -----
    The result is an upper bound (a witness exists in that dimension) unless it
    meets the lower bound; sphericity 1 is always decided (``exact`` is True
    when it is 1, and a lower bound of 2 comes with an obstruction when it is
    not). Disjoint cliques have sphericity 1 (cliques at
    points far apart on a line), cycles of length >= 4 and grids 2, and the
    r-neighbour graph of points in R^D (in particular on a d-manifold embedded
    in R^D) *under the ambient Euclidean distance* at most D, the points being a
    witness (Maehara 1984, "Space graphs and sphericity"; this estimator: this
    library). Under a manifold's geodesic distance there is no such bound: in
    the plane minus 7 radial slits, a centre and 7 points between the slits at
    distance 0.9 are pairwise at geodesic distance >= 1.6, so their geodesic
    radius-1 graph is K_{1,7}, which no point set in R^2 realizes. This is the
    "deep vs shallow" axis of McDermott et al. (2023) made measurable.

    Examples
    --------
    >>> from sip_theory.graphs import cliques_from_labels
    >>> est = estimate_sphericity(cliques_from_labels([0, 0, 1, 1, 1, 2]), seed=0)
    >>> est.upper_bound, est.exact
    (1, True)
    >>> estimate_sphericity([(0, i) for i in range(1, 8)], max_dim=2).lower_bound  # K_{1,7}
    3
    >>> est = estimate_sphericity([(i, i + 1) for i in range(29)])  # the path P_30: exact, no fit
    >>> est.upper_bound, est.exact, est.trials[0]["method"]
    (1, True, 'unit interval line')
    >>> net = [(0, 1), (1, 2), (0, 2), (0, 3), (1, 4), (2, 5)]  # a triangle, a leaf at each corner
    >>> est = estimate_sphericity(net, max_dim=1)
    >>> est.lower_bound, est.upper_bound, est.certificate[:22]
    (2, None, 'has an induced net on ')
    """
    g = to_graph(graph)
    max_dim = check_positive_int(max_dim, name="max_dim")
    n_restarts = check_positive_int(n_restarts, name="n_restarts")
    max_steps = check_positive_int(max_steps, name="max_steps")
    rng = as_generator(seed)
    rec = unit_interval_recognition(g)
    lower, cert = _lower_bound(g, rec)
    n = g.n_nodes
    trials = []
    _, comp = g.connected_components()
    pieces = []  # (node indices, points with recovering radius 1, dimension)
    upper = 1
    for c in range(int(comp.max()) + 1 if n else 0):
        nodes = np.flatnonzero(comp == c)
        sub = g.subgraph(nodes)
        if sub.n_edges == sub.n_nodes * (sub.n_nodes - 1) // 2:
            pieces.append((nodes, np.zeros((nodes.size, 1)), 1))  # a clique: one point
            continue
        sub_rec = unit_interval_recognition(sub)
        if sub_rec.is_unit_interval:  # exact: the widest line realization, radius 1
            line = max_margin_line(sub, recognition=sub_rec)
            x = line.positions[:, None] * (2.0 / (line.max_linked + line.min_unlinked))
            rep = recovery_margin(x, sub)
            trials.append({"component": c, "n_nodes": int(nodes.size), "dim": 1,
                           "realized": rep.realized, "margin": float(rep.margin),
                           "min_violations": int(rep.min_violations), "steps": 0,
                           "method": "unit interval line"})
            if not rep.realized or not rep.max_linked < 1.0 <= rep.min_unlinked:
                raise RuntimeError("estimate_sphericity: the line realization failed to verify")
            pieces.append((nodes, x, 1))
            continue
        sub_lower, _ = _lower_bound(sub, sub_rec)
        found = None
        for dim in range(sub_lower, max_dim + 1):
            best = None
            for restart in range(n_restarts):
                x0 = _initial(sub, dim, rng, restart)
                x, steps = _optimize(sub, x0, max_steps, lr, margin, check_every=25)
                rep = recovery_margin(x, sub)
                key = (rep.realized, -rep.min_violations, rep.margin)
                if best is None or key > best[0]:
                    best = (key, rep, x, steps)
                if rep.realized:
                    break
            _, rep, x, steps = best
            trials.append({"component": c, "n_nodes": int(nodes.size), "dim": dim,
                           "realized": rep.realized, "margin": float(rep.margin),
                           "min_violations": int(rep.min_violations), "steps": int(steps),
                           "method": "optimizer"})
            if rep.realized:
                found = (x / rep.radius, dim)
                break
        if found is None:
            return SphericityEstimate(None, lower, trials, None, None, cert)
        pieces.append((nodes, found[0], found[1]))
        upper = max(upper, found[1])
    # components far apart along the first axis, every one with recovering radius 1
    emb = np.zeros((n, upper))
    offset = 0.0
    for nodes, pts, dim in pieces:
        pts = pts - pts.min(axis=0)
        emb[np.ix_(nodes, np.arange(dim))] = pts
        emb[nodes, 0] += offset
        offset += float(pts[:, 0].max()) + 2.0
    return SphericityEstimate(upper, lower, trials, emb, 1.0, cert)
