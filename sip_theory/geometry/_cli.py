"""``sip-theory geometry``: score an embedding file against a graph and labels.

The output paths are checked first, everything is computed before anything is
written, and the JSON report and the figure are then written atomically, so a
failure leaves no partial output. What loading did to the data (a sparse matrix
densified, self-loops dropped, duplicate edges merged, edges made undirected) and
what the data hold that deserves a look (missing labels, all-zero and duplicate
rows, isolated nodes) are printed as warnings and stored in the report. Under
``torchrun`` the distance sweep is sharded over the ranks and only rank 0 prints
and writes.
"""

from __future__ import annotations

import io
import os
import sys
import warnings
from pathlib import Path

__all__ = ["add_parser", "run_geometry"]


def add_parser(subparsers) -> None:
    """Register ``sip-theory geometry``."""
    p = subparsers.add_parser(
        "geometry",
        help="score an embedding against a graph over its samples and their labels",
        description="Compute link retrieval, graph recovery, k-NN and linear probes, local "
        "consistency, spread/collapse metrics (and trustworthiness with --inputs) of an "
        "embedding matrix, in one exact chunked pass over its distances.",
    )
    p.add_argument("embeddings", help="embedding matrix: .npy, .npz (also scipy sparse, "
                   "densified), .pt/.pth or .csv/.tsv (text optionally .gz)")
    p.add_argument("--graph", help="graph over the samples: edge list (TSV/CSV, optionally "
                   ".gz) or .npz")
    p.add_argument("--labels", help="one label per sample: .npy, .npz, or text/CSV "
                   "(optionally .gz); an empty cell or NaN is a missing label")
    p.add_argument("--missing-label", help="a label value that marks a missing label, "
                   "e.g. -1; samples without a label stay in the neighbour search but are "
                   "left out of the label metrics")
    p.add_argument("--ids", help="sample ids in row order (one per line), to match string "
                   "ids in the graph and labels files")
    p.add_argument("--inputs", help="input-space matrix for trustworthiness/continuity")
    p.add_argument("--key", help="array name inside an .npz/.pt embeddings file")
    p.add_argument("--out", help="write the report as JSON here")
    p.add_argument("--plots", help="write geometry.png into this folder")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    p.add_argument("--dtype", choices=("float32", "float64"),
                   help="compute dtype (default: that of the file)")
    p.add_argument("--metric", default="euclidean",
                   choices=("euclidean", "sqeuclidean", "cosine", "dot"),
                   help="distance (default: euclidean, the paper's)")
    p.add_argument("--k", type=int, help="neighbours kept per sample (default 10, lowered "
                   "to n - 1 for smaller data; a larger value given is an error)")
    p.add_argument("--probe-k", type=int, help="k of the leave-one-out probe (default 3)")
    p.add_argument("--isolated", default="exclude", choices=("exclude", "zero", "one"),
                   help="link-retrieval score of nodes without a neighbour (default exclude)")
    p.add_argument("--no-linear", action="store_true", help="skip the linear probe")
    p.add_argument("--seed", type=int, default=0, help="seed of the linear probe's split")
    p.add_argument("--chunk-size", type=int, help="query rows per block (default: from "
                   "--memory-budget)")
    p.add_argument("--memory-budget", default="512MiB",
                   help="scratch memory of the distance sweep (default 512MiB)")
    p.add_argument("--progress", dest="progress", action="store_true", default=None,
                   help="show a progress bar (default: for n >= 20000)")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.set_defaults(func=_main)


def _marker(text):
    """``--missing-label`` as the number it spells (to match numeric labels), else the text."""
    if text is None:
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def check_output_paths(out, plots) -> None:
    """Raise ``ValueError`` naming ``--out``/``--plots`` if they cannot be written.

    Run before any computation, so a bad path costs nothing.
    """
    def first_existing_parent(path: Path) -> Path:
        for parent in path.parents:
            if parent.exists():
                return parent
        return Path(".")

    if out is not None:
        o = Path(out)
        if o.is_dir():
            raise ValueError(f"--out {str(o)!r} is a folder; give a file name such as "
                             f"{str(o / 'report.json')!r}")
        parent = first_existing_parent(o)
        if not parent.is_dir():
            raise ValueError(f"--out {str(o)!r}: {str(parent)!r} is a file, not a folder")
        if not os.access(parent, os.W_OK):
            raise ValueError(f"--out {str(o)!r}: folder {str(parent)!r} is not writable")
    if plots is not None:
        q = Path(plots)
        if q.exists() and not q.is_dir():
            raise ValueError(f"--plots {str(q)!r} is a file; it names the folder that gets "
                             "geometry.png")
        parent = q if q.is_dir() else first_existing_parent(q)
        if not parent.is_dir():
            raise ValueError(f"--plots {str(q)!r}: {str(parent)!r} is a file, not a folder")
        if not os.access(parent, os.W_OK):
            raise ValueError(f"--plots {str(q)!r}: folder {str(parent)!r} is not writable")


