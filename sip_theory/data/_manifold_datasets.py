"""PLANE, MOBIUS, SPHERE and TORUS: surface points linked within a geodesic radius.

The surfaces and their exact short geodesics are :mod:`sip_theory.graphs`'
(:func:`~sip_theory.graphs.triangulation`, :func:`~sip_theory.graphs.geodesic_distances`);
here they become datasets whose topics are the surface's vertices.
"""

from __future__ import annotations

import functools
from types import MappingProxyType

import numpy as np

from .._validation import check_one_of, check_positive_int
from ..graphs import SampleGraph, geodesic_distances, sample_surface_points, triangulation
from ._synthetic import (
    InvalidGeneration,
    SyntheticDataset,
    generate_with_retries,
    register_synthetic_dataset,
)

__all__ = ["MANIFOLD_SETTINGS", "make_manifold_dataset"]

#: The paper's number of PT points N and radius r per surface.
MANIFOLD_SETTINGS = MappingProxyType({
    "plane": {"n_pt": 100, "radius": 0.15},
    "mobius": {"n_pt": 300, "radius": 0.15},
    "sphere": {"n_pt": 300, "radius": 0.2},
    "torus": {"n_pt": 300, "radius": 0.2},
})


def make_manifold_dataset(
    name: str,
    *,
    seed,
    n_pt: int | None = None,
    n_ft: int = 0,
    radius: float | None = None,
    self_loops: bool = False,
    isolated: str = "allow",
    max_attempts: int = 10,
) -> SyntheticDataset:
    """PLANE, MOBIUS, SPHERE or TORUS: uniform surface points linked within geodesic radius r.

    Parameters
    ----------
    name : {"plane", "mobius", "sphere", "torus"}
    seed : int or numpy.random.Generator
    n_pt : int, optional
        Number of PT points; default the paper's N (100 for the plane, else 300).
    n_ft : int, default 0
        Extra held-out FT points drawn the same way (ours; the paper evaluated on
        the PT points themselves).
    radius : float, optional
        Link when the geodesic distance is < radius; default the paper's r
        (0.15 plane and Mobius, 0.2 sphere and torus). Must be below the face height.
    self_loops : bool, default False
        Record that each node is its own neighbour, as the original code did.
        The graph itself never stores self-loops; see :attr:`SyntheticDataset.self_loops`
        and ``sip_theory.theory.node_homophily(..., self_loops=True)``.
    isolated : {"allow", "resample"}, default "allow"
        Keep datasets with PT points that have no neighbour (their count is
        recorded as ``config["n_isolated_pt"]``), or redraw them.
    max_attempts : int, default 10

    Returns
    -------
    SyntheticDataset
        Topics are the surface's vertices: ``topic_mixtures`` holds each point's
        barycentric coordinates at its face's vertices; ``labels = {"vertex": ...}``
        the vertex with the largest coordinate; ``extras`` holds ``face`` and
        ``barycentric``; ``config["triangulation"]`` the faces.

    Raises
    ------
    GenerationError
        Every attempt missed a vertex label among the PT points (or, with
        ``isolated="resample"``, left a PT point isolated).

    Notes
    -----
    McDermott et al. (2023), synthetic manifold experiments. The original kept
    self-loops in G_PT, so a node could be drawn as its own positive and the
    reported homophily counts it: (same + 1)/(degree + 1).

    Examples
    --------
    >>> d = make_manifold_dataset("torus", seed=0, n_pt=50)
    >>> d.pt_nodes.size, d.n_topics, d.task
    (50, 9, 'vertex')
    """
    tri = triangulation(name)
    defaults = MANIFOLD_SETTINGS[name]
    n_pt = defaults["n_pt"] if n_pt is None else check_positive_int(n_pt, name="n_pt")
    n_ft = check_positive_int(n_ft, name="n_ft", minimum=0)
    radius = defaults["radius"] if radius is None else float(radius)
    if not 0 < radius < tri.face_height:
        raise ValueError(f"radius must be in (0, {tri.face_height:.4f}) (the face height), "
                         f"got {radius}")
    check_one_of(isolated, ("allow", "resample"), name="isolated")
    n = n_pt + n_ft
    params = {"n_pt": n_pt, "n_ft": n_ft, "radius": radius, "isolated": isolated,
              "max_attempts": max_attempts, "triangulation": tri.triangles.tolist(),
              "side": tri.side}

    def build(rng, record):
        faces, bary = sample_surface_points(tri, n, seed=rng)
        dist = geodesic_distances(tri, faces, bary)
        iu, ju = np.triu_indices(n, k=1)
        close = dist[iu, ju] < radius
        graph = SampleGraph.from_edges(np.stack([iu[close], ju[close]], 1), n_nodes=n)
        corners = tri.triangles[faces]
        label = corners[np.arange(n), bary.argmax(1)]
        mix = np.zeros((n, tri.n_vertices))
        np.add.at(mix, (np.repeat(np.arange(n), 3), corners.reshape(-1)), bary.reshape(-1))
        missing = np.setdiff1d(np.arange(tri.n_vertices), label[:n_pt])
        if missing.size:
            raise InvalidGeneration(f"vertex label(s) {missing.tolist()} absent from PT points")
        n_iso = int((graph.subgraph(np.arange(n_pt)).degrees() == 0).sum())
        if n_iso and isolated == "resample":
            raise InvalidGeneration(f"{n_iso} isolated PT point(s)")
        return SyntheticDataset(
            name=name, graph=graph, pt_nodes=np.arange(n_pt), ft_nodes=np.arange(n_pt, n),
            labels={"vertex": label}, task="vertex", topic_mixtures=mix,
            self_loops=self_loops,
            config={**params, **record, "self_loops": bool(self_loops), "n_isolated_pt": n_iso},
            extras={"face": faces, "barycentric": bary},
        )

    return generate_with_retries(build, seed=seed, max_attempts=max_attempts, name=name)


for _surface in MANIFOLD_SETTINGS:
    register_synthetic_dataset(_surface, functools.partial(make_manifold_dataset, _surface))
del _surface
