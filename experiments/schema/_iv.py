"""``market.model.instruments``: an experiment's demand model fitted with instruments.

``model: {family: loglinear, instruments: [cost]}`` is the YAML form of ``pricegym
fit --model loglinear --instrument cost``: the family becomes its instrumented twin
(:data:`~pricegym.demand.iv.IV_FAMILIES`) with ``params.instruments`` set, and the
instrument columns that are columns of a data file (not ``cost`` or ``hausman``)
are loaded and validated with the rest of ``market.data`` (``load_history``'s
``instruments``; ``cost`` maps a column called ``cost`` when ``market.data.cost``
does not name one). Bundled and synthetic histories take only ``cost`` and
``hausman``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pricegym.errors import ConfigError
from pricegym.experiments.schema._common import _error
from pricegym.experiments.schema._specs import DataSpec, ModelSpec

__all__ = ["instrumented_model", "load_instrument_columns"]


def instrumented_model(
    raw: Any, path: str, family: str, params: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """``(family, params)`` of a ``market.model`` entry with ``instruments: raw``.

    ``raw`` ``None`` returns the arguments unchanged.

    Raises:
        ConfigError: not a list of names, given with ``params.instruments`` too, or a
            family without an instrumented twin.
    """
    from pricegym.demand.iv import iv_family

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
    return twin, {**params, "instruments": list(dict.fromkeys(names))}


def load_instrument_columns(data: DataSpec, models: tuple[ModelSpec, ...]) -> DataSpec:
    """``data`` with every model's column instruments added to its ``load`` keywords.

    Raises:
        ConfigError: a column instrument for a bundled or synthetic history.
    """
    from pricegym.demand.iv import split_instruments

    names = [n for m in models for n in (m.params.get("instruments") or ())]
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
    if not load["instruments"]:
        del load["instruments"]
    return dataclasses.replace(data, load=load)
