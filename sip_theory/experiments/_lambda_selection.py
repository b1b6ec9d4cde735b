"""Label-free choice of lambda_SI from held-out link retrieval, shared by the studies.

The paper chooses lambda_SI without fine-tuning labels, by how well the
embeddings retrieve links. :func:`held_out_link_retrieval` measures it the one
way every study here does (filtered protocol: the links a ranking may already
know leave its candidates) and :func:`choose_lambda` picks the value.
:func:`sip_theory.experiments.select_lambda` (Cora) applies the same rule to
its run records (the same ``lambda -> seed -> value`` table, then the same
pick).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._summary_tools import finite

__all__ = ["choose_lambda", "held_out_link_retrieval", "retrieval_dict"]


def retrieval_dict(r) -> dict:
    """A :class:`~sip_theory.geometry.LinkRetrievalResult` as flat JSON-safe numbers."""
    out = {"lrap": finite(r.lrap), "ndcg": finite(r.ndcg), "mrr": finite(r.mrr),
           "ap_micro": finite(r.ap_micro)}
    for k, v in r.precision_at.items():
        out[f"precision_at_{k}"] = finite(v)
    for k, v in r.recall_at.items():
        out[f"recall_at_{k}"] = finite(v)
    out["n_queries"] = int(r.n_queries)
    return out


def held_out_link_retrieval(emb, split, *, metric: str, ks=(1, 10, 50), train: bool = True,
                            **engine) -> dict:
    """Retrieval of the validation, test (and G_PT) links of ``split`` by ``emb``.

    The validation ranking excludes G_PT (the test links stay unseen, so they
    count as non-relevant); the test ranking excludes G_PT and the validation
    links; ``train_edges`` ranks G_PT itself (the paper's own selection rule).
    Cut-offs no ranking can reach (above ``n - 1`` less the most links a sample
    has excluded) are dropped.

    Returns
    -------
    dict
        ``val_edges``, ``test_edges`` (and ``train_edges``): :func:`retrieval_dict`
        of each, or None for an empty edge set.

    Examples
    --------
    >>> from sip_theory.graphs import split_edges
    >>> x = np.array([[0.0], [1.0], [2.0], [3.0], [10.0], [11.0]])
    >>> s = split_edges([(0, 1), (1, 2), (2, 3), (0, 2), (4, 5), (3, 5)], test_fraction=0.2,
    ...                 val_fraction=0.2, seed=0, keep_every_node=True)
    >>> out = held_out_link_retrieval(x, s, metric="euclidean", ks=(1,))
    >>> sorted(out), 0.0 <= out["val_edges"]["lrap"] <= 1.0
    (['test_edges', 'train_edges', 'val_edges'], True)
    """
    from ..geometry import link_retrieval
    from ..graphs import SampleGraph

    n = emb.shape[0]
    pt = split.pt_graph
    out = {}
    known_test = SampleGraph.from_edges(np.concatenate([pt.edges(), split.val_edges]),
                                        n_nodes=n)
    for key, edges, known in (("val_edges", split.val_edges, pt),
                              ("test_edges", split.test_edges, known_test)):
        if edges.shape[0] == 0:
            out[key] = None
            continue
        g = SampleGraph.from_edges(edges, n_nodes=n)
        out[key] = retrieval_dict(link_retrieval(
            emb, g, exclude=known, ks=_cutoffs(ks, n, known), metric=metric, **engine))
    if train:
        out["train_edges"] = retrieval_dict(link_retrieval(
            emb, pt, ks=_cutoffs(ks, n, None), metric=metric, **engine))
    return out


def _cutoffs(ks, n: int, known) -> tuple:
    """The cut-offs a ranking of ``n`` samples can reach once ``known`` links leave it."""
    top = n - 1 - (int(known.degrees().max()) if known is not None and known.n_edges else 0)
    return tuple(k for k in ks if k <= top) or (1,)


def choose_lambda(values: Mapping) -> dict:
    """The lambda with the largest mean over seeds; ties go to the smaller lambda.

    Parameters
    ----------
    values : mapping
        ``lambda -> {seed: value}`` (None values are left out).

    Returns
    -------
    dict
        ``means`` (lambda -> mean), ``chosen_lambda`` and ``per_seed`` (seed ->
        the lambda that seed alone would choose, same tie rule).

    Examples
    --------
    >>> out = choose_lambda({0.0: {0: 0.2, 1: 0.3}, 0.5: {0: 0.4, 1: 0.1}, 0.9: {0: 0.25}})
    >>> out["chosen_lambda"], out["per_seed"]
    (0.0, {0: 0.5, 1: 0.0})
    """
    table = {float(lam): {int(s): float(v) for s, v in per.items() if v is not None}
             for lam, per in values.items()}
    table = {lam: per for lam, per in table.items() if per}
    if not table:
        raise ValueError("values must hold at least one lambda with a value")
    lams = sorted(table)
    means = {lam: float(np.mean(list(table[lam].values()))) for lam in lams}
    chosen = max(lams, key=lambda lam: (means[lam], -lam))
    per_seed = {}
    for s in sorted({s for per in table.values() for s in per}):
        cand = [lam for lam in lams if s in table[lam]]
        per_seed[s] = max(cand, key=lambda lam: (table[lam][s], -lam))
    return {"means": means, "chosen_lambda": chosen, "per_seed": per_seed}
