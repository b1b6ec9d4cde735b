"""The Cora case study: structure-inducing pre-training on real citations, theory beside data.

A sample is a paper's binary bag of words (1,433 words), G_PT is the citation
graph, the fine-tuning task is the paper's topic (7 classes, planetoid split).
Every run of the ``"cora"`` task (registered with the runner) does:

1. split the citations, from the run's seed alone: 10% *test* edges and 5%
   *validation* edges are removed; the encoder is pre-trained on the other 85%
   (G_PT). Both held-out sets are stored in the run record;
2. pre-train an MLP on the bag of words with
   L = (1 - lambda_SI) L_M + lambda_SI L_SI, where L_M is masked-feature
   reconstruction and L_SI the paper's contrastive margin loss over G_PT with the
   paper's pair sampler (arm ``raw`` trains nothing and measures the bag of words);
3. measure the final embeddings: link retrieval of the test and validation
   citations (:func:`heldout_link_retrieval`) and of G_PT itself, 3-NN and
   linear-probe topic accuracy on the planetoid split, the paper's leave-one-out
   3-NN, and Theorem 1's check on G_PT (recovery margin, r*-NN accuracy beside LC).

:func:`select_lambda` chooses lambda_SI from label-free link-retrieval numbers
only; :func:`summarize_cora` writes the tables and figures and
:func:`run_cora_case_study` (``sip-theory cora``) does everything in one call.

Settings (fixed before any run; never tuned on a topic label)
--------------------------------------------------------------
* encoder: ``MLPEncoder(1433, hidden_sizes=(256,), out_features=64, dropout=0.1)``;
* L_M: :class:`~sip_theory.models.MaskedFeatureReconstruction` hiding 15% of the
  words *present* in a paper (``scope="nonzero"``, the BERT rate) and scoring the
  reconstruction of the whole vector (``loss_on="all"``, binary cross-entropy).
  Scoring only the hidden entries would be degenerate with ``scope="nonzero"``
  (every target is 1), and hiding entries of the whole vector would mostly hide
  zeros, which the corrupted input cannot tell from absent words;
* L_SI: contrastive margin loss, unsquared Euclidean distance, mu+ = 0,
  mu- = 10, ``reduction="paper"`` (mean over positive pairs + mean over negative
  pairs); one uniform neighbour and one uniform non-neighbour per anchor per
  epoch, the masked anchor paired with unmasked partners (the paper's protocol);
* AdamW, lr 1e-3 (the paper's 3e-4 was for transformers; an MLP on 2,708
  samples trains in a CPU budget at 1e-3), weight decay 0.01, batches of 512
  anchors, 40 epochs: the per-sample loss L_M has flattened well before
  (checked on the training losses, not on any topic metric), and the 18 units
  of 3 seeds need about 370 CPU-seconds (two cores: about three minutes).

Held-out edges are absent from G_PT by construction; lambda_SI is chosen on the
validation citations (or, the paper's rule, on G_PT itself), never on the test
citations or on a topic label.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._atomic import atomic_write_json, atomic_write_text
from ..graphs import EdgeSplit, split_edges
from ._runner import ExperimentSpec, register_task, run_experiment
from ._summary_tools import cpu_seconds, finite, fmt_mean, lookup, mean_std, savefig_atomic

__all__ = [
    "CORA_LAMBDAS",
    "CORA_SETTINGS",
    "HeldoutRetrievalResult",
    "add_parser",
    "cora_graph_report",
    "cora_spec",
    "cora_subset",
    "heldout_link_retrieval",
    "run_cora",
    "run_cora_case_study",
    "select_lambda",
    "summarize_cora",
]

#: lambda_SI values of the case study (lambda = 0 is the L_M-only arm).
CORA_LAMBDAS = (0.0, 0.01, 0.1, 0.5, 0.9)

#: Fixed settings of the case study (see the module notes for the reasons).
CORA_SETTINGS = {
    "data": {"n_nodes": None},
    "split": {"test_fraction": 0.10, "val_fraction": 0.05},
    "encoder": {"hidden_sizes": [256], "out_features": 64, "activation": "relu",
                "dropout": 0.1},
    "objective": {"rate": 0.15, "scope": "nonzero", "loss_on": "all", "loss": "bce"},
    "train": {"epochs": 40, "batch_size": 512, "lr": 1e-3, "weight_decay": 0.01,
              "si_loss": "contrastive",
              "si_loss_kwargs": {"pos_margin": 0.0, "neg_margin": 10.0,
                                 "reduction": "paper"},
              "sampler": "paper"},
    "ks": [1, 10, 50],
}

#: Selection criteria: label-free link-retrieval metrics, by name.
SELECTION_CRITERIA = {
    "val_lrap": ("val_edges", "lrap"),
    "train_lrap": ("train_edges", "lrap"),
}


def _seed_streams(seed: int) -> dict:
    """Independent integer seeds per random stream of a run, from the run seed only."""
    names = ("split", "init", "head", "train", "probe", "permute")
    kids = np.random.SeedSequence([int(seed), 20231126]).spawn(len(names))
    return {n: int(k.generate_state(1, dtype=np.uint32)[0])
            for n, k in zip(names, kids, strict=True)}


# --------------------------------------------------------------------- held-out ranking
@dataclass(frozen=True, eq=False)
class HeldoutRetrievalResult:
    """Ranking of held-out edges among the candidates left after excluding known edges.

    Attributes
    ----------
    lrap, ndcg, mrr : float
        Means over the query nodes (every node with a held-out edge).
    ap_micro : float
        Average precision of the held-out edges among all candidate node pairs.
    precision_at, recall_at : dict[int, float]
    n_queries, n_heldout_edges, n_excluded_edges : int
    metric : str
    per_node : dict[str, ndarray]
        ``lrap``, ``ndcg``, ``reciprocal_rank`` per query node (NaN elsewhere).
    """

    lrap: float
    ndcg: float
    ap_micro: float
    mrr: float
    precision_at: dict
    recall_at: dict
    n_queries: int
    n_heldout_edges: int
    n_excluded_edges: int
    metric: str
    per_node: dict = field(repr=False, default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-friendly summary (NaN -> None).

        Examples
        --------
        >>> import numpy as np
        >>> r = heldout_link_retrieval(np.array([[0.0], [1.0], [5.0]]), [(0, 1)], ks=(1,))
        >>> r.to_dict()["lrap"], r.to_dict()["recall_at"]
        (1.0, {'1': 1.0})
        """
        return {
            "lrap": finite(self.lrap),
            "ndcg": finite(self.ndcg),
            "ap_micro": finite(self.ap_micro),
            "mrr": finite(self.mrr),
            "precision_at": {str(k): finite(v) for k, v in self.precision_at.items()},
            "recall_at": {str(k): finite(v) for k, v in self.recall_at.items()},
            "n_queries": self.n_queries,
            "n_heldout_edges": self.n_heldout_edges,
            "n_excluded_edges": self.n_excluded_edges,
            "metric": self.metric,
        }


def _as_array(embeddings) -> np.ndarray:
    try:
        import torch

        if isinstance(embeddings, torch.Tensor):
            embeddings = embeddings.detach().cpu().numpy()
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"embeddings must be 2-D (n, d), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("embeddings must be finite")
    return x


