"""``sip-theory pretrain``: SIPT on the user's own samples and graph, lambda chosen without labels.

:func:`plan_pretrain` checks every option against the data and splits the
links of each seed, before anything is trained or written; :func:`run_pretrain`
trains one encoder per (lambda_SI, seed), each an atomic, resumable unit, and
then writes the report (:mod:`._pretrain_report`). The command is in
:mod:`._pretrain_command`.

Protocol (the Cora study's, made generic)
-----------------------------------------
1. Per seed, hold out 10% of the links for test and 5% for validation with
   :func:`~sip_theory.graphs.split_edges` (``keep_every_node=True``: no node
   loses its last link, so every linked node still has a positive in G_PT);
   the encoder is trained on the rest, G_PT.
2. Train with L = (1 - lambda_SI) L_M + lambda_SI L_SI over G_PT
   (:class:`~sip_theory.models.SIPTTrainer`): an MLP with a feature objective
   for feature vectors, a transformer with masked-token LM for text; L_SI is the
   paper's contrastive margin loss with the chosen pair sampler.
3. Measure held-out link retrieval (filtered: the validation ranking excludes
   G_PT, the test ranking G_PT and the validation links) and pick lambda_SI
   with the largest mean validation LRAP over seeds (ties to the smaller
   lambda). No label and no test link enters the pick.
4. With labels, evaluate every embedding: leave-one-out 3-NN and a linear
   probe, LC of G_PT and Theorem 1's check (:func:`sip_theory.theory.check_theorem1`).

A ``raw`` row (the features themselves, or each text's token counts, cosine
distance, nothing trained) is measured on the same splits as the baseline.

Samplers
--------
``uniform`` (the paper: a uniform neighbour, a uniform non-neighbour),
``two-hop`` (SPECTER's hard negatives: nodes at graph distance 2 of G_PT) and
``knn-band`` (SciNCL: positives and negatives from two rank bands of a prior
space). SciNCL ranks in a citation-graph embedding; here the band space is the
**raw input features** (token counts for text), cosine distance, bands
``k_pos = [0, 5)`` and ``k_neg = [20, 40)`` by default: its positives are then
feature neighbours, linked or not, and the graph enters through the negatives
(never linked). :class:`~sip_theory.models.SIPTTrainer` takes any other space
as ``band_embedding``.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ._summary_tools import finite

__all__ = ["PRETRAIN_LAMBDAS", "PRETRAIN_SAMPLERS", "PRETRAIN_SETTINGS", "PretrainPlan",
           "plan_pretrain", "run_pretrain"]

_FORMAT = "sip_theory.pretrain/v1"

#: lambda_SI values tried by default (0 is the L_M-only arm).
PRETRAIN_LAMBDAS = (0.0, 0.01, 0.1, 0.5, 0.9)

#: ``--sampler`` name -> the trainer's pair strategies.
PRETRAIN_SAMPLERS = {
    "uniform": {"positives": "uniform", "negatives": "global"},
    "two-hop": {"positives": "uniform", "negatives": "two_hop"},
    "knn-band": {"positives": "knn_band", "negatives": "knn_band"},
}

#: Default settings (each section can be overridden; see :func:`plan_pretrain`).
PRETRAIN_SETTINGS = {
    "split": {"test_fraction": 0.10, "val_fraction": 0.05, "keep_every_node": True},
    "mlp": {"hidden_sizes": [256], "out_features": 64, "activation": "relu", "dropout": 0.1},
    "transformer": {"hidden_size": 64, "n_layers": 2, "n_heads": 4, "ffn_size": 128,
                    "dropout": 0.1, "attention_dropout": 0.1, "pooling": "cls"},
    "train": {"epochs": 40, "batch_size": 512, "lr": 1e-3, "weight_decay": 0.01,
              "si_loss": "contrastive",
              "si_loss_kwargs": {"pos_margin": 0.0, "neg_margin": 10.0, "reduction": "paper"}},
    "band": {"k_pos": [0, 5], "k_neg": [20, 40], "band_metric": "cosine"},
    "objective": {},
    "ks": [1, 10, 50],
}


def _seed_streams(seed: int) -> dict:
    """Independent integer seeds per random stream of a seed, from that seed only."""
    names = ("split", "init", "head", "train", "probe")
    kids = np.random.SeedSequence([int(seed), 20240415]).spawn(len(names))
    return {n: int(k.generate_state(1, dtype=np.uint32)[0])
            for n, k in zip(names, kids, strict=True)}


def arm_name(lam) -> str:
    """``"lambda0.1"`` for lambda_SI = 0.1; ``"raw"`` for None (the raw-feature row)."""
    return "raw" if lam is None else f"lambda{float(lam):g}"


@dataclasses.dataclass(frozen=True, eq=False)
class PretrainPlan:
    """Everything a run does, checked: the data, the settings and the split of each seed.

    Attributes
    ----------
    data : PretrainData
    config : dict
        JSON-safe: ``lambdas``, ``seeds``, ``encoder``, ``sampler``, ``objective``
        (name and options), ``raw`` and the settings sections.
    splits : dict of int to EdgeSplit
    """

    data: object
    config: dict
    splits: dict

    def units(self) -> list:
        """``(arm, lambda or None, seed)`` of every unit, seed-major."""
        out = []
        for s in self.config["seeds"]:
            if self.config["raw"]:
                out.append(("raw", None, s))
            out.extend((arm_name(lam), lam, s) for lam in self.config["lambdas"])
        return out

    def unit_key(self, lam, seed: int) -> str:
        """SHA-256 of what a unit's result depends on (the data, its settings, lambda, seed)."""
        from ._profiles import TRAINING_CODE_VERSION

        cfg = {k: v for k, v in self.config.items() if k not in ("lambdas", "seeds", "raw")}
        payload = {"format": _FORMAT, "code": TRAINING_CODE_VERSION,
                   "data": self.data.fingerprint(), "lambda_si": lam, "seed": int(seed),
                   "config": cfg if lam is not None else {"split": cfg["split"],
                                                          "ks": cfg["ks"]}}
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def _merge(overrides: Mapping | None) -> dict:
    out = copy.deepcopy(PRETRAIN_SETTINGS)
    for section, value in (overrides or {}).items():
        if section not in out:
            raise ValueError(f"settings has unknown section {section!r}; known: {sorted(out)}")
        if isinstance(out[section], dict):
            out[section].update(dict(value))
        else:
            out[section] = list(value)
    return out


