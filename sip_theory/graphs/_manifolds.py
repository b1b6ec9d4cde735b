"""Triangulated 2-manifolds with flat equilateral faces, and their exact short geodesics.

The paper's PLANE, MOBIUS, SPHERE and TORUS experiments place points on a
triangulated surface whose vertices are topics (the datasets:
:func:`sip_theory.data.make_manifold_dataset`). Every face is the equilateral
triangle of side sqrt(2) (the standard 2-simplex), so a point's barycentric
coordinates in its face are at once its position and its topic mixture over the
face's three vertex topics.

Geodesic distance on this piecewise-flat surface is computed by *unfolding*: a
chain of edge-adjacent faces is laid flat in the plane by reflecting each face
across the shared edge, and the straight segment between the two points counts
when it crosses the chain's shared edges in order (then it is a path on the
surface). The distance is the minimum over such chains and over two-segment
paths bent at a common vertex of the two faces.

Validity (ours): with faces of side a = sqrt(2) and height h = a*sqrt(3)/2 =
sqrt(3/2) ~ 1.2247, the result is exact for every distance below h. A straight
segment crossing three edges that do not share a vertex spans two opposite sides
of a rhombus of two faces, so has length >= h; a segment around one vertex sees
the 60-degree sectors within an angle < pi, so crosses at most 3 edges. Hence a
geodesic shorter than h crosses <= 3 edges (chains of <= 4 faces) and bends at
most once, at a vertex shared by both end faces (bends happen only at vertices;
reaching a vertex outside one's face already costs h). Distances >= ``max_distance``
(at most h) are reported as ``inf``. The paper's radii (0.15, 0.2) are far below h.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._serialization import ToDictMixin
from .._validation import as_generator, check_one_of, check_positive_int

__all__ = [
    "Triangulation",
    "geodesic_distances",
    "sample_surface_points",
    "triangulation",
]

SIDE = math.sqrt(2.0)
HEIGHT = SIDE * math.sqrt(3.0) / 2.0

# Vertex triples exactly as listed in experiments.md section 3.2 (1-based).
_TRIANGLES_1BASED = {
    "plane": [(1, 2, 3), (2, 3, 4)],
    "mobius": [(1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 6), (5, 6, 7), (6, 7, 1), (7, 1, 2)],
    "sphere": [(1, 2, 3), (2, 3, 4), (2, 4, 5), (3, 4, 6), (1, 2, 7), (2, 7, 8), (2, 5, 8),
               (7, 8, 10), (1, 3, 7), (3, 7, 9), (3, 6, 9), (7, 9, 10), (8, 9, 10), (4, 8, 9),
               (4, 5, 8), (4, 6, 9)],
    "torus": [(1, 2, 3), (2, 4, 5), (4, 1, 6), (2, 3, 5), (4, 5, 6), (1, 6, 3), (3, 5, 7),
              (5, 6, 8), (6, 3, 9), (5, 7, 8), (6, 8, 9), (3, 9, 7), (7, 8, 1), (8, 9, 2),
              (9, 7, 4), (8, 1, 2), (9, 2, 4), (7, 4, 1)],
}

# Local frame of a face: its i-th listed vertex sits at row i.
_CANON = np.array([[0.0, 0.0], [SIDE, 0.0], [SIDE / 2.0, HEIGHT]])


@dataclass(frozen=True, eq=False)
class Triangulation(ToDictMixin):
    """A pure 2-dimensional simplicial complex whose faces are equilateral of side ``side``.

    Parameters
    ----------
    name : str
    triangles : array-like of int, shape (n_faces, 3)
        0-based vertex triples; vertex ids must be exactly 0..n_vertices-1.
    side : float, default sqrt(2)

    Raises
    ------
    ValueError
        Not (F, 3) integers, a face with a repeated vertex, a repeated face,
        unused vertex ids, or a non-positive side.

    Examples
    --------
    >>> t = triangulation("torus")
    >>> t.n_vertices, t.n_edges, t.n_faces, t.euler_characteristic
    (9, 27, 18, 0)
    >>> t.is_manifold(), t.is_closed, t.is_orientable()
    (True, True, True)
    """

    name: str
    triangles: np.ndarray
    side: float = SIDE

    def __post_init__(self):
        tri = np.asarray(self.triangles)
        if tri.ndim != 2 or tri.shape[1] != 3 or tri.shape[0] == 0:
            raise ValueError(f"triangles must have shape (n_faces, 3), got {tri.shape}")
        if tri.dtype.kind not in "iu":
            raise TypeError(f"triangles must hold integer vertex ids, got dtype {tri.dtype}")
        tri = tri.astype(np.int64)
        if (np.sort(tri, 1)[:, 1:] == np.sort(tri, 1)[:, :-1]).any():
            raise ValueError("triangles contains a face with a repeated vertex")
        if np.unique(np.sort(tri, 1), axis=0).shape[0] != tri.shape[0]:
            raise ValueError("triangles contains a repeated face")
        used = np.unique(tri)
        if used[0] != 0 or used[-1] != used.size - 1:
            raise ValueError("vertex ids must be exactly 0..n_vertices-1, all used")
        if not self.side > 0:
            raise ValueError(f"side must be positive, got {self.side}")
        tri.setflags(write=False)
        object.__setattr__(self, "triangles", tri)
        object.__setattr__(self, "side", float(self.side))

    # ---------------------------------------------------------------- counts
    @property
    def n_vertices(self) -> int:
        return int(self.triangles.max()) + 1

    @property
    def n_faces(self) -> int:
        return int(self.triangles.shape[0])

    @property
    def edges(self) -> np.ndarray:
        """Sorted (E, 2) array of the edges (i < j)."""
        t = self.triangles
        e = np.concatenate([t[:, [0, 1]], t[:, [1, 2]], t[:, [0, 2]]])
        return np.unique(np.sort(e, 1), axis=0)

    @property
    def n_edges(self) -> int:
        return int(self.edges.shape[0])

    @property
    def face_height(self) -> float:
        """The height side*sqrt(3)/2 of every face: :func:`geodesic_distances` is exact below it."""
        return HEIGHT * (self.side / SIDE)

    @property
    def euler_characteristic(self) -> int:
        """V - E + F."""
        return self.n_vertices - self.n_edges + self.n_faces

    def edge_face_counts(self) -> np.ndarray:
        """Number of faces containing each edge of :attr:`edges`."""
        t = self.triangles
        e = np.sort(np.concatenate([t[:, [0, 1]], t[:, [1, 2]], t[:, [0, 2]]]), 1)
        _, counts = np.unique(e, axis=0, return_counts=True)
        return counts

    @property
    def boundary_edges(self) -> np.ndarray:
        """Edges in exactly one face."""
        return self.edges[self.edge_face_counts() == 1]

    @property
    def is_closed(self) -> bool:
        """No boundary edges."""
        return bool(self.boundary_edges.shape[0] == 0)

    def vertex_degrees(self) -> np.ndarray:
        """Number of faces at each vertex (its cone angle is degree * pi/3)."""
        return np.bincount(self.triangles.reshape(-1), minlength=self.n_vertices)

    def is_manifold(self) -> bool:
        """Whether this is a 2-manifold, possibly with boundary.

        Every edge lies in one or two faces, and the faces around every vertex
        form a single fan: their link (the opposite edges) is one path or one cycle.
        """
        if (self.edge_face_counts() > 2).any():
            return False
        for v in range(self.n_vertices):
            link = [tuple(int(u) for u in f if u != v) for f in self.triangles if v in f]
            adj: dict[int, set] = {}
            for a, b in link:
                adj.setdefault(a, set()).add(b)
                adj.setdefault(b, set()).add(a)
            if any(len(s) > 2 for s in adj.values()):
                return False
            start = next(iter(adj))
            seen, stack = {start}, [start]
            while stack:
                for u in adj[stack.pop()]:
                    if u not in seen:
                        seen.add(u)
                        stack.append(u)
            if len(seen) != len(adj):
                return False
        return True

    def is_orientable(self) -> bool:
        """Whether the faces can be oriented so that each interior edge is traversed both ways."""
        orient = np.zeros(self.n_faces, dtype=np.int64)  # +1 / -1 once fixed
        for start in range(self.n_faces):
            if orient[start]:
                continue
            orient[start] = 1
            stack = [start]
            while stack:
                f = stack.pop()
                for g, e in self._face_neighbors()[f]:
                    same = self._edge_direction(f, e) * orient[f]
                    want = -same * self._edge_direction(g, e)
                    if orient[g] == 0:
                        orient[g] = want
                        stack.append(g)
                    elif orient[g] != want:
                        return False
        return True

    def _edge_direction(self, f: int, edge: tuple[int, int]) -> int:
        """+1 if face f, read in listed order, traverses edge (u, w) from u to w, else -1."""
        a, b, c = (int(x) for x in self.triangles[f])
        return 1 if edge in ((a, b), (b, c), (c, a)) else -1

    def _face_neighbors(self):
        """For each face, the list of (other face, shared edge as a sorted tuple)."""
        cache = self.__dict__.get("_nbr_cache")
        if cache is not None:
            return cache
        by_edge: dict[tuple[int, int], list[int]] = {}
        for f, (a, b, c) in enumerate(self.triangles.tolist()):
            for u, w in ((a, b), (b, c), (a, c)):
                by_edge.setdefault((min(u, w), max(u, w)), []).append(f)
        nbrs = [[] for _ in range(self.n_faces)]
        for e, faces in by_edge.items():
            for f in faces:
                nbrs[f].extend((g, e) for g in faces if g != f)
        object.__setattr__(self, "_nbr_cache", nbrs)
        return nbrs

    def net(self) -> np.ndarray:
        """Planar positions of every face's vertices, unfolded along a breadth-first tree.

        Returns
        -------
        ndarray of shape (n_faces, 3, 2)
            Row i of face f is the position of ``triangles[f, i]``. For drawing:
            faces of a closed surface may overlap in a net.
        """
        pos = np.full((self.n_faces, 3, 2), np.nan)
        for root in range(self.n_faces):
            if not np.isnan(pos[root, 0, 0]):
                continue
            pos[root] = _CANON * (self.side / SIDE)
            queue = [root]
            while queue:
                f = queue.pop(0)
                for g, e in self._face_neighbors()[f]:
                    if np.isnan(pos[g, 0, 0]):
                        pos[g] = _reflect_onto(self.triangles, f, pos[f], g, e)
                        queue.append(g)
        return pos

    def __eq__(self, other) -> bool:
        if not isinstance(other, Triangulation):
            return NotImplemented
        return (self.name == other.name and self.side == other.side
                and np.array_equal(self.triangles, other.triangles))

    def __hash__(self) -> int:
        return hash((self.name, self.side, self.triangles.tobytes()))


def _reflect_onto(triangles, f, pos_f, g, edge) -> np.ndarray:
    """Positions of face g's vertices after unfolding it across ``edge`` from face f."""
    tf = triangles[f].tolist()
    tg = triangles[g].tolist()
    u, w = edge
    pu, pw = pos_f[tf.index(u)], pos_f[tf.index(w)]
    apex_f = pos_f[[i for i in range(3) if tf[i] not in edge][0]]
    out = np.empty((3, 2))
    for i, v in enumerate(tg):
        out[i] = pu if v == u else pw if v == w else pu + pw - apex_f
    return out


