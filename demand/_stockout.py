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
    "expected_sales",
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
        "a censored family, so its demand is not biased by the stock-outs"
        if handles
        else "fitted as if the capped sales were demand: biased low where stock ran out; "
        "fit a censored family (--reward-family censored_poisson)"
    )
    if "stock" in history.frame:
        return (
            f"{text}: their rewards are sales capped by the stock, so every estimator values "
            "the target policy under the logged stock limits (not with unlimited stock); DM "
            "and DR use the demand model's expected sales min(demand, stock) in each period "
            f"({model})."
        )
    return (
        f"{text}: their rewards are sales capped by the stock, so IPW and SNIPW value the "
        "target policy under the logged stock limits (demand beyond the stock is never "
        "seen), while DM and DR's model term use uncapped demand (no stock column to cap "
        f"it; {model}). A policy that sells out more often than the seller did is overrated "
        "by DM and underrated by IPW. Fix: map the stock on hand (--stock-col COL)."
    )


def expected_sales(noise: Any, mean: np.ndarray, stock: np.ndarray | None) -> np.ndarray:
    """``E[min(Y, stock)]``: expected *sales* when demand ``Y`` has ``mean`` and ``noise``.

    Closed forms (written by hand: scipy has the distributions, not their limited
    expectations), with ``f = floor(stock)`` for counts:

    - poisson: ``mu · P(Y <= f − 1) + stock · P(Y > f)`` (since ``y·p(y; mu) = mu·p(y − 1; mu)``);
    - negbin (NB2, size ``r = 1/alpha``, ``q = r/(r + mu)``): the same with
      ``P(Y' <= f − 1)`` for ``Y' ~ NB(r + 1, q)`` (``y·p(y; r, q) = mu·p(y − 1; r + 1, q)``);
    - lognormal (``log Y ~ N(m, sigma²)``, ``m = log mu − sigma²/2``):
      ``mu · Φ((log s − m − sigma²)/sigma) + s · (1 − Φ((log s − m)/sigma))``.

    ``stock=None`` returns ``mean`` (no stock limit).
    """
    mu = np.maximum(np.asarray(mean, dtype=np.float64), 0.0)
    if stock is None:
        return mu
    from scipy import stats

    mu, s = np.broadcast_arrays(mu, np.asarray(stock, dtype=np.float64))
    kind = getattr(noise, "kind", "poisson")
    if kind == "lognormal" and getattr(noise, "sigma", 0.0) > 0:
        sigma = float(noise.sigma)
        with np.errstate(divide="ignore"):
            m = np.log(mu) - 0.5 * sigma**2
            z = (np.log(s) - m) / sigma
        return mu * stats.norm.cdf(z - sigma) + s * stats.norm.sf(z)
    if kind == "lognormal":
        return np.minimum(mu, s)
    f = np.floor(s)
    alpha = float(getattr(noise, "alpha", 0.0)) if kind == "negbin" else 0.0
    if alpha > 0:
        r = 1.0 / alpha
        q = r / (r + mu)
        return mu * stats.nbinom.cdf(f - 1, r + 1, q) + s * stats.nbinom.sf(f, r, q)
    return mu * stats.poisson.cdf(f - 1, mu) + s * stats.poisson.sf(f, mu)
