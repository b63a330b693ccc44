"""``pricegym init NAME``: write a commented starter experiment, a copy of a bundled
one, or the README walk-through's files (:mod:`pricegym.experiments.starter`)."""

from __future__ import annotations

import argparse

from pricegym.errors import ConfigError


def configure_init_parser(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``pricegym init``."""
    parser.add_argument("name", metavar="NAME", help="the experiment's name: writes NAME.yaml")
    parser.add_argument(
        "--from",
        dest="source",
        metavar="BUNDLED",
        default=None,
        help="copy a bundled experiment (quickstart, markdown, duopoly, calvano, avocado) "
        "instead of the commented starter",
    )
    parser.add_argument(
        "--example",
        action="store_true",
        help="write the README walk-through's files instead: NAME_sales.csv (a shop's daily "
        "sales, Mon-Fri, with weather columns) and NAME.yaml (an experiment on the model "
        "fitted to it)",
    )
    parser.add_argument(
        "--dir", metavar="DIR", default=".", help="folder to write NAME.yaml in (default: .)"
    )


def cli_init(args: argparse.Namespace) -> int:
    """``pricegym init NAME [--from BUNDLED] [--dir DIR]``: write NAME.yaml, say how to run it."""
    from pricegym.experiments.starter import _EXAMPLE_COLUMNS, write_example, write_starter

    if args.example:
        if args.source is not None:
            raise ConfigError(
                f"--example and --from {args.source!r} both choose what to write. Fix: give one."
            )
        sales, config = write_example(args.name, args.dir)
        model = config.with_name(f"{config.stem}_model.json")
        days = len(sales.read_text(encoding="utf-8").splitlines()) - 1
        print(
            f"wrote {sales} ({days} trading days of a shop's sales) and {config}.\n"
            f"Next (the README's walk-through): compare the model families on it,\n"
            f"  pricegym fit {sales} --model auto {_EXAMPLE_COLUMNS}\n"
            f"save the one the experiment reads,\n"
            f"  pricegym fit {sales} --model loglinear {_EXAMPLE_COLUMNS} --unit-cost 1.90 "
            f"--out {model}\n"
            f"then: pricegym run {config}"
        )
        return 0
    path = write_starter(args.name, args.source, args.dir)
    print(f"wrote {path}; run it with: pricegym run {path}")
    return 0
