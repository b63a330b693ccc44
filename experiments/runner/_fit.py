"""The fit stage: fitted demand models, benchmarks, and the checks before any cell runs.

A private module of :mod:`pricegym.experiments.runner` (which re-exports its public
names). :func:`_fit` fits and saves each base market's demand
model (once; a rerun reuses ``models/``), computes its benchmarks (DP optimum and
best fixed price, or Nash and monopoly) into ``benchmarks.json``, and binds a
fresh copy of every agent and rival to each market, so that a config that cannot
run fails with a :class:`~pricegym.errors.ConfigError` before the first cell.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pricegym.errors import ConfigError, PricegymError
from pricegym.experiments.rundir import _model_path
from pricegym.experiments.runner._exec import _progress, _torch_threads
from pricegym.experiments.runner._files import _write_json

if TYPE_CHECKING:
    from pricegym.experiments.schema import AgentSpec, ExperimentConfig

_log = logging.getLogger("pricegym.experiments")


def _fit(config: ExperimentConfig, run_dir: Path, force: bool, show: bool | None) -> dict[str, Any]:
    """Fit and save the demand models; compute the benchmarks of every base market."""
    from pricegym.demand.base import DemandModel  # pandas, numpy
    from pricegym.experiments.evaluate import (  # pandas, numpy
        build_env,
        fit_model,
        load_sales_history,
        oligopoly_benchmarks,
        single_benchmarks,
    )

    spec = config.market
    bases = spec.market_names()
    bar = _progress(len(bases), "fit", 0, show)
    history = None
    benchmarks: dict[str, Any] = {}
    try:
        for base, model in bases.items():
            kernel = None
            if model is not None:
                path = _model_path(run_dir, model)
                if model.file is None and (
                    force or not path.is_file() or not path.with_suffix(".npz").is_file()
                ):
                    if history is None:
                        history = load_sales_history(spec.data)
                    start = time.perf_counter()
                    with _torch_threads():  # one thread: fast here, and the same weights
                        fitted = fit_model(model, spec.data, history)  # on any machine
                    fitted.save(path)
                    _log.info(
                        "fit %s (%s) in %.2fs",
                        model.name,
                        model.family,
                        time.perf_counter() - start,
                    )
                kernel = DemandModel.load(path).kernel()
            elif spec.source == "demand":
                from pricegym.agents.rules import demand_from_spec  # scipy, pandas, gymnasium

                kernel = demand_from_spec(spec.demand)
            env = build_env(spec, kernel)
            if spec.is_oligopoly:
                benchmarks[base] = oligopoly_benchmarks(env)
                _check_agents_fit(config, env, base)
            else:
                _check_rivals_possible(config, env, base)
                _check_agents_fit(config, env, base)
                for i, rival in enumerate(config.tournament.rivals):
                    if "vs_rules" in config.tournament.modes:
                        try:
                            build_env(spec, kernel, [_fresh(rival)])
                        except PricegymError as exc:
                            raise ConfigError(
                                f"tournament.rivals[{i}] ({rival.name!r}, kind {rival.kind!r}) "
                                f"cannot set a competitor price in market {base!r}: {exc}"
                            ) from None
                benchmarks[base] = single_benchmarks(env)
                benchmarks[base]["cost"] = _cost_entry(spec, env)
                _check_benchmarks(config, benchmarks[base], base)
            bar.update(1)
    finally:
        bar.close()
    _write_json(run_dir / "benchmarks.json", benchmarks)
    return benchmarks


def _cost_entry(spec: Any, env: Any) -> dict[str, Any]:
    """The unit cost a single-seller market charges and whether the experiment gave it.

    A registered env's preset sets its own cost; a data or demand market takes
    ``market.options.cost``, and without it the market's default 0 makes profit =
    revenue (said in the league table and the report's header).
    """
    given = spec.source == "env" or "cost" in dict(spec.options)
    cost = env.unwrapped.config.cost
    if getattr(spec, "is_catalogue", False):  # one unit cost per product
        return {"value": [float(c) for c in cost], "given": bool(given)}
    return {"value": float(cost), "given": bool(given)}


def _fresh(spec: AgentSpec) -> Any:
    from pricegym.agents.base import make_agent  # gymnasium, numpy

    agent = make_agent(spec.kind, **spec.params)
    agent.name = spec.name
    return agent


def _check_agents_fit(config: ExperimentConfig, env: Any, base: str) -> None:
    """Bind a fresh copy of every agent to the market now, so that an agent that cannot
    play it (a competitor-based rule without competitors, ...) fails before any cell runs."""
    from pricegym.agents.base import PricingAgent, agent_kinds  # gymnasium, numpy
    from pricegym.experiments.evaluate import bind_to_seat  # pandas, numpy

    oligopoly = config.market.is_oligopoly
    for i, spec in enumerate(config.agents):
        try:
            if spec.policy is not None:
                agent = PricingAgent.load(spec.policy)
            elif oligopoly and callable(
                from_market := getattr(agent_kinds()[spec.kind], "from_market", None)
            ):
                agent = from_market(env, seat=0, **spec.params)
            else:
                agent = _fresh(spec)
            if oligopoly:
                bind_to_seat(agent, env, 0)
            else:
                agent.bind(env)
        except PricegymError as exc:
            raise ConfigError(
                f"agents[{i}] ({spec.name!r}, kind {spec.kind!r}) cannot play market {base!r}: "
                f"{exc}"
            ) from None
    if oligopoly:
        for i, rival in enumerate(config.tournament.rivals):
            try:
                bind_to_seat(_fresh(rival), env, 1)
            except PricegymError as exc:
                raise ConfigError(
                    f"tournament.rivals[{i}] ({rival.name!r}, kind {rival.kind!r}) cannot play "
                    f"market {base!r}: {exc}"
                ) from None


def _check_rivals_possible(config: ExperimentConfig, env: Any, base: str) -> None:
    if "vs_rules" not in config.tournament.modes:
        return
    comps = getattr(getattr(env.unwrapped, "competitors", None), "names", ())
    if not comps:
        raise ConfigError(
            f"tournament.modes = {list(config.tournament.modes)}: 'vs_rules' needs a competitor "
            f"price for the rival to set, and market {base!r} (its demand model) has no "
            "competitor column. Fix: fit the model on data with a competitor column "
            "(market.data.competitors), or drop vs_rules."
        )


def _check_benchmarks(config: ExperimentConfig, bench: Mapping[str, Any], base: str) -> None:
    wanted = config.evaluation.benchmarks
    if wanted == "auto":
        return
    for name in ("dp", "best_fixed"):
        if name in wanted and bench.get(name) is None:
            raise ConfigError(
                f"evaluation.benchmarks = {list(wanted)}: {name!r} is not defined for market "
                f"{base!r} ({bench.get('note')}). Fix: drop it, or set benchmarks: auto to report "
                "it only where it is defined."
            )
