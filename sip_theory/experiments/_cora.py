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
   citations (:func:`~sip_theory.geometry.link_retrieval` with the known citations
   as ``exclude``, the filtered protocol) and of G_PT itself, 3-NN
   (:func:`~sip_theory.geometry.knn_probe` on the split) and linear-probe topic
   accuracy on the planetoid split, the paper's leave-one-out
   3-NN, and Theorem 1's check on G_PT (recovery margin, r*-NN accuracy beside LC).

:func:`select_lambda` chooses lambda_SI from label-free link-retrieval numbers
only. Beside this module (the task, its settings and specification, the graph
facts and the selection): :func:`~._cora_summary.summarize_cora` writes the tables and
figures, and :func:`~._cora_command.run_cora_case_study` (``sip-theory cora``)
does everything in one call.

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

import time
from collections.abc import Mapping, Sequence

import numpy as np

from ..graphs import EdgeSplit, split_edges
from ._runner import ExperimentSpec, register_task
from ._summary_tools import finite, lookup

__all__ = [
    "CORA_LAMBDAS",
    "CORA_SETTINGS",
    "cora_graph_report",
    "cora_spec",
    "cora_subset",
    "run_cora",
    "select_lambda",
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
    pt = split.pt_graph
    val_g = SampleGraph.from_edges(split.val_edges, n_nodes=n)
    # test ranking: every known citation (G_PT and validation) leaves the candidates;
    # validation ranking: only G_PT is known (the test edges stay unseen, as non-relevant)
    known_test = SampleGraph.from_edges(np.concatenate([pt.edges(), split.val_edges]),
                                        n_nodes=n)
    m = {
        "test_edges": _retrieval_dict(link_retrieval(
            emb, split.test_edges, exclude=known_test, ks=ks, metric=metric)),
        "val_edges": _retrieval_dict(link_retrieval(
            emb, val_g, exclude=pt, ks=ks, metric=metric)),
    }
    tr = link_retrieval(emb, pt, ks=ks, metric=metric)
    m["train_edges"] = _retrieval_dict(tr)
    topic = {}
    for name, q in (("test", ds.test_index), ("val", ds.val_index)):
        r = knn_probe(emb, labels, k=3, metric=metric, train_index=ds.train_index,
                      test_index=q)
        topic[f"knn3_{name}_accuracy"] = finite(r.accuracy)
        topic[f"knn3_{name}_auroc"] = finite(r.macro_auroc)
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