def heldout_link_retrieval(
    embeddings,
    heldout,
    *,
    known=None,
    ks: Sequence[int] = (1, 10, 50),
    metric: str = "euclidean",
    chunk_size: int | None = None,
) -> HeldoutRetrievalResult:
    """Link retrieval of held-out edges, with the known edges removed from the candidates.

    For every node i with a held-out edge, rank all other nodes except i's
    *known* neighbours by distance to i; the relevant ones are i's held-out
    neighbours. This is the "filtered" link-prediction protocol: a training
    citation is not counted against the model for being close.

    Parameters
    ----------
    embeddings : array-like or torch.Tensor of shape (n, d)
    heldout : SampleGraph, scipy sparse, networkx graph or (m, 2) edge array
        The held-out edges (the relevant items).
    known : same types, optional
        Edges excluded from the candidates (e.g. the pre-training graph); must
        share no edge with ``heldout``.
    ks : sequence of int, default (1, 10, 50)
        Cut-offs for P@k and R@k.
    metric : {"euclidean", "sqeuclidean", "cosine", "dot"}, default "euclidean"
    chunk_size : int, optional
        Query rows per distance block.

    Returns
    -------
    HeldoutRetrievalResult

    Raises
    ------
    ValueError
        Non-finite embeddings, graphs with another node count, an edge both held
        out and known, a k out of range, no held-out edge.

    Notes
    -----
    With candidates C(i) = V minus i and its known neighbours, relevant set
    R(i) (held-out neighbours), rank(j) = #{l in C(i) : d(i, l) <= d(i, j)} and
    L(j) = #{j' in R(i) : d(i, j') <= d(i, j)}, the per-node scores are those of
    :func:`sip_theory.geometry.link_retrieval` computed over C(i): LRAP_i =
    mean_j L(j) / rank(j) (pessimistic ties, as scikit-learn); nDCG with the gain
    of tied distances spread over their positions; RR_i = 1 / (1 + #closer
    candidates + #non-relevant candidates tied with the nearest relevant one);
    P@k and R@k over the k nearest candidates ordered by (distance, index). Micro
    AP ranks every candidate pair {i, j} (not known, i != j) by distance, relevant
    = held out. With ``known=None`` and ``heldout`` the whole graph, every number
    equals :func:`~sip_theory.geometry.link_retrieval`'s.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0], [10.0]])
    >>> r = heldout_link_retrieval(X, [(0, 2)], known=[(0, 1), (1, 2)], ks=(1,))
    >>> r.lrap, r.recall_at[1]
    (1.0, 1.0)
    >>> float(heldout_link_retrieval(X, [(0, 2)], ks=(1,)).lrap)
    0.5
    """
    from ..geometry import iter_distance_blocks
    from ..graphs import SampleGraph, as_sample_graph

    x = _as_array(embeddings)
    n = x.shape[0]
    h = as_sample_graph(heldout, n_nodes=n, name="heldout")
    kg = (SampleGraph.from_edges(np.zeros((0, 2), dtype=np.int64), n_nodes=n) if known is None
          else as_sample_graph(known, n_nodes=n, name="known"))
    if h.n_edges == 0:
        raise ValueError("heldout must have at least one edge")
    both = h.to_scipy().multiply(kg.to_scipy())
    if both.nnz:
        raise ValueError(f"heldout and known share {both.nnz // 2} edge(s); an edge cannot be "
                         "both relevant and excluded")
    ks = tuple(int(k) for k in ks)
    if any(k < 1 or k > n - 1 for k in ks):
        raise ValueError(f"ks must be integers in [1, {n - 1}], got {ks}")
    kmax = max(ks, default=1)

    deg_h = np.diff(h.indptr)
    queries = np.flatnonzero(deg_h > 0)
    cd = np.zeros(n + 1)
    cd[1:] = np.cumsum(1.0 / np.log2(np.arange(2, n + 2, dtype=np.float64)))
    per = {k: np.full(n, np.nan) for k in ("lrap", "ndcg", "reciprocal_rank")}
    hits = np.zeros((queries.size, kmax))
    # micro AP: held-out edge distances (thresholds) and pair counts below each
    he = h.edges()
    he_dist = np.empty(he.shape[0])
    pair_le = np.zeros(he.shape[0])
    edge_row = {}  # query node -> positions of its held-out edges (as the smaller endpoint)
    for pos, (a, _) in enumerate(he):
        edge_row.setdefault(int(a), []).append(pos)
    he_sorted = None
    block_rows = []
    for r0, r1, block in iter_distance_blocks(x, metric=metric, chunk_size=chunk_size,
                                              device="cpu", dtype="float64"):
        D = block.numpy().copy()
        rows = np.arange(r0, r1)
        # exclude self (already +inf) and the known neighbours
        for t, i in enumerate(rows):
            D[t, kg.indices[kg.indptr[i]:kg.indptr[i + 1]]] = np.inf
        block_rows.append((r0, r1))
        for t, i in enumerate(rows):
            for pos in edge_row.get(int(i), ()):
                he_dist[pos] = D[t, he[pos, 1]]
        # upper-triangle candidate pairs of this block, for micro AP (counted below)
        tri = D.copy()
        tri[np.arange(r1 - r0)[:, None] >= (np.arange(n)[None, :] - r0)] = np.inf
        if he_sorted is None:
            he_sorted = []
        he_sorted.append(np.sort(tri[np.isfinite(tri)]))
        qmask = deg_h[rows] > 0
        for t in np.flatnonzero(qmask):
            i = rows[t]
            d = D[t]
            rel = h.indices[h.indptr[i]:h.indptr[i + 1]]
            drel = d[rel]
            ds = np.sort(d)
            r_le = np.searchsorted(ds, drel, side="right").astype(np.float64)
            r_lt = np.searchsorted(ds, drel, side="left").astype(np.float64)
            srel = np.sort(drel)
            L = np.searchsorted(srel, drel, side="right")
            per["lrap"][i] = float(np.mean(L / r_le))
            gain = (cd[r_le.astype(np.int64)] - cd[r_lt.astype(np.int64)]) / (r_le - r_lt)
            per["ndcg"][i] = float(gain.sum() / cd[rel.size])
            dmin = srel[0]
            n_rel_tied = int(np.searchsorted(srel, dmin, side="right"))
            n_le = int(np.searchsorted(ds, dmin, side="right"))
            per["reciprocal_rank"][i] = 1.0 / (n_le - n_rel_tied + 1)
            top = np.argsort(d, kind="stable")[:kmax]
            q = int(np.searchsorted(queries, i))
            hits[q] = np.isin(top, rel)
    pairs = np.concatenate(he_sorted) if he_sorted else np.zeros(0)
    pairs.sort()
    pair_le = np.searchsorted(pairs, he_dist, side="right").astype(np.float64)
    tp_le = np.searchsorted(np.sort(he_dist), he_dist, side="right")
    ap_micro = float(np.mean(tp_le / pair_le))
    cum = np.cumsum(hits, axis=1)
    deg_q = deg_h[queries].astype(np.float64)
    prec = {k: float(np.mean(cum[:, k - 1] / k)) for k in ks}
    rec = {k: float(np.mean(cum[:, k - 1] / deg_q)) for k in ks}
    return HeldoutRetrievalResult(
        lrap=float(np.nanmean(per["lrap"][queries])),
        ndcg=float(np.nanmean(per["ndcg"][queries])),
        ap_micro=ap_micro,
        mrr=float(np.nanmean(per["reciprocal_rank"][queries])),
        precision_at=prec,
        recall_at=rec,
        n_queries=int(queries.size),
        n_heldout_edges=int(h.n_edges),
        n_excluded_edges=int(kg.n_edges),
        metric=metric,
        per_node=per,
    )


