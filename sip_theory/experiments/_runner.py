"""A small, resumable experiment runner.

An experiment is declared as data (:class:`ExperimentSpec`): which *task* runs
it (a registered function), a grid of arms, a list of seeds and fixed
parameters. It expands into :class:`RunSpec` units, one per (arm, seed). Each
unit's result is stored as its own JSON file named by a hash of its full
configuration, so

* a finished unit is skipped when the runner is started again (resume);
* changing any parameter changes the hash, so stale results are never reused;
* outputs are written atomically: a crash never leaves a half-written result.

Arms are paired by seed: a task must derive every random draw that is *shared*
between arms (the generated data) from the seed alone, so that arm A and arm B
of seed s see the same data.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import platform
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from .._atomic import atomic_write_json, atomic_write_text
from .._serialization import ToDictMixin

__all__ = [
    "ExperimentSpec",
    "RunSpec",
    "RunFailedError",
    "register_task",
    "get_task",
    "run_experiment",
    "run_experiments",
    "load_results",
    "library_versions",
]

_TASKS: dict[str, Callable[..., dict]] = {}
_GROUP_TASKS: dict[str, Callable[..., list]] = {}
_GROUP_KEYS: dict[str, Callable] = {}


class RunFailedError(RuntimeError):
    """Raised when one or more runs of an experiment failed (their errors are stored)."""


def register_task(name: str, *, group: Callable[..., list] | None = None,
                  group_key: Callable | None = None):
    """Register ``func(run: RunSpec, *, device: str) -> dict`` as the task ``name``.

    The function returns a JSON-serializable dict with at least a ``"metrics"``
    mapping of scalar results; anything else (per-node values, graph hash) is
    stored verbatim.

    ``group``, optional: ``group(runs, *, device) -> list`` runs several units
    of one experiment and arm at once (returning, per run, its dict or the
    exception that stopped it); :func:`run_experiments` uses it with
    ``group_size > 1``.

    ``group_key``, optional: ``group_key(run) -> hashable`` says which pending
    units may share a group (default: those of one experiment and arm). A key
    can span experiments, for units the group function may train once (the
    synthetic task's LM arms across noise levels); the runner then puts in one
    group at most ``group_size`` distinct seeds with all their units.

    Examples
    --------
    >>> @register_task("doc-example")
    ... def _task(run, *, device="cpu"):
    ...     return {"metrics": {"x": run.seed * 2}}
    >>> get_task("doc-example") is _task
    True
    """

    def deco(func):
        _TASKS[name] = func
        if group is not None:
            _GROUP_TASKS[name] = group
        else:
            _GROUP_TASKS.pop(name, None)
        if group is not None and group_key is not None:
            _GROUP_KEYS[name] = group_key
        else:
            _GROUP_KEYS.pop(name, None)
        return func

    return deco


def get_task(name: str) -> Callable[..., dict]:
    """Return the registered task ``name`` (``ValueError`` naming the known ones otherwise)."""
    if name not in _TASKS:
        raise ValueError(f"task must be one of {sorted(_TASKS)}, got {name!r}")
    return _TASKS[name]


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


@dataclass(frozen=True)
class RunSpec(ToDictMixin):
    """One unit of work: a task, an arm (its own parameters) and a seed.

    Attributes
    ----------
    experiment : str
        Name of the experiment this run belongs to.
    task : str
        Registered task that executes it.
    arm : str
        Name of the arm (e.g. ``"lm"`` or ``"sipt"``).
    seed : int
        Seed shared by all arms of the same experiment (pairing).
    params : dict
        Full parameters: the experiment's fixed parameters updated by the arm's.
    """

    experiment: str
    task: str
    arm: str
    seed: int
    params: Mapping = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        """A stable identifier: readable prefix plus a hash of the whole configuration."""
        digest = hashlib.sha256(_canonical(self.to_dict()).encode()).hexdigest()[:12]
        return f"{self.experiment}__{self.arm}__seed{self.seed}__{digest}"


@dataclass(frozen=True)
class ExperimentSpec(ToDictMixin):
    """A declarative experiment: task, fixed parameters, arms and seeds.

    Parameters
    ----------
    name : str
        Experiment name (used in file names; letters, digits, ``-`` and ``_``).
    task : str
        Registered task name.
    params : dict
        Parameters shared by every arm (sizes, steps, encoder preset...).
    arms : dict of str to dict
        Arm name -> parameter overrides (e.g. ``{"lm": {"lambda_si": 0.0}}``).
    seeds : sequence of int
        Seeds; every arm runs every seed, so arms are paired by seed.

    Examples
    --------
    >>> spec = ExperimentSpec("toy", "doc-example", params={"n": 3},
    ...                       arms={"a": {"lam": 0.0}, "b": {"lam": 0.1}}, seeds=[0, 1])
    >>> [(r.arm, r.seed, r.params["lam"]) for r in spec.runs()]
    [('a', 0, 0.0), ('b', 0, 0.1), ('a', 1, 0.0), ('b', 1, 0.1)]
    """

    name: str
    task: str
    params: Mapping = field(default_factory=dict)
    arms: Mapping = field(default_factory=lambda: {"default": {}})
    seeds: tuple = (0,)

    def __post_init__(self):
        if not self.name or not all(c.isalnum() or c in "-_" for c in self.name):
            raise ValueError(f"name must be letters, digits, '-' or '_', got {self.name!r}")
        if not self.arms:
            raise ValueError("arms must name at least one arm")
        seeds = tuple(int(s) for s in self.seeds)
        if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
            raise ValueError(f"seeds must be distinct non-negative integers, got {self.seeds!r}")
        object.__setattr__(self, "seeds", seeds)
        _canonical(dict(self.params))  # must be JSON-serializable
        for arm, overrides in self.arms.items():
            _canonical(dict(overrides))
            if not arm or not all(c.isalnum() or c in "-_." for c in arm):
                raise ValueError(f"arm names must be letters, digits, '-', '_' or '.', got {arm!r}")

    def runs(self) -> list[RunSpec]:
        """All (arm, seed) units, seed-major so paired arms run back to back."""
        out = []
        for seed in self.seeds:
            for arm, overrides in self.arms.items():
                params = {**dict(self.params), **dict(overrides)}
                out.append(RunSpec(self.name, self.task, arm, seed, params))
        return out


def library_versions() -> dict:
    """Versions of Python and the libraries a result depends on.

    Examples
    --------
    >>> sorted(library_versions())[:3]
    ['numpy', 'python', 'scipy']
    """
    import numpy
    import scipy
    import torch

    from .. import __version__

    return {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "torch": torch.__version__,
        "sip_theory": __version__,
    }


def _execute(run: RunSpec, device: str, torch_threads: int | None) -> dict:
    """Run one unit and wrap its output in a record (never raises)."""
    if torch_threads:
        import torch

        torch.set_num_threads(torch_threads)
    t0 = time.perf_counter()
    record = {"run_id": run.run_id, "config": run.to_dict(), "versions": library_versions(),
              "device": device}
    try:
        out = get_task(run.task)(run, device=device)
        if not isinstance(out, Mapping) or "metrics" not in out:
            raise TypeError(f"task {run.task!r} must return a dict with a 'metrics' mapping")
        record.update(out)
        record["status"] = "ok"
    except Exception as exc:  # stored and re-raised by the runner as RunFailedError
        record["status"] = "failed"
        record["error"] = f"{type(exc).__name__}: {exc}"
        record["traceback"] = traceback.format_exc()
    record["wall_time_s"] = time.perf_counter() - t0
    return record


def _execute_group(runs: list, device: str, torch_threads: int | None) -> list[dict]:
    """Run units of one group (:func:`_groups`) through their task's group function (never raises).

    Each record's ``wall_time_s`` is its share of the group's wall time, and
    ``group`` names the group's size, run ids and total wall time.
    """
    if len(runs) == 1 or runs[0].task not in _GROUP_TASKS:
        return [_execute(r, device, torch_threads) for r in runs]
    if torch_threads:
        import torch

        torch.set_num_threads(torch_threads)
    t0 = time.perf_counter()
    try:
        outs = list(_GROUP_TASKS[runs[0].task](runs, device=device))
        if len(outs) != len(runs):
            raise TypeError(f"group task {runs[0].task!r} returned {len(outs)} results "
                            f"for {len(runs)} runs")
    except Exception as exc:  # every run of the group fails with it
        outs = [exc] * len(runs)
    wall = time.perf_counter() - t0
    group = {"size": len(runs), "run_ids": [r.run_id for r in runs], "wall_time_s": wall}
    records = []
    for run, out in zip(runs, outs, strict=True):
        record = {"run_id": run.run_id, "config": run.to_dict(), "versions": library_versions(),
                  "device": device}
        if isinstance(out, Exception):
            record["status"] = "failed"
            record["error"] = f"{type(out).__name__}: {out}"
            record["traceback"] = "".join(traceback.format_exception(out))
        elif not isinstance(out, Mapping) or "metrics" not in out:
            record["status"] = "failed"
            record["error"] = (f"TypeError: task {run.task!r} must return a dict with a "
                               "'metrics' mapping")
        else:
            record.update(out)
            record["status"] = "ok"
        record["group"] = group
        record["wall_time_s"] = wall / len(runs)
        records.append(record)
    return records


def _group_key(name: str, run) -> tuple:
    if run.task not in _GROUP_TASKS:
        return (name, run.arm, run.run_id)
    if run.task in _GROUP_KEYS:
        return (run.task, _GROUP_KEYS[run.task](run))
    return (name, run.arm)


def _groups(todo: list, group_size: int) -> list[list]:
    """Pending (name, run) pairs in groups sharing a key, each with at most ``group_size`` seeds.

    The key is the experiment and arm, or the task's ``group_key``; a group holds
    every pending unit of its seeds under that key (one per seed unless the key
    spans experiments).
    """
    if group_size <= 1:
        return [[item] for item in todo]
    by_key: dict = {}
    for name, run in todo:
        by_seed = by_key.setdefault(_group_key(name, run), {})
        by_seed.setdefault(run.seed, []).append((name, run))
    out = []
    for by_seed in by_key.values():
        seeds = list(by_seed)
        for i in range(0, len(seeds), group_size):
            out.append([item for seed in seeds[i:i + group_size] for item in by_seed[seed]])
    return out


def _is_complete(path: Path, run: RunSpec) -> bool:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return record.get("status") == "ok" and record.get("config") == run.to_dict()


def run_experiment(
    spec: ExperimentSpec,
    out_dir,
    *,
    jobs: int = 1,
    device: str = "cpu",
    resume: bool = True,
    progress: bool = True,
    torch_threads: int | None = None,
    group_size: int = 1,
) -> list[dict]:
    """Run every unit of ``spec``, skipping completed ones, and store the results.

    Files written under ``out_dir/<spec.name>/``: ``runs/<run_id>.json`` (one per
    unit: configuration, library versions, task output, wall time),
    ``spec.json`` and ``results.csv`` (tidy: one row per run and metric).

    Parameters
    ----------
    spec : ExperimentSpec
    out_dir : str or path-like
    jobs : int, default 1
        Worker processes; units are independent so they may run in parallel.
    device : {"cpu", "cuda"}
        Passed to the task.
    resume : bool, default True
        Skip units whose stored record is complete and has the same configuration.
    progress : bool
        Show a progress bar.
    torch_threads : int, optional
        ``torch.set_num_threads`` in each worker (default: 1 when ``jobs > 1``).
    group_size : int, default 1
        Up to this many seeds of one arm go to the task's group function at once
        (tasks registered with ``group``; the synthetic task trains them as one
        stacked computation, :func:`~sip_theory.models.train_together`, and trains
        once the units its ``group_key`` puts together whose training is identical).
        Each unit is still stored, and resumed, on its own.

    Returns
    -------
    list of dict
        The records of all units, in :meth:`ExperimentSpec.runs` order.

    Raises
    ------
    RunFailedError
        When any unit failed; its record (with the traceback) is still written
        as ``runs/<run_id>.failed.json`` and completed units are kept.

    Examples
    --------
    >>> import tempfile
    >>> @register_task("doc-double")
    ... def _double(run, *, device="cpu"):
    ...     return {"metrics": {"x": run.seed * 2}}
    >>> spec = ExperimentSpec("toy", "doc-double", seeds=[0, 1])
    >>> recs = run_experiment(spec, tempfile.mkdtemp(), progress=False)
    >>> [r["metrics"]["x"] for r in recs]
    [0, 2]
    """
    if not isinstance(spec, ExperimentSpec):
        raise TypeError(f"spec must be an ExperimentSpec, got {type(spec).__name__}")
    return run_experiments([spec], out_dir, jobs=jobs, device=device, resume=resume,
                           progress=progress, torch_threads=torch_threads,
                           group_size=group_size)[spec.name]


def run_experiments(
    specs,
    out_dir,
    *,
    jobs: int = 1,
    device: str = "cpu",
    resume: bool = True,
    progress: bool = True,
    torch_threads: int | None = None,
    group_size: int = 1,
) -> dict:
    """Run several experiments through one pool of workers (see :func:`run_experiment`).

    All pending units of all ``specs`` are queued together, so parallel workers
    stay busy across experiment boundaries and are started only once. Each
    experiment's ``results.csv`` is written as soon as its last unit finishes.

    Returns
    -------
    dict of str to list of dict
        Experiment name -> its records, in :meth:`ExperimentSpec.runs` order.

    Raises
    ------
    RunFailedError
        After every unit has run, when any unit failed (completed units are kept).

    Examples
    --------
    >>> import tempfile
    >>> @register_task("doc-quad")
    ... def _quad(run, *, device="cpu"):
    ...     return {"metrics": {"x": run.seed * 4}}
    >>> specs = [ExperimentSpec(n, "doc-quad", seeds=[1]) for n in ("a", "b")]
    >>> out = run_experiments(specs, tempfile.mkdtemp(), progress=False)
    >>> {k: v[0]["metrics"]["x"] for k, v in out.items()}
    {'a': 4, 'b': 4}
    """
    from .._progress import auto_tqdm

    tqdm = auto_tqdm()

    specs = list(specs)
    for spec in specs:
        if not isinstance(spec, ExperimentSpec):
            raise TypeError(f"spec must be an ExperimentSpec, got {type(spec).__name__}")
        get_task(spec.task)
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"experiment names must be distinct, got {names}")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1:
        raise ValueError(f"group_size must be a positive integer, got {group_size!r}")

    state = {}
    todo = []  # (spec name, run)
    for spec in specs:
        root = Path(os.fspath(out_dir)) / spec.name
        runs_dir = root / "runs"
        runs_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(root / "spec.json", spec.to_dict())
        runs = spec.runs()
        records: dict[str, dict] = {}
        pending = 0
        for run in runs:
            path = runs_dir / f"{run.run_id}.json"
            if resume and _is_complete(path, run):
                records[run.run_id] = json.loads(path.read_text())
                records[run.run_id]["resumed"] = True
            else:
                todo.append((spec.name, run))
                pending += 1
        state[spec.name] = {"root": root, "runs": runs, "records": records,
                            "pending": pending}
    if torch_threads is None and jobs > 1:
        torch_threads = 1

    failures = []

    def _finish(name):
        st = state[name]
        _write_tidy_csv(st["root"] / "results.csv", [st["records"][r.run_id] for r in st["runs"]])

    for name, st in state.items():
        if st["pending"] == 0:
            _finish(name)

    def _store(name, record):
        st = state[name]
        runs_dir = st["root"] / "runs"
        fname = record["run_id"] + (".json" if record["status"] == "ok" else ".failed.json")
        atomic_write_json(runs_dir / fname, record)
        st["records"][record["run_id"]] = record
        if record["status"] != "ok":
            failures.append(record)
        st["pending"] -= 1
        if st["pending"] == 0:
            _finish(name)

    desc = specs[0].name if len(specs) == 1 else f"{len(specs)} experiments"
    bar = tqdm(total=len(todo), desc=desc, disable=not progress or not todo, leave=False)
    groups = _groups(todo, group_size)
    if jobs == 1 or len(groups) <= 1:
        for group in groups:
            run = group[0][1]
            bar.set_postfix_str(f"{run.experiment}/{run.arm}/seed{run.seed}"
                                + (f"+{len(group) - 1}" if len(group) > 1 else ""),
                                refresh=False)
            for (name, _), record in zip(group, _execute_group([r for _, r in group], device,
                                                               torch_threads), strict=True):
                _store(name, record)
                bar.update()
    else:
        import multiprocessing as mp

        with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as pool:
            futures = {pool.submit(_execute_group, [r for _, r in group], device,
                                   torch_threads): group for group in groups}
            for fut in as_completed(futures):
                for (name, _), record in zip(futures[fut], fut.result(), strict=True):
                    _store(name, record)
                    bar.update()
    bar.close()
    if failures:
        msgs = "; ".join(f"{f['run_id']}: {f['error']}" for f in failures[:3])
        which = sorted({f["config"]["experiment"] for f in failures})
        raise RunFailedError(f"{len(failures)} run(s) of {', '.join(map(repr, which))} "
                             f"failed: {msgs}")
    return {name: [st["records"][r.run_id] for r in st["runs"]] for name, st in state.items()}


def _flatten_metrics(metrics: Mapping, prefix: str = "") -> Iterable[tuple[str, float]]:
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flatten_metrics(value, prefix=f"{name}.")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            yield name, float(value)
        elif isinstance(value, bool):
            yield name, float(value)


def _write_tidy_csv(path: Path, records: list[dict]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["experiment", "arm", "seed", "run_id", "metric", "value"])
    for rec in records:
        if rec.get("status") != "ok":
            continue
        cfg = rec["config"]
        for metric, value in _flatten_metrics(rec.get("metrics", {})):
            writer.writerow([cfg["experiment"], cfg["arm"], cfg["seed"], rec["run_id"], metric,
                             repr(value)])
    atomic_write_text(path, buf.getvalue())


def load_results(out_dir, name: str) -> list[dict]:
    """Load the tidy rows ``results.csv`` of experiment ``name`` as a list of dicts.

    Examples
    --------
    >>> import tempfile
    >>> @register_task("doc-triple")
    ... def _triple(run, *, device="cpu"):
    ...     return {"metrics": {"x": run.seed * 2}}
    >>> d = tempfile.mkdtemp()
    >>> _ = run_experiment(ExperimentSpec("toy", "doc-triple", seeds=[3]), d, progress=False)
    >>> load_results(d, "toy")[0]["value"]
    6.0
    """
    path = Path(os.fspath(out_dir)) / name / "results.csv"
    if not path.exists():
        raise FileNotFoundError(f"no results for experiment {name!r} under {out_dir}")
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row["seed"] = int(row["seed"])
        row["value"] = float(row["value"])
    return rows
