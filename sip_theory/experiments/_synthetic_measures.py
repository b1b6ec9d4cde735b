"""What the synthetic experiments measure on the final embeddings, per label set.

:func:`measure_embeddings`: the paper's leave-one-out 3-NN vote on the PT nodes,
the same vote for held-out FT nodes, a linear probe, the local consistency of
each label set on G_PT (Theorem 1's prediction) with the r*-NN accuracy and
recovery margin (the theorem's hypothesis) and a compact geometry report;
:func:`masked_token_accuracy`: the trained MLM's accuracy on fresh maskings.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._summary_tools import finite

__all__ = ["masked_token_accuracy", "measure_embeddings"]


def _heldout_lc(graph, pt_nodes, ft_nodes, y_all) -> dict:
    """Theorem 1's prediction for held-out nodes: the vote of an FT node's PT neighbours.

    Only PT neighbours vote (an FT node is classified from the pre-training
    points around it); ties count as wrong, nodes without a PT neighbour are
    left out and counted.
    """
    pt_mask = np.zeros(graph.n_nodes, dtype=bool)
    pt_mask[pt_nodes] = True
    n_classes = int(y_all.max()) + 1
    credit, n_iso = [], 0
    for f in ft_nodes:
        nb = graph.neighbors(int(f))
        nb = nb[pt_mask[nb]]
        if nb.size == 0:
            n_iso += 1
            continue
        votes = np.bincount(y_all[nb], minlength=n_classes)
        top = votes.max()
        credit.append(float(votes[y_all[f]] == top and (votes == top).sum() == 1))
    return {"value": finite(np.mean(credit)) if credit else None,
            "n_evaluated": len(credit), "n_isolated": n_iso}


def _geometry(emb_pt, pt_graph, labels) -> dict:
    """A compact geometry report of the PT embeddings against G_PT and the main label set.

    Read off :func:`sip_theory.geometry.geometry_report` (one distance sweep):
    link retrieval (LRAP, MRR), graph recovery (margin, edge AUROC, best F1),
    LC on the embedding's 3-NN graph beside LC on G_PT, alignment, uniformity,
    effective rank (RankMe) and class collapse (NC1, CDNV).
    """
    from ..geometry import geometry_report

    rep = geometry_report(emb_pt, pt_graph if pt_graph.n_edges else None, labels,
                          linear=False, histogram_bins=8).to_dict()
    ret = rep.get("retrieval") or {}
    rec = rep.get("recovery") or {}
    con = rep.get("consistency") or {}
    out = {
        "link_lrap": ret.get("lrap"), "link_mrr": ret.get("mrr"),
        "recovery_margin": rec.get("margin"), "edge_auroc": rec.get("auroc"),
        "best_f1": rec.get("best_f1"),
        "lc_embedding_knn3": con.get("lc_embedding"), "lc_graph": con.get("lc_graph"),
        "alignment": rep.get("alignment"), "uniformity": rep.get("uniformity"),
        "rankme": (rep.get("rankme") or {}).get("garrido2023"),
        "nc1": rep.get("nc1"), "cdnv": rep.get("cdnv"),
        "mean_norm": float(np.linalg.norm(np.asarray(emb_pt, dtype=np.float64), axis=1).mean()),
    }
    return {k: finite(v) for k, v in out.items()}


def measure_embeddings(
    emb_pt,
    pt_graph,
    labels_pt: Mapping,
    *,
    emb_ft=None,
    labels_ft: Mapping | None = None,
    graph=None,
    pt_nodes=None,
    ft_nodes=None,
    main_task: str | None = None,
    k: int = 3,
    seed: int = 0,
) -> dict:
    """Every measurement of one run on the final embeddings, for each label set.

    Parameters
    ----------
    emb_pt : array-like of shape (n_pt, d)
        Embeddings of the PT nodes (row i is node i of ``pt_graph``).
    pt_graph : SampleGraph
        G_PT.
    labels_pt : mapping str -> array of shape (n_pt,)
        Fine-tuning label sets on the PT nodes.
    emb_ft : array-like of shape (n_ft, d), optional
        Embeddings of held-out FT nodes.
    labels_ft : mapping str -> array of shape (n_ft,), optional
        Their labels (same keys as ``labels_pt``).
    graph, pt_nodes, ft_nodes : optional
        The full graph and the node indices, to give Theorem 1's prediction for
        the FT nodes (the vote of their PT neighbours).
    main_task : str, optional
        Label set for the geometry report (default: the first).
    k : int, default 3
        Neighbours of the paper's vote.
    seed : int, default 0
        Split of the cross-validated linear probe (when there are no FT nodes).

    Returns
    -------
    dict
        ``{task: {...}}`` for every label set plus ``"geometry"``. Per task:
        ``knn3_pt_accuracy`` and ``knn3_pt_auroc`` (leave-one-out, the paper's
        protocol), ``knn3_ft_accuracy``/``knn3_ft_auroc`` (FT nodes voted by
        their k nearest PT nodes), ``linear_accuracy``/``linear_auroc``
        (trained on PT, tested on FT; 3-fold CV on PT without FT nodes),
        ``lc`` (LC of the labels on G_PT, ties strict, isolated nodes
        excluded), ``lc_ft`` (the same vote for FT nodes from their PT
        neighbours), ``rnn_accuracy`` (radius majority vote at the recovering
        radius, or the best-F1 radius), ``recovered`` (exact recovery),
        ``recovery_margin``, ``best_f1`` and ``identity_holds``.

    Notes
    -----
    The 3-NN vote is the paper's: distance-weighted (1/d) over the k nearest
    other PT nodes, Euclidean; AUROC is macro one-vs-rest on the vote
    proportions. Theorem 1 (McDermott et al. 2023): when the radius-r* graph of
    the embeddings equals G_PT, the r*-NN vote accuracy equals LC exactly.

    Examples
    --------
    >>> import numpy as np
    >>> from sip_theory.graphs import cliques_from_labels
    >>> y = np.repeat([0, 1, 2], 4)
    >>> emb = np.repeat(np.eye(3) * 10, 4, axis=0) + np.arange(12)[:, None] * 1e-3
    >>> m = measure_embeddings(emb, cliques_from_labels(y), {"y": y})
    >>> m["y"]["knn3_pt_auroc"], m["y"]["lc"], m["y"]["recovered"], m["y"]["rnn_accuracy"]
    (1.0, 1.0, True, 1.0)
    """
    from ..geometry import knn_probe, linear_probe
    from ..theory import check_theorem1, local_consistency

    emb_pt = np.asarray(emb_pt, dtype=np.float64)
    if emb_pt.ndim != 2 or emb_pt.shape[0] != pt_graph.n_nodes:
        raise ValueError(f"emb_pt must have shape ({pt_graph.n_nodes}, d), got {emb_pt.shape}")
    has_ft = emb_ft is not None and labels_ft is not None and len(emb_ft) > 0
    if has_ft:
        emb_ft = np.asarray(emb_ft, dtype=np.float64)
    tasks = list(labels_pt)
    main_task = tasks[0] if main_task is None else main_task
    out = {}
    for task in tasks:
        y = np.asarray(labels_pt[task], dtype=np.int64)
        if y.shape != (emb_pt.shape[0],):
            raise ValueError(f"labels_pt[{task!r}] must have shape ({emb_pt.shape[0]},)")
        m = {}
        probe = knn_probe(emb_pt, y, k=k)
        m["knn3_pt_accuracy"] = finite(probe.accuracy)
        m["knn3_pt_auroc"] = finite(probe.macro_auroc)
        lc = local_consistency(pt_graph, y, ties="strict", isolated="exclude")
        m["lc"] = finite(lc.value)
        m["lc_n_isolated"] = int(lc.n_isolated)
        chk = check_theorem1(emb_pt, pt_graph, y)
        m["recovered"] = bool(chk.realized)
        m["recovery_margin"] = finite(chk.recovery.margin)
        m["best_f1"] = finite(chk.recovery.best_f1)
        m["min_violations"] = int(chk.recovery.min_violations)
        m["rnn_radius"] = finite(chk.radius)
        m["rnn_accuracy"] = finite(chk.rnn_accuracy)
        m["identity_holds"] = chk.identity_holds
        if has_ft:
            yf = np.asarray(labels_ft[task], dtype=np.int64)
            both = np.concatenate([emb_pt, emb_ft])
            lab = np.concatenate([y, yf])
            n_pt = emb_pt.shape[0]
            split = {"train_index": np.arange(n_pt),
                     "test_index": np.arange(n_pt, n_pt + len(yf))}
            ft_probe = knn_probe(both, lab, k=k, **split)  # FT nodes voted by PT nodes only
            m["knn3_ft_accuracy"] = finite(ft_probe.accuracy)
            m["knn3_ft_auroc"] = finite(ft_probe.macro_auroc)
            lin = linear_probe(both, lab, **split)
            m["linear_protocol"] = "train PT, test FT"
            if graph is not None and pt_nodes is not None and ft_nodes is not None:
                y_all = np.zeros(graph.n_nodes, dtype=np.int64)
                y_all[np.asarray(pt_nodes)] = y
                y_all[np.asarray(ft_nodes)] = yf
                held = _heldout_lc(graph, np.asarray(pt_nodes), np.asarray(ft_nodes), y_all)
                m["lc_ft"] = held["value"]
                m["lc_ft_n_isolated"] = held["n_isolated"]
        else:
            lin = linear_probe(emb_pt, y, cv=3, seed=seed)
            m["linear_protocol"] = "3-fold CV on PT"
        m["linear_accuracy"] = finite(lin.accuracy)
        m["linear_auroc"] = finite(lin.macro_auroc)
        out[task] = m
    out["geometry"] = _geometry(emb_pt, pt_graph, np.asarray(labels_pt[main_task]))
    return out


def masked_token_accuracy(encoder, objective, tokens, *, seed: int, repeats: int = 4) -> float:
    """Masked-token accuracy of a trained MLM in eval mode (no dropout), over fresh maskings.

    Parameters
    ----------
    encoder : TransformerEncoder
    objective : MaskedTokenLM
    tokens : torch.LongTensor of shape (n, seq_len)
    seed : int
        Seeds the maskings (the same for both arms of a seed).
    repeats : int, default 4
        Independent maskings pooled.

    Returns
    -------
    float
        Correct predictions over masked positions, pooled over the repeats.
    """
    import torch

    dev = next(encoder.parameters()).device
    gen = torch.Generator(device=dev).manual_seed(int(seed))
    was = encoder.training, objective.training
    encoder.eval()
    objective.eval()
    n_correct = n_targets = 0
    try:
        with torch.no_grad():
            x = tokens.to(dev)
            for _ in range(repeats):
                xc, tc = objective.corrupt(x, gen)
                _, met = objective.loss(encoder(xc), tc)
                n_correct += met["n_correct"]
                n_targets += met["n_targets"]
    finally:
        encoder.train(was[0])
        objective.train(was[1])
    return n_correct / n_targets if n_targets else float("nan")
