"""Experiment specifications, the resumable runner, and the paper's synthetic experiments.

* the runner: :class:`ExperimentSpec` -> :class:`RunSpec` units paired by seed,
  :func:`run_experiment` / :func:`run_experiments` (resumable, atomic, parallel),
  :func:`load_results`;
* the synthetic experiments: the ``"synthetic"`` task (:func:`run_synthetic`,
  measured by :func:`measure_embeddings`), the profiles of :func:`profile_specs`
  and :func:`reproduce` behind ``sip-theory reproduce``.
"""

from ._profiles import ARMS, EXPERIMENTS, NOISE_LEVELS, QUICK_SCHEDULE, profile_specs
from ._reproduce import (
    PAPER_FIG5A,
    PAPER_MECHANISTIC,
    PAPER_NOISE_CURVE,
    PAPER_SOURCE,
    load_records,
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
from ._synthetic import TEXT_SETTINGS, masked_token_accuracy, measure_embeddings, run_synthetic

__all__ = [
    "ARMS",
    "EXPERIMENTS",
    "ExperimentSpec",
    "NOISE_LEVELS",
    "PAPER_FIG5A",
    "PAPER_MECHANISTIC",
    "PAPER_NOISE_CURVE",
    "PAPER_SOURCE",
    "QUICK_SCHEDULE",
    "RunFailedError",
    "RunSpec",
    "TEXT_SETTINGS",
    "get_task",
    "library_versions",
    "load_records",
    "load_results",
    "masked_token_accuracy",
    "measure_embeddings",
    "profile_specs",
    "register_task",
    "reproduce",
    "run_experiment",
    "run_experiments",
    "run_synthetic",
    "summarize",
]
