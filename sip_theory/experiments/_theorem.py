"""The theorem in action: pre-training runs that reach Theorem 1's premise, measured along the way.

The paper's Fig. 5a is a reproduction; this experiment is a *validation* of
the mechanism. Every run records, at checkpoints during training, how far its
embedding is from realizing G_PT as a radius graph and what the radius vote
then does, next to LC, so that the premise and the conclusion of Theorem 1
can be read off side by side:

* the premise: the recovery margin (smallest non-edge distance minus largest
  edge distance), the number of violating pairs at the radius with the fewest,
  the nodes they touch, and the best-F1 radius graph's F1;
* the conclusion: the radius vote's accuracy at that radius minus LC, which
  :func:`sip_theory.theory.robust_theorem1` proves lies in [-A/n', B/n'] and
  within +-T/n' (T = evaluated nodes touched by a violating pair); at a
  realization it is exactly 0;
* beside them: leave-one-out 3-NN accuracy (the paper's protocol, distance
  weighted) and 1-NN accuracy, which Theorem 1 does not bound, and the
  masked-token accuracy (what reaching the premise costs L_M).

Design (decided from the issue and from cost before any run of this experiment)
-------------------------------------------------------------------------------
* Graphs: CLIQUES (p = 0, 50 PT nodes, 10 topics), PLANE (100 PT nodes,
  r = 0.15) and the mechanistic cycle + graphlets with text following MOTIF
  (label sets MOTIF, NEIGHBORHOOD and STRUCTURAL: STRUCTURAL has low LC, so the
  identity shows the theorem's negative side too). Paper sizes, generated as
  in the reproduction (:func:`sip_theory.data.make_synthetic_dataset`).
* lambda_SI in {0, 0.1, 0.5, 0.9, 1.0} (the arms); attention dropout 0.1 (the
  official code's) and 0 (two experiments per graph); seeds 0-9, paired:
  seed s fixes the data, text, initialization and sampling of every arm.
* Cheap enough for 2 CPU cores: the tiny encoder (hidden 10), full-batch steps
  and the quick profile's word text (16 word tokens; the character text of the
  paper profile costs ~15x more per step), AdamW lr 3e-3 with weight decay 0.01
  as in the quick profile, the paper's loss (contrastive margin, mu+ = 0,
  mu- = 10, unsquared Euclidean, one positive and one negative per anchor).
* Schedule: :data:`THEOREM_SCHEDULE`, 2000 full-batch steps, fixed from a pilot
  on seed 100 (not one of the experiment's seeds) that looked at the training
  loss only: the step count by which L_SI of the lambda = 0.5 arm had reached
  its level (see ``THEOREM_SCHEDULE["why"]``).
* Checkpoints: step 0 and 10 evenly spaced steps up to the end.
"""

from __future__ import annotations

import time

import numpy as np

from ._runner import ExperimentSpec, register_task
from ._summary_tools import finite

__all__ = [
    "THEOREM_CODE_VERSION",
    "THEOREM_GRAPHS",
    "THEOREM_LAMBDAS",
    "THEOREM_SCHEDULE",
    "premise_and_conclusion",
    "run_theorem",
    "theorem_specs",
]

#: Graphs of the experiment: dataset family, options and label sets evaluated.
THEOREM_GRAPHS = {
    "cliques": {"family": "cliques", "dataset": {"noise": 0.0}, "tasks": None},
    "mechanistic": {"family": "mechanistic", "dataset": {"text_labels": "motif"},
                    "tasks": ["motif", "neighborhood", "structural"]},
    "plane": {"family": "plane", "dataset": {}, "tasks": None},
}

#: lambda_SI of the arms.
THEOREM_LAMBDAS = (0.0, 0.1, 0.5, 0.9, 1.0)

#: Attention dropout of the two experiments per graph.
THEOREM_DROPOUTS = (0.1, 0.0)

