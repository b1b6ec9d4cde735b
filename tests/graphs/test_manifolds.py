"""Triangulated surfaces and exact short geodesics (the datasets: tests/data).

Geodesics are checked against closed forms computed here independently of the
library's chain unfolding: each surface is developed once into the plane along a
breadth-first tree of faces, and the distance is read in its universal cover
(plane: convex rhombus; Mobius: a straight band and its glide reflection;
torus: the plane and its translation lattice), or around a cone vertex.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sip_theory.graphs import (
    Triangulation,
    geodesic_distances,
    sample_surface_points,
    triangulation,
)

SIDE = math.sqrt(2.0)
H = SIDE * math.sqrt(3) / 2
CANON = np.array([[0.0, 0.0], [SIDE, 0.0], [SIDE / 2, H]])
SURFACES = ("plane", "mobius", "sphere", "torus")


# --------------------------------------------------------------- development
def _place(tri_faces, f, pos_f, g):
    """Unfold face g across its edge shared with face f (reflection; faces equilateral)."""
    a, b = [int(v) for v in tri_faces[f] if v in tri_faces[g]]
    apex = [i for i in range(3) if tri_faces[f][i] not in (a, b)][0]
    pa = pos_f[list(tri_faces[f]).index(a)]
    pb = pos_f[list(tri_faces[f]).index(b)]
    return np.array([pa if v == a else pb if v == b else pa + pb - pos_f[apex]
                     for v in tri_faces[g]])


def _adjacent(tri_faces):
    out = []
    for f in range(len(tri_faces)):
        for g in range(f + 1, len(tri_faces)):
            if len(set(tri_faces[f]) & set(tri_faces[g])) == 2:
                out.append((f, g))
    return out


def _develop(tri: Triangulation):
    """BFS development: face positions, and the deck maps x -> A x + c of non-tree adjacencies."""
    faces = tri.triangles.tolist()
    pos = {0: CANON.copy()}
    queue, tree = [0], set()
    adj = _adjacent(faces)
    while queue:
        f = queue.pop(0)
        for a, b in adj:
            if f in (a, b):
                g = b if f == a else a
                if g not in pos:
                    pos[g] = _place(faces, f, pos[f], g)
                    tree.add((min(f, g), max(f, g)))
                    queue.append(g)
    decks = []
    for f, g in adj:
        if (f, g) in tree:
            continue
        image = _place(faces, f, pos[f], g)  # where g lands when unfolded from f
        src = np.hstack([pos[g], np.ones((3, 1))])
        sol = np.linalg.solve(src, image)  # rows: A^T (2x2) then c
        decks.append((sol[:2].T, sol[2]))
    return pos, decks


def _points(tri, n, seed):
    faces, bary = sample_surface_points(tri, n, seed=seed)
    pos, _ = _develop(tri)
    planar = np.array([bary[i] @ pos[int(f)] for i, f in enumerate(faces)])
    return faces, bary, planar


def _close(d_lib, d_ref, limit):
    mask = d_ref < limit * 0.999
    return mask, np.abs(d_lib[mask] - d_ref[mask]).max()


# ------------------------------------------------------------- triangulation
@pytest.mark.parametrize("name,chi", [("plane", 1), ("mobius", 0), ("sphere", 2), ("torus", 0)])
def test_euler_characteristic_matches_surface(name, chi):
    assert triangulation(name).euler_characteristic == chi


@pytest.mark.parametrize("name", SURFACES)
def test_every_edge_in_one_or_two_faces_and_vertex_links_connected(name):
    t = triangulation(name)
    counts = t.edge_face_counts()
    assert set(counts.tolist()) <= {1, 2}
    assert t.is_manifold()


@pytest.mark.parametrize("name,closed,orientable,boundary_edges",
                         [("plane", False, True, 4), ("mobius", False, False, 7),
                          ("sphere", True, True, 0), ("torus", True, True, 0)])
def test_boundary_and_orientability_identify_the_surface(name, closed, orientable,
                                                         boundary_edges):
    t = triangulation(name)
    assert t.is_closed is closed
    assert t.is_orientable() is orientable
    assert t.boundary_edges.shape[0] == boundary_edges


def test_mobius_boundary_is_one_cycle_through_all_seven_vertices():
    b = triangulation("mobius").boundary_edges
    degree = np.bincount(b.reshape(-1), minlength=7)
    assert (degree == 2).all() and b.shape[0] == 7


def test_torus_every_vertex_has_six_faces_so_it_is_flat():
    assert (triangulation("torus").vertex_degrees() == 6).all()


def test_triangulation_counts_match_the_paper_listing():
    assert [triangulation(s).n_faces for s in SURFACES] == [2, 7, 16, 18]
    assert [triangulation(s).n_vertices for s in SURFACES] == [4, 7, 10, 9]


def test_non_manifold_complex_detected():
    bowtie = Triangulation("bowtie", [[0, 1, 2], [0, 3, 4]])  # two fans at vertex 0
    fin = Triangulation("fin", [[0, 1, 2], [0, 1, 3], [0, 1, 4]])  # edge in 3 faces
    assert not bowtie.is_manifold() and not fin.is_manifold()


@pytest.mark.parametrize("bad", [[[0, 0, 1]], [[0, 1, 2], [2, 1, 0]], [[0, 1, 3]]])
def test_invalid_triangles_raise(bad):
    with pytest.raises(ValueError):
        Triangulation("bad", bad)


# ---------------------------------------------------------------- geodesics
def test_plane_geodesic_is_euclidean_in_the_developed_rhombus():
    t = triangulation("plane")
    faces, bary, planar = _points(t, 120, seed=1)
    d = geodesic_distances(t, faces, bary)
    ref = np.linalg.norm(planar[:, None] - planar[None], axis=-1)
    mask, err = _close(d, ref, H)
    assert mask.sum() > 2000 and err < 1e-9
    assert np.isinf(d[ref > H * 1.001]).all()


def test_torus_geodesic_is_the_flat_torus_distance():
    t = triangulation("torus")
    _, decks = _develop(t)
    shifts = np.array([c for a, c in decks])
    assert all(np.allclose(a, np.eye(2)) for a, _ in decks)  # pure translations: flat
    faces, bary, planar = _points(t, 150, seed=2)
    d = geodesic_distances(t, faces, bary)
    # lattice spanned by the deck translations (small integer combinations suffice here)
    combos = [i * shifts[p] + j * shifts[q] for p in range(len(shifts))
              for q in range(len(shifts)) for i in (-1, 0, 1) for j in (-1, 0, 1)]
    lattice = np.unique(np.round(np.array(combos), 9), axis=0)
    diff = planar[:, None, None, :] - planar[None, :, None, :] + lattice[None, None]
    ref = np.linalg.norm(diff, axis=-1).min(-1)
    mask, err = _close(d, ref, H)
    assert mask.sum() > 1000 and err < 1e-9
    assert np.isinf(d[ref > H * 1.001]).all()


def test_mobius_geodesic_is_band_distance_under_the_glide_reflection():
    t = triangulation("mobius")
    _, decks = _develop(t)
    assert len(decks) == 1
    a, c = decks[0]
    assert np.isclose(np.linalg.det(a), -1)  # a glide reflection: non-orientable
    faces, bary, planar = _points(t, 150, seed=3)
    d = geodesic_distances(t, faces, bary)
    images = [planar]
    inv_a = np.linalg.inv(a)
    fwd, back = planar, planar
    for _ in range(2):
        fwd = fwd @ a.T + c
        back = (back - c) @ inv_a.T
        images += [fwd, back]
    ref = np.min([np.linalg.norm(planar[:, None] - im[None], axis=-1) for im in images], 0)
    mask, err = _close(d, ref, H)
    assert mask.sum() > 1000 and err < 1e-9


def _fan_polar(t, v, n_per_face, radius, rng):
    """Points near vertex v: face ids, barycentric coords and (r, unwrapped angle) in its cone."""
    star = [f for f in range(t.n_faces) if v in t.triangles[f]]
    order = [star[0]]
    while len(order) < len(star):  # walk around the fan
        last = t.triangles[order[-1]]
        nxt = [f for f in star if f not in order
               and len(set(t.triangles[f]) & set(last)) == 2]
        order.append(nxt[0])
    faces, bary, polar = [], [], []
    for k, f in enumerate(order):
        tri = t.triangles[f].tolist()
        i = tri.index(v)
        others = [j for j in range(3) if j != i]
        # the edge shared with the previous face is the sector's start ray
        prev = set(t.triangles[order[k - 1]].tolist()) if k else None
        start = others[0] if prev is None or tri[others[0]] in prev else others[1]
        if k == 0:
            nxt_shared = set(t.triangles[order[1]].tolist())
            start = others[1] if tri[others[0]] in nxt_shared else others[0]
        for _ in range(n_per_face):
            r = rng.uniform(0.01, radius)
            phi = rng.uniform(0.0, math.pi / 3)
            # point at distance r from v, angle phi from the start ray
            end = [j for j in others if j != start][0]
            u = CANON[start] - CANON[i]
            w = CANON[end] - CANON[i]
            u_, w_ = u / SIDE, w / SIDE
            # decompose the direction into the two edge directions (60 degrees apart)
            direction = math.cos(phi) * u_ + math.sin(phi) * (w_ - 0.5 * u_) / (math.sqrt(3) / 2)
            x = CANON[i] + r * direction
            b = np.linalg.solve(np.vstack([CANON.T, np.ones(3)]), np.append(x, 1.0))
            faces.append(f)
            bary.append(np.clip(b, 0, None) / np.clip(b, 0, None).sum())
            polar.append((r, k * math.pi / 3 + phi))
    return np.array(faces), np.array(bary), np.array(polar)


def _saddle_disk():
    """Seven faces around vertex 0: cone angle 7*pi/3 > 2*pi, so geodesics bend there."""
    return Triangulation("saddle", [[0, i, i % 7 + 1] for i in range(1, 8)])


@pytest.mark.parametrize("name,vertex,degree", [("sphere", 0, 3), ("sphere", 1, 6),
                                                ("torus", 4, 6), ("saddle", 0, 7)])
def test_geodesic_around_a_vertex_matches_the_cone_law_of_cosines(name, vertex, degree):
    t = _saddle_disk() if name == "saddle" else triangulation(name)
    assert t.vertex_degrees()[vertex] == degree
    faces, bary, polar = _fan_polar(t, vertex, 8, 0.5, np.random.default_rng(4))
    d = geodesic_distances(t, faces, bary)
    cone = degree * math.pi / 3
    r1, r2 = polar[:, 0][:, None], polar[:, 0][None]
    delta = np.abs(polar[:, 1][:, None] - polar[:, 1][None]) % cone
    phi = np.minimum(delta, cone - delta)
    ref = np.where(phi < math.pi, np.sqrt(np.maximum(r1**2 + r2**2 - 2 * r1 * r2 * np.cos(phi),
                                                     0)), r1 + r2)
    if degree > 6:  # some pairs are more than pi apart: their geodesic bends at the vertex
        assert (phi >= math.pi).any()
    assert np.abs(d - ref).max() < 1e-9


@pytest.mark.parametrize("name", SURFACES)
def test_geodesics_symmetric_and_satisfy_the_triangle_inequality(name):
    t = triangulation(name)
    faces, bary = sample_surface_points(t, 120, seed=5)
    d = geodesic_distances(t, faces, bary)
    assert np.array_equal(d, d.T) and (np.diag(d) == 0).all()
    finite = np.where(np.isfinite(d), d, 1e9)
    via = (finite[:, :, None] + finite[None, :, :]).min(1)
    short = via < H  # beyond the face height distances are reported as inf
    assert short.sum() > 1000 and (finite[short] <= via[short] + 1e-9).all()


def test_face_height_is_the_exactness_bound_and_scales_with_the_side():
    assert triangulation("plane").face_height == H
    assert Triangulation("big", [[0, 1, 2]], side=2 * SIDE).face_height == pytest.approx(2 * H)


def test_geodesic_max_distance_above_face_height_raises():
    t = triangulation("plane")
    with pytest.raises(ValueError, match="max_distance"):
        geodesic_distances(t, [0], [[1.0, 0, 0]], max_distance=2.0)


def test_geodesic_off_simplex_coordinates_raise():
    with pytest.raises(ValueError, match="barycentric"):
        geodesic_distances(triangulation("plane"), [0], [[0.5, 0.6, 0.0]])


def test_points_on_a_shared_edge_measured_along_the_edge_from_either_face():
    t = triangulation("plane")  # faces (0,1,2) and (1,2,3) share edge 1-2
    d = geodesic_distances(t, [0, 1, 1], [[0, 0.5, 0.5], [0.5, 0.5, 0], [0.3, 0.7, 0]])
    assert d[0, 1] == 0.0
    assert d[0, 2] == pytest.approx(0.2 * SIDE) and d[1, 2] == pytest.approx(0.2 * SIDE)


@settings(max_examples=12, deadline=None)
@given(st.sampled_from(SURFACES), st.integers(0, 10**6))
def test_geodesics_do_not_depend_on_how_each_face_lists_its_vertices(name, seed):
    t = triangulation(name)
    rng = np.random.default_rng(seed)
    shifts = rng.integers(3, size=t.n_faces)
    flips = rng.integers(2, size=t.n_faces).astype(bool)
    orders = [np.roll([0, 1, 2], s)[::-1] if f else np.roll([0, 1, 2], s)
              for s, f in zip(shifts, flips, strict=True)]
    relisted = Triangulation(name, np.array([t.triangles[f][o] for f, o in enumerate(orders)]))
    faces, bary = sample_surface_points(t, 60, seed=seed)
    bary2 = np.array([bary[i][orders[f]] for i, f in enumerate(faces)])
    d1 = geodesic_distances(t, faces, bary)
    d2 = geodesic_distances(relisted, faces, bary2)
    assert np.array_equal(np.isinf(d1), np.isinf(d2))
    assert np.allclose(d1[np.isfinite(d1)], d2[np.isfinite(d2)], atol=1e-9)
