"""``pricegym fit --instrument``: instruments on the command line and the fit report's causal part.

::

    pricegym fit sales.csv --price avgprc --units totqty --instrument wave2 --instrument wave3
    pricegym fit sales.csv --cost unit_cost --instrument cost --model loglinear
    pricegym fit --dataset cigar --instrument hausman --model loglinear
    pricegym fit sales.csv --instrument cost --model auto

``--instrument NAME`` (repeatable) names a column of the file (loaded and
validated like the other columns), ``cost`` (the history's cost column: the one
mapped with ``--cost COL``, or a column called ``cost``) or ``hausman`` (built
from a panel: the leave-one-out mean price of the same product in the other
markets of the period). With instruments, each family is fitted as its
instrumented twin (:data:`~pricegym.demand.iv.IV_FAMILIES`: ``linear`` →
``linear_iv``, ``loglinear`` → ``loglinear_iv``, ``poisson`` → ``poisson_cf``,
``arimax`` → ``arimax_cf``, ``neural`` → ``neural_cf``);
``--model auto`` compares those twins on the backtest and says that a better
forecast is not a better causal estimate.

The functions here are what :mod:`pricegym.cli` calls; the parser keeps only
the ``--instrument`` option.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pricegym.errors import ConfigError

if TYPE_CHECKING:
    from rich.console import Console

    from pricegym.demand.base import DemandModel

__all__ = [
    "AUTO_NOTE",
    "causal_document",
    "causal_lines",
    "instrument_load_options",
    "instrumented_families",
    "instruments_of",
    "render_causal",
]

#: Said whenever ``--model auto`` ranks instrumented families by forecast error.
AUTO_NOTE = (
    "--model auto ranked the instrumented families by backtest error: a better forecast is "
    "not a better causal estimate (an ordinary and an IV model can forecast equally well "
    "and disagree on the price response), so read the causal check below, not the league "
    "table, for the elasticity."
)


def instruments_of(args: argparse.Namespace) -> tuple[str, ...]:
    """The ``--instrument`` names in the order given, each once (empty without any)."""
    names = [str(n).strip() for n in getattr(args, "instrument", None) or ()]
    empty = [n for n in names if not n]
    if empty:
        raise ConfigError(
            "--instrument was given an empty name (rule: a column of the data, 'cost' or "
            "'hausman'). Fix: e.g. --instrument cost."
        )
    return tuple(dict.fromkeys(names))


def instrument_load_options(args: argparse.Namespace) -> dict[str, Any]:
    """``load_history`` keywords for the instruments: ``instruments`` and ``cost``.

    The instrument columns to validate (not ``cost`` or ``hausman``) and the cost
    column to map (``--cost COL``, or a column called ``cost`` when ``--instrument
    cost`` was given without ``--cost``); see
    :func:`~pricegym.demand.iv.split_instruments`. With ``--dataset`` only ``cost``
    and ``hausman`` can be used (a bundled data set has no other columns to map).

    Raises:
        ConfigError: a column instrument with ``--dataset``.
    """
    from pricegym.demand.iv import split_instruments

    names = instruments_of(args)
    columns, cost = split_instruments(names, getattr(args, "cost", None))
    if getattr(args, "dataset", None) is not None:
        if columns:
            raise ConfigError(
                f"--instrument {', '.join(columns)}: bundled data sets are already mapped and "
                f"have no such column (rule: with --dataset an instrument is 'hausman' for a "
                "panel, or 'cost' where the data set has a cost column). Fix: --instrument "
                "hausman, or load a file with that column (`pricegym fit sales.csv "
                f"--instrument {columns[0]}`)."
            )
        return {}
    return {"instruments": columns, "cost": cost}


def instrumented_families(
    family: str, families: Sequence[str] | None, instruments: Sequence[str]
) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
    """``(family, families, params)`` of a fit with ``instruments``.

    Without instruments the arguments pass unchanged (``params`` empty). With
    them, ``family`` becomes its instrumented twin (``auto`` stays ``auto``), the
    ``--families`` of ``auto`` their twins (default: every family that has one),
    and ``params`` is ``{"instruments": [...]}`` for each.

    Raises:
        ConfigError: a family without an instrumented twin.
    """
    from pricegym.demand.iv import IV_FAMILIES, iv_family

    if not instruments:
        return family, None if families is None else tuple(families), {}
    params = {"instruments": list(instruments)}
    if family != "auto":
        return iv_family(family), None, params
    chosen = tuple(families) if families else tuple(IV_FAMILIES)
    return family, tuple(dict.fromkeys(iv_family(f) for f in chosen)), params


def causal_document(model: DemandModel) -> dict[str, Any] | None:
    """The fit report's ``causal`` section: the model's ``causal_`` (``None`` if ordinary).

    Keys (see :mod:`pricegym.demand.iv`): ``method``, ``endogenous`` (the prices
    treated as endogenous), ``exogenous_prices``, ``instruments``, ``first_stage``
    (``f``, ``f_pvalue``, ``robust_f``, ``robust_f_pvalue``, ``partial_r2``,
    ``coef``, ``weak``, ``n``, ``k``), ``endogeneity`` (``test``, ``stat``,
    ``pvalue``, ``df``), ``overidentification`` (``None`` when exactly
    identified), ``ordinary`` and ``iv`` (the two elasticities with their
    intervals and families), ``bias`` (ordinary − IV) and ``verdict``, plus
    ``weak_threshold`` (the F below which the warning fires). Non-finite numbers
    are left for the caller's JSON cleaning.
    """
    from pricegym.demand.iv import WEAK_F

    causal = getattr(model, "causal_", None)
    if causal is None:
        return None
    return {**causal, "weak_threshold": WEAK_F}


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
    rows = [
        ("endogenous price(s)", ", ".join(doc["endogenous"])),
        ("instruments", ", ".join(doc["instruments"])),
        ("method", str(doc["method"])),
        (
            "first-stage F",
            f"{_fmt(fs.get('f'), 4)} ({_p(fs.get('f_pvalue'))}); robust "
            f"{_fmt(fs.get('robust_f'), 4)} ({_p(fs.get('robust_f_pvalue'))})"
            + (f" — WEAK (< {doc['weak_threshold']:g})" if fs.get("weak") else ""),
        ),
        ("partial R² of the instruments", _fmt(fs.get("partial_r2"))),
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
        rows.append(("over-identification test", "none: exactly identified (one instrument)"))
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
    for key, label in (("ordinary", "ordinary elasticity"), ("iv", "IV elasticity")):
        el = doc[key]
        rows.append(
            (
                f"{label} ({el['family']})",
                f"{_fmt(el.get('estimate'))} [{_fmt(el.get('ci_low'))}, {_fmt(el.get('ci_high'))}]",
            )
        )
    return rows


def render_causal(console: Console, doc: dict[str, Any] | None) -> None:
    """Print the causal table and its verdict (nothing for an ordinary model)."""
    if doc is None:
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Causal check (price endogeneity)", title_justify="left")
    table.add_column("check")
    table.add_column("result")
    for label, value in causal_lines(doc):
        table.add_row(Text(label), Text(value))
    console.print(table)
    console.print(f"Verdict: {doc['verdict']}", markup=False)
