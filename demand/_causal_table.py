"""The causal check as (label, value) rows: one table for ``pricegym fit``'s console
output and the experiment report's IV section (which sits below the CLI layer, so
the rows live here, next to the :mod:`~pricegym.demand.iv` document they read).

The document is :func:`pricegym.cli._causal.causal_document`'s (a model's ``causal_``
plus ``weak_threshold``); rows are plain text.
"""

from __future__ import annotations

from typing import Any

__all__ = ["causal_lines"]


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or not isinstance(value, int | float) or value != value:
        return "–"
    return f"{value:.{digits}g}"


def _p(value: Any) -> str:
    if value is None or not isinstance(value, int | float) or value != value:
        return "–"
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def causal_lines(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) rows of the causal table of :func:`causal_document`'s ``doc``."""
    fs = doc["first_stage"]
    rivals = doc.get("instruments_for") or {}
    exogenous = doc.get("exogenous_prices") or []
    rows = [
        ("endogenous price(s)", ", ".join(doc["endogenous"])),
        ("instruments" + (" (own price)" if rivals else ""), ", ".join(doc["instruments"])),
        *((f"instruments for {c}", ", ".join(names)) for c, names in rivals.items()),
        *([("exogenous competitor price(s)", ", ".join(exogenous))] if exogenous else []),
        ("method", str(doc["method"])),
        (
            "first-stage F" + (" (own price)" if rivals else ""),
            f"{_fmt(fs.get('f'), 4)} ({_p(fs.get('f_pvalue'))}); robust "
            f"{_fmt(fs.get('robust_f'), 4)} ({_p(fs.get('robust_f_pvalue'))})"
            + (f" — WEAK (< {doc['weak_threshold']:g})" if fs.get("weak") else ""),
        ),
        (
            "partial R² of the instruments" + (" (own price)" if rivals else ""),
            _fmt(fs.get("partial_r2")),
        ),
        *_per_price_rows(doc),
        (
            "rank tests (F form)",
            f"Kleibergen–Paap {_fmt(fs.get('kleibergen_paap_f'), 4)} (robust); Cragg–Donald "
            f"{_fmt(fs.get('cragg_donald_f'), 4)}",
        ),
    ]
    end = doc.get("endogeneity") or {}
    rows.append(
        (
            "endogeneity test",
            f"{end.get('test', '–')}: {_fmt(end.get('stat'), 4)} ({_p(end.get('pvalue'))})",
        )
    )
    over = doc.get("overidentification")
    if over is None:
        why = "one instrument" if len(doc["endogenous"]) == 1 else "one instrument a price"
        rows.append(("over-identification test", f"none: exactly identified ({why})"))
    elif "sargan" in over:
        rows.append(
            (
                "over-identification test",
                f"Sargan {_fmt(over['sargan'], 4)} ({_p(over['sargan_pvalue'])}); Hansen J "
                f"{_fmt(over['hansen_j'], 4)} ({_p(over['hansen_j_pvalue'])}), df {over['df']}",
            )
        )
    else:
        rows.append(("over-identification test", str(over.get("note", "–"))))
    for c, r in (doc.get("cross") or {}).items():
        o, e = r["ordinary"], r["iv"]
        rows.append(
            (
                f"cross-price {r['kind']} of {c}" + (" (endogenous)" if r["endogenous"] else ""),
                f"ordinary {_fmt(o.get('estimate'))} [{_fmt(o.get('ci_low'))}, "
                f"{_fmt(o.get('ci_high'))}]; IV {_fmt(e.get('estimate'))} "
                f"[{_fmt(e.get('ci_low'))}, {_fmt(e.get('ci_high'))}]",
            )
        )
    for key, label in (("ordinary", "ordinary elasticity"), ("iv", "IV elasticity")):
        el = doc[key]
        rows.append(
            (
                f"{label} ({el['family']})",
                f"{_fmt(el.get('estimate'))} [{_fmt(el.get('ci_low'))}, {_fmt(el.get('ci_high'))}]",
            )
        )
    return rows


def _per_price_rows(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """One row per endogenous price when there are several (SW F, Shea partial R²)."""
    stages = doc.get("first_stages") or {}
    if len(stages) < 2:
        return []
    rows = []
    for name, fs in stages.items():
        rows.append(
            (
                f"first stage of {name}",
                f"F {_fmt(fs.get('f'), 4)}; robust {_fmt(fs.get('robust_f'), 4)}; "
                f"Sanderson–Windmeijer {_fmt(fs.get('sw_f'), 4)} ({_p(fs.get('sw_pvalue'))}); "
                f"Shea partial R² {_fmt(fs.get('shea_partial_r2'))}"
                + (f" — WEAK (< {doc['weak_threshold']:g})" if fs.get("weak") else ""),
            )
        )
    return rows