def check_lambdas(lambdas) -> list:
    """The lambda_SI values as sorted distinct floats in [0, 1] (else ValueError naming --lambdas).

    Examples
    --------
    >>> check_lambdas([0.5, 0, 0.1])
    [0.0, 0.1, 0.5]
    """
    try:
        vals = [float(v) for v in lambdas]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"--lambdas must be numbers in [0, 1], got {lambdas!r}") from exc
    if not vals:
        raise ValueError("--lambdas must name at least one value")
    bad = [v for v in vals if not 0.0 <= v <= 1.0]
    if bad:
        raise ValueError(f"--lambdas values must lie in [0, 1], got {bad[0]:g}")
    if len(set(vals)) != len(vals):
        raise ValueError(f"--lambdas repeats a value: {vals}")
    return sorted(vals)


def plan_pretrain(data, *, lambdas: Sequence[float] = PRETRAIN_LAMBDAS, seeds=1,
                  encoder: str | None = None, sampler: str = "uniform",
                  objective: str | None = None, raw: bool = True,
                  settings: Mapping | None = None) -> PretrainPlan:
    """Check a run against its data and split the links of each seed (nothing is trained).

    Parameters
    ----------
    data : PretrainData
        From :func:`~._pretrain_data.load_pretrain_inputs` or
        :meth:`~._pretrain_data.PretrainData.from_arrays`.
    lambdas : sequence of float, default :data:`PRETRAIN_LAMBDAS`
    seeds : int or sequence of int, default 1
        An int n means seeds 0..n-1. Each seed has its own split, initialization
        and sampling streams, shared by every lambda (paired).
    encoder : {"mlp", "transformer"}, optional
        Default: ``"mlp"`` for features, ``"transformer"`` for text (the only
        pairings allowed).
    sampler : {"uniform", "two-hop", "knn-band"}, default "uniform"
    objective : str, optional
        A name registered in :mod:`._pretrain_objectives` (default ``"masked"``
        for features, ``"mlm"`` for text).
    raw : bool, default True
        Also measure the raw-feature baseline (skipped, and noted, when the data
        has no raw space).
    settings : mapping, optional
        Per-section updates of :data:`PRETRAIN_SETTINGS`, e.g.
        ``{"train": {"epochs": 2}}``; ``"objective"`` holds the objective's options.

    Returns
    -------
    PretrainPlan

    Raises
    ------
    ValueError
        A one-line message naming the option: lambdas outside [0, 1], an
        encoder that does not fit the data, an unknown sampler or objective, or
        a split that leaves no validation, test or G_PT link.

    Examples
    --------
    >>> from sip_theory.experiments._pretrain_data import PretrainData
    >>> rng = np.random.default_rng(0)
    >>> edges = [(i, (i + 1) % 30) for i in range(30)] + [(i, (i + 7) % 30) for i in range(30)]
    >>> d = PretrainData.from_arrays(rng.random((30, 5)), edges)
    >>> plan = plan_pretrain(d, lambdas=[0, 0.5], settings={"train": {"epochs": 1}})
    >>> [u[0] for u in plan.units()], plan.splits[0].val_edges.shape[0]
    (['raw', 'lambda0', 'lambda0.5'], 3)
    """
    from .._validation import check_one_of
    from ..graphs import split_edges
    from ._pretrain_objectives import get_objective

    lams = check_lambdas(lambdas)
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"--seeds must be >= 1, got {seeds}")
        seeds = list(range(int(seeds)))
    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise ValueError(f"--seeds must be distinct non-negative integers, got {seeds}")
    default_encoder = "mlp" if data.kind == "features" else "transformer"
    encoder = default_encoder if encoder is None else encoder
    check_one_of(encoder, ("mlp", "transformer"), name="--encoder")
    if encoder != default_encoder:
        raise ValueError(f"--encoder {encoder} needs "
                         f"{'text (--tokens)' if encoder == 'transformer' else 'feature vectors'}"
                         f", but FEATURES is {data.kind}")
    check_one_of(sampler, tuple(PRETRAIN_SAMPLERS), name="--sampler")
    if sampler == "knn-band" and data.raw is None:
        raise ValueError("--sampler knn-band ranks in the raw token counts, which would exceed "
                         "1 GiB for this text; use uniform or two-hop")
    obj_name, _ = get_objective(objective, data.kind)
    cfg = _merge(settings)
    band = cfg.pop("band")
    enc_settings = cfg.pop("mlp") if encoder == "mlp" else cfg.pop("transformer")
    cfg.pop("transformer" if encoder == "mlp" else "mlp")
    config = {"lambdas": lams, "seeds": seeds, "encoder": encoder, "sampler": sampler,
              "sampler_strategy": dict(PRETRAIN_SAMPLERS[sampler]),
              "objective": {"name": obj_name, "options": dict(cfg.pop("objective"))},
              "raw": bool(raw and data.raw is not None), "encoder_settings": enc_settings,
              "band": band if sampler == "knn-band" else None, **cfg}
    splits = {}
    for s in seeds:
        sp = split_edges(data.graph, seed=_seed_streams(s)["split"], **config["split"])
        for what, count in (("test", sp.test_edges.shape[0]), ("validation", sp.val_edges.shape[0]),
                            ("pre-training", sp.pt_graph.n_edges)):
            if count == 0:
                raise ValueError(
                    f"--graph: no {what} links are left after the split (seed {s}: "
                    f"{data.graph.n_edges} links, {sp.test_edges.shape[0]} test, "
                    f"{sp.val_edges.shape[0]} validation, {sp.pt_graph.n_edges} kept; a link "
                    "is held out only while both end points keep another); the label-free "
                    "choice of lambda needs held-out links")
        splits[s] = sp
    plan = PretrainPlan(data, config, splits)
    # build one model of the first seed now, so a bad encoder or objective option fails here
    _build_model(plan, seeds[0], torch_device="cpu")
    return plan


