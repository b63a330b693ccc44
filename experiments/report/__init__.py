"""Reports of a run directory: matplotlib figures (PNG) and a self-contained ``index.html``.

:func:`build_report` is called by the runner at the end of ``pricegym run`` and by
``pricegym report RUN_DIR``; it reads what the run saved and writes next to it::

    figures/*.png   one PNG per figure, each written atomically (temp file + rename)
    report.json     the figures drawn (file, section, title, caption, pixel size), the
                    figures not drawn with the reason, and notes
    index.html      the page: a header that says where the results cannot support a
                    decision (no unit cost given, an optimum at the price grid's edge or
                    none; see ``decision_notes``), league tables (with an "at grid
                    edge" column for agents whose average price is a grid end), benchmarks,
                    head-to-head and cross-model
                    tables, the figures, the run's config, command line and versions

Nothing is retrained. Every figure is built from the saved results:

==================  ===========================================================================
figure              source
==================  ===========================================================================
league table        ``summary.csv``: mean profit per episode with its CI, or % of the DP
                    optimum where it is defined, or the collusion index Δ in an oligopoly
price paths         a **replay** of the evaluation episodes of the first replicate seed with
cumulative profit   the saved policies (``policies/``) and the saved demand models
                    (``models/``), with the very env and agent seeds of the evaluation, so
                    each replayed episode is the recorded one; the replay is checked
                    against ``episodes.csv`` and any difference is noted on the page
learning curves     SB3's logs (``logs/train/<cell>/progress.csv``: mean training episode
                    profit; ``eval/evaluations.npz``: evaluation profit)
policy maps         the saved policies of the first replicate seed, asked for their price on
                    a grid of observations: periods remaining × stock (single seller; the DP
                    optimum's exact table beside the others), own × rival's last price
                    (oligopoly)
head-to-head        ``head_to_head.csv`` (round robin) and the vs_rules rows of summary.csv
cross-model matrix  ``cross_model.csv``
causal (IV)         IV markets only: the saved IV models' diagnostics (endogenous prices,
                    first-stage F per price, verdict) and the profit lost in the IV market
                    by the biased model's policies, exactly (DP) and in cross_model.csv
                    (:mod:`~pricegym.experiments.report._causal`; also in report.json)
demand-model fit    the fitted models in ``models/`` (:func:`pricegym.demand.plot.plot_model`)
market validation   ``validation.json``: each fitted market scored on held-out history (a
                    table, the verdicts and PIT histograms; ``_validation``)
==================  ===========================================================================

A figure without data in a run is not drawn; the page says why in one line.
Rebuilding a report from the same run directory gives the same ``index.html``.

The work is split by job into private modules; the public names are re-exported here
(``__all__``); the limits (``MAX_LINES``, ``WIDTH``, ...) stay in their own module.
It reads the run directory through :mod:`pricegym.experiments.rundir` and never imports
the runner::

    _run                 RunData, load_run and the tables the figures are drawn from
                         (league_bars, head_to_head_matrix, cross_model_matrix,
                         learning_curves)
    _replay              replay_cell: exact replays of the evaluation episodes with the
                         saved policies, checked against episodes.csv
    _output              where figures go (ReportFigure, SkippedFigure, the PNG writer)
                         and the drawing helpers the figure modules share
    _figures             league table, price paths, cumulative profit, learning curves,
                         demand-model fits
    _maps                policy maps (policy_map, oligopoly_policy_map)
    _tournament          head-to-head, vs-rules and cross-model heat maps
    _validation          the market-validation section (validation.json)

This module puts them together: :func:`render_report` draws every figure and writes
``index.html`` and ``report.json``; :func:`build_report` and the ``pricegym report``
command call it.

Matplotlib, pandas and the markets are imported inside the functions (here and in
those modules), so that importing this module (``pricegym --help`` builds every
parser) stays cheap.
"""

from __future__ import annotations

