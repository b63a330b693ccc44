"""``market.validate``: held-out validation of an experiment's fitted markets.

``validate: {holdout: 20%, paths: 1000}`` asks the runner to score every market
fitted to ``market.data`` on the last periods of its history, as ``pricegym
validate`` does (:mod:`pricegym.demand.validation`): refit the model's family on
the earlier periods, replay the held-out prices, competitor prices and calendar,
simulate ``paths`` sales paths and score the real sales. It is **on by default**
for data markets: the refit and the simulation cost about as much as the fit
stage (milliseconds to seconds for the regression families, a second fit for the
neural and ARIMAX ones), a small part of a run that trains agents, and a report
that ranks policies in a market should say how far that market reproduces
held-out sales. ``validate: false`` turns it off. Other sources (a saved model, a
registered env, a parametric truth, an oligopoly) carry no history to hold out,
so the key is refused there.
"""

from __future__ import annotations

from typing import Any

from pricegym.errors import ConfigError
from pricegym.experiments.schema import _keys
from pricegym.experiments.schema._common import _error, _Section

__all__ = ["DEFAULT_VALIDATION", "parse_validation"]

#: The settings a data market is validated with when ``market.validate`` is left out.
DEFAULT_VALIDATION: dict[str, Any] = {"holdout": "20%", "paths": 1000}


def parse_validation(raw: Any, source: str) -> dict[str, Any] | None:
    """The resolved ``market.validate`` of a market from ``source`` (``None``: off).

    ``raw`` is the YAML value: left out (``None``) or ``true`` give the defaults for a
    data market, ``false`` turns validation off, a mapping overrides ``holdout`` /
    ``paths``.

    Raises:
        ConfigError: a value that is neither a mapping nor a bool, a bad hold-out or
            number of paths, or validation asked of a market without a history.
    """
    from pricegym.demand.validation import parse_holdout  # pandas, numpy

    if raw is False:
        return None
    if source != "data":
        if raw is None:
            return None
        raise _error(
            "market.validate",
            raw,
            f"held-out validation refits a market's model on its sales history, and a market "
            f"from market.{source} has none",
            "drop market.validate (for a saved model: pricegym validate MODEL.json DATA)",
        )
    if raw is None or raw is True:
        return dict(DEFAULT_VALIDATION)
    if not isinstance(raw, dict):
        raise _error(
            "market.validate",
            raw,
            "must be a mapping of holdout and paths, or false",
            "write validate: {holdout: 20%, paths: 1000} (or validate: false)",
        )
    sec = _Section(raw, "market.validate", _keys.keys("market.validate"), "held-out validation")
    out = dict(DEFAULT_VALIDATION)
    if sec.has("holdout"):
        holdout = sec.raw("holdout")
        try:
            if isinstance(holdout, bool):
                raise ConfigError("a bool is not a hold-out")
            parse_holdout(holdout)
        except ConfigError:
            raise _error(
                "market.validate.holdout",
                holdout,
                "must be a share of the periods strictly between 0% and 100% (20%, 0.2) or a "
                "whole number of periods >= 1",
                "e.g. holdout: 20% or holdout: 12",
            ) from None
        out["holdout"] = holdout
    out["paths"] = sec.get_int("paths", out["paths"], minimum=100, example=1000)
    return out
