"""Stock-outs in a sales history: what the censored periods mean for the other modules.

Light on purpose (numpy only): the base model, market validation and off-policy
evaluation import it without loading the censored families' statsmodels code.
A period is censored when :attr:`~pricegym.demand.data.SalesHistory.censored`
says so: its units reached the stock on hand, or its stock-out flag is 1.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from pricegym.errors import CensoringWarning

__all__ = ["CENSORED_FAMILIES", "cap_at_stock", "censoring_text", "warn_uncensored_fit"]

#: The families whose likelihood handles censored periods, by the uncensored family
#: a user would otherwise fit (suggested in the warnings).
CENSORED_FAMILIES: dict[str, str] = {
    "poisson": "censored_poisson",
    "linear": "censored_poisson",
    "negbin": "censored_negbin",
    "loglinear": "tobit",
}


def censoring_text(history: Any) -> str | None:
    """``"N of M periods (x%) sold out"`` for a history with censored periods, else ``None``."""
    if not getattr(history, "has_stock", False) or not history.n_rows:
        return None
    n = int(history.censored.sum())
    if n == 0:
        return None
    share = n / history.n_rows
    return f"{n} of {history.n_rows} periods ({share:.0%}) of {history.source} sold out"


def warn_uncensored_fit(history: Any, model: str) -> None:
    """Warn :class:`~pricegym.errors.CensoringWarning` when ``history`` has censored periods
    and ``model`` (a family that does not handle them) is fitted to it."""
    text = censoring_text(history)
    if text is None:
        return
    warnings.warn(
        f"{text}: their units are a lower bound of demand (sales were capped by stock), but "
        f"{model} fits them as demand, so demand is underestimated there and the price "
        "effect is biased toward zero. Fix: fit a censored family (--model censored_poisson, "
        "censored_negbin, or tobit for log-linear demand; pricegym.demand.censored).",
        CensoringWarning,
        stacklevel=3,
    )


def cap_at_stock(simulated: np.ndarray, history: Any) -> np.ndarray:
    """Simulated demand ``(n_paths, n_rows)`` turned into sales: capped at each row's stock.

    Realised sales never exceed the stock on hand, so a market's simulated *demand* is
    comparable to them only after the same cap; without a ``stock`` column it is
    returned unchanged.
    """
    if "stock" not in getattr(history, "frame", {}):
        return simulated
    return np.minimum(simulated, history.column("stock")[None, :])
