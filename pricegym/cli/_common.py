"""What the ``pricegym`` commands share: data arguments and loading, consoles, number
formats, family names, and the warnings collector.

Everything heavy (pandas, rich, the demand layer) is imported inside the functions, so
building the parser (every command module imports this one) stays cheap.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pricegym._json import jsonable
from pricegym.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from pricegym.demand.data import SalesHistory


#: Family fitted by ``pricegym fit`` when ``--model`` is not given: a linear model is
#: fast, has exact OLS inference and no tuning, so a first fit is predictable.
DEFAULT_MODEL = "linear"


#: Default rolling-origin folds of the backtest (as pricegym.demand.selection.DEFAULT_SPLITS;
#: ``--model auto`` and ``demo`` use fewer for a short history unless --splits is given).
DEFAULT_SPLITS = 5


#: Relative WAPE difference below which the verdict calls the top two a tie.
_TIE_MARGIN = 0.02


#: Width of tables written to a pipe or file.
_PIPE_WIDTH = 120


#: Exit code for wrong input (usage errors, PricegymError, missing files).
EXIT_USAGE = 2


#: Options of ``fit`` that map columns of a DATA file; they mean nothing with --dataset.
_MAPPING_OPTIONS = (
    "price",
    "units",
    "date",
    "period",
    "cost",
    "competitor",
    "promotion",
    "product",
    "drop_invalid",
    "freq",
    "sep",
    "decimal",
    "calendar",
    "trading_days",
    "closed_dates",
    "stock_col",
    "stockout_col",
)


def _load_families() -> None:
    """Import every model family's module so that the family registry is complete."""
    import pricegym.demand.arimax
    import pricegym.demand.neural
    import pricegym.demand.regression  # noqa: F401


def _stdout() -> Console:
    """A console on stdout; 120 columns when stdout is not a terminal (pipes, files, tests)
    and ``COLUMNS`` is not set, so that tables are not squeezed into rich's default 80."""
    from rich.console import Console

    wide = sys.stdout.isatty() or "COLUMNS" in os.environ
    return Console(file=sys.stdout, highlight=False, width=None if wide else _PIPE_WIDTH)


def _stderr() -> Console:
    from rich.console import Console

    return Console(file=sys.stderr, highlight=False)


def _positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be >= 1")
    return value


def _unit_cost(text: str) -> float:
    """argparse type of ``--unit-cost``: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a unit cost: give a number >= 0 in the data's currency, e.g. "
            "--unit-cost 0.6 (to read costs from a column of the file, use --cost COL)"
        )
    return value


def _level(text: str) -> float:
    """argparse type: a confidence level strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"{value} must lie strictly between 0 and 1")
    return value


