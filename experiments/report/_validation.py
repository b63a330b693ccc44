"""The report's "Market validation" section: each fitted market scored on held-out history.

Split out of :mod:`pricegym.experiments.report`. It reads ``validation.json``
(written by the runner's validation step, :mod:`pricegym.experiments.runner._validate`)
and draws nothing it did not save: the table (coverage of the 50/80/95% intervals
against their binomial tolerance, mean PIT, CRPS and its skill, simulated vs actual
revenue with its 95% band, the calibration), each market's verdict sentence, a
figure of PIT histograms (:func:`_fig_validation`) and, for markets of one series,
the held-out sales against the simulated 95% band (:func:`_fig_holdout_band`).
:func:`validation_notes` gives the page header's warnings for markets that are not
calibrated, since a policy's simulated gain there may not carry over to real sales.
"""

from __future__ import annotations

import html
from typing import Any

from pricegym.experiments.report._output import WIDTH, _new_figure, _num, _Output
from pricegym.experiments.report._run import RunData, _finite

SECTION = "validation"
TITLE = "Held-out PIT histograms"


def _why_none(run: RunData) -> str | None:
    """Why the run has no validation results (``None`` when it has them)."""
    market = run.resolved.get("market", {})
    if "data" not in market:
        if market.get("model_path") or (market.get("options") or {}).get("model_path"):
            return (
                "the market is a saved demand model without its sales history, so there is "
                "nothing to hold out here; validate it with `pricegym validate MODEL.json "
                "DATA` (the column options you fitted it with)."
            )
        return "the market's demand is not fitted to sales data: there is no history to hold out."
    if market.get("validate") is False:
        return "validation is off for this run (market.validate: false)."
    if not run.validation:
        return (
            "the run directory has no validation.json (a run from before market validation "
            "existed); `pricegym run` on it again computes it and reuses every cell."
        )
    return None


def _ok(run: RunData) -> list[tuple[str, dict[str, Any]]]:
    markets = (run.validation or {}).get("markets", {})
    return [(m, e) for m, e in markets.items() if e.get("status") == "ok"]


def _pct(v: Any) -> str:
    return f"{float(v):.0%}" if _finite(v) else "–"


def validation_html(run: RunData) -> str:
    """The section's table, verdicts and the notes on markets that could not be validated
    (empty when the run validated nothing: the skipped figure's line says why)."""
    e = html.escape
    if _why_none(run) is not None:
        return ""  # the figure's "not drawn" line says why
    from pricegym.experiments.report import _table  # cycle: the report package imports this module

    assert run.validation is not None
    settings = run.validation.get("settings", {})
    rows: list[list[str]] = []
    verdicts: list[str] = []
    tol: dict[str, Any] = {}
    for market, entry in _ok(run):
        r = entry["result"]
        tol = r.get("tolerance", tol)
        cover = r.get("coverage", {})
        low, high = (r.get("revenue_band") or [None, None])[:2]
        rows.append(
            [
                market,
                r.get("family", entry.get("family", "")),
                f"{r['n_holdout_periods']} of {r['n_train_periods'] + r['n_holdout_periods']} "
                f"periods ({r['n_rows']} {r['unit']})",
                " / ".join(_pct(cover.get(k)) for k in ("0.5", "0.8", "0.95")),
                _num(r.get("pit_mean"), "{:.2f}"),
                f"{_num(r.get('crps'))} ({_num(r.get('crps_skill'), '{:+.2f}')})",
                f"{_num(r.get('revenue_simulated'))} [{_num(low)}, {_num(high)}] vs "
                f"{_num(r.get('revenue_actual'))}",
                _num(r.get("revenue_bias"), "{:+.1%}"),
                r.get("calibration", ""),
            ]
        )
        verdicts.append(f"<li><b>{e(market)}</b>: {e(r.get('verdict', ''))}</li>")
        if entry.get("note"):
            verdicts.append(f"<li><b>{e(market)}</b>: note: {e(entry['note'])}</li>")
    parts = [
        f"<p>Each market's model family was refitted with its hyper-parameters on the first "
        f"periods of the sales history; the last {e(str(settings.get('holdout')))} of the "
        f"periods were held out and replayed through the market (their actual prices, "
        f"competitor prices and calendar), {e(str(settings.get('paths')))} simulated sales "
        "paths each, and the real sales scored against them (pricegym.demand.validation; "
        'results in <a href="validation.json">validation.json</a>). The agents above played '
        "the model fitted to the whole history.</p>"
    ]
    if rows:
        columns = [
            "market",
            "family",
            "held out",
            "50% / 80% / 95% cover",
            "mean PIT",
            "CRPS (skill)",
            "revenue: simulated [95% of paths] vs actual",
            "revenue bias",
            "calibration",
        ]
        parts.append(_table(columns, rows, (0, 1, 2, 8)))
        parts.append(
            "<p>Cover: share of held-out rows inside the market's central interval "
            f"(randomised PIT); a calibrated market is within ±{_pct(tol.get('0.5'))} / "
            f"±{_pct(tol.get('0.8'))} / ±{_pct(tol.get('0.95'))} of 50/80/95% (binomial, "
            "rows taken as independent). Mean PIT 0.5 when unbiased (above: actual sales "
            "above the market's). CRPS in units, lower is better; skill against a market "
            "that samples past sales regardless of price (> 0: the market beats it).</p>"
        )
        parts.append("<ul>" + "".join(verdicts) + "</ul>")
    for market, entry in (run.validation.get("markets") or {}).items():
        if entry.get("status") != "ok":
            parts.append(
                f'<p class="note">{e(market)}: not validated — {e(str(entry.get("reason")))}</p>'
            )
    return "\n".join(parts)


