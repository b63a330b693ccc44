"""``pricegym fit``: fit one demand-model family (or compare all with ``--model auto``)
and print its parameters, forecast errors, elasticity, price support and notes
(``--json``: one document; ``--out``: the saved model)."""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pricegym._json import jsonable
from pricegym.cli._common import (
    _TIE_MARGIN,
    DEFAULT_MODEL,
    DEFAULT_SPLITS,
    _add_data_arguments,
    _add_row,
    _check_family,
    _collect_warnings,
    _interval,
    _load,
    _load_families,
    _num,
    _parse_families,
    _pct,
    _positive_int,
    _records,
    _stderr,
    _stdout,
    _unit_cost,
)
from pricegym.errors import ConfigError, PricegymError

if TYPE_CHECKING:
    from rich.console import Console, JustifyMethod

    from pricegym.demand.base import DemandModel
    from pricegym.demand.data import SalesHistory
    from pricegym.demand.optimum import OptimumCheck
    from pricegym.demand.selection import ModelComparison


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
    from pricegym.cli._causal import causal_document
    from pricegym.demand.optimum import optimum_check

    if optimum is None:
        optimum = optimum_check(model, cost or 0.0)
    table = model.params_table()
    bt = model.backtest_
    backtest = (
        None if bt is None else {**bt.metrics, "n_splits": bt.n_splits, "test_size": bt.test_size}
    )
    notes = list(history.notes) + ([backtest_skipped] if backtest_skipped else [])
    return jsonable(
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
        },
        strict=True,
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
    from pricegym.demand.selection import compare_models, default_families

    names = tuple(families) if families else default_families(history)
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
    from pricegym.cli._causal import (
        AUTO_NOTE,
        endogenous_of,
        instrumented_families,
        instruments_of,
    )
    from pricegym.demand.optimum import optimum_check
    from pricegym.demand.selection import make_model
    from pricegym.errors import DecisionWarning

    if getattr(args, "catalogue", None) and getattr(args, "instrument_for", None):
        raise ConfigError(
            "--instrument-for declares a competitor price of a single-product model endogenous; "
            "a --catalogue system prices its products jointly. Fix: drop --instrument-for."
        )
    if getattr(args, "catalogue", None):  # multi-product demand system (issue 13)
        from pricegym.cli._catalogue import run_fit_catalogue

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
    family, families, iv_params = instrumented_families(
        family, families, instruments_of(args), endogenous_of(args), args.instrument_scale
    )
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
        if cost is not None:  # markets built from the file charge it (unless told a cost)
            model.unit_cost_ = {"value": cost, "source": f"pricegym fit ({cost_source})"}
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
    from pricegym.cli._censored import CENSORED_MODEL_HELP

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
        help="with --model auto: the comma-separated families to compare (default: all; "
        "with sold-out periods also the censored ones, scored censoring-aware)",
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
    from pricegym.cli._catalogue import add_catalogue_arguments

    add_catalogue_arguments(parser)
    output = parser.add_argument_group("output")
    output.add_argument(
        "--out", metavar="MODEL.json", help="save the fitted model (MODEL.json + MODEL.npz)"
    )
    output.add_argument(
        "--json", action="store_true", help="print one JSON document to stdout, nothing else"
    )


def _render_fit(console: Console, doc: dict[str, Any]) -> None:
    """The human report of :func:`fit_document` (or of the best model of ``--model auto``)."""
    from rich.table import Table

    from pricegym.cli._causal import render_causal

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
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("term", "left"),
        ("estimate", "right"),
        ("std. error", "right"),
        ("95% CI", "right"),
    )
    for name, justify in columns:
        params.add_column(name, justify=justify)
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
        places = {
            "interior": "inside the data's price range",
            "lower_edge": "AT THE LOWER EDGE of the data's price range (see Warnings)",
            "upper_edge": "AT THE UPPER EDGE of the data's price range (see Warnings)",
        }
        verdict = opt.get("verdict")
        where = places.get(verdict) if isinstance(verdict, str) else None
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
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("rank", "right"),
        ("model", "left"),
        ("backtest WAPE", "right"),
        ("MAE", "right"),
        ("bias", "right"),
        ("elasticity [95% CI]", "right"),
        ("AIC", "right"),
        ("status", "left"),
    )
    for name, justify in columns:
        table.add_column(name, justify=justify)
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
