"""``sip-theory geometry``: score an embedding file against a graph and labels.

Everything is computed before anything is written; the JSON report and the
figure are then written atomically, so a failure leaves no partial output.
Under ``torchrun`` the distance sweep is sharded over the ranks and only rank 0
prints and writes.
"""

from __future__ import annotations

import io
import sys
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
    p.add_argument("embeddings", help="embedding matrix: .npy, .npz, .pt/.pth or .csv/.tsv")
    p.add_argument("--graph", help="graph over the samples: edge list (TSV/CSV) or .npz")
    p.add_argument("--labels", help="one label per sample: .npy, .npz, or text/CSV")
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
    p.add_argument("--k", type=int, default=10, help="neighbours kept per sample (default 10)")
    p.add_argument("--probe-k", type=int, default=3, help="k of the leave-one-out probe (3)")
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


def run_geometry(args):
    """Load the files named in ``args`` and return ``(report, figure_png_bytes or None)``."""
    from ..data import load_embeddings, load_graph, load_ids, load_labels
    from ._report import geometry_report

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
    graph = load_graph(args.graph, n_nodes=n, ids=ids) if args.graph else None
    labels = load_labels(args.labels, ids=ids, n_samples=n) if args.labels else None
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
    return report, png


def _main(args) -> int:
    import torch.distributed as dist

    from .._atomic import atomic_write_bytes, atomic_write_json

    for name in ("k", "probe_k", "chunk_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    report, png = run_geometry(args)
    rank0 = not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0
    if not rank0:
        return 0
    payload = report.to_dict()
    payload["inputs"] = {"embeddings": str(args.embeddings), "graph": args.graph,
                         "labels": args.labels, "ids": args.ids, "inputs": args.inputs}
    outputs = []
    if args.out:
        atomic_write_json(args.out, payload)
        outputs.append(args.out)
    if png is not None:
        path = Path(args.plots) / "geometry.png"
        atomic_write_bytes(path, png)
        outputs.append(str(path))
    print(report.summary())
    if outputs:
        print("wrote " + ", ".join(outputs), file=sys.stdout)
    return 0
