"""Figures of a fitted demand model: the demand curve with its band, and its fit over time.

Everything here works on a fitted model or one loaded from a file (it needs only
attributes that :meth:`~pricegym.demand.base.DemandModel.save` keeps:
``support_``, ``reference_``, ``noise_``, ``data_points_``, ``backtest_`` and, for
the coefficient band, ``coef_`` / ``coef_cov_``).

- :func:`demand_band` computes the curve and its band as numbers (testable).
- :func:`plot_demand` draws expected units over a price grid that spans the data's
  price support, extended by 10 % each side in a lighter style (extrapolation), in
  the model's reference context (the period after the data, competitor prices at
  their means, no promotion, the first product), with the band and the data points.
- :func:`plot_fit_over_time` draws actual vs in-sample fitted units over the period
  index ``t`` and the rolling-origin backtest forecasts against the actuals.
- **Sold-out periods**: when the model was fitted to a history with stock columns
  (``data_points_["censored"]``), both panels mark the periods that sold out (their
  units are a lower bound of demand) with their own marker and say how many.
- :func:`plot_model` puts them together: one panel, or two for time-series models
  (family ``arimax``) and any model with a backtest.
- :func:`save_figure` writes a figure atomically (temporary file + rename).

Figures are built as :class:`matplotlib.figure.Figure` objects without pyplot, so
importing or using this module never selects a backend or touches global state.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from pricegym.demand.base import DemandModel
from pricegym.demand.io import atomic_write_bytes
from pricegym.errors import ConfigError, ExtrapolationWarning

__all__ = [
    "FIGURE_DPI",
    "PANEL_SIZE",
    "DemandBand",
    "demand_band",
    "figure_format",
    "has_time_panel",
    "plot_demand",
    "plot_fit_over_time",
    "plot_model",
    "save_figure",
]

#: Width and height in inches of one panel of :func:`plot_model`; a figure with two
#: panels is twice as high. At :data:`FIGURE_DPI` one panel is 800 x 500 pixels.
PANEL_SIZE: tuple[float, float] = (8.0, 5.0)
#: Default resolution of saved figures, dots per inch.
FIGURE_DPI: int = 100
#: File formats :func:`save_figure` writes, by suffix.
_FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
#: Colours of the curve and band, and of the data points.
_CURVE_COLOUR = "C0"
_DATA_COLOUR = "0.35"
#: Noise band width in standard deviations of sampled units.
_NOISE_SDS = 2.0
#: Colour and marker of sold-out periods (units = stock: a lower bound of demand).
_SOLD_OUT_COLOUR = "C1"
_SOLD_OUT_MARKER = "^"


def _sold_out(points: pd.DataFrame) -> np.ndarray:
    """Boolean mask of the sold-out rows of ``data_points_`` (all False without stock)."""
    if "censored" not in points:
        return np.zeros(len(points), dtype=bool)
    return points["censored"].to_numpy(dtype=bool)


def _sold_out_label(n: int, total: int) -> str:
    return f"sold out: {n} of {total} periods (units = stock, demand >= units)"


@dataclass(frozen=True)
class DemandBand:
    """A demand curve over a price grid with a pointwise band.

    Attributes:
        prices: the price grid, increasing, shape (n,).
        expected: expected units at each price in the reference context, shape (n,).
        low, high: lower and upper edge of the band at each price, shape (n,).
        in_support: True where the price lies inside the data's price range.
        kind: ``"coefficients"``: pointwise percentiles of the curves of coefficient
            vectors drawn from their estimated normal distribution (uncertainty of
            expected units); ``"noise"``: expected units ± 2 standard deviations of
            sampled units under the model's noise model (spread of sales; for
            families without a coefficient covariance).
        label: legend text that says which band it is.
    """

    prices: np.ndarray
    expected: np.ndarray
    low: np.ndarray
    high: np.ndarray
    in_support: np.ndarray
    kind: Literal["coefficients", "noise"]
    label: str


def _price_grid(support: tuple[float, float], extend: float, n_grid: int) -> np.ndarray:
    """Grid over ``support`` extended by ``extend`` each side; the support ends are on it."""
    lo, hi = float(support[0]), float(support[1])
    n_out = max(2, round(n_grid * extend / (1.0 + 2.0 * extend)))
    n_in = max(2, n_grid - 2 * n_out)
    parts = [np.linspace(lo, hi, n_in)]
    if extend > 0:
        parts += [
            np.linspace(lo * (1.0 - extend), lo, n_out),
            np.linspace(hi, hi * (1 + extend), n_out),
        ]
    return np.unique(np.concatenate(parts))


def _has_coefficient_draws(model: DemandModel) -> bool:
    """Whether the model exposes ``coef_``, ``coef_cov_`` and a working ``_kernel_with_coef``."""
    coef = getattr(model, "coef_", None)
    cov = getattr(model, "coef_cov_", None)
    if coef is None or cov is None:
        return False
    coef, cov = np.asarray(coef), np.asarray(cov)
    if cov.shape != (coef.size, coef.size) or not np.all(np.isfinite(cov)):
        return False
    try:
        model._kernel_with_coef(coef)
    except NotImplementedError:
        return False
    return True


def demand_band(
    model: DemandModel,
    *,
    extend: float = 0.1,
    n_grid: int = 241,
    level: float = 0.95,
    n_draws: int = 500,
    seed: int = 0,
    product: str | None = None,
) -> DemandBand:
    """The fitted demand curve and its band over the (extended) price support.

    Args:
        model: a fitted or loaded demand model.
        extend: fraction of the support's ends by which the grid extends below the
            lowest and above the highest price seen (0.1: from 0.9·min to 1.1·max);
            ``0 <= extend < 1``.
        n_grid: number of grid prices (about; the support's ends are always on it).
        level: coverage of the coefficient band, ``0 < level < 1``.
        n_draws: coefficient vectors drawn for the coefficient band.
        seed: seed of the random generator of the draws.
        product: a pooled panel model's product (key) to draw, over its own price
            support in its own reference context
            (:func:`~pricegym.demand.products.select_product`); default the first.

    Returns:
        A :class:`DemandBand`. The band is the coefficient band when the model has
        ``coef_`` and ``coef_cov_`` (regression families, ARIMAX): the pointwise
        ``(1 − level)/2`` and ``(1 + level)/2`` percentiles over ``n_draws`` curves,
        each computed by the kernel ``model._kernel_with_coef(draw)``. Otherwise it
        is the noise band ``max(0, μ ± 2·sd)`` with ``sd² = noise_.variance(μ)``.

    Raises:
        ConfigError: ``extend``, ``n_grid``, ``level`` or ``n_draws`` out of range.
    """
    if not (0.0 <= extend < 1.0):
        raise ConfigError(f"extend={extend!r} must satisfy 0 <= extend < 1 (0.1 = 10 % each side).")
    if n_grid < 10:
        raise ConfigError(f"n_grid={n_grid!r} must be >= 10 grid prices.")
    if not (0.0 < level < 1.0):
        raise ConfigError(f"level={level!r} must lie strictly between 0 and 1 (e.g. 0.95).")
    if n_draws < 10:
        raise ConfigError(f"n_draws={n_draws!r} must be >= 10 coefficient draws.")
    model._check_fitted()
    lo, hi = _support(model, product)
    prices = _price_grid((lo, hi), extend, n_grid)
    in_support = (prices >= lo) & (prices <= hi)
    if product is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExtrapolationWarning)
            expected = np.asarray(model.expected_units(prices), dtype=np.float64)
    else:
        base = _for_product(model.kernel(), model, product)
        expected = base.expected(prices, base.context(prices.size), base.initial_state(prices.size))
    if _has_coefficient_draws(model):
        rng = np.random.default_rng(seed)
        draws = rng.multivariate_normal(
            np.asarray(model.coef_, dtype=np.float64),
            np.asarray(model.coef_cov_, dtype=np.float64),
            size=n_draws,
            method="eigh",
        )
        curves = np.empty((n_draws, prices.size))
        for i, coef in enumerate(draws):
            kern = _for_product(model._kernel_with_coef(coef), model, product)
            curves[i] = kern.expected(
                prices, kern.context(prices.size), kern.initial_state(prices.size)
            )
        low, high = np.quantile(curves, [(1.0 - level) / 2.0, (1.0 + level) / 2.0], axis=0)
        label = f"{level:.0%} CI of expected units ({n_draws} coefficient draws)"
        kind: Literal["coefficients", "noise"] = "coefficients"
    else:
        sd = np.sqrt(model.noise_.variance(expected))
        low = np.maximum(expected - _NOISE_SDS * sd, 0.0)
        high = expected + _NOISE_SDS * sd
        label = f"±{_NOISE_SDS:g} s.d. of sampled units ({model.noise_.kind} noise)"
        kind = "noise"
    return DemandBand(prices, expected, low, high, in_support, kind, label)


def _new_axes(ax: Axes | None, panels: int = 1) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    fig = Figure(figsize=(PANEL_SIZE[0], PANEL_SIZE[1] * panels), layout="constrained")
    return fig, fig.add_subplot()


def _is_panel(model: DemandModel) -> bool:
    summary = getattr(model, "data_summary_", None) or {}
    return int(summary.get("n_products", 1)) > 1


def _for_product(kernel: Any, model: DemandModel, product: str | None) -> Any:
    """``kernel`` for a panel's ``product`` (unchanged for ``None``)."""
    if product is None:
        return kernel
    from pricegym.demand.products import select_product

    kernel.product_refs = getattr(model, "products_reference_", None) or None
    return select_product(kernel, product)


def _support(model: DemandModel, product: str | None) -> tuple[float, float]:
    """The prices seen in the data of ``product`` (all of the model's data for ``None``)."""
    if product is None:
        return model.support_
    return _for_product(model.kernel(), model, product).support


def _reference_text(model: DemandModel, product: str | None = None) -> str:
    """A short description of the context the curve is drawn in."""
    parts = ["next period"]
    summary = getattr(model, "data_summary_", None) or {}
    if summary.get("competitors"):
        parts.append("competitors at their means")
    if summary.get("promotions"):
        parts.append("no promotion")
    if _is_panel(model):
        parts.append(f"product {summary['products'][0] if product is None else product}")
    return ", ".join(parts)


def plot_demand(
    model: DemandModel,
    ax: Axes | None = None,
    *,
    extend: float = 0.1,
    level: float = 0.95,
    n_draws: int = 500,
    seed: int = 0,
    product: str | None = None,
) -> Figure:
    """Draw the fitted demand curve with its band over the data points.

    The curve is solid over the price support and dashed and lighter over the
    ``extend`` extension on each side; the band follows the same split. The
    support's ends are marked with dotted vertical lines. Data points are
    ``data_points_`` (price, units); for a panel they are every product's rows,
    while the curve is that of the first product. Sold-out periods (a model fitted
    to a history with stock columns) are open triangles, labelled with their count.

    Args:
        model: a fitted or loaded demand model.
        ax: axes to draw into; a new one-panel figure when ``None``.
        extend, level, n_draws, seed, product: see :func:`demand_band` (a panel's
            ``product``: its curve over its own support; the points stay all rows).

    Returns:
        The figure that holds the axes.
    """
    band = demand_band(
        model, extend=extend, level=level, n_draws=n_draws, seed=seed, product=product
    )
    support = _support(model, product)
    fig, ax = _new_axes(ax)
    points = model.data_points_
    data_label = "data (all products)" if _is_panel(model) else "data"
    out = _sold_out(points)
    ax.scatter(
        points["price"][~out],
        points["units"][~out],
        s=14,
        color=_DATA_COLOUR,
        alpha=0.6,
        label=data_label,
        zorder=3,
    )
    if out.any():
        ax.scatter(
            points["price"][out],
            points["units"][out],
            s=22,
            marker=_SOLD_OUT_MARKER,
            facecolors="none",
            edgecolors=_SOLD_OUT_COLOUR,
            linewidths=1.2,
            label=_sold_out_label(int(out.sum()), len(points)),
            zorder=4,
        )
    inside = band.in_support
    below = band.prices <= support[0]
    above = band.prices >= support[1]
    ax.fill_between(
        band.prices,
        band.low,
        band.high,
        where=inside,
        color=_CURVE_COLOUR,
        alpha=0.25,
        linewidth=0,
        label=band.label,
    )
    for side in (below, above):
        if side.sum() > 1:
            ax.fill_between(
                band.prices[side],
                band.low[side],
                band.high[side],
                color=_CURVE_COLOUR,
                alpha=0.1,
                linewidth=0,
            )
    ax.plot(
        band.prices[inside],
        band.expected[inside],
        color=_CURVE_COLOUR,
        linewidth=2,
        label=f"{model.family} fit: expected units ({_reference_text(model, product)})",
    )
    first = True
    for side in (below, above):
        if side.sum() > 1:
            ax.plot(
                band.prices[side],
                band.expected[side],
                color=_CURVE_COLOUR,
                linewidth=1.5,
                linestyle="--",
                alpha=0.5,
                label="extrapolation (outside the data)" if first else None,
            )
            first = False
    for edge in support:
        ax.axvline(edge, color="0.6", linestyle=":", linewidth=1)
    el = model.elasticity_
    ax.set_title(
        f"Demand curve ({model.family}); elasticity at {el.price:.4g}: {el.estimate:.3g} "
        f"[{el.level:.0%} CI {el.ci_low:.3g}, {el.ci_high:.3g}]"
    )
    ax.set_xlabel("price")
    ax.set_ylabel("units")
    ax.set_ylim(bottom=0)
    ax.legend(loc="best", fontsize="small")
    return fig


def has_time_panel(model: DemandModel) -> bool:
    """Whether :func:`plot_model` adds the fit-over-time panel (ARIMAX or a saved backtest)."""
    return model.family == "arimax" or getattr(model, "backtest_", None) is not None


def _time_label(model: DemandModel) -> str:
    summary = getattr(model, "data_summary_", None) or {}
    words = {"D": "days", "W": "weeks", "M": "months", "Q": "quarters", "Y": "years"}
    start = (summary.get("date_range") or [None])[0]
    freq = summary.get("freq")
    if freq in words and start is not None:
        return f"t ({words[freq]} since {start})"
    if start is not None:
        return f"t (periods since {summary.get('time_column', 'period')} {start})"
    return "t (period index)"


def plot_fit_over_time(model: DemandModel, ax: Axes | None = None) -> Figure:
    """Draw actual vs in-sample fitted units over ``t``, and backtest forecasts vs actuals.

    For a panel, units are summed over products at each ``t``. The backtest
    forecasts (``backtest_.predictions``) are drawn per fold, each fold a separate
    line from its forecast origin; absent when the model has no backtest. Periods in
    which the product (for a panel: any product) sold out are open triangles on the
    actual units.

    Args:
        model: a fitted or loaded demand model.
        ax: axes to draw into; a new one-panel figure when ``None``.

    Returns:
        The figure that holds the axes.
    """
    fig, ax = _new_axes(ax)
    panel = _is_panel(model)
    points = model.data_points_.groupby("t", sort=True)[["units", "fitted"]].sum()
    what = "total units (all products)" if panel else "units"
    ax.plot(points.index, points["units"], color="black", linewidth=1, label=f"actual {what}")
    data = model.data_points_
    out = _sold_out(data)
    if out.any():
        times = np.unique(data["t"].to_numpy()[out])
        ax.scatter(
            times,
            points.loc[times, "units"],
            s=24,
            marker=_SOLD_OUT_MARKER,
            facecolors="none",
            edgecolors=_SOLD_OUT_COLOUR,
            linewidths=1.2,
            label=(
                f"sold out: {times.size} of {points.index.size} periods"
                + (" (any product)" if panel else "")
                + ": a lower bound of demand"
            ),
            zorder=4,
        )
    ax.plot(
        points.index,
        points["fitted"],
        color=_CURVE_COLOUR,
        linewidth=1.2,
        alpha=0.9,
        label="in-sample fitted",
    )
    bt = getattr(model, "backtest_", None)
    title = f"Fit over time ({model.family})"
    if bt is not None and len(bt.predictions):
        preds: pd.DataFrame = bt.predictions.groupby(["fold", "t"], sort=True)[
            ["actual", "predicted"]
        ].sum()
        for i, fold in enumerate(preds.index.get_level_values("fold").unique()):
            rows = preds.loc[fold]
            ax.plot(
                rows.index,
                rows["predicted"],
                color="C3",
                marker="o",
                markersize=3,
                linewidth=1.2,
                label="backtest forecasts (per fold)" if i == 0 else None,
            )
        wape = bt.metrics.get("wape", float("nan"))
        title += f"; backtest: {bt.n_splits} folds x {bt.test_size} periods, WAPE {wape:.1%}"
        if out.any():  # the plain WAPE: sold-out sales understate demand
            title += "\n(WAPE of demand against sales, which understate it where sold out)"
    ax.set_title(title)
    ax.set_xlabel(_time_label(model))
    ax.set_ylabel("units")
    ax.legend(loc="best", fontsize="small")
    return fig


def plot_model(
    model: DemandModel,
    *,
    level: float = 0.95,
    n_draws: int = 500,
    seed: int = 0,
    product: str | None = None,
) -> Figure:
    """The standard figure of a model: :func:`plot_demand`, plus :func:`plot_fit_over_time`
    below it when :func:`has_time_panel` (then the figure has two axes).

    The figure is :data:`PANEL_SIZE` inches per panel (800 x 500 pixels per panel at
    :data:`FIGURE_DPI`).
    """
    panels = 2 if has_time_panel(model) else 1
    fig = Figure(figsize=(PANEL_SIZE[0], PANEL_SIZE[1] * panels), layout="constrained")
    axes = fig.subplots(panels, 1, squeeze=False)[:, 0]
    plot_demand(model, axes[0], level=level, n_draws=n_draws, seed=seed, product=product)
    if panels == 2:
        plot_fit_over_time(model, axes[1])
    return fig


def figure_format(path: str | os.PathLike[str]) -> str:
    """The image format of ``path`` from its suffix: ``"png"``, ``"svg"`` or ``"pdf"``.

    Raises:
        ConfigError: any other suffix (the message lists the allowed ones).
    """
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in _FORMATS:
        raise ConfigError(
            f"cannot write a figure to {str(target)!r}: the suffix {target.suffix or '(none)'!r} "
            f"is not one of {['.' + f for f in _FORMATS]}; name the file e.g. demand.png."
        )
    return fmt


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = FIGURE_DPI) -> Path:
    """Write ``fig`` to ``path`` atomically; the format is the suffix (png, svg, pdf).

    The image is rendered into a temporary file in the target folder (created if
    missing) and renamed over ``path``, so a reader never sees a half-written file.
    The figure keeps its size: ``figsize × dpi`` pixels for PNG.

    Raises:
        ConfigError: unsupported suffix, or ``dpi`` < 1.
    """
    target = Path(path)
    fmt = figure_format(target)
    if isinstance(dpi, bool) or not isinstance(dpi, int) or dpi < 1:
        raise ConfigError(f"dpi={dpi!r} must be a positive integer (e.g. {FIGURE_DPI}).")
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi)
    atomic_write_bytes(target, buf.getvalue())  # temp file + rename, umask permissions
    return target
