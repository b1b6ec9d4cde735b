"""Pinned draws of the default samplers: stored experiment results stay valid.

The draws in ``data/pinned_sampler_draws.json`` were made by the uniform
sampler (``positives="uniform"``, ``negatives`` in ``{"global", "component"}``)
as it was before the two-hop, k-NN-band and weighted strategies were added
(commit 86d0ebd). The trainer threads one generator through a permutation and
then ``sample``; both the call with an int seed and that threaded use are
pinned, on graphs that exercise the rejection path, the exact rank-selection
path, isolated nodes and anchors without any negative. Draws must match exactly
(integers). Regenerate only on purpose, with a reason in the commit:
``python tests/losses/test_sampler_pins.py``.
"""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

from sip_theory.graphs import SampleGraph
from sip_theory.losses import GraphPairSampler

PINS = pathlib.Path(__file__).with_name("data") / "pinned_sampler_draws.json"


def _graphs():
    """Name -> graph: sparse (rejection path, isolated nodes), dense (exact path), cliques."""
    rng = np.random.default_rng(20240613)
    out = {}
    for name, n, p in (("sparse", 60, 0.05), ("dense", 40, 0.85)):
        a = np.triu(rng.random((n, n)) < p, 1)
        out[name] = SampleGraph.from_dense((a | a.T).astype(int))
    # two cliques and an isolated node: no anchor of the component pool has a negative
    edges = [(i, j) for i in range(4) for j in range(i + 1, 4)]
    edges += [(i, j) for i in range(4, 7) for j in range(i + 1, 7)]
    out["cliques"] = SampleGraph.from_edges(edges, n_nodes=8)
    return out


def _draws():
    out = {}
    for gname, g in _graphs().items():
        for pool in ("global", "component"):
            sampler = GraphPairSampler(g, negatives=pool)
            for seed in (0, 1, 2):
                s = sampler.sample(seed=seed)
                out[f"{gname}/{pool}/seed={seed}"] = [s.positives.tolist(),
                                                      s.negatives.tolist()]
            # the trainer's use: one generator for the epoch order and then the partners
            rng = np.random.default_rng(np.random.SeedSequence(7).spawn(2)[0])
            for epoch in range(2):
                order = rng.permutation(g.n_nodes)
                s = sampler.sample(np.tile(order, 2), seed=rng)
                out[f"{gname}/{pool}/threaded/epoch={epoch}"] = [
                    order.tolist(), s.positives.tolist(), s.negatives.tolist()]
    return out


def test_every_case_is_pinned():
    assert sorted(json.loads(PINS.read_text())) == sorted(_draws())


@pytest.mark.parametrize("graph", ["sparse", "dense", "cliques"])
def test_default_draws_match_the_pins(graph):
    pins = json.loads(PINS.read_text())
    for key, got in _draws().items():
        if key.startswith(graph + "/"):
            assert got == pins[key], key


if __name__ == "__main__":
    PINS.parent.mkdir(exist_ok=True)
    PINS.write_text(json.dumps(_draws(), sort_keys=True) + "\n")
    print(f"wrote {PINS}")