def _did_you_mean(value: str, choices: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(value.lower(), list(choices), n=1, cutoff=0.5)
    return f" Did you mean {close[0]!r}?" if close else ""


def _check_family(name: str, *, allow_auto: bool) -> str:
    """``name`` if it is a registered family (or ``auto``), else a ConfigError with a guess."""
    from pricegym.demand.base import model_families

    known = sorted(model_families())
    choices = [*known, "auto"] if allow_auto else known
    if name in choices:
        return name
    raise ConfigError(
        f"unknown model {name!r}; choose one of {choices}.{_did_you_mean(name, choices)}"
    )


def _parse_families(text: str | None) -> tuple[str, ...] | None:
    """The comma-separated family list of ``--families`` (``None``: all families)."""
    if text is None:
        return None
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise ConfigError(f"--families {text!r} names no family; e.g. --families linear,poisson.")
    return tuple(_check_family(n, allow_auto=False) for n in names)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of ``frame`` as strict-JSON-ready dicts."""
    return [jsonable(row, strict=True) for row in frame.to_dict(orient="records")]


def _num(value: Any, digits: int = 4) -> str:
    """A number with ``digits`` significant digits; ``–`` for a missing one."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.{digits}g}"


def _pct(value: Any, decimals: int = 1) -> str:
    """A fraction as a percentage; ``–`` for a missing one."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.{decimals}%}"


def _interval(estimate: Any, low: Any, high: Any, digits: int = 3) -> str:
    """``estimate [low, high]``, or only the interval without ``estimate``; ``–`` if missing."""
    ci = "–" if low is None and high is None else f"[{_num(low, digits)}, {_num(high, digits)}]"
    return ci if estimate is None else f"{_num(estimate, digits)} {ci}".removesuffix(" –")


def _add_row(table: Any, *cells: str) -> None:
    """Add a row of plain-text cells to a rich table (no markup: data may hold brackets)."""
    from rich.text import Text

    table.add_row(*(Text(cell) for cell in cells))


@contextmanager
def _collect_warnings() -> Iterator[list[str]]:
    """Record warnings raised inside the block as texts for the report.

    :class:`UserWarning` subclasses (pricegym's, statsmodels' convergence warnings,
    ...) are collected, each text once; other categories (deprecations, numpy
    runtime warnings) are passed on to the normal warning display on stderr.
    """
    texts: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield texts
    for item in caught:
        if issubclass(item.category, UserWarning):
            text = f"{item.category.__name__}: {item.message}"
            if text not in texts:
                texts.append(text)
        else:
            warnings.showwarning(item.message, item.category, item.filename, item.lineno)


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """DATA / --dataset and the column mapping of :func:`~pricegym.demand.data.load_history`."""
    from pricegym.cli._censored import add_stock_arguments

    parser.add_argument(
        "data", nargs="?", metavar="DATA", help="sales history: a .csv or .parquet file"
    )
    parser.add_argument(
        "--dataset",
        metavar="NAME",
        help="a bundled data set instead of DATA: avocado, cigar or article",
    )
    columns = parser.add_argument_group(
        "column mapping (DATA files only; names of the columns in the file)"
    )
    columns.add_argument("--price", metavar="COL", help="own price (default: price)")
    columns.add_argument("--units", metavar="COL", help="units sold (default: units)")
    clock = columns.add_mutually_exclusive_group()
    clock.add_argument(
        "--date", metavar="COL", help="calendar dates (default: a column named date)"
    )
    clock.add_argument(
        "--period",
        metavar="COL",
        help="integer period numbers instead of dates (default: a column named period or week)",
    )
    columns.add_argument("--cost", metavar="COL", help="unit cost")
    columns.add_argument(
        "--competitor", metavar="COL", action="append", help="a competitor price (repeatable)"
    )
    columns.add_argument(
        "--promotion", metavar="COL", action="append", help="a promotion flag (repeatable)"
    )
    columns.add_argument("--product", metavar="COL", help="the product / market key of a panel")
    add_stock_arguments(columns)
    columns.add_argument(
        "--instrument",
        metavar="NAME",
        action="append",
        help="an instrument for the own price (repeatable): a column, cost (the cost column) or "
        "hausman (a panel's leave-one-out mean price); fits the family's IV twin",
    )
    columns.add_argument(
        "--instrument-for",
        metavar="COMP=NAME",
        action="append",
        help="treat competitor price COMP as endogenous too, instrumented by NAME (a column or "
        "cost; NAME,NAME for several) (repeatable; needs --instrument for the own price)",
    )
    columns.add_argument(
        "--instrument-scale",
        choices=("price", "level"),
        default=None,
        help="price (default): instruments on the price's scale, in logs for log-price "
        "families (they must be > 0); level: as recorded (e.g. a tax that can be zero)",
    )
    columns.add_argument(
        "--drop-invalid",
        action="store_true",
        default=None,
        help="drop rows that break a row-level rule (listed in the notes) instead of failing",
    )
    columns.add_argument(
        "--freq", metavar="F", help="D, W, M, Q or Y for dated data (default: inferred)"
    )
    trading = parser.add_argument_group(
        "trading calendar (daily DATA files only; t counts trading days, said in the output)"
    )
    trading.add_argument(
        "--calendar",
        metavar="KIND",
        help="auto: drop weekdays absent in >= 8 weeks of daily data (no Sat/Sun = Mon–Fri); "
        "daily: every day; business: Mon–Fri (default: auto)",
    )
    trading.add_argument(
        "--trading-days",
        metavar="DAYS",
        help="the weekdays the market trades, e.g. Mon-Fri, Mon-Sat, Mon,Wed,Fri",
    )
    trading.add_argument(
        "--closed-dates",
        metavar="FILE|LIST",
        help="closed dates (holidays): a file with one date a line, or 2024-12-25,2024-12-26",
    )
    dialect = parser.add_argument_group(
        "CSV dialect (DATA .csv files only; detected when not given, said in the notes)"
    )
    dialect.add_argument(
        "--sep", metavar="CHAR", help="field separator: , ; | or tab (default: detected)"
    )
    dialect.add_argument(
        "--decimal",
        metavar="CHAR",
        help="decimal mark: . or , (default: . for comma-separated files, else detected)",
    )
    parser.add_argument(
        "--select-product", metavar="KEY", help="fit one product of a panel (its key)"
    )


def _load(args: argparse.Namespace) -> SalesHistory:
    """The validated history named by DATA or --dataset, narrowed by --select-product."""
    from pricegym.cli._causal import instrument_load_options
    from pricegym.cli._censored import stock_load_options
    from pricegym.demand.data import load_history
    from pricegym.demand.datasets import available_datasets, load_dataset

    if (args.data is None) == (args.dataset is None):
        raise ConfigError(
            "give either a DATA file or --dataset NAME (one of "
            f"{sorted(available_datasets())}), not both and not neither; "
            "e.g. `pricegym fit sales.csv` or `pricegym fit --dataset avocado`."
        )
    if args.dataset is not None:
        used = [
            "--" + opt.replace("_", "-") for opt in _MAPPING_OPTIONS if getattr(args, opt, None)
        ]
        if used:
            raise ConfigError(
                f"{', '.join(used)}: these options map columns of a DATA file; bundled data "
                f"sets are already mapped, so drop them with --dataset {args.dataset}."
            )
        instrument_load_options(args)  # refuses column instruments
        history = load_dataset(args.dataset)
    else:
        iv = instrument_load_options(args)
        history = load_history(
            args.data,
            date=args.date,
            period=args.period,
            price=args.price or "price",
            units=args.units or "units",
            cost=iv["cost"],
            instruments=iv["instruments"],
            competitors=tuple(dict.fromkeys([*(args.competitor or ()), *iv["competitors"]])),
            promotions=tuple(args.promotion or ()),
            product=args.product,
            drop_invalid=bool(args.drop_invalid),
            freq=args.freq,
            sep=args.sep,
            decimal=args.decimal,
            calendar=args.calendar or "auto",
            trading_days=args.trading_days,
            closed_dates=args.closed_dates,
            **stock_load_options(args),
        )
    if args.select_product is not None:
        history = history.for_product(args.select_product)
    return history