def triangulation(name: str) -> Triangulation:
    """One of the paper's surfaces: ``"plane"``, ``"mobius"``, ``"sphere"`` or ``"torus"``.

    The vertex triples are those of the paper's code (experiments.md section 3.2),
    shifted to 0-based ids.

    Examples
    --------
    >>> [triangulation(s).euler_characteristic for s in ("plane", "mobius", "sphere", "torus")]
    [1, 0, 2, 0]
    """
    check_one_of(name, tuple(_TRIANGLES_1BASED), name="name")
    return Triangulation(name, np.array(_TRIANGLES_1BASED[name], dtype=np.int64) - 1)


def sample_surface_points(tri: Triangulation, n: int, *, seed):
    """Draw ``n`` points uniformly from the surface area.

    All faces have equal area, so a face is drawn uniformly, then a point
    uniformly inside it (barycentric coordinates ~ Dirichlet(1, 1, 1)).

    Returns
    -------
    faces : ndarray of int64, shape (n,)
    barycentric : ndarray of shape (n, 3)
        Coordinates over ``tri.triangles[faces]`` (rows sum to 1).

    Examples
    --------
    >>> f, b = sample_surface_points(triangulation("plane"), 4, seed=0)
    >>> f.shape, b.shape, bool(np.allclose(b.sum(1), 1))
    ((4,), (4, 3), True)
    """
    n = check_positive_int(n, name="n", minimum=0)
    rng = as_generator(seed)
    faces = rng.integers(tri.n_faces, size=n)
    bary = rng.dirichlet(np.ones(3), size=n)
    return faces.astype(np.int64), bary


