"""Experiment specifications, the resumable runner, and the paper's synthetic experiments.

* the runner: :class:`ExperimentSpec` -> :class:`RunSpec` units paired by seed,
  :func:`run_experiment` / :func:`run_experiments` (resumable, atomic, parallel),
  :func:`load_results`;
* the synthetic experiments: the ``"synthetic"`` task (:func:`run_synthetic`,
  measured by :func:`measure_embeddings`), the profiles of :func:`profile_specs`
  and :func:`reproduce` behind ``sip-theory reproduce``; :func:`compare_with_stored`
  checks a re-run against stored results within the seed interval (float32
  training is bit-identical only on the same machine, torch version and thread
  count);
* the calibration of the quick profile's word text against the faithful
  character text: :func:`calibration_specs`, :func:`calibrate` and
  :func:`calibration_markdown` behind ``sip-theory calibrate``;
* the theorem in action: the ``"theorem"`` task (:func:`run_theorem`), the
  grid of :func:`theorem_specs` and :func:`run_theorem_experiment` behind
  ``sip-theory theorem``;
* the Cora case study: the ``"cora"`` task (:func:`run_cora`), :func:`cora_spec`,
  label-free :func:`select_lambda` and :func:`run_cora_case_study` behind
  ``sip-theory cora``.
"""

from ..graphs import EdgeSplit, split_edges
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
    cora_graph_report,
    cora_spec,
    cora_subset,
    run_cora,
    select_lambda,
)
from ._cora_command import run_cora_case_study
from ._cora_summary import summarize_cora
from ._dashboard import DashboardRow, dashboard_markdown, results_dashboard
from ._paper_numbers import (
    PAPER_FIG5A,
    PAPER_MEAN_HIGH_LC_GAIN,
    PAPER_MECHANISTIC,
    PAPER_NOISE_CURVE,
    PAPER_SOURCE,
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
from ._reproduce import reproduce
from ._reproduce_figures import plot_rank_vs_auroc, rank_vs_auroc_points
from ._reproduce_records import load_records
from ._reproduce_summary import CI_NOTE, summarize
from ._rerun_check import compare_with_stored, comparison_md
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
from ._synthetic import run_synthetic
from ._synthetic_measures import masked_token_accuracy, measure_embeddings
from ._synthetic_text import TEXT_KINDS, TEXT_SETTINGS
from ._theorem import (
    THEOREM_CODE_VERSION,
    THEOREM_GRAPHS,
    THEOREM_LAMBDAS,
    THEOREM_SCHEDULE,
    premise_and_conclusion,
    run_theorem,
    theorem_specs,
)
from ._theorem_command import run_theorem_experiment
from ._theorem_report import summarize_theorem

__all__ = [
    "DashboardRow",
    "dashboard_markdown",
    "results_dashboard",
    "ARMS",
    "CALIBRATION_EXPERIMENTS",
    "CALIBRATION_SEEDS",
    "CI_NOTE",
    "CORA_LAMBDAS",
    "CORA_SETTINGS",
    "EXPERIMENTS",
    "EdgeSplit",
    "ExperimentSpec",
    "NOISE_LEVELS",
    "PAPER_FIG5A",
    "PAPER_MEAN_HIGH_LC_GAIN",
    "PAPER_MECHANISTIC",
    "PAPER_NOISE_CURVE",
    "PAPER_SOURCE",
    "PAPER_TEXT",
    "QUICK_SCHEDULE",
    "RunFailedError",
    "RunSpec",
    "TEXT_KINDS",
    "TEXT_SETTINGS",
    "THEOREM_CODE_VERSION",
    "THEOREM_GRAPHS",
    "THEOREM_LAMBDAS",
    "THEOREM_SCHEDULE",
    "calibrate",
    "calibration_markdown",
    "calibration_specs",
    "compare_with_stored",
    "comparison_md",
    "cora_graph_report",
    "cora_spec",
    "cora_subset",
    "get_task",
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
    "summarize_theorem",
    "premise_and_conclusion",
    "run_theorem",
    "run_theorem_experiment",
    "theorem_specs",
]
