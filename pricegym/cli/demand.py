"""``pricegym demand plot MODEL.json``: a saved model's demand curve, band, data and fit."""

from __future__ import annotations

import argparse
from pathlib import Path

from pricegym.cli._common import _level, _load_families, _positive_int, _stdout


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