import functools
import html
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pricegym._json import jsonable
from pricegym.experiments.report._catalogue import elasticity_html
from pricegym.experiments.report._causal import causal_html, causal_summary
from pricegym.experiments.report._figures import (
    _fig_demand,
    _fig_league,
    _fig_learning,
    _fig_markets,
)
from pricegym.experiments.report._maps import _fig_policies, oligopoly_policy_map, policy_map
from pricegym.experiments.report._output import DPI, ReportFigure, SkippedFigure, _num, _Output
from pricegym.experiments.report._replay import _Replays, replay_cell
from pricegym.experiments.report._run import (
    RunData,
    _finite,
    cross_model_matrix,
    head_to_head_matrix,
    league_bars,
    learning_curves,
    load_run,
)
from pricegym.experiments.report._tournament import _fig_tournament
from pricegym.experiments.report._validation import (
    _fig_holdout_band,
    _fig_validation,
    validation_html,
    validation_notes,
)
from pricegym.experiments.rundir import decision_notes

__all__ = [
    "DPI",
    "SECTIONS",
    "Report",
    "ReportFigure",
    "RunData",
    "SkippedFigure",
    "build_report",
    "cross_model_matrix",
    "head_to_head_matrix",
    "league_bars",
    "learning_curves",
    "load_run",
    "oligopoly_policy_map",
    "policy_map",
    "render_report",
    "replay_cell",
]


#: Sections of the page, in order: id → heading.
SECTIONS: dict[str, str] = {
    "league": "League table",
    "markets": "Price paths and cumulative profit",
    "learning": "Learning curves",
    "policies": "Policy maps",
    "tournament": "Head-to-head and cross-model",
    "demand": "Demand models",
    "validation": "Market validation",
}


# ==================================================================== results
@dataclass(frozen=True)
class Report:
    """What :func:`render_report` wrote.

    Attributes:
        index: the ``index.html`` file.
        figures: the figures drawn, in page order.
        skipped: the figures not drawn, with reasons.
        notes: remarks about the data (e.g. a replay that differs from the record).
    """

    index: Path
    figures: tuple[ReportFigure, ...]
    skipped: tuple[SkippedFigure, ...]
    notes: tuple[str, ...] = ()


# ==================================================================== HTML
def _ci(r: Mapping[str, Any], key: str, low: str, high: str, fmt: str | None = None) -> str:
    value = _num(r.get(key), fmt)
    if not (_finite(r.get(low)) and _finite(r.get(high))):
        return value
    return f"{value} [{_num(r.get(low), fmt)}, {_num(r.get(high), fmt)}]"


def _table(
    columns: Sequence[str], rows: Iterable[Sequence[str]], text: Sequence[int] = (0,)
) -> str:
    """An HTML table; columns at positions ``text`` are left-aligned text, others numbers."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for r in rows:
        cells = "".join(
            f'<td class="{"txt" if i in text else "num"}">{html.escape(str(c))}</td>'
            for i, c in enumerate(r)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _league_html(run: RunData) -> str:
    from pricegym.experiments.stats import few_seeds_note  # scipy, pandas, numpy

    s = run.summary
    level = run.resolved.get("evaluation", {}).get("confidence", 0.95)
    cols: list[tuple[str, Callable[[Mapping[str, Any]], str]]] = [
        ("rank", lambda r: _num(r.get("rank"), "{:.0f}")),
        ("agent", lambda r: str(r.get("agent"))),
        (f"profit/episode [{level:.0%} CI]", lambda r: _ci(r, "mean", "mean_low", "mean_high")),
        ("IQM [CI]", lambda r: _ci(r, "iqm", "iqm_low", "iqm_high")),
    ]
    optional = [
        ("pct_of_optimum", "% of DP optimum [CI]", ("pct_low", "pct_high"), "{:.2f}"),
        ("gain_share", "gain share [CI]", ("gain_share_low", "gain_share_high"), "{:.2f}"),
        ("delta", "Δ collusion [CI]", ("delta_low", "delta_high"), "{:.3f}"),
    ]
    out = []
    if "mode" not in s.columns:
        s = s.assign(mode="solo")
    for (mode, market), block in s.groupby(["mode", "market"], sort=False):
        records = block.to_dict("records")
        shown = list(cols)
        fmt: str | None
        for key, title, (lo, hi), fmt in optional:
            if key in block.columns and block[key].notna().any():
                shown.append((title, functools.partial(_ci, key=key, low=lo, high=hi, fmt=fmt)))
        if "exact" in block.columns and block["exact"].notna().any():
            shown.append(
                (
                    "exact expected profit (DP)",
                    lambda r: (
                        _num(r.get("exact"))
                        + (
                            f" ({_num(r['exact_pct'], '{:.2f}')}%)"
                            if _finite(r.get("exact_pct"))
                            else ""
                        )
                    ),
                )
            )
        for key, title, fmt in (
            ("avg_price", "avg price", None),
            ("sell_through", "sell-through", "{:.1%}"),
            ("lost_sales", "lost sales", None),
        ):
            if key in block.columns and block[key].notna().any():
                shown.append((title, _column(key, fmt)))
        if "grid_edge" in block.columns and block["grid_edge"].map(_edge_text).any():
            shown.append(("at grid edge", lambda r: _edge_text(r.get("grid_edge"))))
        shown.append(
            (
                "seeds × episodes",
                lambda r: f"{_num(r.get('n_seeds'), '{:.0f}')} × {_num(_per_seed(r), '{:.0f}')}",
            )
        )
        heading = f"{market}" + (f" — {mode}" if mode != "solo" else "")
        out.append(f"<h3>{html.escape(heading)}</h3>")
        out.append(
            _table([t for t, _ in shown], [[fn(r) for _, fn in shown] for r in records], (1,))
        )
        note = few_seeds_note(block) if "few_seeds" in block.columns else ""
        if note:
            out.append(f'<p class="note">{html.escape(note)}</p>')
    return "\n".join(out)


def _column(key: str, fmt: str | None) -> Callable[[Mapping[str, Any]], str]:
    """A league-table cell: row ``key`` as :func:`_num` writes it with ``fmt``."""
    return lambda r: _num(r.get(key), fmt)


def _edge_text(value: Any) -> str:
    """The league table's "at grid edge" cell: ``top price`` / ``bottom price`` or empty."""
    return f"{value} price" if isinstance(value, str) and value else ""