# ------------------------------------------------------------------------ graph facts
def cora_graph_report(dataset=None, *, ks: Sequence[int] = (7, 64),
                      smallest_nonvacuous: bool = True) -> dict:
    """What the theory says about the Cora topics on the citation graph, before any training.

    Parameters
    ----------
    dataset : CoraDataset, optional
        Default :func:`sip_theory.data.load_cora`.
    ks : sequence of int, default (7, 64)
        Embedding dimensions at which to evaluate the spectral probe bound
        (7 topics; 64 = the encoder's output size).
    smallest_nonvacuous : bool, default True
        Also find, from the full normalized-Laplacian spectrum (a dense
        eigendecomposition, about 10 s), the smallest k at which the spectral
        bound 2 phi / lambda_{k+1} falls below 1.

    Returns
    -------
    dict
        ``graph`` (sizes, connected components), ``lc`` (strict and random
        ties), the homophily family, ``spectral`` (one :class:`Bound` dict per k)
        and, if asked, ``smallest_nonvacuous_k`` with its bound value.

    Notes
    -----
    LC_G(y) is the r*-NN accuracy that Theorem 1 promises once the embedding's
    radius-r* graph *is* G (McDermott et al. 2023). The spectral bound (HaoChen
    et al. 2021) caps the degree-weighted error of a linear probe on the
    bottom-k eigenvectors by 2 phi / lambda_{k+1}; it is vacuous whenever G has
    more than k connected components (lambda_{k+1} = 0).

    Examples
    --------
    >>> rep = cora_graph_report(ks=(7,), smallest_nonvacuous=False)
    >>> round(rep["lc"]["strict"], 3), rep["spectral"]["7"]["vacuous"]
    (0.831, True)
    """
    from ..data import load_cora
    from ..theory import (
        edge_homophily,
        local_consistency,
        node_homophily,
        normalized_laplacian_spectrum,
        spectral_probe_bound,
    )

    ds = load_cora() if dataset is None else dataset
    g, y = ds.graph, ds.labels
    n_comp, comp = g.connected_components()
    sizes = np.bincount(comp)
    out = {
        "graph": {"n_nodes": int(g.n_nodes), "n_edges": int(g.n_edges),
                  "n_components": int(n_comp), "largest_component": int(sizes.max()),
                  "n_isolated": int((g.degrees() == 0).sum()),
                  "graph_hash": g.content_hash()},
        "lc": {"strict": float(local_consistency(g, y, ties="strict").value),
               "random": float(local_consistency(g, y, ties="random").value)},
        "edge_homophily": float(edge_homophily(g, y)),
        "node_homophily": float(node_homophily(g, y)),
        "class_sizes": np.bincount(y).tolist(),
        "spectral": {},
    }
    phi = None
    for k in ks:
        b = spectral_probe_bound(g, y, int(k))
        out["spectral"][str(int(k))] = b.to_dict()
        phi = b.details["phi"]
    if smallest_nonvacuous:
        if phi is None:
            phi = 1.0 - float(edge_homophily(g, y))
        ev = normalized_laplacian_spectrum(g)
        with np.errstate(divide="ignore"):
            bound = np.where(ev > 1e-12, 2.0 * phi / np.maximum(ev, 1e-300), np.inf)
        ok = np.flatnonzero(bound[1:] < 1.0)  # bound at k uses lambda_{k+1} = ev[k]
        if ok.size:
            k_star = int(ok[0]) + 1
            out["smallest_nonvacuous_k"] = {"k": k_star, "lambda_k_plus_1": float(ev[k_star]),
                                            "phi": float(phi),
                                            "bound": float(bound[k_star])}
        else:
            out["smallest_nonvacuous_k"] = None
    return out


# ------------------------------------------------------------------------------ the task
def _knn_split(emb, labels, ref_index, query_index, *, k, metric, n_classes):
    """The paper's distance-weighted k-NN vote of ``query_index`` among ``ref_index`` only."""
    from ..geometry import knn, macro_ovr_auroc, vote_proportions

    dist, idx = knn(emb[query_index], k, reference=emb[ref_index], metric=metric,
                    exclude_self=False)
    proba = vote_proportions(np.asarray(dist, dtype=np.float64),
                             labels[ref_index][np.asarray(idx)], n_classes, "distance")
    y = labels[query_index]
    return {"accuracy": float((proba.argmax(1) == y).mean()),
            "auroc": finite(macro_ovr_auroc(y, proba))}


def _retrieval_dict(r) -> dict:
    out = {"lrap": finite(r.lrap), "ndcg": finite(r.ndcg), "mrr": finite(r.mrr),
           "ap_micro": finite(r.ap_micro)}
    for k, v in r.precision_at.items():
        out[f"precision_at_{k}"] = finite(v)
    for k, v in r.recall_at.items():
        out[f"recall_at_{k}"] = finite(v)
    out["n_queries"] = int(r.n_queries)
    return out


def _measure(emb, ds, split: EdgeSplit, labels, *, metric: str, ks, seed: int) -> dict:
    """Every number of one run on embeddings ``emb`` (one row per paper)."""
    from ..geometry import knn_probe, linear_probe, link_retrieval, rankme
    from ..graphs import SampleGraph
    from ..theory import check_theorem1

    n = ds.n_samples
    n_classes = int(labels.max()) + 1
    pt = split.pt_graph
    val_g = SampleGraph.from_edges(split.val_edges, n_nodes=n)
    # test ranking: every known citation (G_PT and validation) leaves the candidates;
    # validation ranking: only G_PT is known (the test edges stay unseen, as non-relevant)
    known_test = SampleGraph.from_edges(np.concatenate([pt.edges(), split.val_edges]),
                                        n_nodes=n)
    m = {
        "test_edges": _retrieval_dict(heldout_link_retrieval(
            emb, split.test_edges, known=known_test, ks=ks, metric=metric)),
        "val_edges": _retrieval_dict(heldout_link_retrieval(
            emb, val_g, known=pt, ks=ks, metric=metric)),
    }
    tr = link_retrieval(emb, pt, ks=ks, metric=metric)
    m["train_edges"] = _retrieval_dict(tr)
    topic = {}
    for name, q in (("test", ds.test_index), ("val", ds.val_index)):
        r = _knn_split(emb, labels, ds.train_index, q, k=3, metric=metric, n_classes=n_classes)
        topic[f"knn3_{name}_accuracy"] = r["accuracy"]
        topic[f"knn3_{name}_auroc"] = r["auroc"]
        lin = linear_probe(emb, labels, train_index=ds.train_index, test_index=q, seed=seed)
        topic[f"linear_{name}_accuracy"] = finite(lin.accuracy)
        topic[f"linear_{name}_auroc"] = finite(lin.macro_auroc)
    loo = knn_probe(emb, labels, k=3, metric=metric)
    topic["knn3_loo_accuracy"] = finite(loo.accuracy)
    topic["knn3_loo_auroc"] = finite(loo.macro_auroc)
    m["topic"] = topic
    chk = check_theorem1(emb, pt, labels, metric=metric)
    m["theorem1"] = {
        "lc_pt": finite(chk.local_consistency),
        "rnn_accuracy": finite(chk.rnn_accuracy),
        "recovered": bool(chk.realized),
        "recovery_margin": finite(chk.recovery.margin),
        "best_f1": finite(chk.recovery.best_f1),
        "min_violations": int(chk.recovery.min_violations),
        "min_violation_fraction": finite(chk.recovery.min_violations / chk.recovery.n_pairs),
        "rnn_radius": finite(chk.radius),
        "max_linked": finite(chk.recovery.max_linked),
        "min_unlinked": finite(chk.recovery.min_unlinked),
    }
    m["geometry"] = {"rankme": finite(rankme(emb)),
                     "mean_norm": finite(np.linalg.norm(emb, axis=1).mean())}
    return m