#: Training code of the grid, written into its run parameters: version 2 of
#: :data:`~sip_theory.experiments.TRAINING_CODE_VERSION` (explicit attention,
#: 16-bit dropout masks, fused AdamW), with the plain-torch layers.
THEOREM_CODE_VERSION = 2

#: The training schedule (full batch) and why.
THEOREM_SCHEDULE = {
    "max_steps": 2000,
    "lr": 3e-3,
    "weight_decay": 0.01,
    "n_checkpoints": 10,
    "seeds": 10,
    "why": (
        "Pilot (seed 100, not an experiment seed; lambda = 0.5, attention dropout 0.1, "
        "4000 full-batch steps at lr 3e-3, training loss read at 20 checkpoints, nothing "
        "else looked at). Mean L_SI over the checkpoints in (1000, 2000] against (2000, 4000]: "
        "CLIQUES 3.59 vs 4.42, PLANE 5.02 vs 4.95, mechanistic 5.76 vs 5.42 (the per-step "
        "value is one sampled pair per anchor and swings by +-1); before step 1000 it was "
        "higher (4.41, 5.17, 5.83). So L_SI reaches its level between 1000 and 2000 steps "
        "and 2000 steps are used. L_M still falls by 2-3% per 1000 steps at 4000 steps "
        "(CLIQUES 3.77, 3.64, 3.57 in the three windows): the masked-token objective is not "
        "converged at any length this experiment can afford on a CPU (about 22 steps/s on "
        "CLIQUES, 16 on PLANE, 17 on the mechanistic graph, one core shared with others)."),
}

_SI_LOSS = {"pos_margin": 0.0, "neg_margin": 10.0, "reduction": "paper"}


def premise_and_conclusion(emb, graph, labels: dict) -> dict:
    """Theorem 1's premise and conclusion for one embedding of G_PT's nodes.

    Parameters
    ----------
    emb : array-like of shape (n, d)
    graph : SampleGraph
        G_PT.
    labels : mapping str -> array of shape (n,)
        Fine-tuning label sets.

    Returns
    -------
    dict
        Graph level: ``margin``, ``n_violating_pairs``, ``realized``, ``radius``,
        ``best_f1``. Per label set under ``tasks``: ``lc``, ``vote_accuracy``,
        ``gap`` (vote - LC), ``lower``/``upper`` (its proved range),
        ``touched_fraction`` (T / n'), ``knn3_accuracy``, ``knn3_auroc`` and
        ``knn1_accuracy`` (leave-one-out, distance-weighted, Euclidean).

    Examples
    --------
    >>> import numpy as np
    >>> from sip_theory.graphs import cliques_from_labels
    >>> y = np.repeat([0, 1], 3)
    >>> emb = np.repeat([[0.0, 0.0], [9.0, 0.0]], 3, axis=0) + np.arange(6)[:, None] * 0.01
    >>> out = premise_and_conclusion(emb, cliques_from_labels(y), {"y": y})
    >>> out["realized"], out["tasks"]["y"]["gap"], out["tasks"]["y"]["knn1_accuracy"]
    (True, 0.0, 1.0)
    """
    from ..geometry import knn_probe
    from ..theory import recovery_margin, robust_theorem1

    emb = np.asarray(emb, dtype=np.float64)
    out = {"tasks": {}}
    first = None
    for task, y in labels.items():
        y = np.asarray(y)
        res = robust_theorem1(emb, graph, y)
        if first is None:
            first = res
        k3 = knn_probe(emb, y, k=3)
        k1 = knn_probe(emb, y, k=1)
        out["tasks"][task] = {
            "lc": finite(res.lc), "vote_accuracy": finite(res.vote_accuracy),
            "gap": finite(res.gap), "lower": finite(res.lower), "upper": finite(res.upper),
            "touched_fraction": finite(res.touched_fraction),
            "knn3_accuracy": finite(k3.accuracy), "knn3_auroc": finite(k3.macro_auroc),
            "knn1_accuracy": finite(k1.accuracy),
        }
    rec = recovery_margin(emb, graph)
    out.update({"margin": finite(first.margin), "n_violating_pairs": first.n_violating_pairs,
                "realized": first.realized, "radius": finite(first.radius),
                "n_touched": first.n_touched, "n_evaluated": first.n_evaluated,
                "best_f1": finite(rec.best_f1)})
    return out


