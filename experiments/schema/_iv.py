"""``market.model.instruments``: an experiment's demand model fitted with instruments.

``model: {family: loglinear, instruments: [cost]}`` is the YAML form of ``pricegym
fit --model loglinear --instrument cost``: the family becomes its instrumented twin
(:data:`~pricegym.demand.iv.IV_FAMILIES`) with ``params.instruments`` set, and the
instrument columns that are columns of a data file (not ``cost`` or ``hausman``)
are loaded and validated with the rest of ``market.data`` (``load_history``'s
``instruments``; ``cost`` maps a column called ``cost`` when ``market.data.cost``
does not name one). Bundled and synthetic histories take only ``cost`` and
``hausman``.

``endogenous: {comp_price: [comp_cost]}`` (with ``instruments``) is the YAML form of
``--instrument-for comp_price=comp_cost``: the competitor price is treated as
endogenous too (``params.endogenous``), its instrument columns are loaded like the
others, and the competitor column is added to ``market.data.competitors``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pricegym.errors import ConfigError
from pricegym.experiments.schema._common import _error
from pricegym.experiments.schema._specs import DataSpec, ModelSpec

__all__ = ["instrumented_model", "load_instrument_columns"]


def instrumented_model(
    raw: Any, path: str, family: str, params: dict[str, Any], endogenous: Any = None
) -> tuple[str, dict[str, Any]]:
    """``(family, params)`` of a ``market.model`` entry with ``instruments: raw``
    (and ``endogenous: endogenous``).

    ``raw`` ``None`` (and no ``endogenous``) returns the arguments unchanged.

    Raises:
        ConfigError: not a list of names, given with ``params.instruments`` too, a
            family without an instrumented twin, or ``endogenous`` that is not a mapping
            of competitor columns to instrument names, or without ``instruments``.
    """
    from pricegym.demand.iv import iv_family  # statsmodels, scipy, pandas

    if raw is None and endogenous is not None:
        raise _error(
            f"{path}.endogenous",
            endogenous,
            "declares competitor prices endogenous, but the own price has no instruments (the "
            "instrumented families always treat the own price as endogenous)",
            "add instruments: [cost] (or another own-price instrument)",
        )
    if raw is None:
        return family, params
    names = [raw] if isinstance(raw, str) else raw
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise _error(
            f"{path}.instruments",
            raw,
            "must be a non-empty list of instrument names (data columns, cost or hausman)",
            "e.g. instruments: [cost]",
        )
    if "instruments" in params:
        raise _error(
            f"{path}.instruments",
            raw,
            f"the instruments are given twice (also {path}.params.instruments = "
            f"{params['instruments']!r})",
            "keep one of them",
        )
    try:
        twin = iv_family(family)
    except ConfigError as exc:
        raise _error(
            f"{path}.instruments", raw, f"family {family!r} cannot use them ({exc})", "see above"
        ) from None
    out = {**params, "instruments": list(dict.fromkeys(names))}
    if endogenous is not None:
        out["endogenous"] = _endogenous(endogenous, f"{path}.endogenous", params)
    return twin, out


def _endogenous(raw: Any, path: str, params: dict[str, Any]) -> dict[str, list[str]]:
    """``market.model.endogenous`` checked: competitor column -> instrument names."""
    if "endogenous" in params:
        raise _error(
            path,
            raw,
            f"the endogenous prices are given twice (also {path[: -len('endogenous')]}params."
            f"endogenous = {params['endogenous']!r})",
            "keep one of them",
        )
    ok = isinstance(raw, dict) and bool(raw)
    out: dict[str, list[str]] = {}
    for comp, value in raw.items() if ok else ():
        names = [value] if isinstance(value, str) else value
        if not (isinstance(comp, str) and comp and isinstance(names, list) and names) or not all(
            isinstance(n, str) and n for n in names
        ):
            ok = False
            break
        if "hausman" in names:
            raise _error(
                f"{path}.{comp}",
                value,
                "hausman is built from the own price, so it does not instrument a competitor price",
                "use a shifter of the competitor price (its cost column)",
            )
        out[comp] = list(dict.fromkeys(names))
    if not ok:
        raise _error(
            path,
            raw,
            "must map each endogenous competitor-price column to a non-empty list of "
            "instrument names (data columns or cost)",
            "e.g. endogenous: {comp_price: [comp_cost]}",
        )
    return out


def load_instrument_columns(data: DataSpec, models: tuple[ModelSpec, ...]) -> DataSpec:
    """``data`` with every model's column instruments added to its ``load`` keywords.

    Raises:
        ConfigError: a column instrument for a bundled or synthetic history.
    """
    from pricegym.demand.iv import split_instruments  # statsmodels, scipy, pandas

    names = [n for m in models for n in (m.params.get("instruments") or ())]
    rivals = [c for m in models for c in (m.params.get("endogenous") or {})]
    names += [n for m in models for g in (m.params.get("endogenous") or {}).values() for n in g]
    if not names:
        return data
    columns, cost = split_instruments(names, data.load.get("cost"))
    if data.path is None:
        if columns:
            raise _error(
                "market.model.instruments",
                list(columns),
                f"a {'bundled' if data.dataset else 'synthetic'} history is already mapped and "
                "has no such column (only cost where it has one, and hausman for a panel)",
                "use instruments: [hausman] or [cost], or a data file (market.data.path) with "
                "that column",
            )
        return data
    load = dict(data.load)
    known = list(load.get("instruments") or ())
    load["instruments"] = list(dict.fromkeys([*known, *columns]))
    if cost is not None:
        load["cost"] = cost
    if rivals:  # an endogenous competitor price is a competitor column of the history
        load["competitors"] = list(dict.fromkeys([*(load.get("competitors") or ()), *rivals]))
    if not load["instruments"]:
        del load["instruments"]
    return dataclasses.replace(data, load=load)