def cora_subset(dataset, n_nodes: int, *, seed: int = 0):
    """A uniform random subset of ``n_nodes`` papers with their induced citations and split.

    For smoke tests and quick looks: the planetoid split is restricted to the
    kept papers and re-indexed.

    Parameters
    ----------
    dataset : CoraDataset
    n_nodes : int
        Papers kept (at most all of them).
    seed : int, default 0

    Returns
    -------
    CoraDataset

    Examples
    --------
    >>> from sip_theory.data import load_cora
    >>> sub = cora_subset(load_cora(), 500)
    >>> sub.features.shape, sub.graph.n_nodes, len(sub.train_index) > 0
    ((500, 1433), 500, True)
    """
    from .._validation import check_positive_int
    from ..data import CoraDataset

    n_nodes = check_positive_int(n_nodes, name="n_nodes")
    n = dataset.n_samples
    if n_nodes >= n:
        return dataset
    keep = np.sort(np.random.default_rng(seed).choice(n, size=n_nodes, replace=False))
    new_index = np.full(n, -1, dtype=np.int64)
    new_index[keep] = np.arange(n_nodes)

    def remap(idx):
        j = new_index[np.asarray(idx)]
        return j[j >= 0]

    return CoraDataset(features=dataset.features[keep], graph=dataset.graph.subgraph(keep),
                       labels=dataset.labels[keep], train_index=remap(dataset.train_index),
                       val_index=remap(dataset.val_index), test_index=remap(dataset.test_index))


def _cora_data(n_nodes=None):
    """The dataset (maybe subsampled) and its features as a dense float32 array."""
    from ..data import load_cora

    ds = load_cora()
    if n_nodes is not None:
        ds = cora_subset(ds, int(n_nodes))
    return ds, ds.features.toarray().astype(np.float32)


@register_task("cora")
def run_cora(run, *, device: str = "cpu") -> dict:
    """One arm and seed of the Cora case study (runner task).

    ``run.params``: ``lambda_si`` (the arm; ``None`` for the raw bag-of-words
    arm), ``features`` (``"learned"`` or ``"raw"``), ``data`` (``n_nodes``: a
    uniform subset of papers, for smoke tests), ``split``, ``encoder``,
    ``objective``, ``train`` (see :data:`CORA_SETTINGS`), ``ks`` (cut-offs of
    P@k/R@k) and ``permute_labels`` (a control: permute the topic labels with
    this seed before measuring; label-free numbers must not move).

    Returns
    -------
    dict
        ``metrics`` (``test_edges``, ``val_edges``, ``train_edges``, ``topic``,
        ``theorem1``, ``geometry``, ``training``, ``split``), ``split`` (the
        held-out edge lists and hashes), ``seeds``, ``history`` and ``timing``.
    """
    p = dict(run.params)
    seeds = _seed_streams(run.seed)
    t0 = time.perf_counter()
    data_opts = {**CORA_SETTINGS["data"], **dict(p.get("data", {}))}
    ds, X = _cora_data(data_opts.get("n_nodes"))
    labels = ds.labels.copy()
    if p.get("permute_labels") is not None:
        labels = np.random.default_rng(int(p["permute_labels"])).permutation(labels)
    sp_opts = {**CORA_SETTINGS["split"], **dict(p.get("split", {}))}
    split = split_edges(ds.graph, seed=seeds["split"], **sp_opts)
    ks = tuple(p.get("ks", CORA_SETTINGS["ks"]))
    out = {"split": split.to_dict(), "seeds": seeds,
           "graph_hash": ds.graph.content_hash()}
    history = []
    t_train = 0.0
    t1 = time.perf_counter()
    features = p.get("features", "learned")
    if features == "raw":
        emb = X.astype(np.float64)
        metric = "cosine"
    elif features == "learned":
        import torch

        from ..models import MaskedFeatureReconstruction, MLPEncoder, SIPTTrainer

        enc_opts = {**CORA_SETTINGS["encoder"], **dict(p.get("encoder", {}))}
        obj_opts = {**CORA_SETTINGS["objective"], **dict(p.get("objective", {}))}
        train = {**CORA_SETTINGS["train"], **dict(p.get("train", {}))}
        encoder = MLPEncoder(X.shape[1], seed=seeds["init"], **enc_opts)
        objective = MaskedFeatureReconstruction(encoder.embedding_dim, X.shape[1],
                                                seed=seeds["head"], **obj_opts)
        trainer = SIPTTrainer(encoder, split.pt_graph, torch.from_numpy(X), objective=objective,
                              lambda_si=float(p["lambda_si"]), seed=seeds["train"],
                              device=device, **train)
        hist = trainer.fit()
        t_train = time.perf_counter() - t1
        emb = trainer.embed().numpy().astype(np.float64)
        metric = "euclidean"
        keep = ("epoch", "step", "loss", "loss_m", "loss_si", "seconds")
        history = [{k: finite(h.get(k)) if k not in ("epoch", "step") else h.get(k)
                    for k in keep} for h in hist]
        last = hist[-1]
        out["trainer_config"] = trainer.config.to_dict()
        out["training"] = {"steps": int(trainer.step),
                           "n_anchors_without_pos": int(last["n_anchors_without_pos"])}
    else:
        raise ValueError(f"features must be 'learned' or 'raw', got {features!r}")
    t2 = time.perf_counter()
    metrics = _measure(emb, ds, split, labels, metric=metric, ks=ks, seed=seeds["probe"])
    last = history[-1] if history else {}
    metrics["training"] = {"final_loss_m": last.get("loss_m"),
                           "final_loss_si": last.get("loss_si"),
                           "train_seconds": t_train}
    metrics["split"] = {k: v for k, v in split.to_dict(edges=False).items()
                        if isinstance(v, (int, float))}
    out["metrics"] = metrics
    out["metric"] = metric
    out["history"] = history
    out["timing"] = {"data_s": t1 - t0,
                     "train_s": t_train, "measure_s": time.perf_counter() - t2}
    return out


