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

__all__ = [
    "CENSORED_FAMILIES",
    "cap_at_stock",
    "censoring_text",
    "holdout_censoring_note",
    "offpolicy_censoring_text",
    "warn_uncensored_fit",
]

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


def holdout_censoring_note(test: Any) -> str:
    """The sentence market validation adds to its verdict for held-out sold-out periods
    (``""`` when there are none)."""
    text = censoring_text(test)
    if text is None:
        return ""
    if "stock" in test.frame:
        return (
            f" Stock-outs: {text.replace(' of ' + str(test.source), ' held out')}; the "
            "simulated demand is capped at each period's stock before scoring, so sales are "
            "compared with sales."
        )
    return (
        f" Stock-outs: {text.replace(' of ' + str(test.source), ' held out')}, but no stock "
        "column is mapped: their actual sales are capped while the simulated demand is not, "
        "so coverage, PIT and revenue bias there read the market as too high. Fix: map the "
        "stock on hand (--stock-col COL) so that simulated sales are capped too."
    )


def offpolicy_censoring_text(history: Any, reward_model: Any) -> str | None:
    """The off-policy warning for logged sold-out periods (``None`` when there are none)."""
    text = censoring_text(history)
    if text is None:
        return None
    handles = bool(getattr(reward_model, "handles_censoring", False))
    model = (
        "a censored family: demand as if stock were unlimited"
        if handles
        else "fitted as if the capped sales were demand: biased low where stock ran out"
    )
    return (
        f"{text}: their rewards are sales capped by the stock, so IPW and SNIPW estimate what "
        "the target policy earns under the same stock limits (demand beyond the stock is "
        f"never seen), while DM and DR's model term use the demand model ({model}). A policy "
        "that sells out more often than the seller did is overrated by DM and underrated by "
        "IPW; read DM against IPW/DR with that in mind."
    )
