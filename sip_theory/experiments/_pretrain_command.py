"""``sip-theory pretrain FEATURES --graph EDGES``: SIPT on your data, lambda chosen label-free.

Every input is read and checked, and the links of every seed split, before
anything is trained or written (:func:`~._pretrain.plan_pretrain`); a bad input
stops with one line naming the argument.
"""

from __future__ import annotations

import sys
import warnings

from ._pretrain import PRETRAIN_LAMBDAS, PRETRAIN_SAMPLERS, PRETRAIN_SETTINGS

__all__ = ["add_parser", "pretrain_from_args"]


def _band(text: str, name: str) -> list:
    try:
        lo, hi = (int(v) for v in text.split(","))
    except ValueError as exc:
        raise ValueError(f"{name} must be LO,HI (two integers), got {text!r}") from exc
    return [lo, hi]


def add_parser(subparsers) -> None:
    """Register ``sip-theory pretrain``."""
    from ._pretrain_objectives import OBJECTIVES

    p = subparsers.add_parser(
        "pretrain", help="pre-train embeddings of your samples over your graph (SIPT), "
        "choosing lambda_SI from held-out links",
        description="Hold out 10% test and 5% validation links (no node losing its last "
        "link), pre-train with (1-λ) L_M + λ L_SI on the rest for each λ, pick λ by "
        "validation-link LRAP (no labels), and write DIR/embeddings.npy (the pick), one "
        "embedding file per λ and seed, DIR/report.json, DIR/summary.md and "
        "DIR/retrieval.png. Labels, if given, are only evaluated. Finished (λ, seed) units "
        "are kept: running again resumes.")
    p.add_argument("features", metavar="FEATURES",
                   help="samples: dense .npy, scipy sparse .npz, numeric CSV/TSV, or with "
                   "--tokens a text file with one sample per line")
    p.add_argument("--graph", required=True, metavar="EDGES",
                   help="links between samples: edge list (TSV/CSV, optionally .gz) or .npz, "
                   "as sip-theory geometry reads it")
    p.add_argument("--ids", help="sample ids in row order, to match string ids in the graph "
                   "and labels files")
    p.add_argument("--labels", help="one label per sample (evaluation only)")
    p.add_argument("--missing-label", help="label value marking a missing label, e.g. -1")
    p.add_argument("--tokens", choices=("char", "word"),
                   help="read FEATURES as text, tokenized per character or per word")
    p.add_argument("--max-len", type=int, default=128,
                   help="longest token sequence of a text line, [CLS]/[SEP] included "
                   "(default 128; longer lines are cut, with a warning)")
    p.add_argument("--lambdas", default=",".join(f"{v:g}" for v in PRETRAIN_LAMBDAS),
                   help="comma-separated λ_SI values in [0, 1] (default %(default)s)")
    p.add_argument("--seeds", type=int, default=1, help="number of seeds (default 1)")
    p.add_argument("--encoder", choices=("mlp", "transformer"),
                   help="default: mlp for features, transformer for text")
    p.add_argument("--objective", choices=sorted(OBJECTIVES),
                   help="L_M: masked (masked-feature reconstruction, default for features) "
                   "or mlm (masked-token LM, text)")
    p.add_argument("--sampler", default="uniform", choices=tuple(PRETRAIN_SAMPLERS),
                   help="pairs of L_SI: uniform (the paper), two-hop (SPECTER hard negatives), "
                   "knn-band (SciNCL bands over the raw features)")
    p.add_argument("--k-pos", help="knn-band positive rank band LO,HI (default "
                   f"{','.join(map(str, PRETRAIN_SETTINGS['band']['k_pos']))})")
    p.add_argument("--k-neg", help="knn-band negative rank band LO,HI (default "
                   f"{','.join(map(str, PRETRAIN_SETTINGS['band']['k_neg']))})")
    p.add_argument("--epochs", type=int,
                   help=f"pre-training epochs (default {PRETRAIN_SETTINGS['train']['epochs']})")
    p.add_argument("--batch-size", type=int,
                   help=f"anchors per step (default {PRETRAIN_SETTINGS['train']['batch_size']})")
    p.add_argument("--no-raw", action="store_true", help="skip the raw-feature baseline")
    p.add_argument("--out", default="pretrain-out", metavar="DIR",
                   help="output folder (default pretrain-out)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--no-resume", action="store_true", help="retrain finished units")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_main)


def pretrain_from_args(args) -> dict:
    """Plan (checking everything) and run ``sip-theory pretrain``; returns the report."""
    from ._pretrain import check_out_dir, plan_pretrain, run_pretrain
    from ._pretrain_data import load_pretrain_inputs

    out = check_out_dir(args.out)
    lambdas = [t for t in str(args.lambdas).split(",") if t.strip()]
    settings: dict = {}
    if args.epochs is not None:
        if args.epochs < 1:
            raise ValueError(f"--epochs must be >= 1, got {args.epochs}")
        settings.setdefault("train", {})["epochs"] = int(args.epochs)
    if args.batch_size is not None:
        if args.batch_size < 1:
            raise ValueError(f"--batch-size must be >= 1, got {args.batch_size}")
        settings.setdefault("train", {})["batch_size"] = int(args.batch_size)
    for flag, key in (("k_pos", "k_pos"), ("k_neg", "k_neg")):
        if getattr(args, flag):
            if args.sampler != "knn-band":
                raise ValueError(f"--{flag.replace('_', '-')} applies only to --sampler knn-band")
            settings.setdefault("band", {})[key] = _band(getattr(args, flag),
                                                         f"--{flag.replace('_', '-')}")
    if args.max_len < 3:
        raise ValueError(f"--max-len must be >= 3, got {args.max_len}")
    try:
        lam_values = [float(t) for t in lambdas]
    except ValueError as exc:
        raise ValueError(f"--lambdas must be comma-separated numbers, got {args.lambdas!r}") \
            from exc
    missing = args.missing_label
    if missing is not None:
        for kind in (int, float):
            try:
                missing = kind(missing)
                break
            except ValueError:
                pass
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        data = load_pretrain_inputs(args.features, args.graph, ids=args.ids, labels=args.labels,
                                    tokens=args.tokens, max_len=args.max_len,
                                    missing_label=missing)
        plan = plan_pretrain(data, lambdas=lam_values, seeds=args.seeds, encoder=args.encoder,
                             sampler=args.sampler, objective=args.objective,
                             raw=not args.no_raw, settings=settings)
    for w in caught:
        print(f"sip-theory pretrain: warning: {w.message}", file=sys.stderr)
    return run_pretrain(plan, out, device=args.device, progress=not args.quiet,
                        resume=not args.no_resume)


def _main(args) -> int:
    from pathlib import Path

    report = pretrain_from_args(args)
    out = Path(args.out)
    print((out / "summary.md").read_text())
    run = report["run"]
    print(f"{run['n_trained']} unit(s) trained, {run['n_resumed']} resumed; wall "
          f"{run['wall_s']:.1f} s; wrote {out}/embeddings.npy, report.json, summary.md, "
          "retrieval.png")
    return 0