# ------------------------------------------------------------------------- specification
def _arm_name(lam: float) -> str:
    return f"lambda{float(lam):g}"


def cora_spec(*, seeds=3, lambdas: Sequence[float] = CORA_LAMBDAS, raw: bool = True,
              overrides: Mapping | None = None, permute_labels: int | None = None,
              name: str = "cora") -> ExperimentSpec:
    """The case study as an :class:`ExperimentSpec`: one arm per lambda_SI plus the raw arm.

    Parameters
    ----------
    seeds : int or sequence of int, default 3
        An int n means seeds 0..n-1. All arms of a seed share the edge split,
        the encoder initialization and the sampling/masking streams (paired).
    lambdas : sequence of float, default :data:`CORA_LAMBDAS`
    raw : bool, default True
        Add the arm ``"raw"``: the bag of words itself, cosine distance, no training.
    overrides : mapping, optional
        Per-section updates of :data:`CORA_SETTINGS`, e.g.
        ``{"train": {"epochs": 2}, "encoder": {"hidden_sizes": [16]}}``.
    permute_labels : int, optional
        Measure against topic labels permuted with this seed (a control).
    name : str, default "cora"

    Returns
    -------
    ExperimentSpec

    Examples
    --------
    >>> spec = cora_spec(seeds=2)
    >>> list(spec.arms), spec.seeds
    (['lambda0', 'lambda0.01', 'lambda0.1', 'lambda0.5', 'lambda0.9', 'raw'], (0, 1))
    >>> spec.params["train"]["epochs"]
    40
    """
    seeds = tuple(range(int(seeds))) if isinstance(seeds, (int, np.integer)) else tuple(seeds)
    params = {}
    for section, value in CORA_SETTINGS.items():
        if isinstance(value, Mapping):
            params[section] = {**dict(value), **dict((overrides or {}).get(section, {}))}
        else:
            params[section] = list((overrides or {}).get(section, value))
    unknown = set(overrides or {}) - set(CORA_SETTINGS)
    if unknown:
        raise ValueError(f"overrides has unknown section(s) {sorted(unknown)}; "
                         f"known: {sorted(CORA_SETTINGS)}")
    params["features"] = "learned"
    params["permute_labels"] = None if permute_labels is None else int(permute_labels)
    lambdas = [float(lam) for lam in lambdas]
    if not lambdas or any(not 0.0 <= lam <= 1.0 for lam in lambdas):
        raise ValueError(f"lambdas must be a non-empty list of values in [0, 1], got {lambdas}")
    arms = {_arm_name(lam): {"lambda_si": lam} for lam in lambdas}
    if raw:
        arms["raw"] = {"features": "raw", "lambda_si": None}
    return ExperimentSpec(name, "cora", params=params, arms=arms, seeds=seeds)


# ------------------------------------------------------------------------------ selection
def select_lambda(records, *, criterion: str = "val_lrap") -> dict:
    """Choose lambda_SI from label-free link retrieval only.

    Parameters
    ----------
    records : list of dict
        Run records of the ``"cora"`` task (raw and failed runs are ignored).
    criterion : {"val_lrap", "train_lrap"}, default "val_lrap"
        ``"val_lrap"``: LRAP of the validation citations (held out from
        pre-training, ranked with G_PT excluded); ``"train_lrap"``: LRAP of G_PT
        itself (the paper's rule).

    Returns
    -------
    dict
        ``criterion``, ``metric`` (the path read), ``means`` (lambda -> mean over
        seeds), ``chosen_lambda`` (largest mean; ties go to the smaller lambda)
        and ``per_seed`` (seed -> the lambda that seed alone would choose).

    Notes
    -----
    Only ``metrics[<edge set>]["lrap"]`` and the configuration of each record
    are read; no topic label enters, so permuting the labels cannot change the
    choice. The test citations are never read.

    Examples
    --------
    >>> recs = [{"status": "ok", "config": {"seed": s, "params": {"features": "learned",
    ...          "lambda_si": lam}}, "metrics": {"val_edges": {"lrap": lam * (1 - lam)}}}
    ...         for s in (0, 1) for lam in (0.0, 0.1, 0.5, 0.9)]
    >>> select_lambda(recs)["chosen_lambda"]
    0.5
    """
    if criterion not in SELECTION_CRITERIA:
        raise ValueError(f"criterion must be one of {sorted(SELECTION_CRITERIA)}, "
                         f"got {criterion!r}")
    group, key = SELECTION_CRITERIA[criterion]
    path = f"{group}.{key}"
    by_lam: dict[float, dict[int, float]] = {}
    for rec in records:
        cfg = rec.get("config", {})
        params = cfg.get("params", {})
        if rec.get("status") != "ok" or params.get("features", "learned") != "learned":
            continue
        value = lookup(rec["metrics"], path.split("."))
        if value is None:
            continue
        by_lam.setdefault(float(params["lambda_si"]), {})[int(cfg["seed"])] = float(value)
    if not by_lam:
        raise ValueError("records must contain at least one finished learned-feature run")
    lams = sorted(by_lam)
    means = {lam: float(np.mean(list(by_lam[lam].values()))) for lam in lams}
    chosen = max(lams, key=lambda lam: (means[lam], -lam))
    seeds = sorted({s for v in by_lam.values() for s in v})
    per_seed = {}
    for s in seeds:
        cand = [lam for lam in lams if s in by_lam[lam]]
        per_seed[s] = max(cand, key=lambda lam: (by_lam[lam][s], -lam))
    return {"criterion": criterion, "metric": path, "means": means, "chosen_lambda": chosen,
            "per_seed": per_seed}


# -------------------------------------------------------------------------------- summary
#: Rows of the summary table: (metric path, label).
TABLE_ROWS = (
    ("test_edges.lrap", "test citations: LRAP"),
    ("test_edges.mrr", "test citations: MRR"),
    ("test_edges.ndcg", "test citations: nDCG"),
    ("test_edges.recall_at_10", "test citations: R@10"),
    ("test_edges.ap_micro", "test citations: micro AP"),
    ("val_edges.lrap", "validation citations: LRAP (selection)"),
    ("train_edges.lrap", "G_PT citations: LRAP (paper's rule)"),
    ("topic.knn3_test_accuracy", "3-NN topic accuracy, test"),
    ("topic.knn3_test_auroc", "3-NN topic macro AUROC, test"),
    ("topic.knn3_val_accuracy", "3-NN topic accuracy, val"),
    ("topic.linear_test_accuracy", "linear probe accuracy, test"),
    ("topic.linear_val_accuracy", "linear probe accuracy, val"),
    ("topic.knn3_loo_accuracy", "leave-one-out 3-NN accuracy, all papers"),
    ("theorem1.lc_pt", "LC of the topics on G_PT"),
    ("theorem1.rnn_accuracy", "r*-NN accuracy (best-F1 radius)"),
    ("theorem1.best_f1", "best F1 of a radius graph vs G_PT"),
    ("theorem1.recovery_margin", "recovery margin (distance units of the arm)"),
    ("geometry.rankme", "RankMe (effective rank)"),
    ("training.final_loss_m", "final L_M"),
)

