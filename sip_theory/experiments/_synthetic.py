"""The paper's synthetic experiments as one runner task: generate, pre-train, measure.

Every run of the ``"synthetic"`` task (registered with the runner) does:

1. generate the dataset of its family from the run's seed
   (:func:`sip_theory.data.make_synthetic_dataset`; an invalid draw is redrawn
   with a recorded attempt seed or raises, so nothing stale is ever trained on);
2. generate node text from a topic corpus: words (:data:`TEXT_SETTINGS`) or
   characters (:data:`sip_theory.data.CHARACTER_TEXT_SETTINGS`), see *Node text*;
3. pre-train a BERT-style encoder with L = (1 - lambda_SI) L_MLM + lambda_SI L_SI
   on G_PT (lambda_SI = 0 is the LM-only arm);
4. measure the final embeddings (:func:`measure_embeddings`): the paper's
   leave-one-out 3-NN accuracy and macro AUROC on the PT nodes, the same
   3-NN vote for held-out FT nodes, a linear probe, the local consistency of
   each label set on G_PT (Theorem 1's prediction) with the r*-NN accuracy and
   recovery margin (the theorem's hypothesis), a compact geometry report, and
   the masked-token accuracy.

Pairing: the dataset, the text, the encoder initialization and the trainer's
sampling/masking streams all derive from the seed alone, so the two arms of a
seed differ only in lambda_SI.

Node text
---------
Run parameter ``text.kind`` chooses the generated text: words (the default,
:data:`~._synthetic_text.TEXT_SETTINGS`) or the official pipeline's characters;
:mod:`._synthetic_text` says how each is generated and why its settings.

The encoder's ``max_len`` is raised to the widest sequence when needed (never
below the configuration default, so word runs keep their numerics). Every run
records the text kind, its settings and the sequence widths in its
``dataset`` output. The encoder knows nothing of the topic model. The same
settings serve every family and every profile of a text kind.

Loss normalization: the contrastive margin loss uses ``reduction="paper"``
(mean over positive pairs plus mean over negative pairs, the paper's formula);
the official code averaged over the concatenated 2B pair terms, half of it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

import numpy as np

from .._serialization import to_jsonable
from ._runner import _canonical, register_task
from ._summary_tools import finite
from ._synthetic_measures import masked_token_accuracy, measure_embeddings
from ._synthetic_text import _node_text, _sequence_widths, _text_params

__all__ = ["run_synthetic", "run_synthetic_together"]


def _seed_streams(seed: int) -> dict:
    """Independent integer seeds for each random stream of a run, from the run seed only."""
    names = ("corpus", "text", "init", "train", "eval")
    kids = np.random.SeedSequence([int(seed), 20240515]).spawn(len(names))
    return {n: int(k.generate_state(1, dtype=np.uint32)[0]) for n, k in zip(names, kids,
                                                                           strict=True)}


def _dataset(family: str, seed: int, options: Mapping):
    from ..data import make_synthetic_dataset

    return make_synthetic_dataset(family, seed=seed, **dict(options))


def _eval_tasks(dataset, requested) -> list:
    if requested in (None, "all"):
        return list(dataset.labels) if dataset.name == "mechanistic" else [dataset.task]
    bad = [t for t in requested if t not in dataset.labels]
    if bad:
        raise ValueError(f"eval_tasks {bad} are not label sets of {dataset.name!r} "
                         f"({sorted(dataset.labels)})")
    return list(requested)


def run_synthetic(run, *, device: str = "cpu") -> dict:
    """Generate one synthetic dataset, pre-train one arm on it and measure (runner task).

    ``run.params``: ``family`` (a :data:`sip_theory.data.SYNTHETIC_DATASETS`
    name), ``dataset`` (its options), ``text`` (``kind``: ``"words"``, the
    default, or ``"characters"``; plus overrides of that kind's settings,
    :data:`TEXT_SETTINGS` or :data:`sip_theory.data.CHARACTER_TEXT_SETTINGS`),
    ``encoder`` (``preset`` plus :class:`~sip_theory.models.TransformerConfig`
    overrides), ``train`` (:class:`~sip_theory.models.TrainerConfig` fields such
    as ``max_steps``/``epochs``, ``batch_size``, ``lr``, ``si_loss_kwargs``),
    ``lambda_si`` (the arm), ``eval_tasks`` (label sets; default all of a
    mechanistic dataset, else its task), ``n_curve`` (evaluations during
    training) and ``store_pca`` (keep a 2-D PCA of the final PT embeddings).

    Returns
    -------
    dict
        ``metrics`` (see :func:`measure_embeddings`, plus ``masked_token_accuracy``,
        final losses, homophily), ``dataset`` (graph hashes, generation config with
        seed/attempt/rejections, sizes, ``text`` with its ``kind`` and settings,
        ``sequence_width``: mean and max tokens per PT/FT node before padding,
        padded widths), ``curve`` (3-NN AUROC during training),
        ``history`` (a thinned per-epoch trainer history), ``encoder_kernel``
        (whether the fused CPU kernels ran, and how they were compiled or why
        not) and, if asked,
        ``embeddings`` (PCA coordinates, explained variance, labels).

    Raises
    ------
    sip_theory.data.GenerationError
        No valid dataset from this seed (nothing is trained).
    ValueError
        An unknown ``text.kind``, or an ``encoder.max_len`` below the widest sequence.
    """

    job = _SyntheticRun(run, device)
    t1 = time.perf_counter()
    history = job.trainer.fit()
    return job.finish(history, time.perf_counter() - t1, stacked_runs=1)


def run_synthetic_together(runs, *, device: str = "cpu") -> list:
    """Runner group task: several runs trained as one stacked computation, each training once.

    Each run is set up exactly as by :func:`run_synthetic` (its own data, text,
    initialization and seed streams). Runs whose training is identical (equal
    :meth:`~sip_theory.models.SIPTTrainer.fingerprint`, with the labels its
    learning curve scores: the LM-only arms of one seed across the noise levels,
    whose training never reads the graph) are trained once and each measured
    on its own graph and labels. Where
    :func:`sip_theory.models.together_blocker` allows it (CPU, fused kernels, the
    same encoder and schedule) the distinct trainings run as
    :func:`sip_theory.models.train_together`, else one after another. A run's
    record says how many trainings were stacked with it
    (``encoder_kernel.stacked_runs``) and which runs shared its training
    (``shared_training``); its ``train_seconds`` is its training's share of the
    common training time.

    Returns
    -------
    list
        Per run, its result dict (as :func:`run_synthetic`) or the exception
        that stopped it.

    Examples
    --------
    Seed 0's LM-only arm of two noise levels: one training, two measurements.

    >>> from sip_theory.experiments import profile_specs
    >>> from sip_theory.experiments._runner import RunSpec
    >>> runs = []
    >>> for spec in profile_specs("smoke", only="cliques_p00,cliques_p50"):
    ...     params = {**spec.params, **spec.arms["lm"], "n_curve": 0,
    ...               "train": {**spec.params["train"], "max_steps": 2}}
    ...     runs.append(RunSpec(spec.name, spec.task, "lm", 0, params))
    >>> out = run_synthetic_together(runs)
    >>> [len(o["shared_training"]) for o in out]
    [2, 2]
    >>> out[0]["metrics"]["final_loss"] == out[1]["metrics"]["final_loss"]
    True
    >>> out[0]["metrics"]["topic"]["lc"] > out[1]["metrics"]["topic"]["lc"]
    True
    """
    from ..models import together_blocker, train_together

    jobs, out = {}, [None] * len(runs)
    sharing: dict = {}  # fingerprint -> indices of the runs it trains
    for i, run in enumerate(runs):
        try:
            job = _SyntheticRun(run, device)
            key = job.trainer.fingerprint(np.ascontiguousarray(job.y_main).tobytes())
        except Exception as exc:  # noqa: BLE001 - the runner stores it as that run's failure
            out[i] = exc
            continue
        jobs[i] = job
        sharing.setdefault(key, []).append(i)
    lead = [jobs[idx[0]] for idx in sharing.values()]

    def finish(hist, share, stacked, idx):
        src = jobs[idx[0]]
        ids = [runs[i].run_id for i in idx] if len(idx) > 1 else None
        for i in idx:
            jobs[i].adopt_training(src)
            out[i] = _finish_or_error(jobs[i], hist, share, stacked, shared=ids)

    trainers = [job.trainer for job in lead]
    if len(lead) > 1 and device == "cpu" and together_blocker(trainers) is None:
        t1 = time.perf_counter()
        try:
            histories = train_together(trainers)
        except Exception as exc:  # noqa: BLE001
            return [exc if o is None else o for o in out]
        share = (time.perf_counter() - t1) / len(lead)
        for idx, hist in zip(sharing.values(), histories, strict=True):
            finish(hist, share, len(lead), idx)
        return out
    for idx in sharing.values():
        t1 = time.perf_counter()
        try:
            hist = jobs[idx[0]].trainer.fit()
        except Exception as exc:  # noqa: BLE001
            for i in idx:
                out[i] = exc
            continue
        finish(hist, time.perf_counter() - t1, 1, idx)
    return out


def _synthetic_group_key(run) -> str:
    """Which pending runs :func:`run_synthetic_together` may receive together.

    One experiment's arm; but LM-only arms (lambda_SI = 0) of experiments that
    differ only in ``dataset.noise`` (the CLIQUES noise sweep) share a key, since
    their training never reads the graph. The key only brings runs together:
    which of them train once is decided by fingerprint.
    """
    p = dict(run.params)
    if float(p.get("lambda_si", 0.0)) == 0.0:
        p["dataset"] = {k: v for k, v in dict(p.get("dataset", {})).items() if k != "noise"}
        return "lm-any-noise:" + _canonical(p)
    return f"{run.experiment}/{run.arm}"


register_task("synthetic", group=run_synthetic_together,
              group_key=_synthetic_group_key)(run_synthetic)


def _finish_or_error(job, history, t_train, stacked_runs, shared=None):
    try:
        return job.finish(history, t_train, stacked_runs=stacked_runs, shared_training=shared)
    except Exception as exc:  # noqa: BLE001
        return exc


class _SyntheticRun:
    """One synthetic run set up for training (data, text, encoder, trainer) and measured after."""

    def __init__(self, run, device):
        from ..models import MaskedTokenLM, SIPTTrainer, TransformerConfig, TransformerEncoder

        p = dict(run.params)
        kind, settings = _text_params(p.get("text"))
        seeds = _seed_streams(run.seed)
        t0 = time.perf_counter()
        data = _dataset(p["family"], run.seed, p.get("dataset", {}))
        pt, ft = data.pt_nodes, data.ft_nodes
        corpus, tok_pt, tok_ft, text = _node_text(kind, settings, data, seeds)
        pt_graph = data.pt_graph
        tasks = _eval_tasks(data, p.get("eval_tasks"))
        labels_pt = {t: data.labels[t][pt] for t in tasks}
        labels_ft = {t: data.labels[t][ft] for t in tasks} if ft.size else None
        widths = _sequence_widths(corpus, tok_pt, tok_ft if ft.size else None)
        t_data = time.perf_counter() - t0

        enc_opts = dict(p.get("encoder", {"preset": "tiny"}))
        preset = enc_opts.pop("preset", "tiny")
        widest = widths["widest"]
        if "max_len" not in enc_opts:
            # never below the default: word runs keep the encoder (and numerics) they had
            enc_opts["max_len"] = max(TransformerConfig.__dataclass_fields__["max_len"].default,
                                      widest)
        elif int(enc_opts["max_len"]) < widest:
            raise ValueError(f"encoder.max_len={enc_opts['max_len']} is below the widest "
                             f"token sequence of this run ({widest})")
        encoder = TransformerEncoder(preset, vocab_size=corpus.vocab_size, seed=seeds["init"],
                                     **enc_opts)
        objective = MaskedTokenLM(encoder, seed=seeds["init"])
        from ..models._native import kernel_info

        # which layer code trains this run (the fused kernels compute the torch layers' function
        # up to float32 rounding, so runs are bit-identical only with the same kernel)
        kernel = {"native": encoder.uses_native() if device == "cpu" else False,
                  "how": kernel_info()["how"]}
        train = dict(p.get("train", {}))
        train.setdefault("si_loss_kwargs", {"pos_margin": 0.0, "neg_margin": 10.0,
                                            "reduction": "paper"})
        main = data.task if data.task in tasks else tasks[0]
        y_main = labels_pt[main]
        curve = []

        def _eval(trainer):
            emb = trainer.embed().numpy()
            from ..geometry import knn_probe

            r = knn_probe(emb, y_main, k=3)
            curve.append({"step": trainer.step, "epoch": trainer.epoch,
                          "knn3_pt_auroc": finite(r.macro_auroc)})
            return {}

        n_curve = int(p.get("n_curve", 0))
        if n_curve:
            per_epoch = math.ceil(pt.size / (train.get("batch_size") or pt.size))
            budgets = [train["epochs"]] if train.get("epochs") else []
            if train.get("max_steps"):
                budgets.append(math.ceil(train["max_steps"] / per_epoch))
            train.setdefault("eval_every", max(1, min(budgets) // n_curve))
        trainer = SIPTTrainer(encoder, pt_graph, tok_pt, objective=objective,
                              lambda_si=float(p["lambda_si"]), seed=seeds["train"], device=device,
                              eval_fn=_eval if n_curve else None, **train)
        # what finish() measures with
        vars(self).update(p=p, seeds=seeds, t_data=t_data, data=data, pt=pt, ft=ft,
                          corpus=corpus, tok_pt=tok_pt, tok_ft=tok_ft, text=text,
                          pt_graph=pt_graph, tasks=tasks, labels_pt=labels_pt,
                          labels_ft=labels_ft, widths=widths, encoder=encoder,
                          objective=objective, kernel=kernel, trainer=trainer, main=main,
                          y_main=y_main, curve=curve)

    def adopt_training(self, other: _SyntheticRun) -> None:
        """Measure with ``other``'s trainer, encoder and curve (a training identical to ours)."""
        if other is not self:
            self.trainer, self.encoder = other.trainer, other.encoder
            self.objective, self.curve = other.objective, other.curve

    def finish(self, history, t_train, *, stacked_runs, shared_training=None):
        """Measure the trained embeddings; the run's result dict.

        ``shared_training``: the run ids trained by this run's one training, if several.
        """
        from ..theory import node_homophily

        (p, seeds, t_data, data, pt, ft, corpus, tok_pt, tok_ft, text, pt_graph, tasks,
         labels_pt, labels_ft, widths, encoder, objective, kernel, trainer, main, curve) = (
            self.p, self.seeds, self.t_data, self.data, self.pt, self.ft, self.corpus,
            self.tok_pt, self.tok_ft, self.text, self.pt_graph, self.tasks, self.labels_pt,
            self.labels_ft, self.widths, self.encoder, self.objective, self.kernel,
            self.trainer, self.main, self.curve)
        kernel = {**kernel, "stacked_runs": int(stacked_runs)}

        emb_pt = trainer.embed().numpy()
        emb_ft = trainer.embed(tok_ft).numpy() if ft.size else None
        metrics = measure_embeddings(emb_pt, pt_graph, labels_pt, emb_ft=emb_ft,
                                     labels_ft=labels_ft, graph=data.graph, pt_nodes=pt,
                                     ft_nodes=ft, main_task=main, seed=seeds["eval"])
        metrics["masked_token_accuracy"] = finite(masked_token_accuracy(
            encoder, objective, tok_pt, seed=seeds["eval"]))
        last = history[-1] if history else {}
        metrics["final_loss"] = finite(last.get("loss"))
        metrics["final_loss_m"] = finite(last.get("loss_m"))
        metrics["final_loss_si"] = finite(last.get("loss_si"))
        metrics["homophily"] = finite(node_homophily(pt_graph, data.labels[main][pt],
                                                      self_loops=data.self_loops))
        metrics["steps"] = int(trainer.step)
        metrics["train_seconds"] = t_train
        metrics["steps_per_second"] = trainer.step / t_train if t_train > 0 else None

        stride = max(1, len(history) // 50)
        keep = ("epoch", "step", "loss", "loss_m", "loss_si", "masked_accuracy")
        thin = [{k: h.get(k) for k in keep} for h in history[::stride]]
        if history and thin[-1]["step"] != history[-1]["step"]:
            thin.append({k: history[-1].get(k) for k in keep})
        out = {
            "metrics": metrics,
            "dataset": {
                "family": data.name,
                "graph_hash": data.graph.content_hash(),
                "pt_graph_hash": pt_graph.content_hash(),
                "n_pt": int(pt.size), "n_ft": int(ft.size),
                "n_pt_edges": int(pt_graph.n_edges),
                "n_topics": data.n_topics,
                "task": data.task,
                "eval_tasks": tasks,
                "generation": to_jsonable(data.config),
                "corpus": dict(corpus.config),
                "text": text,
                "sequence_width": widths,
            },
            "seeds": seeds,
            "trainer_config": trainer.config.to_dict(),
            "encoder_config": encoder.config.to_dict(),
            "encoder_kernel": kernel,
            "curve": curve,
            "shared_training": list(shared_training) if shared_training else None,
            "history": thin,
            "timing": {"data_s": t_data, "train_s": t_train},
        }
        if p.get("store_pca"):
            xy, frac = _pca2(emb_pt)
            out["embeddings"] = {"pca2": np.round(xy, 4).tolist(), "explained": frac.tolist(),
                                 "labels_pt": {t: v.tolist() for t, v in labels_pt.items()}}
        return out




def _pca2(x):
    """Coordinates on the first two principal axes and their explained-variance fractions."""
    x = np.asarray(x, dtype=np.float64)
    x = x - x.mean(0)
    _, sv, vt = np.linalg.svd(x, full_matrices=False)
    total = max(float((sv ** 2).sum()), 1e-300)
    return x @ vt[:2].T, sv[:2] ** 2 / total
