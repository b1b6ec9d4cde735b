"""``sip-theory geometry``: score embedding files against a graph and labels.

One embedding file gives the full report (JSON, figure, summary); several files of
the same samples are scored with the same options against the graph and labels,
loaded once, and compared in one table (terminal, ``--table`` CSV/Markdown) and one
figure (``--plots``). ``--per-sample`` adds a CSV with one row per sample (and
embedding). Every option is checked, and every output path, before any
computation; everything is computed before anything is written; each output is
written atomically, and if one write fails the outputs already written are removed,
so a failure leaves no partial output. What loading did to the data (a sparse
matrix densified, self-loops dropped, duplicate edges merged, edges made
undirected) and what the data hold that deserves a look (missing labels, all-zero
and duplicate rows, isolated nodes) are printed as warnings and stored in the
report. Under ``torchrun`` the distance sweep is sharded over the ranks and only
rank 0 prints and writes.
"""

from __future__ import annotations

import csv
import io
import math
import os
import sys
import warnings
from pathlib import Path

import numpy as np

__all__ = ["add_parser", "run_geometry"]

TABLE_SUFFIXES = {".csv": "csv", ".md": "markdown", ".markdown": "markdown"}


def add_parser(subparsers) -> None:
    """Register ``sip-theory geometry``."""
    p = subparsers.add_parser(
        "geometry",
        help="score embeddings against a graph over their samples and their labels",
        description="Compute link retrieval, graph recovery, k-NN and linear probes, local "
        "consistency, spread/collapse metrics (and trustworthiness with --inputs) of an "
        "embedding matrix, in one exact chunked pass over its distances. Several embedding "
        "files of the same samples are compared side by side (--table, --plots).",
    )
    p.add_argument("embeddings", nargs="+", help="embedding matrix: .npy, .npz (also scipy "
                   "sparse, densified), .pt/.pth or .csv/.tsv (text optionally .gz); several "
                   "files (the same samples in the same row order) are compared")
    p.add_argument("--names", help="comma-separated names of the embeddings (default: the "
                   "file names without their suffixes)")
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
    out = p.add_argument_group("outputs")
    out.add_argument("--out", help="write the report (several embeddings: the comparison "
                     "and every report) as JSON here")
    out.add_argument("--plots", help="write geometry.png (several embeddings: "
                     "comparison.png) into this folder")
    out.add_argument("--table", action="append", metavar="FILE",
                     help="write the comparison table here: .csv or .md (Markdown); may be "
                     "given twice")
    out.add_argument("--per-sample", metavar="FILE.csv", help="write one row per sample (and "
                     "embedding): label, k-NN vote share of its label, prediction, LC credit "
                     "on G and on the kNN graph, rank of its nearest graph neighbour")
    m = p.add_argument_group("metrics")
    m.add_argument("--metric", default="euclidean",
                   choices=("euclidean", "sqeuclidean", "cosine", "dot"),
                   help="distance (default: euclidean, the paper's)")
    m.add_argument("--normalize", default="none", choices=("none", "l2"),
                   help="l2: divide every row by its norm before scoring (default none)")
    m.add_argument("--no-spread-normalize", action="store_true", help="alignment and "
                   "uniformity on the rows as given, not unit-normalised")
    m.add_argument("--k", type=int, help="neighbours kept per sample (default 10, lowered "
                   "to n - 1 for smaller data; a larger value given is an error)")
    m.add_argument("--ks", help="comma-separated P@k / R@k cut-offs (default 1,5,10)")
    m.add_argument("--probe-k", type=int, help="k of the leave-one-out probe (default 3)")
    m.add_argument("--lc-k", type=int, help="k of the kNN graph LC is measured on "
                   "(default: --probe-k)")
    m.add_argument("--lc-mode", default="union", choices=("union", "mutual"),
                   help="symmetrisation of that kNN graph (default union)")
    m.add_argument("--isolated", default="exclude", choices=("exclude", "zero", "one"),
                   help="link-retrieval score of nodes without a neighbour (default exclude)")
    lin = p.add_argument_group("linear probe")
    lin.add_argument("--no-linear", action="store_true", help="skip the linear probe")
    lin.add_argument("--folds", type=int, help="stratified cross-validation with this many "
                     "folds (mean and spread over folds); default one held-out split")
    lin.add_argument("--C", type=float, default=1.0, dest="C",
                     help="inverse L2 strength (default 1)")
    lin.add_argument("--test-size", type=float, default=0.25,
                     help="fraction held out per class by the default split (default 0.25)")
    lin.add_argument("--train-index", metavar="FILE", help="a given split: the training "
                     "samples, as row indices or ids (one per line, or .npy) or as a 0/1 mask "
                     "of n values; the test samples are the other labelled ones")
    lin.add_argument("--test-index", metavar="FILE", help="the test samples of a given "
                     "split (same formats; needs --train-index)")
    lin.add_argument("--seed", type=int, default=0, help="seed of the linear probe's split")
    e = p.add_argument_group("engine")
    e.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    e.add_argument("--dtype", choices=("float32", "float64"),
                   help="compute dtype (default: that of the file)")
    e.add_argument("--chunk-size", type=int, help="query rows per block (default: from "
                   "--memory-budget)")
    e.add_argument("--memory-budget", default="512MiB",
                   help="scratch memory of the distance sweep (default 512MiB)")
    e.add_argument("--progress", dest="progress", action="store_true", default=None,
                   help="show a progress bar (default: for n >= 20000)")
    e.add_argument("--no-progress", dest="progress", action="store_false")
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


