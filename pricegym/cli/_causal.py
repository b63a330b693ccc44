"""``pricegym fit --instrument``: instruments on the command line and the fit report's causal part.

::

    pricegym fit sales.csv --price avgprc --units totqty --instrument wave2 --instrument wave3
    pricegym fit sales.csv --cost unit_cost --instrument cost --model loglinear
    pricegym fit --dataset cigar --instrument hausman --model loglinear
    pricegym fit sales.csv --instrument cost --model auto
    pricegym fit sales.csv --instrument cost --instrument-for comp_price=comp_cost --model loglinear

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

The own price is always the endogenous one. ``--instrument-for COMP=NAME[,NAME]``
(repeatable) declares the competitor price column ``COMP`` endogenous too, with
its own instruments (data columns, or ``cost``); the column is loaded as a
competitor price if ``--competitor`` did not name it. The instrumented family then
treats every declared price as endogenous: 2SLS with several endogenous regressors
(all the instruments in every first stage), or a control function with one first
stage and one control term per price; at least as many distinct instruments as
endogenous prices are needed (the order condition, refused otherwise). The fit
table and ``--json`` (``causal.endogenous``) say which prices were treated as
endogenous, with a first stage per price.

The functions here are what :mod:`pricegym.cli` calls; the parser keeps only
the ``--instrument`` option.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pricegym.demand._causal_table import causal_lines
from pricegym.errors import ConfigError

if TYPE_CHECKING:
    from rich.console import Console

    from pricegym.demand.base import DemandModel

__all__ = [
    "AUTO_NOTE",
    "causal_document",
    "causal_lines",
    "endogenous_of",
    "instrument_load_options",
    "instrumented_families",
    "instruments_of",
    "iv_params_of",
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


def endogenous_of(args: argparse.Namespace) -> dict[str, tuple[str, ...]]:
    """``--instrument-for COMP=NAME[,NAME]`` as ``{COMP: (NAME, ...)}`` (empty without any).

    A competitor given twice collects the instruments of both.

    Raises:
        ConfigError: a malformed entry, or competitor instruments without an own-price
            ``--instrument`` (the own price is always endogenous in the IV families).
    """
    out: dict[str, list[str]] = {}
    for text in getattr(args, "instrument_for", None) or ():
        comp, sep, rest = str(text).partition("=")
        names = [n.strip() for n in rest.split(",")]
        if not sep or not comp.strip() or not all(names):
            raise ConfigError(
                f"--instrument-for {text!r} is not COMP=INSTRUMENT (rule: a competitor-price "
                "column, '=', then one or more instrument names separated by commas). Fix: "
                "e.g. --instrument-for comp_price=comp_cost."
            )
        group = out.setdefault(comp.strip(), [])
        group += [n for n in names if n not in group]
    if out and not instruments_of(args):
        first = next(iter(out))
        raise ConfigError(
            f"--instrument-for {first}={','.join(out[first])} declares a competitor price "
            "endogenous, but the own price has no instrument (rule: the instrumented families "
            "always treat the own price as endogenous, so it needs --instrument too). Fix: "
            "add --instrument cost (or another own-price instrument)."
        )
    return {k: tuple(v) for k, v in out.items()}


def iv_params_of(args: argparse.Namespace) -> dict[str, Any]:
    """The IV families' keywords of ``args``: ``instruments`` and, if given, ``endogenous``.

    Empty without ``--instrument``.
    """
    instruments = instruments_of(args)
    endogenous = endogenous_of(args)
    if not instruments:
        return {}
    params: dict[str, Any] = {"instruments": list(instruments)}
    if endogenous:
        params["endogenous"] = {k: list(v) for k, v in endogenous.items()}
    scale = getattr(args, "instrument_scale", None)
    if scale is not None:
        params["instrument_scale"] = scale
    return params


def instrument_load_options(args: argparse.Namespace) -> dict[str, Any]:
    """``load_history`` keywords for the instruments: ``instruments``, ``cost`` and
    ``competitors`` (the competitor prices of ``--instrument-for``, to add to
    ``--competitor``'s).

    The instrument columns to validate (not ``cost`` or ``hausman``) and the cost
    column to map (``--cost COL``, or a column called ``cost`` when ``--instrument
    cost`` was given without ``--cost``); see
    :func:`~pricegym.demand.iv.split_instruments`. With ``--dataset`` only ``cost``
    and ``hausman`` can be used (a bundled data set has no other columns to map).

    Raises:
        ConfigError: a column instrument with ``--dataset``.
    """
    from pricegym.demand.iv import split_instruments

    rivals = endogenous_of(args)
    names = instruments_of(args) + tuple(n for group in rivals.values() for n in group)
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
    return {"instruments": columns, "cost": cost, "competitors": tuple(rivals)}


def instrumented_families(
    family: str,
    families: Sequence[str] | None,
    instruments: Sequence[str],
    endogenous: Mapping[str, Sequence[str]] | None = None,
    scale: str | None = None,
) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
    """``(family, families, params)`` of a fit with ``instruments``.

    Without instruments the arguments pass unchanged (``params`` empty). With
    them, ``family`` becomes its instrumented twin (``auto`` stays ``auto``), the
    ``--families`` of ``auto`` their twins (default: every family that has one),
    and ``params`` is ``{"instruments": [...]}`` for each (with ``"endogenous":
    {COMP: [...]}`` when ``endogenous`` declares competitor prices endogenous, and
    ``"instrument_scale"`` when ``scale`` is given).

    Raises:
        ConfigError: a family without an instrumented twin.
    """
    from pricegym.demand.iv import IV_FAMILIES, iv_family

    if not instruments:
        return family, None if families is None else tuple(families), {}
    params: dict[str, Any] = {"instruments": list(instruments)}
    if endogenous:
        params["endogenous"] = {k: list(v) for k, v in endogenous.items()}
    if scale is not None:
        params["instrument_scale"] = scale
    if family != "auto":
        return iv_family(family), None, params
    chosen = tuple(families) if families else tuple(IV_FAMILIES)
    return family, tuple(dict.fromkeys(iv_family(f) for f in chosen)), params


def causal_document(model: DemandModel) -> dict[str, Any] | None:
    """The fit report's ``causal`` section: the model's ``causal_`` (``None`` if ordinary).

    Keys (see :mod:`pricegym.demand.iv`): ``method``, ``endogenous`` (the prices
    treated as endogenous), ``exogenous_prices``, ``instruments``, ``first_stage``
    (``f``, ``f_pvalue``, ``robust_f``, ``robust_f_pvalue``, ``partial_r2``,
    ``coef``, ``weak``, ``n``, ``k``: the own price's), ``instruments_for`` (competitor
    price → its instruments), ``first_stages`` (endogenous term → its first stage,
    with ``sw_f``, ``sw_pvalue`` and ``shea_partial_r2`` when there are several),
    ``cross`` (competitor → its coefficient by the ordinary and the IV fit),
    ``endogeneity`` (``test``, ``stat``,
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