def _chains(tri: Triangulation, max_faces: int):
    """All face walks of 1..max_faces faces that never recross the edge just crossed."""
    nbrs = tri._face_neighbors()
    out = []
    frontier = [((f,), ()) for f in range(tri.n_faces)]
    out.extend(frontier)
    for _ in range(max_faces - 1):
        nxt = []
        for faces, edges in frontier:
            for g, e in nbrs[faces[-1]]:
                if edges and e == edges[-1]:
                    continue
                nxt.append((faces + (g,), edges + (e,)))
        out.extend(nxt)
        frontier = nxt
    return out


def _cross(a, b):
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def _crossing(a, r, length, u, w, last, tol):
    """Whether segments a -> a + r meet the portal u-w at parameter >= ``last``, and where.

    Returns ``(hit, t)`` with t the segment parameter of the (first) meeting point.
    Handles segments parallel to the portal (collinear overlap) and zero-length ones.
    """
    e = w - u
    e_len = float(np.sqrt(e @ e))
    ua = u - a
    denom = _cross(r, e)
    parallel = np.abs(denom) <= 1e-12 * np.maximum(length, tol) * e_len
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(parallel, np.nan, _cross(ua, e) / denom)
        s = np.where(parallel, np.nan, _cross(ua, r) / denom)
    hit = (t >= -tol) & (t <= 1 + tol) & (s >= -tol) & (s <= 1 + tol) & (t >= last - tol)
    if parallel.any():
        # collinear with the portal's line and overlapping the portal, after `last`
        off_line = np.abs(_cross(-ua, e)) / e_len
        proj_a = ((-ua) @ e) / (e_len * e_len)
        r2 = np.where(length > tol, length * length, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            tu = (ua * r).sum(-1) / r2
            tw = ((w - a) * r).sum(-1) / r2
        lo = np.maximum(np.maximum(np.minimum(tu, tw), 0.0), last)
        hi = np.minimum(np.maximum(tu, tw), 1.0)
        point = length <= tol  # zero-length segment: a itself must lie on the portal
        lo = np.where(point, np.maximum(last, 0.0), lo)
        hi = np.where(point, np.where((proj_a >= -tol) & (proj_a <= 1 + tol), 1.0, -1.0), hi)
        par_hit = parallel & (off_line <= tol) & (lo <= hi + tol)
        hit = np.where(parallel, par_hit, hit)
        t = np.where(par_hit, lo, t)
    return hit, t


def geodesic_distances(tri: Triangulation, faces, barycentric, *, max_distance=None,
                       tol: float = 1e-9) -> np.ndarray:
    """Exact geodesic distances between surface points, up to ``max_distance``.

    Parameters
    ----------
    tri : Triangulation
    faces : array-like of int, shape (n,)
    barycentric : array-like of shape (n, 3)
        Non-negative coordinates summing to 1, over the vertices of each point's face
        in listed order.
    max_distance : float, optional
        Distances at or above it are returned as ``inf``; at most (and by default)
        the face height h = side*sqrt(3)/2, below which the result is exact.
    tol : float
        Tolerance of the edge-crossing tests.

    Returns
    -------
    ndarray of shape (n, n)
        Symmetric, zero diagonal, ``inf`` for pairs at least ``max_distance`` apart.

    Raises
    ------
    ValueError
        Shapes, face ids out of range, coordinates not on the simplex,
        ``max_distance`` above the face height.

    Notes
    -----
    Minimum over (i) the straight segment in every unfolded chain of at most 4
    edge-adjacent faces that it crosses in order, and (ii) for faces sharing a
    vertex v, the path bent at v. Every candidate is the length of an actual
    path on the surface, so the result never underestimates; the module
    docstring shows that it is exact below the face height.

    Examples
    --------
    >>> t = triangulation("plane")
    >>> d = geodesic_distances(t, [0, 1], [[0, 0.5, 0.5], [0.5, 0.5, 0]])
    >>> float(d[0, 1])  # the same point: the midpoint of the shared edge
    0.0
    """
    faces = np.asarray(faces)
    bary = np.asarray(barycentric, dtype=np.float64)
    n = faces.shape[0]
    if faces.ndim != 1 or faces.dtype.kind not in "iu":
        raise ValueError("faces must be a 1-D integer array")
    if bary.shape != (n, 3):
        raise ValueError(f"barycentric must have shape ({n}, 3), got {bary.shape}")
    if n and (faces.min() < 0 or faces.max() >= tri.n_faces):
        raise ValueError(f"faces must be face ids in [0, {tri.n_faces})")
    if (bary < -tol).any() or not np.allclose(bary.sum(1), 1.0, atol=1e-8):
        raise ValueError("barycentric rows must be non-negative and sum to 1")
    scale = tri.side / SIDE
    height = tri.face_height
    if max_distance is None:
        max_distance = height
    if not 0 < max_distance <= height * (1 + 1e-12):
        raise ValueError(
            f"max_distance must be in (0, {height:.6g}] (the face height; exactness bound), "
            f"got {max_distance}"
        )
    canon = _CANON * scale
    local = bary @ canon  # positions in each point's own face frame
    members = [np.flatnonzero(faces == f) for f in range(tri.n_faces)]
    dist = np.full((n, n), np.inf)

    for chain, crossed in _chains(tri, 4):
        a_idx, b_idx = members[chain[0]], members[chain[-1]]
        if a_idx.size == 0 or b_idx.size == 0:
            continue
        pos = canon
        portals = []
        for f, g, e in zip(chain[:-1], chain[1:], crossed, strict=True):
            tf = tri.triangles[f].tolist()
            portals.append((pos[tf.index(e[0])], pos[tf.index(e[1])]))
            pos = _reflect_onto(tri.triangles, f, pos, g, e)
        a = local[a_idx][:, None, :]
        b = (bary[b_idx] @ pos)[None, :, :]
        r = b - a
        length = np.sqrt((r * r).sum(-1))
        ok = length < max_distance
        last = np.full(length.shape, -np.inf)
        for u, w in portals:
            if not ok.any():
                break
            hit, t_cross = _crossing(a, r, length, u, w, last, tol)
            ok &= hit
            last = np.where(ok, t_cross, last)
        block = np.where(ok, length, np.inf)
        sub = dist[np.ix_(a_idx, b_idx)]
        dist[np.ix_(a_idx, b_idx)] = np.minimum(sub, block)

    for v in range(tri.n_vertices):
        star_faces = np.flatnonzero((tri.triangles == v).any(1))
        idx = np.concatenate([members[f] for f in star_faces])
        if idx.size < 2:
            continue
        row = np.array([tri.triangles[f].tolist().index(v) for f in faces[idx]])
        to_v = np.sqrt(((local[idx] - canon[row]) ** 2).sum(1))
        bent = to_v[:, None] + to_v[None, :]
        bent[bent >= max_distance] = np.inf
        dist[np.ix_(idx, idx)] = np.minimum(dist[np.ix_(idx, idx)], bent)

    dist = np.minimum(dist, dist.T)
    dist[dist >= max_distance] = np.inf
    np.fill_diagonal(dist, 0.0)
    return dist
