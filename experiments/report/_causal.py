"""The report's causal section: IV diagnostics of each IV market, and the profit lost by
pricing with the biased (ordinary) model, evaluated in the IV market.

A market is an *IV market* when its saved demand model (``models/<name>.json``) is an
instrumented family (it has ``causal_``: :mod:`pricegym.demand.iv`). For each one the
section shows the fit report's causal table (which prices are endogenous, the
instruments of each, the first-stage F per endogenous price with the
Sanderson–Windmeijer F where there are several, the endogeneity test, ordinary and IV
elasticities and cross-price coefficients) and its verdict; then, against each
ordinary market of the run (its *biased* twin, fitted to the same data), the profit
lost by pricing with the biased model when the IV model is the truth:

- **exact**: the DP-optimal policy of the biased market (``solve_dp``) evaluated
  exactly in the IV market (``evaluate_policy``, expected profit per episode), against
  the IV market's own DP optimum. No sampling noise; only where the DP applies
  (a discrete price grid, Poisson or negative-binomial noise, no rival agents) and the
  two markets share the price grid.
- **tournament** (``cross_model.csv``, needs ``cross_model`` in ``tournament.modes``):
  each agent's mean profit per episode in the IV market when trained in the biased
  market, against the same agent trained in the IV market; simulated, with the
  run's bootstrap intervals.

:func:`causal_summary` returns the same numbers for ``report.json``.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pricegym.demand._causal_table import causal_lines
from pricegym.errors import PricegymError
from pricegym.experiments.report._output import _num
from pricegym.experiments.report._run import RunData, _finite
from pricegym.experiments.rundir import RunContext

__all__ = ["IVMarket", "causal_html", "causal_summary", "iv_markets", "profit_lost"]


@dataclass(frozen=True)
class IVMarket:
    """A market of the run whose demand model is instrumented.

    Attributes:
        market: the run's market label (``<data>/<model name>``).
        model: the model's name in the experiment.
        family: its family (``loglinear_iv``, ...).
        causal: the model's ``causal_`` (see :func:`pricegym.cli._causal.causal_document`).
    """

    market: str
    model: str
    family: str
    causal: dict[str, Any]


def _model_markets(run: RunData) -> list[tuple[str, str, Any]]:
    """``(market label, model name, loaded model or None)`` of every fitted-model market."""
    from pricegym.demand.base import DemandModel  # pandas, numpy

    market = run.resolved.get("market", {})
    label = str(market.get("name", ""))
    if market.get("model_path"):  # a saved model is the market
        files = [(label, Path(market["model_path"]).stem, Path(market["model_path"]))]
    elif "data" in market:
        entries = list(market.get("model", []))
        files = []
        for entry in entries:  # labels as MarketSpec.market_names: one model keeps the name
            name = str(entry.get("name", "model"))
            path = (
                Path(entry["file"]) if entry.get("file") else run.path / "models" / f"{name}.json"
            )
            files.append((label if len(entries) == 1 else f"{label}/{name}", name, path))
    else:
        return []
    out = []
    for market_label, name, path in files:
        try:
            model = DemandModel.load(path) if path.is_file() else None
        except PricegymError:
            model = None
        out.append((market_label, name, model))
    return out


def iv_markets(run: RunData) -> list[IVMarket]:
    """The run's IV markets, in the order of ``market.model``."""
    return [
        IVMarket(label, name, str(model.family), dict(model.causal_))
        for label, name, model in _model_markets(run)
        if model is not None and getattr(model, "causal_", None) is not None
    ]


def _biased_markets(run: RunData) -> list[str]:
    return [
        label
        for label, _, model in _model_markets(run)
        if model is not None and getattr(model, "causal_", None) is None
    ]


def profit_lost(run: RunData, iv: IVMarket) -> list[dict[str, Any]]:
    """Profit lost in ``iv``'s market by pricing with each ordinary market's policies.

    One entry per ordinary market of the run: ``biased`` (its label), ``exact``
    (``iv_optimum``, ``biased_policy``: expected profit per episode in the IV market of
    the IV and of the biased market's DP-optimal policy, ``lost``, ``lost_pct`` of the IV
    optimum; ``None`` with ``exact_note`` saying why where the DP does not apply) and
    ``tournament`` (per agent: ``own`` and ``biased`` mean profit per episode in the IV
    market with their intervals and average prices, ``lost``, ``lost_pct``; empty
    without ``cross_model.csv``).
    """
    rows = []
    for biased in _biased_markets(run):
        exact, note = _exact_loss(run, iv.market, biased)
        rows.append(
            {
                "evaluated_in": iv.market,
                "biased": biased,
                "exact": exact,
                "exact_note": note,
                "tournament": _tournament_loss(run, iv.market, biased),
            }
        )
    return rows


def _exact_loss(run: RunData, market: str, biased: str) -> tuple[dict[str, float] | None, str]:
    import numpy as np

    from pricegym.agents.dp import evaluate_policy, solve_dp  # scipy, pandas, gymnasium

    if run.config is None:
        return None, f"the experiment cannot be rebuilt ({run.config_error})"
    try:
        ctx = RunContext(run.config, run.path)
        home, away = ctx.env(market).unwrapped, ctx.env(biased).unwrapped
        if not np.array_equal(np.asarray(home.prices), np.asarray(away.prices)):
            return None, "the two markets have different price grids"
        own = solve_dp(home.kernel, home.config)
        policy = solve_dp(away.kernel, away.config)
        value = evaluate_policy(home.kernel, home.config, policy.action)
    except PricegymError as exc:
        return None, f"the DP does not apply here: {exc}"
    best, got = float(own.expected_value), float(value.expected_value)
    lost = best - got
    return {
        "iv_optimum": best,
        "biased_policy": got,
        "lost": lost,
        "lost_pct": 100.0 * lost / best if best else math.nan,
    }, ""


