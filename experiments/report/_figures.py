"""The report's figures of results over time: league table, price paths, cumulative
profit, learning curves, and the fitted demand models.

Split out of :mod:`pricegym.experiments.report`, whose :func:`render_report` calls the
``_fig_*`` functions here in page order; each draws into an
:class:`~pricegym.experiments.report._output._Output`, or records there why a figure
is not drawn. The policy maps are in ``_maps`` and the tournament heat maps in
``_tournament``. Matplotlib, numpy, pandas and the markets are imported inside
the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pricegym.errors import PricegymError
from pricegym.experiments.report._catalogue import plot_catalogue_paths
from pricegym.experiments.report._output import (
    WIDTH,
    _agent_order,
    _colours,
    _new_figure,
    _Output,
)
from pricegym.experiments.report._replay import _replay_differences, _Replays
from pricegym.experiments.report._run import RunData, _finite, league_bars, learning_curves

if TYPE_CHECKING:
    import pandas as pd

    from pricegym.experiments.rundir import Cell


#: Panels of one oligopoly price-path figure and lines of one cumulative-profit plot.
MAX_PANELS = 9
MAX_LINES = 12


# ==================================================================== league table
def _fig_league(run: RunData, out: _Output) -> None:
    import numpy as np

    bars = league_bars(run.summary)
    title = "League table with confidence intervals"
    if bars.empty:
        out.skip("league", title, "summary.csv has no rows.")
        return
    panels = list(bars.groupby(["mode", "market"], sort=False))
    sizes = [len(p) for _, p in panels]
    height = 80 + sum(70 + 34 * s for s in sizes)
    fig = _new_figure(WIDTH, height)
    axes = fig.subplots(len(panels), 1, squeeze=False, height_ratios=[2 + s for s in sizes])[:, 0]
    colours = _colours(_agent_order(run))
    level = run.resolved.get("evaluation", {}).get("confidence", 0.95)
    labels = {
        "pct_of_optimum": "% of the DP optimum (profit per episode)",
        "delta": "collusion index Δ (0 = Nash, 1 = monopoly)",
        "mean": "profit per episode",
    }
    for ax, ((mode, market), panel) in zip(axes, panels, strict=True):
        y = np.arange(len(panel))[::-1]
        value = panel["value"].to_numpy()
        err = np.vstack([value - panel["low"].to_numpy(), panel["high"].to_numpy() - value])
        err = np.where(np.isfinite(err), np.maximum(err, 0.0), 0.0)
        ax.barh(y, value, color=[colours.get(a, "0.5") for a in panel["agent"]], height=0.6)
        ax.errorbar(value, y, xerr=err, fmt="none", ecolor="black", capsize=4, linewidth=1.2)
        ax.set_yticks(y, panel["agent"].tolist())
        metric = panel["metric"].iloc[0]
        if metric == "pct_of_optimum":
            ax.axvline(100.0, color="black", linestyle="--", linewidth=1, label="DP optimum")
            fixed = _benchmark(run, market, "best_fixed")
            opt = _benchmark(run, market, "dp")
            if fixed is not None and opt:
                ax.axvline(100 * fixed / opt, color="0.4", linestyle=":", label="best fixed price")
            lows = np.where(np.isfinite(panel["low"]), panel["low"], panel["value"])
            low = min(float(lows.min()), 100 * (fixed or opt or 0) / (opt or 1))
            ax.set_xlim(max(0.0, low - 0.15 * (100 - low) - 1), None)
            ax.legend(loc="lower right", fontsize="small")
        elif metric == "delta":
            ax.axvline(0.0, color="black", linewidth=1)
            ax.axvline(1.0, color="black", linestyle="--", linewidth=1, label="monopoly (Δ = 1)")
            ax.legend(loc="lower right", fontsize="small")
        ax.set_xlabel(labels[metric])
        ax.set_title(f"{market} ({mode})" if mode != "solo" else market, fontsize="medium")
        ax.grid(axis="x", alpha=0.3)
    out.save(
        fig,
        "league",
        "league",
        title,
        f"Bars: the league table's metric per agent (summary.csv); whiskers: its {level:.0%} "
        "two-level bootstrap CI (seeds, then episodes within each seed; summary.csv's "
        "ci_basis says on how many). % of the DP optimum "
        "where it is defined, the collusion index Δ in an oligopoly, else mean profit.",
    )


def _benchmark_lines(ax: Any, run: RunData, arena: str) -> None:
    """Dashed DP-optimum and dotted best-fixed-price lines, where the market has them.

    An arena "A vs B" (agent against a rival) has neither benchmark.
    """
    if " vs " in arena:
        return
    for key, style, label in (
        ("dp", "--", "DP optimum (expected)"),
        ("best_fixed", ":", "best fixed price (expected)"),
    ):
        v = _benchmark(run, arena, key)
        if v is not None:
            ax.axhline(v, color="black", linestyle=style, linewidth=1, label=label)


def _benchmark(run: RunData, market: str, key: str) -> float | None:
    base = market.split(" vs ", 1)[0]
    v = run.benchmarks.get(market, run.benchmarks.get(base, {})).get(key)
    return float(v) if _finite(v) else None


# ==================================================================== price paths
def _fig_markets(run: RunData, out: _Output, replays: _Replays | None) -> None:
    section = "markets"
    if replays is None:
        out.skip(
            section,
            "Price paths and cumulative profit",
            f"the experiment cannot be rebuilt from resolved.json ({run.config_error}).",
        )
        return
    groups: dict[str, list[Cell]] = {}
    for cell in replays.cells():
        groups.setdefault(cell.arena, []).append(cell)
    if not groups:
        out.skip(section, "Price paths", "no solo, vs_rules or round-robin cells were played.")
        return
    oligopoly = replays.config.market.is_oligopoly
    colours = _colours(_agent_order(run))
    for arena, cells in groups.items():
        frames, failures = [], []
        for cell in cells:
            got = replays.get(cell)
            if isinstance(got, str):
                failures.append(got)
            else:
                frames.append(got)
                out.notes.extend(_replay_differences(got, run.episodes))
        for why in failures:
            out.skip(section, f"Replay in {arena}", why)
        if not frames:
            continue
        if oligopoly:
            _plot_oligopoly_paths(run, out, arena, frames, replays.seed)
        elif replays.config.market.is_catalogue:  # one price-path figure per product
            import pandas as pd

            data = pd.concat(frames, ignore_index=True)
            plot_catalogue_paths(out, arena, data, colours, replays.seed)
            _plot_cumulative(run, out, arena, data, colours, replays.seed)
        else:
            _plot_single_paths(run, out, arena, frames, colours, replays.seed)


def _plot_single_paths(
    run: RunData,
    out: _Output,
    arena: str,
    frames: list[pd.DataFrame],
    colours: Mapping[str, Any],
    seed: int,
) -> None:
    import numpy as np
    import pandas as pd

    data = pd.concat(frames, ignore_index=True)
    first = data[data["episode"] == 0]
    finite_stock = bool(np.isfinite(first["inventory"]).all())
    has_rival = bool(first["rival_price"].notna().any())
    fig = _new_figure(WIDTH, 720)
    top, bottom = fig.subplots(2, 1, sharex=True)
    for agent, rows in first.groupby("agent", sort=False):
        c = colours.get(agent, "0.5")
        steps = rows["step"].to_numpy() + 1
        top.step(steps, rows["price"], where="mid", color=c, linewidth=1.8, label=agent)
        if has_rival:
            top.step(steps, rows["rival_price"], where="mid", color=c, linewidth=1, ls="--")
        what = rows["inventory"] if finite_stock else rows["units"]
        bottom.plot(steps, what, color=c, marker="o", markersize=3, linewidth=1.4, label=agent)
    top.set_ylabel("price")
    rival_note = " (dashed: the competitor's price in the same episode)" if has_rival else ""
    top.set_title(f"Price per period, {arena}: episode 0 of seed {seed}{rival_note}")
    top.legend(loc="best", fontsize="small")
    top.grid(alpha=0.3)
    bottom.set_ylabel("stock after the period" if finite_stock else "units sold")
    bottom.set_xlabel("period")
    bottom.grid(alpha=0.3)
    if finite_stock:
        bottom.set_ylim(bottom=0)
    out.save(
        fig,
        f"price_paths__{arena}",
        "markets",
        f"Price paths — {arena}",
        f"Each agent's price in every period of the same evaluation episode (episode 0 of "
        f"replicate seed {seed}: the same demand draws for every agent), replayed from the saved "
        f"policies; below, {'the stock left' if finite_stock else 'units sold'} per period.",
    )
    _plot_cumulative(run, out, arena, data, colours, seed)


def _plot_cumulative(
    run: RunData,
    out: _Output,
    arena: str,
    data: pd.DataFrame,
    colours: Mapping[str, Any],
    seed: int,
) -> None:
    """Cumulative profit: the mean over the replayed episodes, carried to the season's end."""
    fig = _new_figure(WIDTH, 520)
    ax = fig.subplots()
    n_eps = int(data["episode"].nunique())
    for agent, rows in data.groupby("agent", sort=False):
        wide = rows.pivot_table(index="episode", columns="step", values="cum_profit")
        mean = wide.ffill(axis=1).mean(axis=0)
        ax.plot(mean.index + 1, mean.to_numpy(), color=colours.get(agent, "0.5"), label=agent)
    _benchmark_lines(ax, run, arena)
    ax.set_xlabel("period")
    ax.set_ylabel("cumulative profit")
    ax.set_title(f"Cumulative profit, {arena}: mean of {n_eps} episode(s) of seed {seed}")
    ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3)
    out.save(
        fig,
        f"cumulative_profit__{arena}",
        "markets",
        f"Cumulative profit — {arena}",
        f"Profit accumulated period by period, averaged over the {n_eps} replayed evaluation "
        f"episode(s) of replicate seed {seed} (an episode that sold out keeps its final total). "
        "Horizontal lines: the expected season profit of the DP optimum and of the best fixed "
        "price (benchmarks.json), where they are defined.",
    )