def _per_seed(r: Mapping[str, Any]) -> float:
    if _finite(r.get("n_episodes")) and _finite(r.get("n_seeds")) and r["n_seeds"]:
        return float(r["n_episodes"]) / float(r["n_seeds"])
    return math.nan


def _prices(value: Any) -> str:
    """A best fixed price: one number, or one per product of a catalogue."""
    if isinstance(value, list):
        return ", ".join(_num(v) for v in value)
    return _num(value)


def _benchmarks_html(run: RunData) -> str:
    rows = []
    single = [m for m, b in run.benchmarks.items() if "dp" in b or "best_fixed" in b]
    olig = [m for m, b in run.benchmarks.items() if "nash_prices" in b]
    out = []
    if single:
        for m in single:
            b = run.benchmarks[m]
            rows.append(
                [
                    m,
                    _num(b.get("dp")),
                    _num(b.get("best_fixed")),
                    _prices(b.get("best_fixed_price")),
                    b.get("note") or "",
                ]
            )
        out.append(
            _table(
                [
                    "market",
                    "DP optimum (expected profit/episode)",
                    "best fixed price: profit",
                    "best fixed price",
                    "note",
                ],
                rows,
                (0, 4),
            )
        )
    if olig:
        rows = []
        for m in olig:
            b = run.benchmarks[m]
            regimes = b.get("regimes") or []
            for label, r in [(m, b)] + [(f"{m}, regime {x.get('regime')}", x) for x in regimes]:
                rows.append(
                    [
                        label,
                        ", ".join(_num(v) for v in r.get("nash_prices", [])),
                        ", ".join(_num(v) for v in r.get("monopoly_prices", [])),
                        ", ".join(_num(v) for v in r.get("nash_profits", [])),
                        ", ".join(_num(v) for v in r.get("monopoly_profits", [])),
                        _num(b.get("horizon"), "{:.0f}"),
                    ]
                )
        out.append(
            _table(
                [
                    "market",
                    "Nash prices",
                    "monopoly prices",
                    "Nash profit/round",
                    "monopoly profit/round",
                    "rounds/episode",
                ],
                rows,
            )
        )
        if any(run.benchmarks[m].get("regimes") for m in olig):
            out.append(
                "<p>With Markov shocks a market's first row is its base market (every shock "
                "factor 1; it sets the price grid). Δ compares each round with the benchmarks "
                "of the regime in force (the regime rows), averaged over the rounds played.</p>"
            )

    out.append(elasticity_html(run))  # catalogue markets: the cross-price matrix
    return "\n".join(x for x in out if x) or "<p>No benchmarks were computed for this run.</p>"


