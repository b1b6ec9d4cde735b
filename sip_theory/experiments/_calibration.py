"""``sip-theory calibrate``: what the quick profile's word text does, measured against characters.

The quick profile gives every node 16 word tokens; the paper profile gives it
the faithful per-character text of the official pipeline (about 120
characters, padded to about 300 tokens; see
:mod:`sip_theory.experiments._synthetic_text`). This module runs two experiments of
the quick profile, ``cliques_p00`` (CLIQUES without noise) and ``plane``, at
the quick profile's schedule, encoder and arms (``lm``: lambda_SI = 0,
``sipt``: lambda_SI = 0.1) once with each text kind, on the same paired seeds,
so that the two rows of a graph differ only in ``text.kind``:

* experiments ``cliques_p00__words``, ``cliques_p00__characters``,
  ``plane__words`` and ``plane__characters`` (:func:`calibration_specs`);
* seeds 0, 1, 2. Three seeds were decided from cost, before any run of the
  table: a character run at the quick schedule costs several minutes on one
  core (its sequences are padded to about 17 times the word text's width; 20
  steps of seed 0 on the shared 2-core machine took 0.45 s a step for LM and
  1.6-2.2 s for SIPT, which embeds each anchor's positive and negative too:
  about 6 and 20-30 minutes for 800 steps), against seconds for the word text,
  and the table has to fit in one or two hours on the project's 2 shared cores.

:func:`calibrate` runs them through the resumable runner (one torch thread per
worker, as ``sip-theory reproduce`` does on CPU) and writes
``calibration.json`` (per-seed raw values, configuration, library versions,
invocations) and ``calibration.md`` (:func:`calibration_markdown`): one row per
(graph, text kind) with the LM and SIPT 3-NN macro AUROC and the paired gain,
each as mean ± the half-width of a 95% t confidence interval over seeds, plus
the local consistency, masked-token accuracy, mean sequence width and training
seconds per run.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from .._atomic import atomic_write_json, atomic_write_text
from ._profiles import ARMS, apply_overrides, profile_specs
from ._runner import ExperimentSpec, _is_complete, library_versions, run_experiments
from ._summary_tools import seed_stats
from ._synthetic_text import TEXT_KINDS, TEXT_SETTINGS

__all__ = [
    "CALIBRATION_EXPERIMENTS",
    "CALIBRATION_SEEDS",
    "add_parser",
    "calibrate",
    "calibration_markdown",
    "calibration_specs",
]

#: Quick-profile experiments of the calibration, with their names in the table.
CALIBRATION_EXPERIMENTS = {"cliques_p00": "CLIQUES (p = 0)", "plane": "PLANE"}

#: Paired seeds of the calibration (decided from cost, see the module notes).
CALIBRATION_SEEDS = 3

_FILES = ("calibration.json", "calibration.md")


def calibration_specs(*, seeds: int = CALIBRATION_SEEDS, smoke: bool = False
                      ) -> list[ExperimentSpec]:
    """The calibration's experiments: each of :data:`CALIBRATION_EXPERIMENTS` with each text.

    Parameters
    ----------
    seeds : int, default 3
        Seeds ``0 .. seeds - 1`` (paired: both arms and both texts run each).
    smoke : bool, default False
        Take the experiments from the smoke profile instead of the quick one
        (tiny graphs, 3 steps: a pipeline check whose numbers mean nothing).

    Returns
    -------
    list of ExperimentSpec
        Named ``<experiment>__<kind>``, in the order of
        :data:`CALIBRATION_EXPERIMENTS`, words before characters; the profile's
        parameters with ``text.kind`` set, arms :data:`ARMS`.

    Examples
    --------
    >>> specs = calibration_specs()
    >>> [s.name for s in specs]
    ['cliques_p00__words', 'cliques_p00__characters', 'plane__words', 'plane__characters']
    >>> specs[1].params["text"], specs[1].seeds, sorted(specs[1].arms)
    ({'kind': 'characters'}, (0, 1, 2), ['lm', 'sipt'])
    >>> quick = profile_specs("quick", only="plane")[0].params
    >>> {k: v for k, v in specs[3].params.items() if k != "text"} == quick
    True
    """
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds must be a positive integer, got {seeds!r}")
    base = profile_specs("smoke" if smoke else "quick", only=list(CALIBRATION_EXPERIMENTS))
    out = []
    for spec in base:
        for kind in TEXT_KINDS:
            params = apply_overrides(spec.params, {"text.kind": kind})
            out.append(ExperimentSpec(f"{spec.name}__{kind}", "synthetic", params=params,
                                      arms=ARMS, seeds=tuple(range(seeds))))
    return out


def _collect(specs, out_dir) -> list[dict]:
    """Per-run raw values of every completed run of ``specs`` found under ``out_dir``."""
    rows = []
    for spec in specs:
        experiment, kind = spec.name.rsplit("__", 1)
        runs_dir = Path(out_dir) / spec.name / "runs"
        for run in spec.runs():
            path = runs_dir / f"{run.run_id}.json"
            if not _is_complete(path, run):
                continue
            rec = json.loads(path.read_text())
            ds, m = rec["dataset"], rec["metrics"]
            task = m[ds["task"]]
            width = ds["sequence_width"]
            rows.append({
                "experiment": experiment, "text_kind": kind, "arm": run.arm,
                "seed": run.seed, "run_id": run.run_id, "task": ds["task"],
                "knn3_pt_auroc": task["knn3_pt_auroc"], "knn3_pt_accuracy":
                    task["knn3_pt_accuracy"], "knn3_ft_auroc": task.get("knn3_ft_auroc"),
                "lc": task["lc"], "masked_token_accuracy": m["masked_token_accuracy"],
                "final_loss_m": m["final_loss_m"], "final_loss_si": m["final_loss_si"],
                "steps": m["steps"], "train_seconds": m["train_seconds"],
                "wall_time_s": rec.get("wall_time_s"),
                "mean_sequence_width": width["mean"], "padded_width_pt": width["padded_pt"],
            })
    return rows


def _mean_ci(values) -> dict:
    """Mean, 95% t confidence half-width (None for n < 2) and n of the finite values
    (:func:`seed_stats` in this record's field names)."""
    s = seed_stats(values)
    return {"mean": s["mean"], "half_width": s["ci95"], "n": s["n"]}


def _summarize(rows) -> list[dict]:
    """One summary per (experiment, text kind), in calibration order."""
    out = []
    for experiment in CALIBRATION_EXPERIMENTS:
        for kind in TEXT_KINDS:
            sel = [r for r in rows if r["experiment"] == experiment and r["text_kind"] == kind]
            by_arm = {arm: {r["seed"]: r for r in sel if r["arm"] == arm} for arm in ARMS}
            paired = sorted(set(by_arm["lm"]) & set(by_arm["sipt"]))
            gains = [by_arm["sipt"][s]["knn3_pt_auroc"] - by_arm["lm"][s]["knn3_pt_auroc"]
                     for s in paired]
            row = {"experiment": experiment, "graph": CALIBRATION_EXPERIMENTS[experiment],
                   "text_kind": kind, "paired_seeds": paired,
                   "gain_per_seed": dict(zip(map(str, paired), gains, strict=True)),
                   "gain": _mean_ci(gains)}
            for arm in ARMS:
                runs = list(by_arm[arm].values())
                row[arm] = {key: _mean_ci([r[key] for r in runs])
                            for key in ("knn3_pt_auroc", "masked_token_accuracy",
                                        "train_seconds", "final_loss_m", "final_loss_si")}
            row["lc"] = _mean_ci([r["lc"] for r in by_arm["lm"].values()] or
                                 [r["lc"] for r in by_arm["sipt"].values()])
            row["mean_sequence_width"] = _mean_ci([r["mean_sequence_width"] for r in sel])
            row["padded_width_pt"] = _mean_ci([r["padded_width_pt"] for r in sel])
            row["train_seconds"] = _mean_ci([r["train_seconds"] for r in sel])
            out.append(row)
    return out


def _fmt_ci(s: dict, digits: int = 3, signed: bool = False) -> str:
    if s["mean"] is None:
        return "–"
    sign = "+" if signed else ""
    half = "n/a" if s["half_width"] is None else f"{s['half_width']:.{digits}f}"
    return f"{s['mean']:{sign}.{digits}f} ± {half} (n = {s['n']})"


def _fmt(s: dict, digits: int = 2) -> str:
    return "–" if s["mean"] is None else f"{s['mean']:.{digits}f}"


def _markdown(record: dict) -> str:
    cfg = record["config"]
    lines = [
        "# Calibration of the quick profile's node text: words against characters",
        "",
        f"Experiments {', '.join(f'`{e}`' for e in cfg['experiments'])} of the "
        f"`{cfg['profile']}` profile (same schedule, encoder and arms), each with "
        "`text.kind = \"words\"` (16 word tokens per node, the quick profile's text) and "
        "`text.kind = \"characters\"` (the paper profile's per-character text), on paired "
        f"seeds {', '.join(map(str, cfg['seeds']))}. 3-NN macro AUROC of the FT task on the "
        "PT nodes (leave-one-out, the paper's protocol); the gain is SIPT − LM per seed. "
        "Each cell: mean ± half-width of the 95% t confidence interval over seeds (n/a "
        "for n = 1), with n.",
        "",
        "| graph | text | LM AUROC | SIPT AUROC | gain | LC | MLM accuracy LM / SIPT "
        "| mean width (padded PT) | train s per run LM / SIPT |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in record["summary"]:
        lines.append(
            f"| {r['graph']} | {r['text_kind']} | {_fmt_ci(r['lm']['knn3_pt_auroc'])} "
            f"| {_fmt_ci(r['sipt']['knn3_pt_auroc'])} | {_fmt_ci(r['gain'], signed=True)} "
            f"| {_fmt(r['lc'])} | {_fmt(r['lm']['masked_token_accuracy'])} / "
            f"{_fmt(r['sipt']['masked_token_accuracy'])} "
            f"| {_fmt(r['mean_sequence_width'], 1)} ({_fmt(r['padded_width_pt'], 0)}) "
            f"| {_fmt(r['lm']['train_seconds'], 1)} / {_fmt(r['sipt']['train_seconds'], 1)} |")
    lines += ["", "Gain per seed (SIPT − LM AUROC):", "",
              "| graph | text | " + " | ".join(f"seed {s}" for s in cfg["seeds"]) + " |",
              "|---|---|" + "---|" * len(cfg["seeds"])]
    for r in record["summary"]:
        cells = [f"{r['gain_per_seed'][str(s)]:+.3f}" if str(s) in r["gain_per_seed"] else "–"
                 for s in cfg["seeds"]]
        lines.append(f"| {r['graph']} | {r['text_kind']} | " + " | ".join(cells) + " |")
    jobs = record["invocations"][-1]["jobs"] if record["invocations"] else "?"
    lines += ["", "*mean width*: tokens per PT node before padding ([CLS] included, and "
              "[SEP] for the words); *padded PT*: the width the PT nodes are padded to. *train s*: "
              f"the training loop alone, one torch thread per worker, {jobs} "
              "worker(s) on a shared CPU. Raw values per run: `calibration.json`; run "
              "records: `<experiment>__<text>/runs/`.", ""]
    return "\n".join(lines)


def calibration_markdown(out_dir="experiments/results/calibration") -> str:
    """The calibration table of ``out_dir/calibration.json`` as Markdown (to embed elsewhere).

    Raises
    ------
    FileNotFoundError
        No ``calibration.json`` under ``out_dir`` (run :func:`calibrate` first).
    """
    path = Path(os.fspath(out_dir)) / "calibration.json"
    if not path.exists():
        raise FileNotFoundError(f"no calibration.json under {out_dir}; run sip-theory calibrate")
    return _markdown(json.loads(path.read_text()))


def calibrate(out_dir="experiments/results/calibration", *, jobs: int = 2,
              seeds: int = CALIBRATION_SEEDS, smoke: bool = False, device: str = "cpu",
              resume: bool = True, progress: bool = True, command: str | None = None) -> dict:
    """Run (or resume) the calibration and write ``calibration.json`` and ``calibration.md``.

    Parameters
    ----------
    out_dir : str or path-like, default "experiments/results/calibration"
    jobs : int, default 2
        Worker processes (one torch thread each on CPU).
    seeds : int, default 3
        Paired seeds ``0 .. seeds - 1``.
    smoke : bool, default False
        The smoke profile's tiny graphs and 3 steps (tests; numbers mean nothing).
    device : {"cpu", "cuda"}, default "cpu"
    resume : bool, default True
        Skip runs already stored with the same configuration.
    progress : bool, default True
    command : str, optional
        Recorded with the invocation.

    Returns
    -------
    dict
        The record written to ``calibration.json``: ``config``, ``versions``,
        ``invocations`` (this one last: runs total/resumed/executed, wall time),
        ``per_run`` (raw values of every run) and ``summary`` (one entry per
        graph and text kind).

    Raises
    ------
    RunFailedError
        A run failed; the files are still written from the runs that succeeded.

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> rec = calibrate(d, jobs=1, seeds=1, smoke=True, progress=False)
    >>> [(r["experiment"], r["text_kind"], r["gain"]["n"]) for r in rec["summary"]]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('cliques_p00', 'words', 1), ('cliques_p00', 'characters', 1),
     ('plane', 'words', 1), ('plane', 'characters', 1)]
    >>> calibrate(d, jobs=1, seeds=1, smoke=True, progress=False)["invocations"][-1][
    ...     "runs_executed"]
    0
    """
    from ._runner import RunFailedError

    specs = calibration_specs(seeds=seeds, smoke=smoke)
    out = Path(os.fspath(out_dir))
    out.mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    t0 = time.perf_counter()
    error = None
    records = None
    try:
        records = run_experiments(specs, out, jobs=jobs, device=device, resume=resume,
                                  progress=progress,
                                  torch_threads=1 if device == "cpu" else None)
    except RunFailedError as exc:
        error = exc
    wall = time.perf_counter() - t0
    n_total = sum(len(s.runs()) for s in specs)
    n_resumed = (sum(bool(r.get("resumed")) for recs in records.values() for r in recs)
                 if records is not None else None)
    invocation = {"command": command, "started": started, "jobs": jobs, "device": device,
                  "wall_time_s": wall, "runs_total": n_total, "runs_resumed": n_resumed,
                  "runs_executed": None if n_resumed is None else n_total - n_resumed,
                  "failed": None if error is None else str(error), "cpu_count": os.cpu_count()}
    record = write_calibration(out, seeds=seeds, smoke=smoke, invocation=invocation)
    if error is not None:
        raise error
    return record


def write_calibration(out_dir="experiments/results/calibration", *,
                      seeds: int = CALIBRATION_SEEDS, smoke: bool = False,
                      invocation: dict | None = None) -> dict:
    """Write ``calibration.json`` and ``calibration.md`` from the runs stored so far.

    Runs nothing: an interrupted calibration (resumable) is summarized with the
    seeds it has, each row's ``n`` saying how many.
    """
    from ..data import CHARACTER_TEXT_SETTINGS

    out = Path(os.fspath(out_dir))
    specs = calibration_specs(seeds=seeds, smoke=smoke)
    try:
        previous = json.loads((out / "calibration.json").read_text()).get("invocations", [])
    except (OSError, ValueError, AttributeError):
        previous = []
    rows = _collect(specs, out)
    record = {
        "config": {
            "profile": "smoke" if smoke else "quick",
            "experiments": list(CALIBRATION_EXPERIMENTS),
            "text_kinds": list(TEXT_KINDS),
            "seeds": list(range(seeds)),
            "arms": {k: dict(v) for k, v in ARMS.items()},
            "text_settings": {"words": dict(TEXT_SETTINGS),
                              "characters": dict(CHARACTER_TEXT_SETTINGS)},
            "specs": [s.to_dict() for s in specs],
            "seeds_why": "3 seeds, decided from cost: a character run at the quick schedule "
                         "costs several minutes on one core (about 6 min LM, 20-30 min "
                         "SIPT for 800 steps)",
        },
        "versions": library_versions(),
        "invocations": [*previous, *([invocation] if invocation else [])],
        "per_run": rows,
        "summary": _summarize(rows),
    }
    atomic_write_json(out / "calibration.json", record)
    atomic_write_text(out / "calibration.md", _markdown(record))
    return record


def add_parser(subparsers) -> None:
    """Register ``sip-theory calibrate``."""
    p = subparsers.add_parser(
        "calibrate",
        help="measure the quick profile's word text against the faithful character text",
        description="Run CLIQUES (p = 0) and PLANE of the quick profile with the word text "
                    "and with the character text (paired seeds, both arms) and write "
                    "calibration.json and calibration.md. Completed runs are skipped.")
    p.add_argument("--out", default="experiments/results/calibration", metavar="DIR",
                   help="output folder (default experiments/results/calibration)")
    p.add_argument("--jobs", type=int, default=2, metavar="N", help="worker processes "
                   "(default 2)")
    p.add_argument("--seeds", type=int, default=CALIBRATION_SEEDS, metavar="N",
                   help=f"paired seeds 0..N-1 (default {CALIBRATION_SEEDS})")
    p.add_argument("--smoke", action="store_true",
                   help="the smoke profile's tiny graphs and 3 steps (pipeline check)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_main)


def _main(args) -> int:
    from ._runner import RunFailedError

    parts = ["sip-theory calibrate", f"--out {args.out}", f"--jobs {args.jobs}",
             f"--seeds {args.seeds}"] + (["--smoke"] if args.smoke else [])
    try:
        calibrate(args.out, jobs=args.jobs, seeds=args.seeds, smoke=args.smoke,
                  progress=not args.quiet, command=" ".join(parts))
    except RunFailedError as exc:
        print(f"sip-theory calibrate: {exc}")
        return 1
    print(calibration_markdown(args.out))
    return 0