def _first_existing_parent(path: Path) -> Path:
    for parent in path.parents:
        if parent.exists():
            return parent
    return Path(".")


def _check_file_path(option: str, path) -> None:
    o = Path(path)
    if o.is_dir():
        raise ValueError(f"{option} {str(o)!r} is a folder; give a file name")
    parent = _first_existing_parent(o)
    if not parent.is_dir():
        raise ValueError(f"{option} {str(o)!r}: {str(parent)!r} is a file, not a folder")
    if not os.access(parent, os.W_OK):
        raise ValueError(f"{option} {str(o)!r}: folder {str(parent)!r} is not writable")


def check_output_paths(out, plots, files=()) -> None:
    """Raise ``ValueError`` naming the option (``--out``, ``--plots`` or one of ``files``,
    pairs ``(option, path)``) whose path cannot be written, or two options naming one file.

    Run before any computation, so a bad path costs nothing.
    """
    if out is not None:
        o = Path(out)
        if o.is_dir():
            raise ValueError(f"--out {str(o)!r} is a folder; give a file name such as "
                             f"{str(o / 'report.json')!r}")
        _check_file_path("--out", o)
    for option, path in files:
        _check_file_path(option, path)
    if plots is not None:
        q = Path(plots)
        if q.exists() and not q.is_dir():
            raise ValueError(f"--plots {str(q)!r} is a file; it names the folder that gets "
                             "geometry.png (comparison.png for several embeddings)")
        parent = q if q.is_dir() else _first_existing_parent(q)
        if not parent.is_dir():
            raise ValueError(f"--plots {str(q)!r}: {str(parent)!r} is a file, not a folder")
        if not os.access(parent, os.W_OK):
            raise ValueError(f"--plots {str(q)!r}: folder {str(parent)!r} is not writable")
    seen = {}
    for option, path in ([("--out", out)] if out is not None else []) + list(files):
        key = os.path.abspath(path)
        if key in seen:
            raise ValueError(f"{option} {str(path)!r} is also the file of {seen[key]}")
        seen[key] = option


def _embedding_names(paths, names_arg) -> list[str]:
    """``--names``, or each file name without its suffixes (the path where two agree)."""
    if names_arg is not None:
        names = [t.strip() for t in names_arg.split(",")]
        if len(names) != len(paths) or not all(names):
            raise ValueError(f"--names must give {len(paths)} non-empty comma-separated "
                             f"name(s), one per embedding file; got {names_arg!r}")
        if len(set(names)) != len(names):
            raise ValueError(f"--names holds a name twice: {names_arg!r}")
        return names
    if len({os.path.abspath(p) for p in paths}) != len(paths):
        raise ValueError("embeddings: a file is given twice")
    stems = []
    for p in paths:
        name = Path(p).name
        name = name[:-3] if name.endswith(".gz") else name
        stems.append(name.rsplit(".", 1)[0] if "." in name else name)
    return [s if stems.count(s) == 1 else str(p) for s, p in zip(stems, paths, strict=True)]


def _parse_ks(text):
    if text is None:
        return None
    try:
        ks = tuple(int(t) for t in text.split(","))
    except ValueError:
        ks = ()
    if not ks or min(ks) < 1:
        raise ValueError(f"--ks must be comma-separated positive integers, got {text!r}")
    return ks