def _h2h_html(run: RunData) -> str:
    out = []
    if run.head_to_head is not None and not run.head_to_head.empty:
        t = run.head_to_head
        has_delta = "delta" in t.columns and t["delta"].notna().any()
        cols = ["market", "agent", "opponent", "profit/episode [CI]", "avg price"]
        cols += ["Δ"] if has_delta else []
        rows = []
        for r in t.to_dict("records"):
            row = [r["market"], r["agent"], r["opponent"], _ci(r, "mean", "mean_low", "mean_high")]
            row.append(_num(r.get("avg_price")))
            if has_delta:
                row.append(_num(r.get("delta"), "{:.3f}"))
            rows.append(row)
        out.append("<h3>Round robin (head_to_head.csv)</h3>" + _table(cols, rows, (0, 1, 2)))
    if run.cross_model is not None and not run.cross_model.empty:
        t = run.cross_model
        pct = "pct_of_optimum" in t.columns and t["pct_of_optimum"].notna().any()
        cols = ["trained in", "evaluated in", "agent", "profit/episode [CI]"]
        cols += ["% of DP optimum"] if pct else []
        rows = []
        for r in t.to_dict("records"):
            row = [
                r["trained_in"],
                r["market"],
                r["agent"],
                _ci(r, "mean", "mean_low", "mean_high"),
            ]
            if pct:
                row.append(_num(r.get("pct_of_optimum"), "{:.2f}"))
            rows.append(row)
        out.append(
            "<h3>Cross-model evaluation (cross_model.csv)</h3>" + _table(cols, rows, (0, 1, 2))
        )
    return "\n".join(out)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1100px;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;
