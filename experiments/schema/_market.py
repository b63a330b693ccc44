"""The ``market`` section of an experiment: one source (env, data, demand, oligopoly).

:func:`parse_market` (re-exported by :mod:`pricegym.experiments.schema`) turns a
``market`` mapping into a validated :class:`~._specs.MarketSpec`: a
registered environment id with its ``gymnasium.make`` options, a sales history
(bundled data set, file or synthetic) with one or more demand models, a
parametric demand truth, or an :class:`~pricegym.envs.oligopoly.OligopolyEnv`.
Each source is built once here, so that a bad option fails at load time.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pricegym.errors import ConfigError, PricegymError
from pricegym.experiments.schema import _keys
from pricegym.experiments.schema._common import (
    _error,
    _file,
    _label,
    _load_agent_kinds,
    _load_families,
    _load_registrations,
    _Section,
    _unknown,
    _wrap,
)
from pricegym.experiments.schema._iv import instrumented_model, load_instrument_columns
from pricegym.experiments.schema._specs import DataSpec, MarketSpec, ModelSpec
from pricegym.experiments.schema._validate import parse_validation

#: ``load_history`` keywords a ``market.data`` section may give for a file.
_LOAD_KEYS: tuple[str, ...] = tuple(
    k
    for k in _keys.keys("market.data")
    if k not in ("dataset", "path", "synthetic", "select_product")
)


# -------------------------------------------------------------------- market
_MARKET_KEYS = _keys.keys("market")
_SOURCES = ("env", "data", "model_path", "demand", "oligopoly")


def parse_market(raw: Any, base: str | Path | None = None) -> MarketSpec:
    """A validated :class:`MarketSpec` from a ``market`` section (a mapping).

    ``base`` is the folder that relative file paths are read from.
    """
    _load_agent_kinds()
    return _parse_market(raw, None if base is None else Path(base))


def _parse_market(raw: Any, base: Path | None) -> MarketSpec:
    sec = _Section(raw, "market", _MARKET_KEYS, "the market")
    for other in ("data", "model"):
        if sec.has("model_path") and sec.has(other):
            raise _error(
                "market",
                {"model_path": sec.raw("model_path"), other: sec.raw(other)},
                f"market.model_path (a saved demand model) and market.{other} are both given; "
                "a saved model is the market's demand, so there is nothing to fit",
                "keep market.model_path alone, or drop it and fit market.model to market.data",
            )
    given = [k for k in _SOURCES if sec.has(k)]
    if len(given) != 1:
        rule = "no market source is given" if not given else f"several sources are given {given}"
        raise _error(
            "market",
            {k: sec.raw(k) for k in given} if given else raw,
            f"{rule}; a market comes from exactly one of {list(_SOURCES)}",
            "keep one of market.env (a registered id), market.data + market.model (fitted "
            "demand), market.model_path (a saved model), market.demand (a parametric truth) or "
            "market.oligopoly",
        )
    source = given[0]
    if sec.has("model") and source != "data":
        raise _error(
            "market.model",
            sec.raw("model"),
            f"a demand model is fitted to sales data, but the market comes from market.{source}",
            "drop market.model, or describe the data with market.data",
        )
    if source == "oligopoly" and sec.has("options"):
        raise _error(
            "market.options",
            sec.raw("options"),
            "an oligopoly takes its settings in market.oligopoly (OligopolyEnv arguments)",
            "move these settings into market.oligopoly",
        )
    if source != "data":
        parse_validation(sec.data.get("validate"), source)  # refused where there is no history
    name = sec.raw("name")
    if source == "env":
        return _market_env(sec, name, base)
    if source == "model_path":
        return _market_model_path(sec, name, base)
    if source == "data":
        return _market_data(sec, name, base)
    if source == "demand":
        return _market_demand(sec, name)
    return _market_oligopoly(sec, name)


def _market_options(sec: _Section) -> dict[str, Any]:
    """``market.options`` as MarketConfig settings (validated by MarketConfig.from_dict)."""
    from pricegym.envs.config import MarketConfig  # numpy

    options = sec.mapping("options")
    if "horizon" in options and options["horizon"] is None:
        raise _error(
            "market.options.horizon",
            None,
            "a season must have a length: episodes (and the DP optimum) end after horizon periods",
            "give a whole number of periods, e.g. horizon: 52",
        )
    try:
        MarketConfig.from_dict(options, where="market.options")
    except ConfigError as exc:
        raise _wrap(exc, "market.options", options) from None
    return options


def _options_for(sec: _Section, kernel: Any) -> tuple[dict[str, Any], Any]:
    """``market.options`` and its MarketConfig, checked against ``kernel``'s price support."""
    from pricegym.demand.products import select_product  # pandas, numpy
    from pricegym.envs.config import MarketConfig  # numpy

    options = _market_options(sec)
    cfg = MarketConfig.from_dict(options)
    try:
        if cfg.product is not None:  # a panel's product: its own price support
            kernel = select_product(kernel, cfg.product)
        cfg.price_range(kernel.support)
    except ConfigError as exc:
        raise _wrap(exc, "market.options", options) from None
    return options, cfg