#: Metrics whose paired change against lambda = 0 is tabulated.
GAIN_ROWS = ("test_edges.lrap", "test_edges.mrr", "val_edges.lrap", "topic.knn3_test_accuracy",
             "topic.linear_test_accuracy", "topic.knn3_loo_accuracy", "theorem1.rnn_accuracy")

#: Fine-tuning metrics reported for the selected lambda.
FT_METRICS = ("topic.knn3_test_accuracy", "topic.linear_test_accuracy",
              "topic.knn3_val_accuracy", "topic.linear_val_accuracy")


def _arm_order(records) -> list:
    arms = {}
    for rec in records:
        p = rec["config"]["params"]
        lam = p.get("lambda_si")
        key = (1, 0.0) if p.get("features") == "raw" else (0, float(lam))
        arms[rec["config"]["arm"]] = key
    return sorted(arms, key=arms.get)


def _aggregate(records) -> dict:
    from ._runner import _flatten_metrics

    arms = {}
    for rec in records:
        if rec.get("status") != "ok":
            continue
        cfg = rec["config"]
        a = arms.setdefault(cfg["arm"], {"lambda": cfg["params"].get("lambda_si"),
                                         "features": cfg["params"].get("features", "learned"),
                                         "values": {}})
        for path, value in _flatten_metrics(rec["metrics"]):
            a["values"].setdefault(path, {})[int(cfg["seed"])] = value
    out = {}
    for arm in _arm_order([r for r in records if r.get("status") == "ok"]):
        a = arms[arm]
        out[arm] = {"lambda": a["lambda"], "features": a["features"], "metrics": {}}
        for path, by_seed in sorted(a["values"].items()):
            seeds = sorted(by_seed)
            out[arm]["metrics"][path] = {**mean_std([by_seed[s] for s in seeds]),
                                         "seeds": seeds,
                                         "values": [by_seed[s] for s in seeds]}
    return out


def _paired(agg, base: str = "lambda0") -> dict:
    if base not in agg:
        return {}
    out = {}
    for arm, a in agg.items():
        if arm == base:
            continue
        out[arm] = {}
        for path in GAIN_ROWS:
            mine, ref = a["metrics"].get(path), agg[base]["metrics"].get(path)
            if not mine or not ref:
                continue
            rv = dict(zip(ref["seeds"], ref["values"], strict=True))
            diffs = [v - rv[s] for s, v in zip(mine["seeds"], mine["values"], strict=True)
                     if s in rv]
            out[arm][path] = {**mean_std(diffs), "values": diffs,
                              "n_positive": int(sum(d > 0 for d in diffs))}
    return out


def _selection_report(records, agg) -> dict:
    out = {}
    for criterion in SELECTION_CRITERIA:
        sel = select_lambda(records, criterion=criterion)
        arm = _arm_name(sel["chosen_lambda"])
        ft = {path: {k: agg[arm]["metrics"][path][k] for k in ("mean", "std", "n")}
              for path in FT_METRICS if path in agg[arm]["metrics"]}
        per_seed_ft = {}
        for path in FT_METRICS:
            vals = []
            for s, lam in sel["per_seed"].items():
                m = agg[_arm_name(lam)]["metrics"].get(path)
                if m and s in m["seeds"]:
                    vals.append(m["values"][m["seeds"].index(s)])
            per_seed_ft[path] = mean_std(vals)
        out[criterion] = {
            **{k: v for k, v in sel.items() if k != "means"},
            "means": {f"{lam:g}": v for lam, v in sel["means"].items()},
            "per_seed": {str(s): lam for s, lam in sel["per_seed"].items()},
            "chosen_arm": arm,
            "finetuning": ft,
            "finetuning_per_seed_choice": per_seed_ft,
        }
    # for reference only: the lambda a *labelled* test set would pick (not a valid selection)
    learned = [a for a in agg if agg[a]["features"] == "learned"]
    key = "topic.knn3_test_accuracy"
    best = max(learned, key=lambda a: (agg[a]["metrics"][key]["mean"], -agg[a]["lambda"]))
    out["oracle_test_knn3"] = {"chosen_lambda": agg[best]["lambda"], "chosen_arm": best,
                               "note": "picked on test labels; a ceiling, not a valid choice",
                               key: {k: agg[best]["metrics"][key][k]
                                     for k in ("mean", "std", "n")}}
    return out


def _fmt(m, digits=3) -> str:
    """``mean ± std`` of a :func:`mean_std` dict; n/a when it is empty or has no mean."""
    if not m or m.get("mean") is None:
        return "n/a"
    return fmt_mean(m["mean"], m["std"], digits)


def _arm_label(agg, arm) -> str:
    a = agg[arm]
    return "raw (cosine)" if a["features"] == "raw" else f"λ={a['lambda']:g}"


def _table_md(agg) -> str:
    arms = list(agg)
    head = "| metric | " + " | ".join(_arm_label(agg, a) for a in arms) + " |"
    lines = [head, "|---|" + "---|" * len(arms)]
    for path, label in TABLE_ROWS:
        cells = [_fmt(agg[a]["metrics"].get(path)) for a in arms]
        if all(c == "n/a" for c in cells):
            continue
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    n = max((m["n"] for a in arms for m in agg[a]["metrics"].values()), default=0)
    lines.append("")
    lines.append(f"Mean ± population standard deviation (ddof = 0) over {n} seeds; "
                 "n/a: not defined for that arm.")
    return "\n".join(lines) + "\n"


