"""Rendering of a pricing market: a one-line text status and an episode chart.

Both functions are pure: they take what the env recorded and return a frame.

- :func:`ansi_line`: ``"t=157 price=8.25 demand=31 sales=31 inventory=69 profit=255.75"``.
- :func:`episode_chart`: an (H, W, 3) ``uint8`` RGB image with three stacked panels —
  price, demand and sales, inventory — over the periods of the episode so far,
  drawn on a matplotlib Agg canvas (no display, no pyplot state).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["CHART_DPI", "CHART_SIZE", "ansi_line", "episode_chart"]

#: Size of the chart in inches (width, height) and its resolution; 640 x 480 pixels.
CHART_SIZE = (6.4, 4.8)
CHART_DPI = 100


def _fmt(value: float) -> str:
    if math.isinf(value):
        return "inf"
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.6g}"


def ansi_line(status: Mapping[str, float]) -> str:
    """One line: period ``t``, ``price``, ``demand``, ``sales``, ``inventory``, ``profit``.

    Args:
        status: the step's ``info`` (or the env's status at reset); keys missing from
            it are shown as ``-``.
    """
    parts = []
    for key in ("t", "price", "demand", "sales", "inventory", "profit"):
        value = status.get(key)
        parts.append(f"{key}={'-' if value is None else _fmt(float(value))}")
    return " ".join(parts)


def episode_chart(
    t: Sequence[float],
    price: Sequence[float],
    demand: Sequence[float],
    sales: Sequence[float],
    inventory: Sequence[float],
    *,
    p_min: float,
    p_max: float,
    title: str = "",
) -> np.ndarray:
    """The chart of an episode so far, as an (H, W, 3) ``uint8`` RGB array.

    Args:
        t: calendar period of each step.
        price: the seller's price of each step (panel 1, with the allowed range
            ``[p_min, p_max]`` shaded).
        demand, sales: units demanded and sold (panel 2).
        inventory: stock after each step (panel 3; left empty for unlimited stock).
        p_min, p_max: the seller's price range.
        title: figure title.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=CHART_SIZE, dpi=CHART_DPI)
    canvas = FigureCanvasAgg(fig)
    ax_p, ax_d, ax_i = fig.subplots(3, 1, sharex=True)
    ax_p.axhspan(p_min, p_max, color="0.92")
    ax_p.step(t, price, where="mid", color="C0")
    ax_p.set_ylabel("price")
    ax_d.step(t, demand, where="mid", color="C1", label="demand")
    ax_d.step(t, sales, where="mid", color="C2", label="sales")
    ax_d.set_ylabel("units")
    if len(t):
        ax_d.legend(loc="upper right", fontsize="small")
    finite = [v for v in inventory if math.isfinite(v)]
    if finite and len(finite) == len(inventory):
        ax_i.step(t, inventory, where="mid", color="C3")
    else:
        ax_i.text(0.5, 0.5, "unlimited stock", ha="center", va="center", transform=ax_i.transAxes)
    ax_i.set_ylabel("inventory")
    ax_i.set_xlabel("period t")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    canvas.draw()
    frame = np.asarray(canvas.buffer_rgba())[:, :, :3].copy()
    fig.clear()
    return frame
