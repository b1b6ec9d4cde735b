"""``sip-theory reproduce``: run the synthetic experiments of a profile and report them.

:func:`reproduce` runs the specifications of :func:`profile_specs` through the
resumable runner, logs the invocation in ``invocations.json``, then
:func:`~._reproduce_summary.summarize` reads every stored run record and writes
the tables, figures and ``summary.md`` under the output folder. Beside this
driver: the paper's numbers (:mod:`._paper_numbers`), the stored records and
their aggregates (:mod:`._reproduce_records`), the summary
(:mod:`._reproduce_summary`) with its figures (:mod:`._reproduce_figures`), and
the check of a re-run against stored results (:mod:`._rerun_check`).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from .._atomic import atomic_write_json
from ._profiles import EXPERIMENTS, profile_specs
from ._reproduce_summary import _table_md, summarize
from ._runner import run_experiments
from ._summary_tools import cpu_seconds

__all__ = ["DEFAULT_STACK", "add_parser", "reproduce"]


#: Runs of one arm trained as one stacked computation on CPU
#: (:func:`sip_theory.models.train_together`), decided from cost: the quick
#: profile's five seeds of an arm in one group. Same-run ratios of training CPU time,
#: alone / stacked, 400 steps, one thread (experiments/benchmarks/bench_stacked.py,
#: results/bench_stacked.json): 1.8 for CLIQUES LM-only, 1.2-1.6 for CLIQUES SIPT,
#: 1.1-1.2 for PLANE SIPT (the wider manifold encoder is arithmetic-bound), 1.4 for
#: the mechanistic SIPT, 1.6-1.7 for MOBIUS LM-only.
DEFAULT_STACK = 5


def reproduce(profile: str = "quick", *, out_dir=None, only=None, jobs: int = 1,
              device: str = "cpu", resume: bool = True, progress: bool = True,
              command: str | None = None, overrides=None, stack: int | None = None) -> dict:
    """Run (or resume) a profile's synthetic experiments and write the report.

    Parameters
    ----------
    profile : {"quick", "paper", "smoke"}, default "quick"
    out_dir : str or path-like, optional
        Default ``experiments/results/<profile>`` under the current directory.
    only : str or sequence of str, optional
        Experiment name patterns (see :func:`profile_specs`).
    jobs : int, default 1
        Worker processes.
    device : {"cpu", "cuda"}, default "cpu"
    resume : bool, default True
        Skip runs already stored with the same configuration.
    progress : bool, default True
    command : str, optional
        Recorded in the summary.
    overrides : mapping of str to value, optional
        Dotted-key parameter changes for an ablation (see :func:`profile_specs`);
        they need an explicit ``out_dir`` so that an ablation never rewrites a
        profile's own results folder.
    stack : int, optional
        Up to this many runs (seeds) of one arm are trained together as one
        stacked computation; 1 trains every run alone. Default
        :data:`DEFAULT_STACK` on CPU, 1 on CUDA. Each run follows its own
        trajectory up to float32 rounding either way, which training amplifies:
        results agree with the other setting within the seed intervals, not
        digit for digit (each record has ``encoder_kernel.stacked_runs``).

    Returns
    -------
    dict
        :func:`summarize`'s summary (also written to ``summary.json``).

    Raises
    ------
    RunFailedError
        A run failed (e.g. a dataset could not be generated); the runs that
        succeeded are stored and the report is still written from them.
    """
    from ._runner import RunFailedError

    if overrides and out_dir is None:
        raise ValueError("overrides need an explicit out_dir (an ablation must not write "
                         "into the profile's own results folder)")
    out = Path(out_dir) if out_dir is not None else Path("experiments/results") / profile
    if stack is None:
        stack = DEFAULT_STACK if device == "cpu" else 1
    if isinstance(stack, bool) or not isinstance(stack, int) or stack < 1:
        raise ValueError(f"stack must be a positive integer, got {stack!r}")
    specs = profile_specs(profile, only=only, overrides=overrides)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    load0 = _loadavg()
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    error = None
    records = None
    try:
        # one torch thread per worker on CPU: these models are tiny, and intra-op
        # threads on shared cores slow them down many times over
        records = run_experiments(specs, out, jobs=jobs, device=device, resume=resume,
                                  progress=progress, group_size=stack,
                                  torch_threads=1 if device == "cpu" else None)
    except RunFailedError as exc:
        error = exc
    wall = time.perf_counter() - t0
    n_total = sum(len(s.runs()) for s in specs)
    n_resumed = (sum(bool(r.get("resumed")) for recs in records.values() for r in recs)
                 if records is not None else None)
    entry = {
        "command": command, "profile": profile, "only": only, "jobs": jobs, "device": device,
        "stack": stack, "overrides": dict(overrides) if overrides else None,
        "started": started, "wall_time_s": wall,
        "cpu_time_s": None if cpu0 is None else cpu_seconds() - cpu0,
        "runs_total": n_total, "runs_resumed": n_resumed,
        "runs_executed": None if n_resumed is None else n_total - n_resumed,
        "failed": None if error is None else str(error),
        "loadavg_start": load0, "loadavg_end": _loadavg(), "cpu_count": os.cpu_count(),
    }
    log_path = out / "invocations.json"
    try:
        log = json.loads(log_path.read_text())
    except (OSError, ValueError):
        log = []
    log.append(entry)
    atomic_write_json(log_path, log)
    summary = summarize(out, profile=profile, wall_time_s=wall, command=command)
    if error is not None:
        raise error
    return summary


def _loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):  # pragma: no cover - platforms without getloadavg
        return None


def add_parser(subparsers) -> None:
    """Register ``sip-theory reproduce``."""
    p = subparsers.add_parser(
        "reproduce",
        help="run the paper's synthetic experiments (ours vs the paper)",
        description="Run the paper's synthetic experiments from generated data and write "
                    "a table of ours vs the paper, plots and a summary. Completed runs are "
                    "skipped (resume).")
    p.add_argument("--profile", choices=("quick", "paper", "smoke"), default="quick",
                   help="quick: minutes on a CPU; paper: the paper's sizes and steps (GPU); "
                        "smoke: a few steps, pipeline check (default: quick)")
    p.add_argument("--only", default=None, metavar="NAME",
                   help="comma-separated experiment names or patterns, e.g. 'cliques*,plane'; "
                        f"names: {', '.join(EXPERIMENTS)}")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output folder (default experiments/results/<profile>)")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="worker processes")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--stack", type=int, default=None, metavar="N",
                   help="train up to N seeds of an arm as one stacked computation "
                        f"(default {DEFAULT_STACK} on cpu, 1 on cuda; 1: every run alone)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="ablation: change a parameter of every experiment, e.g. "
                        "encoder.attention_dropout=0 (VALUE is read as JSON, else as text; "
                        "repeatable; needs --out)")
    p.add_argument("--no-resume", action="store_true", help="rerun completed runs")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_main)


def _main(args) -> int:
    from ._runner import RunFailedError

    parts = ["sip-theory reproduce", f"--profile {args.profile}"]
    if args.only:
        parts.append(f"--only {args.only}")
    if args.out:
        parts.append(f"--out {args.out}")
    if args.jobs != 1:
        parts.append(f"--jobs {args.jobs}")
    if args.device != "cpu":
        parts.append(f"--device {args.device}")
    if args.stack is not None:
        parts.append(f"--stack {args.stack}")
    overrides = {}
    for item in args.overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            print(f"sip-theory reproduce: --set expects KEY=VALUE, got {item!r}")
            return 2
        try:
            overrides[key.strip()] = json.loads(raw)
        except ValueError:
            overrides[key.strip()] = raw
        parts.append(f"--set {item}")
    try:
        summary = reproduce(args.profile, out_dir=args.out, only=args.only, jobs=args.jobs,
                            device=args.device, resume=not args.no_resume,
                            progress=not args.quiet, command=" ".join(parts),
                            overrides=overrides or None, stack=args.stack)
    except RunFailedError as exc:
        print(f"sip-theory reproduce: {exc}")
        return 1
    except ValueError as exc:
        print(f"sip-theory reproduce: {exc}")
        return 2
    out = args.out or f"experiments/results/{args.profile}"
    print(_table_md(summary["table"]))
    acc = summary["acceptance"]
    for key in ("sipt_beats_lm_on_all_high_lc", "mean_high_lc_gain", "mean_high_lc_gain_ci95",
                "mean_high_lc_gain_ci_includes_paper", "sipt_loses_on_structural",
                "cliques_gain_shrinks_with_noise"):
        if key in acc:
            print(f"{key}: {acc[key]}")
    print(f"wall time {summary['wall_time_s']:.0f} s; report in {out}/summary.md")
    return 0