def _gain_md(agg, paired, base: str = "lambda0") -> str:
    if not paired:
        return ""
    arms = [a for a in paired if agg[a]["features"] == "learned"] + \
           [a for a in paired if agg[a]["features"] == "raw"]
    head = (f"| change vs {_arm_label(agg, base)} (paired by seed) | "
            + " | ".join(_arm_label(agg, a) for a in arms) + " |")
    lines = [head, "|---|" + "---|" * len(arms)]
    labels = dict(TABLE_ROWS)
    for path in GAIN_ROWS:
        cells = []
        for a in arms:
            m = paired[a].get(path)
            cells.append("n/a" if not m or m["mean"] is None else
                         f"{m['mean']:+.3f} ± {m['std']:.3f} ({m['n_positive']}/{m['n']} up)")
        lines.append(f"| {labels.get(path, path)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _selection_md(sel) -> str:
    lines = ["| criterion (label-free) | chosen λ | 3-NN test accuracy | linear test accuracy "
             "| per-seed choices | 3-NN test acc. of per-seed choices |",
             "|---|---|---|---|---|---|"]
    names = {"val_lrap": "LRAP of validation citations (held out from pre-training)",
             "train_lrap": "LRAP of G_PT's own citations (the paper's rule)"}
    for crit in SELECTION_CRITERIA:
        s = sel[crit]
        ft = s["finetuning"]
        choices = ", ".join(f"{v:g}" for v in s["per_seed"].values())
        lines.append(f"| {names[crit]} | {s['chosen_lambda']:g} | "
                     f"{_fmt(ft.get('topic.knn3_test_accuracy'))} | "
                     f"{_fmt(ft.get('topic.linear_test_accuracy'))} | {choices} | "
                     f"{_fmt(s['finetuning_per_seed_choice']['topic.knn3_test_accuracy'])} |")
    o = sel["oracle_test_knn3"]
    lines.append(f"| *(reference, not valid: best on test labels)* | {o['chosen_lambda']:g} | "
                 f"{_fmt(o['topic.knn3_test_accuracy'])} | | | |")
    return "\n".join(lines) + "\n"


def plot_cora_lambda(agg, selection, path) -> None:
    """Metric vs lambda_SI with the spread over seeds; raw-feature baseline as a band."""
    from matplotlib.figure import Figure

    learned = [a for a in agg if agg[a]["features"] == "learned"]
    raw = [a for a in agg if agg[a]["features"] == "raw"]
    xs = np.arange(len(learned))
    panels = [
        ("test_edges.lrap", "held-out test citations: LRAP"),
        ("val_edges.lrap", "validation citations: LRAP\n(selection criterion)"),
        ("train_edges.lrap", "G_PT citations: LRAP"),
        ("topic.knn3_test_accuracy", "3-NN topic accuracy (test)"),
        ("topic.linear_test_accuracy", "linear-probe topic accuracy (test)"),
        ("theorem1.rnn_accuracy", "r*-NN accuracy vs LC on G_PT"),
    ]
    fig = Figure(figsize=(13, 7.2))
    axes = fig.subplots(2, 3)
    chosen = selection["val_lrap"]["chosen_arm"]
    for ax, (metric, title) in zip(axes.ravel(), panels, strict=True):
        means = np.array([agg[a]["metrics"][metric]["mean"] for a in learned], dtype=float)
        stds = np.array([agg[a]["metrics"][metric]["std"] for a in learned], dtype=float)
        ax.fill_between(xs, means - stds, means + stds, color="C0", alpha=0.2, lw=0)
        ax.plot(xs, means, "o-", color="C0", label="SIPT (mean ± std)")
        for i, a in enumerate(learned):
            ax.scatter(np.full(len(agg[a]["metrics"][metric]["values"]), i),
                       agg[a]["metrics"][metric]["values"], s=9, color="k", alpha=0.5,
                       zorder=3)
        for a in raw:
            m = agg[a]["metrics"].get(metric)
            if m and m["mean"] is not None:
                ax.axhline(m["mean"], color="C3", ls="--", label="raw bag of words (cosine)")
                ax.axhspan(m["mean"] - m["std"], m["mean"] + m["std"], color="C3", alpha=0.12)
        if metric == "theorem1.rnn_accuracy":
            lc = np.array([agg[a]["metrics"]["theorem1.lc_pt"]["mean"] for a in learned])
            ax.plot(xs, lc, "s:", color="C2", label="LC of topics on G_PT")
        if chosen in learned:
            ax.axvline(learned.index(chosen), color="C1", lw=1, alpha=0.7,
                       label="λ chosen on validation LRAP")
        ax.set_xticks(xs, [f"{agg[a]['lambda']:g}" for a in learned])
        ax.set_xlabel("λ_SI")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    handles, labels = [], []
    for ax in axes.ravel():
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9,
               bbox_to_anchor=(0.5, -0.02))
    fig.suptitle("Cora: structure-inducing pre-training vs λ_SI "
                 f"({max(m['n'] for m in agg[learned[0]]['metrics'].values())} seeds)")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    savefig_atomic(fig, path)


def plot_cora_theorem1(agg, path) -> None:
    """Theorem 1's hypothesis (recovery) and its two sides, per arm."""
    from matplotlib.figure import Figure

    arms = list(agg)
    xs = np.arange(len(arms))
    fig = Figure(figsize=(10, 3.6))
    ax1, ax2 = fig.subplots(1, 2)
    m = [agg[a]["metrics"]["theorem1.best_f1"] for a in arms]
    ax1.errorbar(xs, [v["mean"] for v in m], yerr=[v["std"] for v in m], fmt="o-",
                 color="C0", capsize=3, label="best F1 of a radius graph vs G_PT")
    ax1.axhline(1.0, color="k", lw=0.8, ls=":", label="exact recovery (F1 = 1)")
    ax1.set_ylim(0, 1.05)
    ax1.set_title("hypothesis: is G_PT a radius graph of the embedding?", fontsize=10)
    for metric, label, color in (("theorem1.lc_pt", "LC of topics on G_PT (prediction)", "C2"),
                                 ("theorem1.rnn_accuracy", "r*-NN accuracy (measured)", "C0"),
                                 ("topic.knn3_loo_accuracy", "leave-one-out 3-NN accuracy",
                                  "C1")):
        m = [agg[a]["metrics"][metric] for a in arms]
        ax2.errorbar(xs, [v["mean"] for v in m], yerr=[v["std"] for v in m], fmt="o-",
                     color=color, capsize=3, label=label)
    ax2.set_title("Theorem 1's identity (holds only under exact recovery)", fontsize=10)
    for ax in (ax1, ax2):
        ax.set_xticks(xs, [_arm_label(agg, a) for a in arms], fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    savefig_atomic(fig, path)


def _load_run_records(exp_dir: Path) -> list:
    import json

    recs = []
    for f in sorted((exp_dir / "runs").glob("*.json")):
        if f.name.endswith(".failed.json"):
            continue
        recs.append(json.loads(f.read_text()))
    return recs


def _settings(records) -> dict:
    for rec in records:
        params = dict(rec["config"]["params"])
        if params.get("features", "learned") == "learned":
            params.pop("lambda_si", None)
            return params
    return {}


def summarize_cora(exp_dir, *, records=None, graph_report=None, run_info=None) -> dict:
    """Write the summary of a finished case study into ``exp_dir`` (atomically).

    Files: ``summary.json`` (every metric of every arm: mean, population std,
    per-seed values; paired changes against lambda = 0 and against the raw
    bag of words; both label-free
    selections with the fine-tuning accuracy of their choice; the graph report;
    the run information), ``table.md``, ``gains.md``, ``selection.md``,
    ``table.csv`` and the figures ``lambda.png`` and ``theorem1.png``.

    Parameters
    ----------
    exp_dir : str or path-like
        The experiment directory (``<out>/cora``) holding ``runs/``.
    records : list of dict, optional
        Default: every finished record under ``exp_dir/runs``.
    graph_report : dict, optional
        From :func:`cora_graph_report`; stored as given.
    run_info : dict, optional
        Wall time, machine load, jobs... stored as given.

    Returns
    -------
    dict
        The content of ``summary.json``.
    """
    import csv
    import io

    exp_dir = Path(os.fspath(exp_dir))
    if records is None:
        records = _load_run_records(exp_dir)
    records = [r for r in records if r.get("status") == "ok"]
    if not records:
        raise ValueError(f"no finished runs under {exp_dir}")
    agg = _aggregate(records)
    paired = _paired(agg)
    paired_raw = _paired(agg, base="raw")
    sel = _selection_report(records, agg)
    summary = {"arms": agg, "paired_vs_lambda0": paired, "paired_vs_raw": paired_raw,
               "selection": sel,
               "graph": graph_report, "run": run_info or {},
               "settings": _settings(records)}
    atomic_write_json(exp_dir / "summary.json", summary)
    atomic_write_text(exp_dir / "table.md", _table_md(agg))
    atomic_write_text(exp_dir / "gains.md", _gain_md(agg, paired) + "\n"
                      + _gain_md(agg, paired_raw, base="raw"))
    atomic_write_text(exp_dir / "selection.md", _selection_md(sel))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["arm", "lambda_si", "metric", "mean", "std", "n"])
    for arm, a in agg.items():
        for path, m in a["metrics"].items():
            w.writerow([arm, "" if a["lambda"] is None else a["lambda"], path,
                        repr(m["mean"]), repr(m["std"]), m["n"]])
    atomic_write_text(exp_dir / "table.csv", buf.getvalue())
    plot_cora_lambda(agg, sel, exp_dir / "lambda.png")
    plot_cora_theorem1(agg, exp_dir / "theorem1.png")
    return summary