def _check_options(args) -> None:
    """Every option error that needs no file, before anything is read or computed."""
    for name in ("k", "probe_k", "chunk_size", "lc_k"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    _parse_ks(args.ks)
    if args.folds is not None and args.folds < 2:
        raise ValueError(f"--folds must be >= 2, got {args.folds}")
    if not (math.isfinite(args.C) and args.C > 0):
        raise ValueError(f"--C must be a positive number, got {args.C}")
    if not 0.0 < args.test_size < 1.0:
        raise ValueError(f"--test-size must be in (0, 1), got {args.test_size}")
    if args.test_index and not args.train_index:
        raise ValueError("--test-index needs --train-index")
    if args.train_index and args.folds is not None:
        raise ValueError("--train-index gives one split; pass it or --folds, not both")
    for option, value in (("--train-index", args.train_index), ("--folds", args.folds)):
        if value is not None and (not args.labels or args.no_linear):
            raise ValueError(f"{option} is an option of the linear probe: it needs --labels "
                             "and no --no-linear")
    if args.per_sample and not (args.graph or args.labels):
        raise ValueError("--per-sample needs --graph or --labels (its columns come from them)")
    for path in args.table or ():
        if Path(path).suffix.lower() not in TABLE_SUFFIXES:
            raise ValueError(f"--table {str(path)!r} must end in .csv or .md")
    _embedding_names(args.embeddings, args.names)


def _read_column(path, option: str) -> list[str]:
    """The entries of a split file: a ``.npy`` array, or the first column of a text file
    (optionally gzipped), blank lines skipped."""
    import gzip

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{option} file {str(p)!r} does not exist")
    if p.suffix == ".npy":
        return [str(v) for v in np.load(p, allow_pickle=False).reshape(-1).tolist()]
    opener = gzip.open if p.suffix == ".gz" else open
    with opener(p, "rt") as fh:
        lines = [line.strip() for line in fh]
    return [line.replace("\t", ",").split(",")[0].strip() for line in lines if line]


def _load_index(path, option: str, n: int, ids) -> np.ndarray:
    """Row indices from a file of indices, of ids (matched via ``ids``) or a 0/1 mask."""
    values = _read_column(path, option)
    if not values:
        raise ValueError(f"{option} file {Path(path).name} is empty")
    low = [v.lower() for v in values]
    if len(values) == n and set(low) <= {"0", "1", "true", "false", "0.0", "1.0"}:
        return np.flatnonzero([v in ("1", "true", "1.0") for v in low])
    if len(set(values)) != len(values):
        raise ValueError(f"{option} file {Path(path).name} names a sample twice")
    try:
        return np.array([int(v) for v in values], dtype=np.int64)
    except ValueError:
        pass
    if ids is None:
        raise ValueError(f"{option} file {Path(path).name} holds non-integer entries (e.g. "
                         f"{values[0]!r}); pass --ids to match ids")
    where = {str(v): i for i, v in enumerate(np.asarray(ids).tolist())}
    unknown = [v for v in values if v not in where]
    if unknown:
        raise ValueError(f"{option} file {Path(path).name}: {len(unknown)} id(s) not among "
                         f"the sample ids, e.g. {unknown[0]!r}")
    return np.array([where[v] for v in values], dtype=np.int64)


def run_geometry(args, *, return_ids: bool = False):
    """Load the files named in ``args`` and return ``(reports, figure_png_bytes or None)``
    (and the sample ids, or None, with ``return_ids``).

    ``reports`` maps each embedding's name to its :class:`GeometryReport`; with several,
    the figure is the comparison's. What loading did is in each
    ``report.data["loading"]``, each loader warning (e.g. a sparse matrix densified) in
    ``report.data["loading"]["warnings"]``.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reports, png, loading, ids = _run(args)
    loading["warnings"] = [str(w.message) for w in caught
                           if issubclass(w.category, UserWarning)]
    for report in reports.values():
        report.data["loading"] = loading
    return (reports, png, ids) if return_ids else (reports, png)


def _load_all_embeddings(args, names):
    """Every embedding file, checked for the same rows (and ids) as the first."""
    from ..data import load_embeddings, load_ids

    arrays = {}
    n = ids = None
    ids_from = None
    if args.ids:
        ids = load_ids(args.ids)
        ids_from = "the ids file"
    for name, path in zip(names, args.embeddings, strict=True):
        X, file_ids = load_embeddings(path, key=args.key, return_ids=True)
        fname = Path(path).name
        if n is None:
            n, first = X.shape[0], fname
            if ids is not None and ids.shape[0] != n:
                raise ValueError(f"ids file has {ids.shape[0]} ids but the embeddings have "
                                 f"{n} rows")
        elif X.shape[0] != n:
            raise ValueError(f"embeddings file {fname} has {X.shape[0]} rows but {first} has "
                             f"{n}; every embedding must hold the same samples")
        if file_ids is not None:
            if ids is None:
                ids, ids_from = file_ids, f"embeddings file {fname}"
            elif not (file_ids == ids).all():
                raise ValueError(f"the ids in embeddings file {fname} differ from those of "
                                 f"{ids_from}")
        arrays[name] = X
    return arrays, n, ids


def _run(args):
    from .._validation import known_labels
    from ..data import load_embeddings, load_graph, load_labels
    from ._report import geometry_report

    names = _embedding_names(args.embeddings, args.names)
    loading: dict = {}
    arrays, n, ids = _load_all_embeddings(args, names)
    graph = None
    if args.graph:
        graph, loading["graph"] = load_graph(args.graph, n_nodes=n, ids=ids, return_stats=True)
    missing = _marker(getattr(args, "missing_label", None))
    if missing is not None and not args.labels:
        raise ValueError("--missing-label needs --labels")
    labels = None
    if args.labels:
        labels = load_labels(args.labels, ids=ids, n_samples=n, missing_label=missing)
    linear_options = {"C": args.C, "test_size": args.test_size}
    if args.folds is not None:
        linear_options["cv"] = args.folds
    if args.train_index:
        train = _load_index(args.train_index, "--train-index", n, ids)
        if args.test_index:
            test = _load_index(args.test_index, "--test-index", n, ids)
        else:
            _, known = known_labels(labels, n, missing_label=missing)
            test = np.setdiff1d(np.flatnonzero(known), train)
        for option, ix in (("--train-index", train), ("--test-index", test)):
            if ix.size == 0 or ix.min() < 0 or ix.max() >= n:
                raise ValueError(f"{option}: the split must name samples among the {n} rows")
        if np.intersect1d(train, test).size:
            raise ValueError("--train-index and --test-index share samples")
        linear_options.update(train_index=train, test_index=test)
    inputs = None
    if args.inputs:
        inputs = load_embeddings(args.inputs)
        if inputs.shape[0] != n:
            raise ValueError(f"inputs file has {inputs.shape[0]} rows but the embeddings "
                             f"have {n}")
    progress = args.progress if args.progress is not None else n >= 20000
    options = dict(
        inputs=inputs, metric=args.metric, k=args.k, ks=_parse_ks(args.ks),
        probe_k=args.probe_k, lc_k=args.lc_k, lc_mode=args.lc_mode,
        normalize=not args.no_spread_normalize, normalize_rows=args.normalize == "l2",
        isolated=args.isolated, linear=not args.no_linear, linear_options=linear_options,
        seed=args.seed, per_sample=bool(args.per_sample), device=args.device,
        dtype=args.dtype, chunk_size=args.chunk_size, memory_budget=args.memory_budget,
        progress=progress,
    )
    reports = {}
    for name, X in arrays.items():
        try:
            reports[name] = geometry_report(X, graph, labels, **options)
        except ValueError as exc:
            if len(arrays) == 1:
                raise
            raise ValueError(f"embeddings file {name}: {exc}") from exc
    png = None
    if args.plots:
        import matplotlib

        matplotlib.use("Agg")
        buf = io.BytesIO()
        if len(reports) == 1:
            from ._plot import plot_geometry_report

            plot_geometry_report(next(iter(reports.values()))).savefig(buf, format="png",
                                                                        dpi=120)
        else:
            from ._compare import comparison_from_reports
            from ._plot import plot_embedding_comparison

            plot_embedding_comparison(comparison_from_reports(reports)).savefig(
                buf, format="png", dpi=120)
        png = buf.getvalue()
    return reports, png, loading, ids


def _cell(value) -> str:
    """A CSV cell: empty for missing/NaN, integers without a decimal point."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not math.isfinite(v):
            return ""
        return str(int(v)) if v.is_integer() and abs(v) < 2**53 else repr(v)
    return str(value)


def per_sample_csv(reports: dict, ids=None) -> str:
    """The per-sample rows of every report (``per_sample=True``), one CSV.

    Columns: ``embedding``, ``row`` (0-based), ``id`` (with ids), then the
    report's ``per_sample`` columns (:data:`PER_SAMPLE_COLUMNS` order); an empty
    cell where a value is undefined, ``knn_correct`` as 1/0.
    """
    from ._report import PER_SAMPLE_COLUMNS

    first = next(iter(reports.values())).per_sample
    cols = [c for c in PER_SAMPLE_COLUMNS if c in first]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["embedding", "row", *(["id"] if ids is not None else []), *cols])
    for name, rep in reports.items():
        ps = rep.per_sample
        for i in range(rep.n_samples):
            w.writerow([name, i, *([str(ids[i])] if ids is not None else []),
                        *(_cell(ps[c][i]) for c in cols)])
    return buf.getvalue()


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