def validation_notes(run: RunData) -> list[str]:
    """Header notes: every validated market whose held-out sales it does not reproduce."""
    notes = []
    for market, entry in _ok(run):
        r = entry["result"]
        if r.get("calibration") in ("calibrated", "too few rows"):
            continue
        cover = (r.get("coverage") or {}).get("0.95")
        notes.append(
            f"Market {market} is {r.get('calibration')} on held-out history: its 95% intervals "
            f"cover {_pct(cover)} of the held-out {r.get('unit')} and it simulates "
            f"{_num(r.get('revenue_bias'), '{:+.1%}')} of their revenue; read the policies' "
            "simulated profits with that in mind (see Market validation)."
        )
    return notes


def _fig_validation(run: RunData, out: _Output) -> None:
    """One panel per validated market: its PIT histogram against the uniform band."""
    why = _why_none(run)
    if why is not None:
        out.skip(SECTION, TITLE, why)
        return
    ok = [(m, e) for m, e in _ok(run) if sum(e["result"].get("pit_counts") or []) > 0]
    if not ok:
        out.skip(SECTION, TITLE, "no market could be validated (see the notes above).")
        return
    import numpy as np
    from scipy import stats

    cols = min(3, len(ok))
    n_rows = -(-len(ok) // cols)
    fig = _new_figure(WIDTH, 60 + 260 * n_rows)
    axes = np.atleast_1d(fig.subplots(n_rows, cols, squeeze=False)).ravel()
    for ax, (market, entry) in zip(axes, ok, strict=False):
        r = entry["result"]
        counts = np.asarray(r["pit_counts"], dtype=np.float64)
        n, bins = counts.sum(), counts.size
        expected = n / bins
        lo, hi = stats.binom.ppf([0.025, 0.975], int(n), 1.0 / bins) / expected
        edges = np.linspace(0.0, 1.0, bins + 1)
        ax.axhspan(lo, hi, color="0.85", label="95% range if calibrated")
        ax.bar(edges[:-1], counts / expected, width=1.0 / bins, align="edge", edgecolor="white")
        ax.axhline(1.0, color="0.3", linestyle="--", linewidth=1)
        ax.set_xlim(0.0, 1.0)
        ax.set_title(f"{market} ({r.get('family')}): {r.get('calibration')}", fontsize=9)
        ax.set_xlabel("PIT of the held-out sales")
        ax.set_ylabel("density")
    for ax in axes[len(ok) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=8, loc="upper center")
    out.save(
        fig,
        "validation_pit",
        SECTION,
        TITLE,
        "Where each held-out period's real sales fall in the market's simulated distribution "
        "(randomised PIT, 10 bins, density 1 = flat). Flat inside the grey band: calibrated; "
        "U-shaped: the market is overconfident (its noise too narrow); hump-shaped: "
        "underconfident; tilted: biased. From validation.json.",
    )


BAND_TITLE = "Held-out sales against the market's 95% band"


def _fig_holdout_band(run: RunData, out: _Output) -> None:
    """One panel per validated single-series market: held-out sales over time, the
    simulated mean and the central 95% band of the paths (panels of products: skipped)."""
    if _why_none(run) is not None:
        return  # the PIT figure's line says why
    series = [
        (m, e) for m, e in _ok(run) if not str(e["result"].get("unit", "")).startswith("rows")
    ]
    if not series:
        if _ok(run):
            out.skip(
                SECTION,
                BAND_TITLE,
                "the held-out rows are product-periods of a panel, one band per product; "
                "the PIT histogram and the table summarise them.",
            )
        return
    import numpy as np

    fig = _new_figure(WIDTH, 40 + 240 * len(series))
    axes = np.atleast_1d(fig.subplots(len(series), 1, squeeze=False)).ravel()
    for ax, (market, entry) in zip(axes, series, strict=True):
        r = entry["result"]
        rows = r["rows"]
        t = np.asarray(rows["t"], dtype=np.float64)
        ax.fill_between(
            t,
            rows["low95"],
            rows["high95"],
            color="C0",
            alpha=0.25,
            linewidth=0,
            label="95% of simulated paths",
        )
        ax.plot(t, rows["simulated_mean"], color="C0", linewidth=1.5, label="simulated mean")
        ax.plot(t, rows["actual"], "o", color="black", markersize=3, label="actual sales")
        cover = (r.get("coverage") or {}).get("0.95")
        ax.set_title(
            f"{market} ({r.get('family')}): 95% intervals cover {_pct(cover)} of "
            f"{r.get('n_rows')} held-out {r.get('unit')}",
            fontsize=9,
        )
        ax.set_xlabel("t (period index)")
        ax.set_ylabel("units")
    axes[0].legend(fontsize=8, loc="best")
    out.save(
        fig,
        "validation_band",
        SECTION,
        BAND_TITLE,
        "The held-out periods replayed through each market at their actual prices, "
        "competitor prices and calendar: real sales (dots), the mean of the simulated "
        "paths and the central 95% of them (capped at the stock where the history has a "
        "stock column). From validation.json.",
    )