# ---------------------------------------------------------------------------- one command
def run_cora_case_study(out_dir="experiments/results", *, seeds=3, jobs: int = 1,
                        device: str = "cpu", epochs: int | None = None, resume: bool = True,
                        progress: bool = True, overrides: Mapping | None = None,
                        n_nodes: int | None = None, torch_threads: int | None = 1,
                        graph_report: bool = True, spectral_ks: Sequence[int] = (7, 64)) -> dict:
    """Run the whole case study and write its results under ``out_dir/cora/``.

    Parameters
    ----------
    out_dir : str or path-like, default "experiments/results"
    seeds : int or sequence of int, default 3
    jobs : int, default 1
        Worker processes (each runs one (arm, seed) unit with one torch thread).
    device : {"cpu", "cuda"}
    epochs : int, optional
        Override the number of pre-training epochs (default 40).
    resume : bool, default True
        Keep finished runs with the same configuration.
    progress : bool
    overrides : mapping, optional
        As in :func:`cora_spec`.
    n_nodes : int, optional
        Use a uniform subset of this many papers (:func:`cora_subset`; smoke tests).
    torch_threads : int or None, default 1
        torch threads per unit (one per worker avoids oversubscribing shared
        cores; None leaves torch's default).
    graph_report : bool, default True
        Compute :func:`cora_graph_report` (about 20 s).
    spectral_ks : sequence of int
        Passed to :func:`cora_graph_report`.

    Returns
    -------
    dict
        The summary (see :func:`summarize_cora`). When every unit was resumed,
        ``summary["run"]`` keeps the timing of the invocation that computed them
        and describes this one under ``"resumed_invocation"``.
    """
    import platform

    from ._runner import library_versions

    t0 = time.perf_counter()
    cpu0 = cpu_seconds()
    load0 = os.getloadavg()
    ov = {k: dict(v) if isinstance(v, Mapping) else list(v)
          for k, v in (overrides or {}).items()}
    if epochs is not None:
        ov.setdefault("train", {})["epochs"] = int(epochs)
    if n_nodes is not None:
        ov.setdefault("data", {})["n_nodes"] = int(n_nodes)
    spec = cora_spec(seeds=seeds, overrides=ov)
    records = run_experiment(spec, out_dir, jobs=jobs, device=device, resume=resume,
                             progress=progress, torch_threads=torch_threads)
    t_runs = time.perf_counter() - t0
    rep = None
    if graph_report:
        from ..data import load_cora

        ds = load_cora() if n_nodes is None else cora_subset(load_cora(), int(n_nodes))
        rep = cora_graph_report(ds, ks=spectral_ks)
    load1 = os.getloadavg()
    cpu1 = cpu_seconds()
    info = {
        "wall_time_s": time.perf_counter() - t0,
        "cpu_time_s": None if cpu0 is None else cpu1 - cpu0,
        "runs_wall_time_s": t_runs,
        "n_runs": len(records),
        "n_resumed": sum(bool(r.get("resumed")) for r in records),
        "run_seconds": [r.get("wall_time_s") for r in records],
        "jobs": int(jobs),
        "torch_threads": torch_threads,
        "device": device,
        "cpu_count": os.cpu_count(),
        "loadavg_start": list(load0),
        "loadavg_end": list(load1),
        "platform": platform.platform(),
        "versions": library_versions(),
    }
    exp_dir = Path(os.fspath(out_dir)) / spec.name
    if info["n_resumed"] == info["n_runs"]:
        # nothing was computed: keep the description of the run that computed the results
        try:
            import json

            previous = json.loads((exp_dir / "summary.json").read_text()).get("run") or {}
        except (OSError, ValueError):
            previous = {}
        if previous.get("n_resumed", 0) < previous.get("n_runs", 0):
            previous.pop("resumed_invocation", None)
            info = {**previous, "resumed_invocation": info}
    return summarize_cora(exp_dir, records=records, graph_report=rep, run_info=info)


def add_parser(subparsers) -> None:
    """Register ``sip-theory cora``."""
    p = subparsers.add_parser(
        "cora", help="the Cora case study: SIPT on real citations, theory beside measurement",
        description="Pre-train an MLP on Cora's bag of words with (1-λ) L_M + λ L_SI over "
        "the citations (10% test and 5% validation citations held out), for λ in "
        f"{', '.join(f'{lam:g}' for lam in CORA_LAMBDAS)}, and report held-out link "
        "retrieval, topic accuracy on the planetoid split, LC, the spectral bound, Theorem "
        "1's check, the raw bag-of-words baseline and the label-free choice of λ. Results "
        "go to OUT/cora/.")
    p.add_argument("--out", default="experiments/results",
                   help="parent directory of the results (default: experiments/results)")
    p.add_argument("--seeds", type=int, default=3, help="number of seeds (default 3)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--epochs", type=int, default=None,
                   help=f"pre-training epochs (default {CORA_SETTINGS['train']['epochs']})")
    p.add_argument("--n-nodes", type=int, default=None,
                   help="use a uniform subset of this many papers (quick smoke runs)")
    p.add_argument("--no-graph-report", action="store_true",
                   help="skip LC and the spectral bound of the topics (about 20 s)")
    p.add_argument("--no-resume", action="store_true", help="recompute finished runs")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_main)


def _main(args) -> int:
    if args.seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {args.seeds}")
    summary = run_cora_case_study(args.out, seeds=args.seeds, jobs=args.jobs,
                                  device=args.device, epochs=args.epochs,
                                  n_nodes=args.n_nodes, graph_report=not args.no_graph_report,
                                  resume=not args.no_resume, progress=not args.quiet)
    exp = Path(args.out) / "cora"
    print((exp / "table.md").read_text())
    print((exp / "selection.md").read_text())
    info = summary["run"].get("resumed_invocation", summary["run"])
    print(f"wall time {info['wall_time_s']:.1f} s ({info['n_runs']} runs, "
          f"{info['n_resumed']} resumed, jobs={info['jobs']}); load average "
          f"{info['loadavg_start'][0]:.2f} -> {info['loadavg_end'][0]:.2f} on "
          f"{info['cpu_count']} CPUs; results in {exp}/")
    return 0