def _tournament_loss(run: RunData, market: str, biased: str) -> list[dict[str, Any]]:
    table = run.cross_model
    if table is None or table.empty:
        return []
    out = []
    here = table[table["market"] == market]
    for agent in dict.fromkeys(here["agent"]):
        rows = here[here["agent"] == agent].set_index("trained_in")
        if market not in rows.index or biased not in rows.index:
            continue
        own, other = rows.loc[market], rows.loc[biased]

        def cell(r: Any) -> dict[str, float]:
            keys = ("mean", "mean_low", "mean_high", "avg_price")
            return {k: float(r[k]) if k in r and _finite(r[k]) else math.nan for k in keys}

        o, b = cell(own), cell(other)
        lost = o["mean"] - b["mean"]
        out.append(
            {
                "agent": str(agent),
                "own": o,
                "biased": b,
                "lost": lost,
                "lost_pct": 100.0 * lost / o["mean"] if o["mean"] else math.nan,
            }
        )
    return out


def causal_summary(run: RunData) -> list[dict[str, Any]]:
    """What ``report.json`` records under ``causal``: per IV market its diagnostics
    (``endogenous``, ``instruments``, ``instruments_for``, per endogenous price ``f``,
    ``robust_f``, ``sw_f``, ``weak``; ``verdict``) and :func:`profit_lost`."""
    out = []
    for iv in iv_markets(run):
        c = iv.causal
        stages = c.get("first_stages") or {c["endogenous"][0]: c["first_stage"]}
        out.append(
            {
                "market": iv.market,
                "family": iv.family,
                "endogenous": list(c["endogenous"]),
                "instruments": list(c["instruments"]),
                "instruments_for": dict(c.get("instruments_for") or {}),
                "first_stages": {
                    k: {key: fs.get(key) for key in ("f", "robust_f", "sw_f", "weak")}
                    for k, fs in stages.items()
                },
                "verdict": c["verdict"],
                "profit_lost": profit_lost(run, iv),
            }
        )
    return out


def causal_html(run: RunData, summary: list[dict[str, Any]] | None = None) -> str:
    """The section's HTML ("" when the run has no IV market)."""
    from pricegym.demand.iv import WEAK_F  # statsmodels, scipy, pandas
    from pricegym.experiments.report import _table  # cycle: the report package imports this module

    markets = iv_markets(run)
    if not markets:
        return ""
    summary = causal_summary(run) if summary is None else summary
    e = html.escape
    parts = []
    for iv, doc in zip(markets, summary, strict=True):
        parts.append(f"<h3>{e(iv.market)} ({e(iv.family)}): price endogeneity</h3>")
        lines = causal_lines({**iv.causal, "weak_threshold": WEAK_F})
        parts.append(_table(["check", "result"], lines, (0, 1)))
        parts.append(f"<p>Verdict: {e(str(iv.causal['verdict']))}</p>")
        for loss in doc["profit_lost"]:
            parts.append(
                f"<h3>Profit lost by pricing with the biased model {e(loss['biased'])}, "
                f"evaluated in {e(iv.market)}</h3>"
            )
            ex = loss["exact"]
            if ex is not None:
                parts.append(
                    "<p>Exact (dynamic programming, expected profit per episode): the IV "
                    f"market's optimum {_num(ex['iv_optimum'])}; the DP-optimal policy of "
                    f"{e(loss['biased'])} earns {_num(ex['biased_policy'])} there, "
                    f"{_num(ex['lost'])} less ({_num(ex['lost_pct'], '{:.2f}')}%).</p>"
                )
            else:
                parts.append(f'<p class="skip">No exact comparison: {e(loss["exact_note"])}.</p>')
            rows = [
                [
                    t["agent"],
                    _ci(t["own"]),
                    _num(t["own"]["avg_price"]),
                    _ci(t["biased"]),
                    _num(t["biased"]["avg_price"]),
                    _num(t["lost"]),
                    _num(t["lost_pct"], "{:.2f}"),
                ]
                for t in loss["tournament"]
            ]
            if rows:
                parts.append(
                    _table(
                        [
                            "agent",
                            f"trained in {iv.market}: profit/episode [CI]",
                            "avg price",
                            f"trained in {loss['biased']}: profit/episode [CI]",
                            "avg price",
                            "profit lost",
                            "lost %",
                        ],
                        rows,
                    )
                )
                parts.append(
                    "<p>From cross_model.csv: both policies evaluated in the IV market "
                    "(simulated episodes; the intervals are the run's bootstrap intervals, "
                    "so a small loss may be noise — the exact line above is not).</p>"
                )
            else:
                parts.append(
                    '<p class="skip">No tournament comparison: add cross_model to '
                    "tournament.modes to evaluate each market's policies in the other.</p>"
                )
    return "\n".join(parts)


def _ci(r: dict[str, float]) -> str:
    value = _num(r.get("mean"))
    if _finite(r.get("mean_low")) and _finite(r.get("mean_high")):
        return f"{value} [{_num(r['mean_low'])}, {_num(r['mean_high'])}]"
    return value
