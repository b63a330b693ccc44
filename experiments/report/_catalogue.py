"""The report's pieces for a catalogue market: a price path per product, the cross-price matrix.

Split out of :mod:`pricegym.experiments.report`. :func:`plot_catalogue_paths` draws,
from the replays of :func:`~pricegym.experiments.catalogue.replay_catalogue_rows`,
one figure per product (each agent's price of that product in every period of the
same evaluation episode, and that product's stock or units below);
:func:`elasticity_html` the cross-price elasticity matrix of every catalogue
market of ``benchmarks.json`` (from
:func:`~pricegym.experiments.catalogue.catalogue_benchmarks`).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pricegym.experiments.report._output import WIDTH, _new_figure, _num, _Output

if TYPE_CHECKING:
    import pandas as pd

    from pricegym.experiments.report._run import RunData

__all__ = ["elasticity_html", "plot_catalogue_paths"]


def _products(data: pd.DataFrame) -> list[str]:
    return [c.split(":", 1)[1] for c in data.columns if str(c).startswith("price:")]


def plot_catalogue_paths(
    out: _Output,
    arena: str,
    data: pd.DataFrame,
    colours: Mapping[str, Any],
    seed: int,
) -> None:
    """One price-path figure per product of a catalogue market (episode 0 of ``seed``)."""
    import numpy as np

    first = data[data["episode"] == 0]
    for product in _products(first):
        stock = first[f"inventory:{product}"]
        finite_stock = bool(np.isfinite(stock).all())
        fig = _new_figure(WIDTH, 620)
        top, bottom = fig.subplots(2, 1, sharex=True)
        for agent, rows in first.groupby("agent", sort=False):
            c = colours.get(agent, "0.5")
            steps = rows["step"].to_numpy() + 1
            top.step(steps, rows[f"price:{product}"], where="mid", color=c, lw=1.8, label=agent)
            what = rows[f"inventory:{product}" if finite_stock else f"units:{product}"]
            bottom.plot(steps, what, color=c, marker="o", markersize=3, linewidth=1.4)
        top.set_ylabel(f"price of {product}")
        top.set_title(f"Price of {product} per period, {arena}: episode 0 of seed {seed}")
        top.legend(loc="best", fontsize="small")
        top.grid(alpha=0.3)
        bottom.set_ylabel(f"{product}: " + ("stock after the period" if finite_stock else "units"))
        bottom.set_xlabel("period")
        bottom.grid(alpha=0.3)
        if finite_stock:
            bottom.set_ylim(bottom=0)
        out.save(
            fig,
            f"price_paths__{arena}__{product}",
            "markets",
            f"Price path of {product} — {arena}",
            f"Each agent's price of {product!r} in every period of the same evaluation episode "
            f"(episode 0 of replicate seed {seed}: the same demand draws for every agent), "
            f"replayed from the saved policies; below, {product!r}'s "
            f"{'stock left' if finite_stock else 'units sold'} per period. The agents price "
            "every product at once: the other products' figures show the rest of each vector.",
        )


def elasticity_html(run: RunData) -> str:
    """The cross-price elasticity matrix of each catalogue market ('' if there is none)."""
    from pricegym.experiments.report import _table  # cycle: the report package imports this module

    e = html.escape
    parts = []
    for market, bench in run.benchmarks.items():
        el = bench.get("elasticity") if isinstance(bench, Mapping) else None
        if not el:
            continue
        products = [str(p) for p in bench.get("products", [])]
        matrix = el["matrix"]
        rows = [
            [f"units of {p}", *(_num(v, "{:+.3f}") for v in row)]
            for p, row in zip(products, matrix, strict=True)
        ]
        prices = ", ".join(f"{p} {_num(v)}" for p, v in zip(products, el["prices"], strict=True))
        parts.append(f"<h3>Cross-price elasticities — {e(market)}</h3>")
        parts.append(_table(["", *(f"price of {p}" for p in products)], rows, (0,)))
        parts.append(
            f"<p>∂ ln(units of the row's product) / ∂ ln(price of the column's product) of the "
            f"market's demand model at the best grid price vector ({e(prices)}): own elasticities "
            "on the diagonal, cross elasticities off it (positive: substitutes, negative: "
            "complements). Central differences of the model's expected units.</p>"
        )
    return "\n".join(parts)