def _options_used(args) -> dict:
    """The command's options (everything but the input files), for the JSON."""
    inputs = ("func", "command", "embeddings", "graph", "labels", "ids", "inputs",
              "missing_label")
    return {k: v for k, v in sorted(vars(args).items()) if k not in inputs}


def _write_all(writes) -> list[str]:
    """Run ``(path, write)`` pairs; if one fails, remove those already written."""
    done = []
    try:
        for path, write in writes:
            write(path)
            done.append(str(path))
    except OSError as exc:  # e.g. a full disk: one line, and no output left behind
        for path in done:
            Path(path).unlink(missing_ok=True)
        raise ValueError(f"could not write the output: {exc}") from exc
    return done


def _main(args) -> int:
    import torch.distributed as dist

    from .. import __version__
    from .._atomic import atomic_write_bytes, atomic_write_json, atomic_write_text
    from ._compare import comparison_from_reports
    from ._report import REPORT_SCHEMA_VERSION

    _check_options(args)
    files = [("--table", t) for t in args.table or ()]
    if args.per_sample:
        files.append(("--per-sample", args.per_sample))
    check_output_paths(args.out, args.plots, files)
    reports, png, ids = run_geometry(args, return_ids=True)
    rank0 = not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0
    if not rank0:
        return 0
    several = len(reports) > 1
    inputs = {"embeddings": [str(e) for e in args.embeddings] if several
              else str(args.embeddings[0]), "graph": args.graph, "labels": args.labels,
              "ids": args.ids, "inputs": args.inputs, "missing_label": args.missing_label}
    cmp = comparison_from_reports(reports) if several or args.table else None
    if several:
        payload = {"schema_version": REPORT_SCHEMA_VERSION, "package_version": __version__,
                   "inputs": inputs, "options": _options_used(args),
                   "comparison": cmp.to_dict(),
                   "reports": {name: rep.to_dict() for name, rep in reports.items()}}
    else:
        payload = next(iter(reports.values())).to_dict()
        payload["inputs"] = inputs
        payload["options"] = _options_used(args)
    writes = []
    if args.out:
        writes.append((args.out, lambda path: atomic_write_json(path, payload)))
    for table in args.table or ():
        kind = TABLE_SUFFIXES[Path(table).suffix.lower()]
        text = cmp.to_csv() if kind == "csv" else cmp.to_markdown() + "\n"
        writes.append((table, lambda path, text=text: atomic_write_text(path, text)))
    if args.per_sample:
        text = per_sample_csv(reports, ids)
        writes.append((args.per_sample, lambda path: atomic_write_text(path, text)))
    if png is not None:
        figure = Path(args.plots) / ("comparison.png" if several else "geometry.png")
        writes.append((figure, lambda path: atomic_write_bytes(path, png)))
    outputs = _write_all(writes)
    loading = next(iter(reports.values())).data["loading"]
    for line in loading["warnings"]:
        print(f"sip-theory geometry: warning: {line}", file=sys.stderr)
    for name, report in reports.items():
        where = f"{name}: " if several else ""
        for line in report.warnings():
            print(f"sip-theory geometry: warning: {where}{line}", file=sys.stderr)
        for line in report.settings["notes"]:
            print(f"sip-theory geometry: note: {where}{line}", file=sys.stderr)
    if "graph" in loading:
        print(graph_loading_line(Path(args.graph).name, loading["graph"]))
    if several:
        rep0 = next(iter(reports.values()))
        print(f"{len(reports)} embeddings of {rep0.n_samples} samples, metric {rep0.metric}")
        print(cmp.to_text())
    else:
        print(next(iter(reports.values())).summary())
    if outputs:
        print("wrote " + ", ".join(outputs), file=sys.stdout)
    return 0