def _build_model(plan: PretrainPlan, seed: int, *, torch_device: str):
    """The encoder, objective and objective options of one seed (initialized from its streams)."""
    from ..models import MLPEncoder, TransformerConfig, TransformerEncoder
    from ._pretrain_objectives import get_objective

    data, cfg = plan.data, plan.config
    st = _seed_streams(seed)
    if cfg["encoder"] == "mlp":
        enc = MLPEncoder(data.inputs.shape[1], seed=st["init"], **cfg["encoder_settings"])
    else:
        tcfg = TransformerConfig(vocab_size=len(data.vocabulary), max_len=data.inputs.shape[1],
                                 **cfg["encoder_settings"])
        enc = TransformerEncoder(tcfg, seed=st["init"])
    _, factory = get_objective(cfg["objective"]["name"], data.kind)
    options = dict(cfg["objective"]["options"])
    if hasattr(factory, "defaults"):
        options = {**factory.defaults(data.inputs), **options}
    obj = factory(enc, data, seed=st["head"], **options)
    return enc, obj, options


def _train_unit(plan: PretrainPlan, lam: float, seed: int, *, device: str, progress: bool):
    """Train one (lambda, seed) unit; returns (float32 embeddings, record)."""
    import torch

    from ..models import SIPTTrainer

    cfg = plan.config
    split = plan.splits[seed]
    st = _seed_streams(seed)
    enc, obj, obj_options = _build_model(plan, seed, torch_device=device)
    band = cfg["band"] or {}
    strategy = cfg["sampler_strategy"]
    kw = {**cfg["train"], **strategy}
    if strategy["positives"] == "knn_band":
        kw["k_pos"] = tuple(band["k_pos"])
    if strategy["negatives"] == "knn_band":
        kw["k_neg"] = tuple(band["k_neg"])
        kw["band_metric"] = band["band_metric"]
    band_space = plan.data.raw if "knn_band" in strategy.values() and lam > 0 else None
    if band_space is None:
        kw.pop("band_metric", None)
    if lam == 0.0:  # no pairs are drawn: the strategy tables are not needed
        kw.update(positives="uniform", negatives="global")
        kw.pop("k_pos", None)
        kw.pop("k_neg", None)
    t0 = time.perf_counter()
    trainer = SIPTTrainer(enc, split.pt_graph, torch.from_numpy(plan.data.inputs), objective=obj,
                          lambda_si=float(lam), seed=st["train"], device=device,
                          progress=progress, band_embedding=band_space, **kw)
    t1 = time.perf_counter()
    hist = trainer.fit()
    t2 = time.perf_counter()
    emb = trainer.embed().numpy().astype(np.float32)
    keep = ("epoch", "step", "loss", "loss_m", "loss_si", "seconds", "n_anchors_without_pos")
    history = [{k: h.get(k) if k in ("epoch", "step") else finite(h.get(k)) for k in keep}
               for h in hist]
    record = {"trainer_config": trainer.config.to_dict(), "objective_options": obj_options,
              "objective": type(obj).__name__, "steps": int(trainer.step), "history": history,
              "timing": {"setup_s": t1 - t0, "train_s": t2 - t1}}
    return emb, record


