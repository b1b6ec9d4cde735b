"""``sip-theory cora``: run the whole Cora case study and write its summary in one call."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from ._cora import CORA_LAMBDAS, CORA_SETTINGS, cora_graph_report, cora_spec, cora_subset
from ._cora_summary import summarize_cora
from ._runner import run_experiment
from ._summary_tools import cpu_seconds

__all__ = ["add_parser", "run_cora_case_study"]


def run_cora_case_study(out_dir="experiments/results", *, seeds=3, jobs: int = 1,
                        device: str = "cpu", epochs: int | None = None, resume: bool = True,
                        progress: bool = True, overrides: Mapping | None = None,
                        n_nodes: int | None = None, torch_threads: int | None = 1,
                        graph_report: bool = True, spectral_ks: Sequence[int] = (7, 64)) -> dict:
    """Run the whole case study and write its results under ``out_dir/cora/``.

    Parameters
    ----------
    out_dir : str or path-like, default "experiments/results"
    seeds : int or sequence of int, default 3
    jobs : int, default 1
        Worker processes (each runs one (arm, seed) unit with one torch thread).
    device : {"cpu", "cuda"}
    epochs : int, optional
        Override the number of pre-training epochs (default 40).
    resume : bool, default True
        Keep finished runs with the same configuration.
    progress : bool
    overrides : mapping, optional
        As in :func:`cora_spec`.
    n_nodes : int, optional
        Use a uniform subset of this many papers (:func:`cora_subset`; smoke tests).
    torch_threads : int or None, default 1
        torch threads per unit (one per worker avoids oversubscribing shared
        cores; None leaves torch's default).
    graph_report : bool, default True
        Compute :func:`cora_graph_report` (about 20 s).
    spectral_ks : sequence of int
        Passed to :func:`cora_graph_report`.

    Returns
    -------
    dict
        The summary (see :func:`summarize_cora`). When every unit was resumed,
        ``summary["run"]`` keeps the timing of the invocation that computed them
        and describes this one under ``"resumed_invocation"``.
    """
    import platform

    from ._runner import library_versions

    t0 = time.perf_counter()
    cpu0 = cpu_seconds()
    load0 = os.getloadavg()
    ov = {k: dict(v) if isinstance(v, Mapping) else list(v)
          for k, v in (overrides or {}).items()}
    if epochs is not None:
        ov.setdefault("train", {})["epochs"] = int(epochs)
    if n_nodes is not None:
        ov.setdefault("data", {})["n_nodes"] = int(n_nodes)
    spec = cora_spec(seeds=seeds, overrides=ov)
    records = run_experiment(spec, out_dir, jobs=jobs, device=device, resume=resume,
                             progress=progress, torch_threads=torch_threads)
    t_runs = time.perf_counter() - t0
    rep = None
    if graph_report:
        from ..data import load_cora

        ds = load_cora() if n_nodes is None else cora_subset(load_cora(), int(n_nodes))
        rep = cora_graph_report(ds, ks=spectral_ks)
    load1 = os.getloadavg()
    cpu1 = cpu_seconds()
    info = {
        "wall_time_s": time.perf_counter() - t0,
        "cpu_time_s": None if cpu0 is None else cpu1 - cpu0,
        "runs_wall_time_s": t_runs,
        "n_runs": len(records),
        "n_resumed": sum(bool(r.get("resumed")) for r in records),
        "run_seconds": [r.get("wall_time_s") for r in records],
        "jobs": int(jobs),
        "torch_threads": torch_threads,
        "device": device,
        "cpu_count": os.cpu_count(),
        "loadavg_start": list(load0),
        "loadavg_end": list(load1),
        "platform": platform.platform(),
        "versions": library_versions(),
    }
    exp_dir = Path(os.fspath(out_dir)) / spec.name
    if info["n_resumed"] == info["n_runs"]:
        # nothing was computed: keep the description of the run that computed the results
        try:
            import json

            previous = json.loads((exp_dir / "summary.json").read_text()).get("run") or {}
        except (OSError, ValueError):
            previous = {}
        if previous.get("n_resumed", 0) < previous.get("n_runs", 0):
            previous.pop("resumed_invocation", None)
            info = {**previous, "resumed_invocation": info}
    return summarize_cora(exp_dir, records=records, graph_report=rep, run_info=info)


def add_parser(subparsers) -> None:
    """Register ``sip-theory cora``."""
    p = subparsers.add_parser(
        "cora", help="the Cora case study: SIPT on real citations, theory beside measurement",
        description="Pre-train an MLP on Cora's bag of words with (1-λ) L_M + λ L_SI over "
        "the citations (10% test and 5% validation citations held out), for λ in "
        f"{', '.join(f'{lam:g}' for lam in CORA_LAMBDAS)}, and report held-out link "
        "retrieval, topic accuracy on the planetoid split, LC, the spectral bound, Theorem "
        "1's check, the raw bag-of-words baseline and the label-free choice of λ. Results "
        "go to OUT/cora/.")
    p.add_argument("--out", default="experiments/results",
                   help="parent directory of the results (default: experiments/results)")
    p.add_argument("--seeds", type=int, default=3, help="number of seeds (default 3)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--epochs", type=int, default=None,
                   help=f"pre-training epochs (default {CORA_SETTINGS['train']['epochs']})")
    p.add_argument("--n-nodes", type=int, default=None,
                   help="use a uniform subset of this many papers (quick smoke runs)")
    p.add_argument("--no-graph-report", action="store_true",
                   help="skip LC and the spectral bound of the topics (about 20 s)")
    p.add_argument("--no-resume", action="store_true", help="recompute finished runs")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_main)


def _main(args) -> int:
    if args.seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {args.seeds}")
    summary = run_cora_case_study(args.out, seeds=args.seeds, jobs=args.jobs,
                                  device=args.device, epochs=args.epochs,
                                  n_nodes=args.n_nodes, graph_report=not args.no_graph_report,
                                  resume=not args.no_resume, progress=not args.quiet)
    exp = Path(args.out) / "cora"
    print((exp / "table.md").read_text())
    print((exp / "selection.md").read_text())
    info = summary["run"].get("resumed_invocation", summary["run"])
    print(f"wall time {info['wall_time_s']:.1f} s ({info['n_runs']} runs, "
          f"{info['n_resumed']} resumed, jobs={info['jobs']}); load average "
          f"{info['loadavg_start'][0]:.2f} -> {info['loadavg_end'][0]:.2f} on "
          f"{info['cpu_count']} CPUs; results in {exp}/")
    return 0