def _plot_oligopoly_paths(
    run: RunData, out: _Output, arena: str, frames: list[pd.DataFrame], seed: int
) -> None:
    import numpy as np

    base = arena.split(" vs ", 1)[0]
    bench = run.benchmarks.get(base, {})
    nash = (bench.get("nash_prices") or [None])[0]
    mono = (bench.get("monopoly_prices") or [None])[0]
    shocked = (
        " (the base market's; under Markov shocks each regime has its own, listed with the "
        "benchmarks, and Δ uses those)"
        if bench.get("regimes")
        else ""
    )
    shown = frames[:MAX_PANELS]
    cols = min(3, len(shown))
    rows_n = math.ceil(len(shown) / cols)
    fig = _new_figure(WIDTH, 120 + 300 * rows_n)
    axes = fig.subplots(rows_n, cols, squeeze=False).ravel()
    seat_colours = ("C0", "C3", "C2", "C4")
    for ax, frame in zip(axes, shown, strict=False):
        first = frame[frame["episode"] == 0]
        names = []
        for seat, rows in first.groupby("seat"):
            name = f"{rows['agent'].iloc[0]} (seat {seat})"
            names.append(rows["agent"].iloc[0])
            ax.step(
                rows["step"] + 1,
                rows["price"],
                where="mid",
                color=seat_colours[int(seat) % 4],
                label=name,
                linewidth=1.3,
            )
        if nash is not None:
            ax.axhline(nash, color="black", linestyle=":", linewidth=1, label="Nash")
        if mono is not None:
            ax.axhline(mono, color="black", linestyle="--", linewidth=1, label="monopoly")
        ax.set_title(" vs ".join(names), fontsize="medium")
        ax.set_xlabel("round")
        ax.set_ylabel("price")
        ax.legend(loc="best", fontsize="x-small")
        ax.grid(alpha=0.3)
    for ax in axes[len(shown) :]:
        ax.set_axis_off()
    more = f" (the first {MAX_PANELS} of {len(frames)})" if len(frames) > MAX_PANELS else ""
    out.save(
        fig,
        f"price_paths__{arena}",
        "markets",
        f"Price paths — {arena}",
        f"Each seller's price per round in episode 0 of replicate seed {seed}, one panel per "
        f"pairing{more}, replayed from the saved policies; dotted: Bertrand–Nash price, dashed: "
        f"joint-monopoly price{shocked}.",
    )
    fig = _new_figure(WIDTH, 520)
    ax = fig.subplots()
    lines = 0
    for frame in frames:
        for seat, rows in frame.groupby("seat"):
            if lines >= MAX_LINES:
                break
            wide = rows.pivot_table(index="episode", columns="step", values="cum_profit")
            mean = wide.ffill(axis=1).mean(axis=0)
            me, other = rows["agent"].iloc[0], rows["opponent"].iloc[0]
            label = f"{me} vs {other}" + (f" (seat {seat})" if me == other else "")
            ax.plot(mean.index + 1, mean.to_numpy(), label=label, linewidth=1.3)
            lines += 1
    steps = np.arange(1, int(frames[0]["step"].max()) + 2)
    for key, style, label in (
        ("nash_profits", ":", "Nash"),
        ("monopoly_profits", "--", "monopoly"),
    ):
        per_round = (bench.get(key) or [None])[0]
        if per_round is not None:
            ax.plot(steps, per_round * steps, color="black", linestyle=style, label=label)
    ax.set_xlabel("round")
    ax.set_ylabel("cumulative profit")
    n_eps = int(frames[0]["episode"].nunique())
    ax.set_title(f"Cumulative profit, {arena}: mean of {n_eps} episode(s) of seed {seed}")
    ax.legend(loc="best", fontsize="x-small", ncols=2)
    ax.grid(alpha=0.3)
    out.save(
        fig,
        f"cumulative_profit__{arena}",
        "markets",
        f"Cumulative profit — {arena}",
        f"Each seller's profit accumulated round by round (mean of {n_eps} replayed episodes "
        f"of replicate seed {seed}), labelled 'seller vs opponent'; black lines: a seller's "
        f"Nash and monopoly profit per round times the rounds played{shocked}.",
    )