def _saved_model(value: Any, path: str, base: Path | None) -> str:
    """The absolute path of a saved demand model (its .json, with the .npz beside it)."""
    file = _file(value, path, base, "the saved demand model")
    npz = Path(file).with_suffix(".npz")
    if not npz.is_file():
        raise _error(
            path,
            file,
            f"a saved model is a .json with its .npz beside it, and {str(npz)!r} is missing",
            "copy the .npz next to the .json (DemandModel.save writes both)",
        )
    return file


def _market_model_path(sec: _Section, name: Any, base: Path | None) -> MarketSpec:
    """A market driven by a saved demand model (``market.model_path``) with MarketConfig options.

    The model is loaded here, so that a file that cannot be read fails at load time,
    and its feature spec says whether a rival can set a competitor price.
    """
    from pricegym.demand.base import DemandModel  # pandas, numpy

    file = _saved_model(sec.raw("model_path"), "market.model_path", base)
    try:
        model = DemandModel.load(file)
        kernel = model.kernel()
    except PricegymError as exc:
        raise _error(
            "market.model_path",
            file,
            f"cannot be loaded as a demand model ({exc})",
            "point it at a file written by DemandModel.save (or pricegym fit --out model.json)",
        ) from None
    options, cfg = _options_for(sec, kernel)
    if "cost" not in options and model.unit_cost_ is not None:
        # the unit cost saved with the model (pricegym fit --unit-cost C --out): the
        # market charges it, and the resolved config says so; market.options.cost wins
        options = {**options, "cost": float(model.unit_cost_["value"])}
    label = _label(name or Path(file).stem, "market.name")
    return MarketSpec(
        label,
        "model",
        models=(ModelSpec(label, file=file),),
        options=options,
        action=cfg.action,
        has_competitors=bool(tuple(kernel.spec.competitors)),
    )


