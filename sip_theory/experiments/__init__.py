"""Experiment specifications, the resumable runner, and the paper's synthetic experiments.

* the runner: :class:`ExperimentSpec` -> :class:`RunSpec` units paired by seed,
  :func:`run_experiment` / :func:`run_experiments` (resumable, atomic, parallel),
  :func:`load_results`;
* the synthetic experiments: the ``"synthetic"`` task (:func:`run_synthetic`,
  measured by :func:`measure_embeddings`), the profiles of :func:`profile_specs`
  and :func:`reproduce` behind ``sip-theory reproduce``;
* the calibration of the quick profile's word text against the faithful
  character text: :func:`calibration_specs`, :func:`calibrate` and
  :func:`calibration_markdown` behind ``sip-theory calibrate``;
* the Cora case study: the ``"cora"`` task (:func:`run_cora`), :func:`cora_spec`,
  label-free :func:`select_lambda` and :func:`run_cora_case_study` behind
  ``sip-theory cora``.
"""

from ._calibration import (
    CALIBRATION_EXPERIMENTS,
    CALIBRATION_SEEDS,
    calibrate,
    calibration_markdown,
    calibration_specs,
)
from ._cora import (
    CORA_LAMBDAS,
    CORA_SETTINGS,
    EdgeSplit,
    HeldoutRetrievalResult,
    cora_graph_report,
    cora_spec,
    cora_subset,
    heldout_link_retrieval,
    run_cora,
    run_cora_case_study,
    select_lambda,
    split_edges,
    summarize_cora,
)
from ._profiles import (
    ARMS,
    ENCODER_DROPOUT,
    EXPERIMENTS,
    NOISE_LEVELS,
    PAPER_TEXT,
    QUICK_SCHEDULE,
    apply_overrides,
    profile_specs,
)
from ._reproduce import (
    PAPER_FIG5A,
    PAPER_MECHANISTIC,
    PAPER_NOISE_CURVE,
    PAPER_SOURCE,
    load_records,
    plot_rank_vs_auroc,
    rank_vs_auroc_points,
    reproduce,
    summarize,
)
from ._runner import (
    ExperimentSpec,
    RunFailedError,
    RunSpec,
    get_task,
    library_versions,
    load_results,
    register_task,
    run_experiment,
    run_experiments,
)
from ._synthetic import (
    TEXT_KINDS,
    TEXT_SETTINGS,
    masked_token_accuracy,
    measure_embeddings,
    run_synthetic,
)

__all__ = [
    "ARMS",
    "CALIBRATION_EXPERIMENTS",
    "CALIBRATION_SEEDS",
    "CORA_LAMBDAS",
    "CORA_SETTINGS",
    "EXPERIMENTS",
    "EdgeSplit",
    "ExperimentSpec",
    "HeldoutRetrievalResult",
    "NOISE_LEVELS",
    "PAPER_FIG5A",
    "PAPER_MECHANISTIC",
    "PAPER_NOISE_CURVE",
    "PAPER_SOURCE",
    "PAPER_TEXT",
    "QUICK_SCHEDULE",
    "RunFailedError",
    "RunSpec",
    "TEXT_KINDS",
    "TEXT_SETTINGS",
    "calibrate",
    "calibration_markdown",
    "calibration_specs",
    "cora_graph_report",
    "cora_spec",
    "cora_subset",
    "get_task",
    "heldout_link_retrieval",
    "library_versions",
    "load_records",
    "load_results",
    "masked_token_accuracy",
    "measure_embeddings",
    "profile_specs",
    "apply_overrides",
    "plot_rank_vs_auroc",
    "rank_vs_auroc_points",
    "ENCODER_DROPOUT",
    "register_task",
    "reproduce",
    "run_cora",
    "run_cora_case_study",
    "run_experiment",
    "run_experiments",
    "run_synthetic",
    "select_lambda",
    "split_edges",
    "summarize",
    "summarize_cora",
]
