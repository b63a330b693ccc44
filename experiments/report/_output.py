"""Where a report's figures go, and the drawing helpers every figure module shares.

Split out of :mod:`pricegym.experiments.report` (which re-exports the public names).
:class:`_Output` is the sink the figure modules (``_figures``,
``_maps``, ``_tournament``) draw into: it saves each PNG atomically
under ``figures/`` and collects the :class:`ReportFigure` drawn, the
:class:`SkippedFigure` not drawn with the reason, and notes. Beside it: a
constrained-layout Agg figure of a given pixel size (no pyplot, no global backend),
one colour per agent across figures, and number formatting shared with the page.
Matplotlib is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pricegym.experiments.report._run import RunData, _finite

if TYPE_CHECKING:
    from matplotlib.figure import Figure


#: Resolution of every figure, dots per inch (sizes below are in pixels).
DPI = 100
#: Width of the report's own figures in pixels.
WIDTH = 1000
#: Folder of the PNGs, relative to the run directory.
_FIGURES = "figures"


# ==================================================================== results
@dataclass(frozen=True)
class ReportFigure:
    """One figure of the report.

    Attributes:
        file: path relative to the run directory (``figures/<name>.png``).
        section: the page section (a key of :data:`~pricegym.experiments.report.SECTIONS`).
        title: heading shown above the figure.
        caption: what it shows and where the numbers come from.
        width, height: size of the PNG in pixels.
    """

    file: str
    section: str
    title: str
    caption: str
    width: int
    height: int


@dataclass(frozen=True)
class SkippedFigure:
    """A figure the run has no data for, and why (one line on the page)."""

    section: str
    title: str
    reason: str


# ==================================================================== output
class _Output:
    """Collects the figures (saving each PNG atomically), the skipped ones and notes."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.dir = run_dir / _FIGURES
        self.figures: list[ReportFigure] = []
        self.skipped: list[SkippedFigure] = []
        self.notes: list[str] = []
        self._names: set[str] = set()

    def save(self, fig: Figure, name: str, section: str, title: str, caption: str) -> None:
        from pricegym.demand.plot import save_figure  # matplotlib, pandas, numpy

        stem = _slug(name)
        unique, i = stem, 2
        while unique in self._names:
            unique, i = f"{stem}_{i}", i + 1
        self._names.add(unique)
        _agg(fig)
        width, height = fig.canvas.get_width_height()
        save_figure(fig, self.dir / f"{unique}.png", dpi=DPI)
        self.figures.append(
            ReportFigure(f"{_FIGURES}/{unique}.png", section, title, caption, width, height)
        )

    def skip(self, section: str, title: str, reason: str) -> None:
        self.skipped.append(SkippedFigure(section, title, reason))


def _agg(fig: Figure) -> None:
    """Attach the Agg canvas (no pyplot, no global backend)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)


def _new_figure(width: int, height: int) -> Figure:
    """A constrained-layout figure of ``width`` × ``height`` pixels at :data:`DPI`."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, layout="constrained")
    _agg(fig)
    return fig


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:100] or "figure"


def _colours(names: Iterable[str]) -> dict[str, Any]:
    """One colour per agent, the same in every figure (tab10, then tab20)."""
    from matplotlib import colormaps

    names = list(dict.fromkeys(names))
    cmap = colormaps["tab10" if len(names) <= 10 else "tab20"]
    return {n: cmap(i % cmap.N) for i, n in enumerate(names)}


def _agent_order(run: RunData) -> list[str]:
    names = [a["name"] for a in run.resolved.get("agents", [])]
    names += [r["name"] for r in run.resolved.get("tournament", {}).get("rivals", [])]
    names += list(run.summary["agent"].astype(str))
    return list(dict.fromkeys(names))


def _num(v: Any, fmt: str | None = None) -> str:
    if not _finite(v):
        return "–"
    v = float(v)
    if fmt is None:
        fmt = "{:,.0f}" if abs(v) >= 1e4 else "{:.4g}"
    return fmt.format(v)