# ==================================================================== learning curves
def _fig_learning(run: RunData, out: _Output) -> None:
    import numpy as np

    section, title = "learning", "Learning curves"
    curves = learning_curves(run.path)
    trained = _trained_agents(run)
    logged = set(curves["agent"]) if not curves.empty else set()
    silent = {name: kind for name, kind in trained.items() if name not in logged}
    if silent:
        listed = ", ".join(f"{n} ({k})" for n, k in silent.items())
        out.skip(
            section,
            f"{title} of {', '.join(silent)}",
            f"{listed}: trained without a log of training profit — the runner keeps none for "
            "agents trained online (it would need to write logs/train/<cell id>/progress.csv "
            "with the columns time/total_timesteps and rollout/ep_rew_mean: the profit per "
            "training episode, or per block of periods, as training went on).",
        )
    if curves.empty:
        if not trained:
            out.skip(section, title, "no agent in this run is trained.")
        return
    colours = _colours(_agent_order(run))
    for arena, data in curves.groupby("market", sort=False):
        fig = _new_figure(WIDTH, 520)
        ax = fig.subplots()
        for (agent, seed), rows in data.groupby(["agent", "seed"], sort=False):
            c = colours.get(agent, "0.5")
            first_seed = seed == data.loc[data["agent"] == agent, "seed"].min()
            tr = rows[rows["source"] == "train"]
            ev = rows[rows["source"] == "eval"]
            if len(tr):
                ax.plot(
                    tr["timesteps"],
                    tr["profit"],
                    color=c,
                    alpha=0.8,
                    linewidth=1.2,
                    label=f"{agent} (training episodes)" if first_seed else None,
                )
            if len(ev):
                ax.plot(
                    ev["timesteps"],
                    ev["profit"],
                    color=c,
                    marker="o",
                    linestyle="--",
                    linewidth=1,
                    label=f"{agent} (evaluation)" if first_seed else None,
                )
        _benchmark_lines(ax, run, str(arena))
        n_seeds = int(np.unique(data["seed"]).size)
        ax.set_xlabel("training steps (market periods)")
        ax.set_ylabel("profit per episode")
        ax.set_title(f"Learning curves, {arena} ({n_seeds} replicate seed(s), one line each)")
        ax.legend(loc="best", fontsize="small")
        ax.grid(alpha=0.3)
        out.save(
            fig,
            f"learning_curves__{arena}",
            section,
            f"{title} — {arena}",
            "Mean profit of the latest training episodes (SB3's rollout/ep_rew_mean in "
            "logs/train/<cell>/progress.csv, unnormalised) and, with markers, the mean profit "
            "of the periodic evaluations (eval/evaluations.npz), against training steps; one "
            "line per replicate seed; horizontal lines: the DP optimum and the best fixed price "
            "where defined.",
        )