margin-top:2em}h3{font-size:1.05em;margin-bottom:.3em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.9em}
th,td{border:1px solid #ddd;padding:.25em .6em}th{background:#f3f3f3;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1em 0 2em}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.88em;color:#444;margin-top:.3em}
p.skip{color:#7a4b00;background:#fff7e6;border-left:3px solid #e0a030;padding:.3em .6em;
margin:.3em 0}p.note{color:#8a1f11}pre{background:#f6f6f6;padding:.8em;overflow-x:auto;
font-size:.85em}code{background:#f3f3f3;padding:0 .2em}nav a{margin-right:1em}
""".strip()


def _page(run: RunData, report_figs: Sequence[ReportFigure], out: _Output, causal: str = "") -> str:
    e = html.escape
    name = run.resolved.get("name", run.path.name)
    ev = run.resolved.get("evaluation", {})
    seeds = ev.get("seeds", [])
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>pricegym report: {e(str(name))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>pricegym report: {e(str(name))}</h1>",
        f"<p>Command: <code>{e(run.command or '(not recorded)')}</code><br>"
        f"Experiment seed {e(str(run.resolved.get('seed')))}; replicate seeds {e(str(seeds))}; "
        f"{e(str(ev.get('episodes')))} evaluation episodes per seed; "
        f"{float(ev.get('confidence', 0.95)):.0%} two-level bootstrap confidence intervals "
        "(seeds, then episodes within each seed). "
        'Data: <a href="summary.csv">summary.csv</a>, <a href="episodes.csv">episodes.csv</a>'
        + (
            ', <a href="head_to_head.csv">head_to_head.csv</a>'
            if run.head_to_head is not None
            else ""
        )
        + (', <a href="cross_model.csv">cross_model.csv</a>' if run.cross_model is not None else "")
        + ', <a href="report.json">report.json</a>.</p>',
        *(f'<p class="note">{e(note)}</p>' for note in decision_notes(run.benchmarks, run.summary)),
        *(f'<p class="note">{e(note)}</p>' for note in validation_notes(run)),
        "<nav>"
        + "".join(f'<a href="#{k}">{e(v)}</a>' for k, v in SECTIONS.items())
        + ('<a href="#causal">Causal demand (IV)</a>' if causal else "")
        + '<a href="#benchmarks">Benchmarks</a><a href="#run">Run</a></nav>',
    ]
    for key, heading in SECTIONS.items():
        parts.append(f'<section id="{key}"><h2>{e(heading)}</h2>')
        if key == "league":
            parts.append(_league_html(run))
        if key == "tournament":
            parts.append(_h2h_html(run))
        if key == "validation":
            parts.append(validation_html(run))
        for fig in report_figs:
            if fig.section == key:
                parts.append(
                    f"<figure><h3>{e(fig.title)}</h3>"
                    f'<img src="{e(fig.file)}" width="{fig.width}" height="{fig.height}" '
                    f'alt="{e(fig.title)}"><figcaption>{e(fig.caption)}</figcaption></figure>'
                )
        for skip in out.skipped:
            if skip.section == key:
                parts.append(f'<p class="skip">Not drawn — {e(skip.title)}: {e(skip.reason)}</p>')
        if key == "markets":
            for note in out.notes:
                parts.append(f'<p class="note">{e(note)}</p>')
        parts.append("</section>")
    if causal:  # IV markets only (pricegym.experiments.report._causal)
        parts.append('<section id="causal"><h2>Causal demand (IV diagnostics)</h2>')
        parts.append(causal)
        parts.append("</section>")
    parts.append('<section id="benchmarks"><h2>Benchmarks</h2>')
    parts.append(_benchmarks_html(run))
    parts.append("</section>")
    versions = [[k, str(v) if v is not None else "not installed"] for k, v in run.versions.items()]
    parts.append('<section id="run"><h2>Run</h2><h3>Resolved configuration (config.yaml)</h3>')
    parts.append(f"<pre>{e(run.config_text or json.dumps(run.resolved, indent=1))}</pre>")
    parts.append("<h3>Package versions (versions.json)</h3>")
    parts.append(_table(["package", "version"], versions, (0, 1)) if versions else "<p>–</p>")
    if run.config_error:
        parts.append(
            f'<p class="note">The experiment could not be rebuilt: {e(run.config_error)}</p>'
        )
    parts.append("</section></body></html>")
    return "\n".join(parts) + "\n"


# ==================================================================== entry points
def render_report(run_dir: str | Path) -> Report:
    """Draw every figure of ``run_dir`` and write ``index.html`` and ``report.json``.

    Figures no longer produced (e.g. left by an earlier report) are removed from
    ``figures/``. See the module docstring for what each figure shows.

    Raises:
        ConfigError: ``run_dir`` is not a finished run directory (see :func:`load_run`).
    """
    from pricegym.demand.io import atomic_write_bytes  # numpy

    run = load_run(run_dir)
    out = _Output(run.path)
    replays = _Replays(run) if run.config is not None else None
    _fig_league(run, out)
    _fig_markets(run, out, replays)
    _fig_learning(run, out)
    _fig_policies(run, out, replays)
    _fig_tournament(run, out)
    _fig_demand(run, out)
    _fig_validation(run, out)
    _fig_holdout_band(run, out)
    keep = {Path(f.file).name for f in out.figures}
    if out.dir.is_dir():
        for stale in out.dir.glob("*.png"):
            if stale.name not in keep:
                stale.unlink()
    order = list(SECTIONS)
    figures = sorted(out.figures, key=lambda f: order.index(f.section))
    notes = list(dict.fromkeys(out.notes))
    out.notes = notes
    causal = causal_summary(run)
    manifest = {
        "figures": [asdict(f) for f in figures],
        "skipped": [asdict(s) for s in out.skipped],
        "notes": notes,
        **({"causal": jsonable(causal, strict=True)} if causal else {}),
    }
    atomic_write_bytes(
        run.path / "report.json", (json.dumps(manifest, indent=1) + "\n").encode("utf-8")
    )
    index = run.path / "index.html"
    page = _page(run, figures, out, causal_html(run, causal) if causal else "")
    atomic_write_bytes(index, page.encode("utf-8"))
    return Report(index, tuple(figures), tuple(out.skipped), tuple(notes))


def build_report(run_dir: str | Path) -> Path:
    """Write the figures and ``index.html`` of ``run_dir``; returns the ``index.html`` path.

    Called by :func:`pricegym.experiments.runner.run_experiment` when a run ends and
    by ``pricegym report RUN_DIR``; see :func:`render_report`.
    """
    return render_report(run_dir).index