def _market_env(sec: _Section, name: Any, base: Path | None) -> MarketSpec:
    import gymnasium

    _load_registrations()
    env_id = sec.get_str("env")
    ids = sorted(k for k in gymnasium.registry if str(k).startswith("pricegym/"))
    if env_id not in gymnasium.registry:
        close = difflib.get_close_matches(str(env_id), ids, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise _error(
            "market.env",
            env_id,
            f"is not a registered environment id.{hint} Registered pricegym ids: {ids}",
            "use one of them, or describe the market with market.data / market.demand",
        )
    options = sec.mapping("options")
    if options.get("model_path") is not None:  # pricegym/Fitted-v0: read like data paths
        options["model_path"] = _saved_model(
            options["model_path"], "market.options.model_path", base
        )
    env = _make_env(env_id, options)
    try:
        from gymnasium import spaces

        base = env.unwrapped
        grid = (spaces.Discrete, spaces.MultiDiscrete)  # MultiDiscrete: a catalogue
        action: Literal["discrete", "continuous"] = (
            "discrete" if isinstance(env.action_space, grid) else "continuous"
        )
        catalogue = isinstance(env.action_space, spaces.MultiDiscrete)
        n_products = int(getattr(base, "n_products", 1)) if catalogue else 1
        n_comp = len(getattr(getattr(base, "competitors", None), "names", ()) or ())
        inventory = getattr(getattr(base, "config", None), "inventory", None)
        horizon = getattr(base, "horizon", None)
        label = _label(name or env_id.split("/")[-1], "market.name")
        return MarketSpec(
            label,
            "env",
            env=env_id,
            options=options,
            action=action,
            has_competitors=n_comp > 0,
            finite=inventory is not None or horizon is not None or catalogue,
            catalogue=catalogue,
            n_products=n_products,
        )
    finally:
        env.close()


def _make_env(env_id: str, options: Mapping[str, Any]) -> Any:
    import gymnasium

    try:
        return gymnasium.make(env_id, **options)
    except PricegymError as exc:
        raise _wrap(exc, "market.options", options) from None
    except TypeError as exc:
        raise _error(
            "market.options",
            dict(options),
            f"{env_id} does not take these keyword arguments ({exc})",
            "pass only the arguments of the environment's constructor",
        ) from None


def _market_data(sec: _Section, name: Any, base: Path | None) -> MarketSpec:
    data = _parse_data(sec.raw("data"), base)
    raw_models = sec.raw("model")
    if raw_models is None:
        raise _error(
            "market.model",
            None,
            "a market built from sales data needs a demand model to fit (or a saved one)",
            "add model: {family: poisson} (families: linear, loglinear, poisson, arimax, neural)",
        )
    items = raw_models if isinstance(raw_models, list) else [raw_models]
    if not items:
        raise _error("market.model", raw_models, "the list of models is empty", "give one model")
    models = tuple(
        _parse_model(
            item, f"market.model[{i}]" if isinstance(raw_models, list) else "market.model", base
        )
        for i, item in enumerate(items)
    )
    data = load_instrument_columns(data, models)
    seen: set[str] = set()
    for i, m in enumerate(models):
        if m.name in seen:
            raise _error(
                f"market.model[{i}].name",
                m.name,
                "two models share this name (the name labels their market)",
                "give each model its own name: ...",
            )
        seen.add(m.name)
    options = _market_options(sec)
    label = _label(name or data.label, "market.name")
    competitors = None
    if data.path is not None:
        competitors = bool(data.load.get("competitors"))
    elif data.synthetic is not None:
        competitors = bool(data.synthetic.get("competitor", True))
    elif data.dataset is not None:
        competitors = data.dataset == "cigar"
    if any(m.file for m in models):
        competitors = None  # only known once the model file is read
    return MarketSpec(
        label,
        "data",
        data=data,
        models=models,
        options=options,
        action=options.get("action", "discrete"),
        has_competitors=competitors,
        validation=parse_validation(sec.data.get("validate"), "data"),
    )


def _parse_data(raw: Any, base: Path | None) -> DataSpec:
    sec = _Section(raw, "market.data", _keys.keys("market.data"), "the sales history")
    given = [k for k in ("dataset", "path", "synthetic") if sec.has(k)]
    if len(given) != 1:
        raise _error(
            "market.data",
            raw,
            "give exactly one of dataset (a bundled data set), path (a CSV/Parquet file) or "
            "synthetic (generated history)",
            "e.g. data: {dataset: article}",
        )
    load = {k: sec.raw(k) for k in _LOAD_KEYS if sec.has(k)}
    if load and not sec.has("path"):
        raise _error(
            f"market.data.{next(iter(load))}",
            next(iter(load.values())),
            "column-mapping keys apply to a data file (market.data.path) only",
            "drop it; bundled and synthetic histories are already mapped",
        )
    for key in ("competitors", "promotions", "instruments"):
        if key in load:
            value = load[key]
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise _error(
                    f"market.data.{key}",
                    load[key],
                    "must be a list of column names",
                    f"{key}: [col]",
                )
            load[key] = list(value)
    _check_calendar(load, base)
    product = sec.get_str("select_product")
    dataset = sec.get_str("dataset")
    if dataset is not None:
        from pricegym.demand.datasets import dataset_info  # pandas, numpy

        try:
            dataset_info(dataset)
        except ConfigError as exc:
            raise _wrap(exc, "market.data.dataset") from None
        return DataSpec(dataset=dataset, select_product=product)
    if sec.has("path"):
        path = _file(sec.raw("path"), "market.data.path", base, "the sales data file")
        return DataSpec(path=path, load=load, select_product=product)
    synthetic = sec.mapping("synthetic")
    from pricegym.demand.synthetic import generate_history  # scipy, pandas, numpy

    accepted = set(inspect.signature(generate_history).parameters) - {"truth", "price_process"}
    for key in synthetic:
        if key not in accepted:
            raise _unknown("market.data.synthetic", key, accepted)
    return DataSpec(synthetic=synthetic, select_product=product)


def _check_calendar(load: dict[str, Any], base: Path | None) -> None:
    """Validate (and resolve in place) the trading-calendar keys of ``market.data``.

    ``calendar`` is one of auto/daily/business, ``trading_days`` a weekday mask such as
    ``Mon-Fri`` (or a list), ``closed_dates`` a list of dates or a file (relative to
    the experiment file's folder) read into the list.
    """
    # pandas, numpy
    from pricegym.demand.calendar import CALENDAR_CHOICES, parse_closed_dates, parse_weekdays

    if "calendar" in load and str(load["calendar"]).lower() not in CALENDAR_CHOICES:
        raise _error(
            "market.data.calendar",
            load["calendar"],
            f"is not a trading calendar; use one of {list(CALENDAR_CHOICES)}",
            "calendar: auto (infer from the data), daily (every day) or business (Mon–Fri)",
        )
    try:
        if "trading_days" in load:
            parse_weekdays(load["trading_days"])
        if "closed_dates" in load:
            value = load["closed_dates"]
            if isinstance(value, str) and "," not in value and base is not None:
                candidate = Path(value).expanduser()
                candidate = candidate if candidate.is_absolute() else base / candidate
                if candidate.is_file():
                    value = str(candidate)
            load["closed_dates"] = list(parse_closed_dates(value))
    except PricegymError as exc:
        key = "trading_days" if "trading days" in str(exc) else "closed_dates"
        raise _wrap(exc, f"market.data.{key}") from None


def _parse_model(raw: Any, path: str, base: Path | None) -> ModelSpec:
    from pricegym.demand.base import model_families  # pandas, numpy

    _load_families()
    sec = _Section(raw, path, _keys.keys("market.model"), "a demand model")
    if sec.has("family") == sec.has("file"):
        raise _error(
            path,
            raw,
            "give exactly one of family (fit it to market.data) or file (a saved model)",
            "e.g. model: {family: poisson}",
        )
    if sec.has("file"):
        for key in ("instruments", "endogenous"):
            if sec.has(key):
                raise _error(
                    f"{path}.{key}",
                    sec.raw(key),
                    "a saved model was fitted with its own instruments",
                    f"drop {key}",
                )
        if sec.has("params"):
            raise _error(
                f"{path}.params",
                sec.raw("params"),
                "a saved model has its parameters",
                "drop params",
            )
        file = _saved_model(sec.raw("file"), f"{path}.file", base)
        name = _label(sec.raw("name", Path(file).stem), f"{path}.name")
        return ModelSpec(name, file=file)
    families = model_families()
    family = sec.get_str("family")
    if family not in families:
        close = difflib.get_close_matches(str(family), sorted(families), n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise _error(
            f"{path}.family",
            family,
            f"is not a demand-model family.{hint} Families: {sorted(families)}",
            f"use {close[0]!r}" if close else "use one of the families",
        )
    params = sec.mapping("params")
    family, params = instrumented_model(
        sec.raw("instruments"), path, family, params, sec.raw("endogenous")
    )
    accepted = families[family]._param_names()
    for key in params:
        if key not in accepted:
            raise _unknown(f"{path}.params", key, accepted)
    # make_model loads the families: statsmodels, scipy, pandas
    from pricegym.demand import make_model

    try:
        make_model(family, **params)
        if params.get("season_period") is not None:
            # statsmodels, scipy, pandas
            from pricegym.demand.regression import resolve_season_period

            resolve_season_period(params["season_period"], None)  # type: ignore[arg-type]
    except PricegymError as exc:
        raise _wrap(exc, f"{path}.params", params) from None
    except (TypeError, ValueError) as exc:
        raise _error(
            f"{path}.params", params, f"rejected by {family} ({exc})", "fix the values"
        ) from None
    name = _label(sec.raw("name", family), f"{path}.name")
    return ModelSpec(name, family=family, params=params)


def _market_demand(sec: _Section, name: Any) -> MarketSpec:
    from pricegym.agents.rules import demand_from_spec  # scipy, pandas, gymnasium

    spec = sec.mapping("demand")
    try:
        kernel = demand_from_spec(spec)
    except ConfigError as exc:
        raise _wrap(exc, "market.demand", spec) from None
    except (TypeError, ValueError) as exc:
        raise _error(
            "market.demand", spec, f"not a valid parametric truth ({exc})", "fix its parameters"
        ) from None
    if int(getattr(kernel, "n_sellers", 1)) != 1:
        raise _error(
            "market.demand",
            spec,
            "a multi-seller demand belongs in an oligopoly",
            "use market.oligopoly (the logit market) instead",
        )
    options, cfg = _options_for(sec, kernel)
    label = _label(name or str(spec.get("form", "demand")), "market.name")
    return MarketSpec(
        label,
        "demand",
        demand=spec,
        options=options,
        action=cfg.action,
        has_competitors=bool(tuple(kernel.spec.competitors)),
    )


def _market_oligopoly(sec: _Section, name: Any) -> MarketSpec:
    from pricegym.envs.oligopoly import OligopolyEnv  # scipy, pandas, pettingzoo

    kwargs = sec.mapping("oligopoly")
    accepted = [
        n
        for n in inspect.signature(OligopolyEnv.__init__).parameters
        if n not in ("self", "kernel")
    ]
    for key in kwargs:
        if key not in accepted:
            raise _unknown("market.oligopoly", key, accepted)
    try:
        env = OligopolyEnv(**kwargs)
    except PricegymError as exc:
        raise _wrap(exc, "market.oligopoly", kwargs) from None
    except (TypeError, ValueError) as exc:
        raise _error(
            "market.oligopoly", kwargs, f"rejected by OligopolyEnv ({exc})", "fix the values"
        ) from None
    label = _label(name or "oligopoly", "market.name")
    return MarketSpec(
        label,
        "oligopoly",
        oligopoly=kwargs,
        action=env.action_type,
        n_sellers=env.n_sellers,
        has_competitors=True,
        finite=env.horizon is not None,
    )