def _trained_agents(run: RunData) -> dict[str, str]:
    """Agents the run trained (name → kind)."""
    out = {}
    for a in run.resolved.get("agents", []):
        if a.get("train") and not a.get("policy"):
            out[a["name"]] = a["kind"]
    return out


# ==================================================================== demand models
def _fig_demand(run: RunData, out: _Output) -> None:
    section, title = "demand", "Demand-model fit"
    market = run.resolved.get("market", {})
    if "oligopoly" in market:
        out.skip(section, title, "the logit oligopoly's demand is given, not fitted to data.")
        return
    if "demand" in market:
        out.skip(section, title, "the market's demand is a parametric truth, not fitted to data.")
        return
    entries = list(market.get("model", []))
    if market.get("model_path"):  # a saved model given as the market
        entries = [{"name": market.get("name", "model"), "file": market["model_path"]}]
    model_path = (market.get("options") or {}).get("model_path")
    if "env" in market:
        if not model_path:
            out.skip(
                section, title, f"the market is the registered env {market['env']!r}, not fitted."
            )
            return
        entries = [{"name": Path(model_path).stem, "file": model_path}]  # pricegym/Fitted-v0
    from pricegym.demand.base import DemandModel  # pandas, numpy
    from pricegym.demand.plot import plot_model  # matplotlib, pandas, numpy

    for entry in entries:
        name = entry.get("name", "model")
        path = Path(entry["file"]) if entry.get("file") else run.path / "models" / f"{name}.json"
        if not path.is_file():
            out.skip(section, f"{title} — {name}", f"the fitted model file {path} is missing.")
            continue
        try:
            model = DemandModel.load(path)
            product = (market.get("options") or {}).get("product")
            fig = plot_model(model, product=None if product is None else str(product))
        except PricegymError as exc:
            out.skip(section, f"{title} — {name}", f"{path} cannot be plotted: {exc}")
            continue
        out.save(
            fig,
            f"demand_fit__{name}",
            section,
            f"{title} — {name} ({model.family})",
            f"The fitted demand curve of model {name!r} ({path.name}) with its band over the "
            "sales history, and for time-series models or models with a backtest its fit over "
            "time (pricegym.demand.plot.plot_model).",
        )
