"""The report's tournament heat maps: head-to-head, agents vs rule-based rivals, and the
cross-model matrix.

Split out of :mod:`pricegym.experiments.report`, whose :func:`render_report` calls
:func:`_fig_tournament`. The heat maps are drawn from ``head_to_head.csv``, the
vs_rules rows of ``summary.csv`` and ``cross_model.csv`` (the matrices come from
:func:`~pricegym.experiments.report._run.head_to_head_matrix` and
:func:`~pricegym.experiments.report._run.cross_model_matrix`). Matplotlib and numpy
are imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pricegym.experiments.report._output import WIDTH, _new_figure, _num, _Output
from pricegym.experiments.report._run import (
    RunData,
    _finite,
    cross_model_matrix,
    head_to_head_matrix,
)

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.axes import Axes


# ==================================================================== figures
def _fig_tournament(run: RunData, out: _Output) -> None:
    section = "tournament"
    modes = set(run.resolved.get("tournament", {}).get("modes", []))
    if run.head_to_head is not None and not run.head_to_head.empty:
        _plot_head_to_head(run, out)
    elif "round_robin" in modes:
        out.skip(section, "Head-to-head heat map", "the round robin left no head_to_head.csv.")
    else:
        out.skip(
            section,
            "Head-to-head heat map",
            "no round robin in this run (tournament.modes has no round_robin).",
        )
    if "vs_rules" in modes:
        _plot_vs_rules(run, out)
    if run.cross_model is not None and not run.cross_model.empty:
        _plot_cross_model(run, out)
    else:
        reason = (
            "tournament.modes has no cross_model"
            if "cross_model" not in modes
            else "cross_model needs two or more fitted demand models (market.model as a list)"
        )
        out.skip(section, "Cross-model matrix", f"{reason}.")


def _heatmap(
    ax: Axes,
    values: np.ndarray,
    colour: np.ndarray,
    rows: Sequence[str],
    cols: Sequence[str],
    fmt: Callable[[float, float], str],
    cmap: str,
    vmin: float | None = None,
    vmax: float | None = None,
) -> Any:
    import numpy as np

    im = ax.imshow(np.ma.masked_invalid(colour), cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_xticks(range(len(cols)), list(cols), rotation=30, ha="right")
    ax.set_yticks(range(len(rows)), list(rows))
    for i in range(len(rows)):
        for j in range(len(cols)):
            if _finite(values[i, j]):
                # white text on dark cells: relative luminance of the cell's colour
                r, g, b, _ = im.cmap(im.norm(colour[i, j])) if _finite(colour[i, j]) else (1,) * 4
                dark = 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.45
                ax.text(
                    j,
                    i,
                    fmt(values[i, j], colour[i, j]),
                    ha="center",
                    va="center",
                    fontsize="small",
                    color="white" if dark else "black",
                )
            else:
                ax.text(j, i, "–", ha="center", va="center", color="0.5")
    return im


def _plot_head_to_head(run: RunData, out: _Output) -> None:
    import numpy as np

    table = run.head_to_head
    assert table is not None
    has_delta = "delta" in table.columns and table["delta"].notna().any()
    for market in dict.fromkeys(table["market"]):
        profit = head_to_head_matrix(table, market, "mean")
        n = len(profit)
        panels = 2 if has_delta else 1
        fig = _new_figure(WIDTH, max(360, 160 + 60 * n))
        axes = fig.subplots(1, panels, squeeze=False)[0]
        im = _heatmap(
            axes[0],
            profit.to_numpy(),
            profit.to_numpy(),
            profit.index,
            profit.columns,
            lambda v, _: _num(v),
            "viridis",
        )
        fig.colorbar(im, ax=axes[0], label="profit per episode (row agent)")
        axes[0].set_xlabel("opponent")
        axes[0].set_ylabel("agent")
        axes[0].set_title("mean profit per episode")
        if has_delta:
            delta = head_to_head_matrix(table, market, "delta")
            im = _heatmap(
                axes[1],
                delta.to_numpy(),
                delta.to_numpy(),
                delta.index,
                delta.columns,
                lambda v, _: f"{v:.2f}",
                "magma",
                vmin=min(0.0, float(np.nanmin(delta.to_numpy()))),
                vmax=max(1.0, float(np.nanmax(delta.to_numpy()))),
            )
            fig.colorbar(im, ax=axes[1], label="Δ (0 = Nash, 1 = monopoly)")
            axes[1].set_xlabel("opponent")
            axes[1].set_title("collusion index Δ")
        out.save(
            fig,
            f"head_to_head__{market}",
            "tournament",
            f"Head-to-head — {market}",
            "Round robin (head_to_head.csv): each cell is the row agent's mean over seeds when "
            "it plays the column agent"
            + ("; right: the row agent's profit gain Δ." if has_delta else "."),
        )


def _plot_vs_rules(run: RunData, out: _Output) -> None:
    summary = run.summary
    episodes = run.episodes
    rows = summary[summary["mode"] == "vs_rules"] if "mode" in summary.columns else summary[:0]
    if rows.empty or episodes is None:
        out.skip("tournament", "Agents vs rule-based rivals", "no vs_rules results in summary.csv.")
        return
    pairs = episodes[episodes["mode"] == "vs_rules"][["market", "opponent"]].drop_duplicates()
    rival_of = dict(zip(pairs["market"], pairs["opponent"], strict=True))
    data = rows.assign(
        rival=rows["market"].map(rival_of), base=rows["market"].str.split(" vs ").str[0]
    )
    for base, block in data.groupby("base", sort=False):
        agents = list(dict.fromkeys(block["agent"]))
        rivals = list(dict.fromkeys(block["rival"]))
        wide = block.pivot_table(index="agent", columns="rival", values="mean", aggfunc="first")
        wide = wide.reindex(index=agents, columns=rivals)
        fig = _new_figure(WIDTH, max(360, 160 + 60 * len(agents)))
        ax = fig.subplots()
        im = _heatmap(
            ax, wide.to_numpy(), wide.to_numpy(), agents, rivals, lambda v, _: _num(v), "viridis"
        )
        fig.colorbar(im, ax=ax, label="profit per episode")
        ax.set_xlabel("rule-based rival")
        ax.set_ylabel("agent")
        ax.set_title(f"Mean profit per episode against each rival, {base}")
        out.save(
            fig,
            f"vs_rules__{base}",
            "tournament",
            f"Agents vs rule-based rivals — {base}",
            "Each cell is the row agent's mean profit per episode (summary.csv, vs_rules) when "
            "the column rival sets the competitor price inside the market.",
        )


def _plot_cross_model(run: RunData, out: _Output) -> None:
    table = run.cross_model
    assert table is not None
    agents = list(dict.fromkeys(table["agent"]))
    cols = min(3, len(agents))
    rows_n = math.ceil(len(agents) / cols)
    n_markets = len(set(table["market"]) | set(table["trained_in"]))
    fig = _new_figure(WIDTH, 120 + rows_n * max(300, 90 + 55 * n_markets))
    axes = fig.subplots(rows_n, cols, squeeze=False)
    im = None
    for ax, agent in zip(axes.ravel(), agents, strict=False):
        mean, relative = cross_model_matrix(table, agent)
        im = _heatmap(
            ax,
            mean.to_numpy(),
            relative.to_numpy(),
            mean.index,
            mean.columns,
            lambda v, r: f"{_num(v)}\n{r:.1f}%" if _finite(r) else _num(v),
            "RdYlGn",
            vmin=80.0,
            vmax=105.0,
        )
        ax.set_title(agent, fontsize="medium")
        ax.set_xlabel("evaluated in")
        ax.set_ylabel("trained in")
    for ax in axes.ravel()[len(agents) :]:
        ax.set_axis_off()
    assert im is not None
    fig.colorbar(
        im, ax=axes.ravel().tolist(), label="% of the policy trained in that market", shrink=0.9
    )
    out.save(
        fig,
        "cross_model",
        "tournament",
        "Cross-model matrix",
        "Policies trained in the market of one fitted demand model (rows) and evaluated in the "
        "markets of the others (columns), from cross_model.csv: mean profit per episode and, in "
        "colour, its % of the profit of the same agent trained in the evaluated market (the "
        "diagonal).",
    )