def run_geometry(args):
    """Load the files named in ``args`` and return ``(report, figure_png_bytes or None)``.

    What loading did is in ``report.data["loading"]``, each loader warning (e.g. a
    sparse matrix densified) in ``report.data["loading"]["warnings"]``.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report, png, loading = _run(args)
    loading["warnings"] = [str(w.message) for w in caught
                           if issubclass(w.category, UserWarning)]
    report.data["loading"] = loading
    return report, png


def _run(args):
    from ..data import load_embeddings, load_graph, load_ids, load_labels
    from ._report import geometry_report

    loading: dict = {}
    X, file_ids = load_embeddings(args.embeddings, key=args.key, return_ids=True)
    n = X.shape[0]
    ids = None
    if args.ids:
        ids = load_ids(args.ids)
        if ids.shape[0] != n:
            raise ValueError(f"ids file has {ids.shape[0]} ids but the embeddings have {n} rows")
        if file_ids is not None and not (file_ids == ids).all():
            raise ValueError("the ids in the embeddings file differ from the ids file")
    elif file_ids is not None:
        ids = file_ids
    graph = None
    if args.graph:
        graph, loading["graph"] = load_graph(args.graph, n_nodes=n, ids=ids, return_stats=True)
    missing = _marker(getattr(args, "missing_label", None))
    if missing is not None and not args.labels:
        raise ValueError("--missing-label needs --labels")
    labels = None
    if args.labels:
        labels = load_labels(args.labels, ids=ids, n_samples=n, missing_label=missing)
    inputs = None
    if args.inputs:
        inputs = load_embeddings(args.inputs)
        if inputs.shape[0] != n:
            raise ValueError(f"inputs file has {inputs.shape[0]} rows but the embeddings "
                             f"have {n}")
    progress = args.progress if args.progress is not None else n >= 20000
    report = geometry_report(
        X, graph, labels, inputs=inputs, metric=args.metric, k=args.k, probe_k=args.probe_k,
        isolated=args.isolated, linear=not args.no_linear, seed=args.seed,
        device=args.device, dtype=args.dtype, chunk_size=args.chunk_size,
        memory_budget=args.memory_budget, progress=progress,
    )
    png = None
    if args.plots:
        import matplotlib

        matplotlib.use("Agg")
        from ._plot import plot_geometry_report

        buf = io.BytesIO()
        plot_geometry_report(report).savefig(buf, format="png", dpi=120)
        png = buf.getvalue()
    return report, png, loading


def graph_loading_line(name, stats: dict) -> str:
    """What loading the graph file did, in one line (the summary's first)."""
    if "n_lines" in stats:
        head = f"graph file {name}: {stats['n_lines']} lines -> {stats['n_edges']} edges"
        parts = [f"{stats['self_loops_dropped']} self-loop(s) dropped",
                 f"{stats['duplicate_lines_merged']} repeated line(s) merged",
                 f"{stats['reverse_pairs_merged']} pair(s) listed in both directions merged",
                 f"{stats['one_direction_made_undirected']} edge(s) listed in one direction "
                 "made undirected"]
    else:
        head = f"graph file {name}: {stats['n_stored']} stored entries -> {stats['n_edges']} edges"
        parts = [f"{stats['self_loops_dropped']} self-loop(s) dropped",
                 f"{stats['one_direction_made_undirected']} entr(y/ies) stored in one "
                 "direction made undirected"]
    return head + " (" + ", ".join(parts) + ")"


def _main(args) -> int:
    import torch.distributed as dist

    from .._atomic import atomic_write_bytes, atomic_write_json

    for name in ("k", "probe_k", "chunk_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    check_output_paths(args.out, args.plots)
    report, png = run_geometry(args)
    rank0 = not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0
    if not rank0:
        return 0
    payload = report.to_dict()
    payload["inputs"] = {"embeddings": str(args.embeddings), "graph": args.graph,
                         "labels": args.labels, "ids": args.ids, "inputs": args.inputs,
                         "missing_label": args.missing_label}
    outputs = []
    try:
        if args.out:
            atomic_write_json(args.out, payload)
            outputs.append(args.out)
        if png is not None:
            path = Path(args.plots) / "geometry.png"
            atomic_write_bytes(path, png)
            outputs.append(str(path))
    except OSError as exc:  # e.g. a full disk: one line, and the atomic write left nothing
        raise ValueError(f"could not write the output: {exc}") from exc
    loading = report.data["loading"]
    for line in loading["warnings"] + report.warnings():
        print(f"sip-theory geometry: warning: {line}", file=sys.stderr)
    for line in report.settings["notes"]:
        print(f"sip-theory geometry: note: {line}", file=sys.stderr)
    if "graph" in loading:
        print(graph_loading_line(Path(args.graph).name, loading["graph"]))
    print(report.summary())
    if outputs:
        print("wrote " + ", ".join(outputs), file=sys.stdout)
    return 0
