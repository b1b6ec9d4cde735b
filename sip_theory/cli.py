"""The ``sip-theory`` command line.

Each subcommand lives next to the code it drives and registers itself here
through an ``add_parser(subparsers)`` function that sets ``func`` on its parser.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# module path of every subcommand's ``add_parser``; order = order in --help
_SUBCOMMANDS = [
    "sip_theory._demo",
    "sip_theory.experiments._reproduce",
    "sip_theory.experiments._calibration",
    "sip_theory.experiments._theorem_command",
    "sip_theory.geometry._cli",
    "sip_theory.experiments._cora_command",
    "sip_theory.experiments._pretrain_command",
]


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level argument parser with every subcommand registered."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="sip-theory",
        description="Structure-inducing pre-training theory as code: "
        "graphs, local consistency, embedding geometry, reproduction of the paper.",
    )
    parser.add_argument("--version", action="version", version=f"sip_theory {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _SUBCOMMANDS:
        importlib.import_module(module).add_parser(sub)
    return parser


def main(argv=None) -> int:
    """Run the command line; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"sip-theory {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
