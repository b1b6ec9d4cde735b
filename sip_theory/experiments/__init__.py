"""Experiment specifications and the resumable runner behind ``sip-theory reproduce``."""

from ._runner import (
    ExperimentSpec,
    RunFailedError,
    RunSpec,
    get_task,
    library_versions,
    load_results,
    register_task,
    run_experiment,
)

__all__ = [
    "ExperimentSpec",
    "RunFailedError",
    "RunSpec",
    "get_task",
    "library_versions",
    "load_results",
    "register_task",
    "run_experiment",
]
