"""Command-line pieces of stock-out censoring for the `fit`, `validate` and `evaluate` parsers.

``pricegym fit sales.csv --stock-col on_hand --model censored_poisson`` maps a stock
column (or ``--stockout-col sold_out``, a 0/1 flag) and fits a family of
:mod:`pricegym.demand.censored`; ``validate`` and ``evaluate --logged`` take the same
options. These helpers hold the options and their meaning, so that the parser code
stays a few lines.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["CENSORED_MODEL_HELP", "add_stock_arguments", "stock_load_options"]

#: The families the ``--model`` help lists for histories with stock-outs.
CENSORED_MODEL_HELP = (
    "censored_poisson, censored_negbin, tobit (sold-out periods censored: map --stock-col "
    "or --stockout-col)"
)


def add_stock_arguments(group: Any) -> None:
    """Add ``--stock-col COL`` and ``--stockout-col COL`` to an argparse group."""
    group.add_argument(
        "--stock-col",
        metavar="COL",
        help="stock on hand per period; a period whose units reach it sold out (censored)",
    )
    group.add_argument(
        "--stockout-col",
        metavar="COL",
        help="a 0/1 flag, 1 when the period sold out (censored)",
    )


def stock_load_options(args: argparse.Namespace) -> dict[str, Any]:
    """``load_history`` keywords ``stock`` / ``stockout`` from the parsed options."""
    return {
        "stock": getattr(args, "stock_col", None),
        "stockout": getattr(args, "stockout_col", None),
    }