@register_task("theorem")
def run_theorem(run, *, device: str = "cpu") -> dict:
    """One arm of the theorem-in-action experiment (runner task ``"theorem"``).

    ``run.params``: ``graph`` (a :data:`THEOREM_GRAPHS` key), ``attention_dropout``,
    ``lambda_si`` (the arm), ``train`` (``max_steps``, ``lr``, ``weight_decay``),
    ``n_checkpoints``; optional ``dataset`` overrides (smoke tests).

    Returns
    -------
    dict
        ``checkpoints`` (one :func:`premise_and_conclusion` record per checkpoint,
        with ``step``, the training losses and ``masked_token_accuracy``),
        ``final`` (the last checkpoint), ``dataset`` (graph hash, sizes, LC per
        label set), ``seeds`` and ``timing``.
    """
    import torch

    from ..data import make_synthetic_dataset, make_topic_corpus
    from ..models import MaskedTokenLM, SIPTTrainer, TransformerEncoder
    from ._synthetic import _seed_streams
    from ._synthetic_measures import masked_token_accuracy
    from ._synthetic_text import TEXT_SETTINGS

    p = dict(run.params)
    spec = THEOREM_GRAPHS[p["graph"]]
    seeds = _seed_streams(run.seed)
    t0 = time.perf_counter()
    data = make_synthetic_dataset(spec["family"], seed=run.seed,
                                  **{**spec["dataset"], **dict(p.get("dataset", {}))})
    corpus = make_topic_corpus(data.n_topics, seed=seeds["corpus"],
                               n_words=TEXT_SETTINGS["n_words"],
                               concentration=TEXT_SETTINGS["concentration"])
    tokens = torch.as_tensor(corpus.sample_tokens(data.topic_mixtures,
                                                  length=TEXT_SETTINGS["length"],
                                                  seed=seeds["text"]))
    pt = data.pt_nodes
    graph = data.pt_graph
    tasks = spec["tasks"] or [data.task]
    labels = {t: np.asarray(data.labels[t])[pt] for t in tasks}
    tok_pt = tokens[torch.as_tensor(np.array(pt))]
    # the plain-torch layers: the grid started on them (THEOREM_CODE_VERSION), and one
    # grid is one computation, so the fused kernels that came later are not used here
    encoder = TransformerEncoder("tiny", vocab_size=corpus.vocab_size, seed=seeds["init"],
                                 dropout=0.0, attention_dropout=float(p["attention_dropout"]),
                                 kernel="torch")
    objective = MaskedTokenLM(encoder, seed=seeds["init"])
    train = dict(p["train"])
    steps = int(train.pop("max_steps"))
    n_ck = int(p.get("n_checkpoints", 10))
    every = max(1, steps // n_ck)
    checkpoints = []

    def _checkpoint(trainer):
        rec = premise_and_conclusion(trainer.embed().numpy(), graph, labels)
        h = trainer.history[-1] if trainer.history else {}
        rec.update({"step": int(trainer.step), "loss": finite(h.get("loss")),
                    "loss_m": finite(h.get("loss_m")), "loss_si": finite(h.get("loss_si")),
                    "masked_token_accuracy": finite(masked_token_accuracy(
                        encoder, objective, tok_pt, seed=seeds["eval"], repeats=2))})
        checkpoints.append(rec)
        return {}

    trainer = SIPTTrainer(encoder, graph, tok_pt, objective=objective,
                          lambda_si=float(p["lambda_si"]), seed=seeds["train"], device=device,
                          max_steps=steps, si_loss_kwargs=dict(_SI_LOSS), **train)
    _checkpoint(trainer)  # step 0: the initialization
    trainer.eval_fn = lambda tr: _checkpoint(tr) if tr.step % every == 0 and \
        tr.step < steps else {}
    t1 = time.perf_counter()
    trainer.fit()
    t_train = time.perf_counter() - t1
    _checkpoint(trainer)
    from .._serialization import to_jsonable

    final = checkpoints[-1]
    metrics = {"realized": float(final["realized"]), "best_f1": final["best_f1"],
               "masked_token_accuracy": final["masked_token_accuracy"]}
    for t, m in final["tasks"].items():
        metrics.update({f"{t}_{k}": m[k] for k in ("lc", "vote_accuracy", "gap",
                                                  "knn3_accuracy", "knn1_accuracy")})
    return {
        "metrics": metrics,
        "checkpoints": checkpoints,
        "final": final,
        "dataset": {"family": data.name, "graph_hash": data.graph.content_hash(),
                    "pt_graph_hash": graph.content_hash(), "n_pt": int(pt.size),
                    "n_pt_edges": int(graph.n_edges), "tasks": tasks,
                    "generation": to_jsonable(data.config), "text": dict(TEXT_SETTINGS)},
        "seeds": seeds,
        "trainer_config": trainer.config.to_dict(),
        "encoder_config": encoder.config.to_dict(),
        "timing": {"data_s": t1 - t0, "train_s": t_train,
                   "steps_per_second": steps / t_train if t_train > 0 else None},
    }


def _tag(x: float) -> str:
    """A name-safe number: 0.1 -> '0p1', 1.0 -> '1'."""
    return f"{x:g}".replace(".", "p")


def theorem_specs(*, seeds=None, graphs=None, smoke: bool = False) -> list[ExperimentSpec]:
    """The experiment grid: one :class:`ExperimentSpec` per (graph, attention dropout).

    Parameters
    ----------
    seeds : int, optional
        Number of seeds (default ``THEOREM_SCHEDULE["seeds"]``).
    graphs : sequence of str, optional
        Subset of :data:`THEOREM_GRAPHS`.
    smoke : bool, default False
        Tiny graphs and 4 steps, to test the pipeline (numbers mean nothing).

    Examples
    --------
    >>> specs = theorem_specs()
    >>> [s.name for s in specs][:2], len(specs), len(specs[0].runs())
    (['cliques__attn0p1', 'mechanistic__attn0p1'], 6, 50)
    """
    sched = THEOREM_SCHEDULE
    n_seeds = sched["seeds"] if seeds is None else int(seeds)
    names = list(THEOREM_GRAPHS) if graphs is None else list(graphs)
    bad = [g for g in names if g not in THEOREM_GRAPHS]
    if bad:
        raise ValueError(f"graphs {bad} are not among {tuple(THEOREM_GRAPHS)}")
    smoke_data = {"cliques": {"n_pt": 12, "n_ft": 4, "n_topics": 3},
                  "plane": {"n_pt": 40, "n_ft": 5, "radius": 0.5},
                  "mechanistic": {"cycle_length": 12, "max_graphlet_nodes": 4}}
    arms = {f"lam{_tag(lam)}": {"lambda_si": lam} for lam in THEOREM_LAMBDAS}
    out = []
    for drop in THEOREM_DROPOUTS:  # the official dropout first, so a partial run has it
        for g in names:
            params = {"graph": g, "attention_dropout": drop,
                      "train": {"max_steps": 4 if smoke else sched["max_steps"],
                                "lr": sched["lr"], "weight_decay": sched["weight_decay"]},
                      "n_checkpoints": 2 if smoke else sched["n_checkpoints"],
                      "code_version": THEOREM_CODE_VERSION}
            if smoke:
                params["dataset"] = smoke_data[g]
            out.append(ExperimentSpec(f"{g}__attn{_tag(drop)}", "theorem", params=params,
                                      arms=arms, seeds=tuple(range(n_seeds))))
    return out