def _unit_paths(out: Path, arm: str, seed: int):
    return out / "runs" / f"{arm}_seed{seed}.json", out / "embeddings" / f"{arm}_seed{seed}.npy"


def _sha256_array(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def _load_unit(out: Path, arm: str, seed: int, key: str, *, with_embedding: bool):
    """The stored record (and embeddings) of a finished unit with this key, else None."""
    rec_path, emb_path = _unit_paths(out, arm, seed)
    try:
        rec = json.loads(rec_path.read_text())
    except (OSError, ValueError):
        return None
    if rec.get("key") != key or rec.get("status") != "ok":
        return None
    if not with_embedding:
        return rec, None
    try:
        emb = np.load(emb_path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if _sha256_array(emb) != rec.get("embedding_sha256"):
        return None
    return rec, emb


def check_out_dir(out) -> Path:
    """``out`` as a Path; a one-line ValueError naming ``--out`` if it cannot hold results."""
    o = Path(os.fspath(out))
    if o.exists() and not o.is_dir():
        raise ValueError(f"--out {str(o)!r} is a file; it names the folder of the results")
    parent = o
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"--out {str(o)!r}: {str(parent)!r} is a file, not a folder")
    if not os.access(parent, os.W_OK):
        raise ValueError(f"--out {str(o)!r}: folder {str(parent)!r} is not writable")
    return o


def run_pretrain(plan: PretrainPlan, out_dir, *, device: str = "cpu", progress: bool = True,
                 resume: bool = True, labels_eval: bool = True) -> dict:
    """Train every unit of ``plan`` (skipping finished ones), then write the report.

    Files under ``out_dir``: ``runs/<arm>_seed<s>.json`` and
    ``embeddings/<arm>_seed<s>.npy`` per unit (embeddings written first, both
    atomically, so an interrupted run resumes at the unit it stopped in);
    then ``embeddings.npy`` (the chosen lambda, first seed, rows in input
    order), ``report.json``, ``summary.md`` and ``retrieval.png``
    (:func:`~._pretrain_report.write_pretrain_report`).

    Parameters
    ----------
    plan : PretrainPlan
    out_dir : path
    device : {"cpu", "cuda"}, default "cpu"
        Training and the distance sweeps of the measurements.
    progress : bool, default True
        A bar over the units and one over each unit's steps.
    resume : bool, default True
        Keep finished units whose key (data, settings, lambda, seed) matches.
    labels_eval : bool, default True
        Evaluate against the labels when the data has them.

    Returns
    -------
    dict
        The report (as written to ``report.json``).
    """
    from .._atomic import atomic_path, atomic_write_json
    from .._progress import auto_tqdm
    from ._lambda_selection import held_out_link_retrieval
    from ._pretrain_report import write_pretrain_report
    from ._runner import library_versions
    from ._summary_tools import cpu_seconds

    out = check_out_dir(out_dir)
    t0, cpu0 = time.perf_counter(), cpu_seconds()
    (out / "runs").mkdir(parents=True, exist_ok=True)
    (out / "embeddings").mkdir(parents=True, exist_ok=True)
    units = plan.units()
    results = {}
    n_resumed = n_trained = 0
    tqdm = auto_tqdm()
    bar = tqdm(total=len(units), desc="pretrain", disable=not progress, leave=False)
    ks = plan.config["ks"]
    for arm, lam, seed in units:
        bar.set_postfix_str(f"{arm} seed {seed}", refresh=True)
        key = plan.unit_key(lam, seed)
        got = _load_unit(out, arm, seed, key, with_embedding=lam is not None) if resume else None
        if got is not None:
            results[(arm, seed)] = got
            n_resumed += 1
            bar.update()
            continue
        split = plan.splits[seed]
        t_unit = time.perf_counter()
        if lam is None:
            emb, rec, metric = plan.data.raw, {"timing": {}}, "cosine"
        else:
            emb, rec = _train_unit(plan, lam, seed, device=device, progress=progress)
            metric = "euclidean"
            n_trained += 1
        t_m = time.perf_counter()
        rec["metrics"] = held_out_link_retrieval(emb, split, metric=metric, ks=ks, device=device)
        rec["timing"]["measure_s"] = time.perf_counter() - t_m
        rec["timing"]["unit_s"] = time.perf_counter() - t_unit
        rec.update(key=key, status="ok", arm=arm, lambda_si=lam, seed=int(seed), metric=metric,
                   device=device, versions=library_versions(),
                   split=split.to_dict(edges=False))
        if lam is not None:
            _, emb_path = _unit_paths(out, arm, seed)
            with atomic_path(emb_path) as tmp:
                with open(tmp, "wb") as fh:
                    np.save(fh, emb, allow_pickle=False)
            rec["embedding_sha256"] = _sha256_array(emb)
            rec["embedding_file"] = str(emb_path.relative_to(out))
        atomic_write_json(_unit_paths(out, arm, seed)[0], rec)
        results[(arm, seed)] = (rec, emb if lam is not None else None)
        bar.update()
    bar.close()
    run_info = {"n_units": len(units), "n_resumed": n_resumed, "n_trained": n_trained,
                "units_wall_s": time.perf_counter() - t0}
    return write_pretrain_report(plan, out, results, device=device, run_info=run_info,
                                 t0=t0, cpu0=cpu0, labels_eval=labels_eval)
