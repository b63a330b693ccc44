"""The logging policy of off-policy evaluation: known, or estimated from the logged prices.

Used by :mod:`pricegym.experiments.offpolicy` (see its docstring). A logging policy
gives, for each logged row, the density (on a grid: the probability) of any price in
that row's context: :class:`LogNormalLogging` for continuous prices (statsmodels
OLS of the log price), :class:`GridLogging` on a price grid (scikit-learn's
multinomial logit, or frequencies without context). Context features:
:func:`context_features`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from pricegym.errors import ConfigError, ModelError, NotFittedError

__all__ = ["GridLogging", "LogNormalLogging", "LoggingPolicy", "context_features", "grid_codes"]

#: Relative tolerance for a price to count as a grid price.
_GRID_RTOL = 1e-6


def _gaussian(u: np.ndarray) -> np.ndarray:
    return np.exp(-(u**2) / 2.0) / math.sqrt(2.0 * math.pi)


# ==================================================================== logging policies
class LoggingPolicy(Protocol):
    """A (known or fitted) logging policy: density (grid: probability) of prices per row."""

    def density(self, history: Any, prices: np.ndarray) -> np.ndarray:
        """The logging density (grid: probability) of ``prices[i]`` in row i's context."""
        ...


def context_features(history: Any) -> tuple[np.ndarray, list[str]]:
    """Log competitor prices, promotions and one seasonal harmonic of each row (no constant)."""
    cols: list[np.ndarray] = []
    names: list[str] = []
    for name in history.competitors:
        cols.append(np.log(history.frame[name].to_numpy(dtype=np.float64)))
        names.append(f"log {name}")
    for name in history.promotions:
        cols.append(history.frame[name].to_numpy(dtype=np.float64))
        names.append(name)
    period = history.season_period
    if period:
        angle = 2.0 * math.pi * history.t / float(period)
        cols += [np.sin(angle), np.cos(angle)]
        names += ["season sin", "season cos"]
    if not cols:
        return np.empty((history.n_rows, 0)), []
    x = np.column_stack(cols)
    keep = np.ptp(x, axis=0) > 0  # a constant column duplicates the intercept
    return x[:, keep], [n for n, k in zip(names, keep, strict=True) if k]


@dataclass
class LogNormalLogging:
    """Estimated continuous logging policy: ``log price | x ~ Normal(x·β, σ²)`` (OLS).

    ``x`` = 1, the log competitor prices, promotions and one seasonal harmonic
    (:func:`context_features`); fitted with ``statsmodels.OLS`` (``results_`` kept).
    The density of a price ``p`` is ``φ((log p − x·β)/σ) / (σ p)``.
    """

    results_: Any = None
    names_: list[str] = field(default_factory=list)
    sigma_: float = float("nan")

    def fit(self, history: Any) -> LogNormalLogging:
        """Fit to the logged prices of ``history``; returns self."""
        import statsmodels.api as sm

        x, names = context_features(history)
        design = np.column_stack([np.ones(history.n_rows), x])
        self.results_ = sm.OLS(np.log(history.price), design).fit()
        self.names_ = ["const", *names]
        self.sigma_ = float(np.sqrt(self.results_.scale))
        if not self.sigma_ > 0:
            raise ModelError(
                "the logged prices are a deterministic function of the context (residual sd "
                "0): the seller never varied price at a given context, so no importance "
                "weight exists. Fix: use the direct method alone (estimator 'dm')."
            )
        return self

    def density(self, history: Any, prices: np.ndarray) -> np.ndarray:
        """Logging density of ``prices`` (one per row of ``history``)."""
        x, _ = context_features(history)
        design = np.column_stack([np.ones(history.n_rows), x])
        mu = design @ np.asarray(self.results_.params)
        p = np.asarray(prices, dtype=np.float64)
        z = (np.log(p) - mu) / self.sigma_
        return _gaussian(z) / (self.sigma_ * p)

    def window_probability(self, history: Any, prices: np.ndarray, half: float) -> np.ndarray:
        """Logging probability of ``[prices − half, prices + half]`` per row."""
        from scipy.stats import norm

        x, _ = context_features(history)
        mu = np.column_stack([np.ones(history.n_rows), x]) @ np.asarray(self.results_.params)
        p = np.asarray(prices, dtype=np.float64)
        lo = np.log(np.clip(p - half, 1e-300, None))
        return norm.cdf((np.log(p + half) - mu) / self.sigma_) - norm.cdf((lo - mu) / self.sigma_)

    def describe(self) -> str:
        """One line for the output."""
        r2 = float(self.results_.rsquared)
        return (
            f"estimated from the data (the seller's propensities are unknown): log price ~ "
            f"Normal(OLS on {', '.join(self.names_)}; R² {r2:.3f}), σ {self.sigma_:.4g}"
        )


@dataclass
class GridLogging:
    """Estimated logging policy on a price grid: multinomial logit of the grid price.

    Features as :class:`LogNormalLogging` (standardised), scikit-learn's
    ``LogisticRegression`` (lbfgs, default L2 penalty ``C=1``); without features, the
    grid prices' frequencies in the data.
    """

    grid: Sequence[float] = ()
    classifier_: Any = None
    frequencies_: np.ndarray | None = None
    names_: list[str] = field(default_factory=list)
    scale_: tuple[np.ndarray, np.ndarray] | None = None

    def fit(self, history: Any) -> GridLogging:
        """Fit to the logged grid prices of ``history``; returns self."""
        codes = grid_codes(history.price, self.grid, "logged price")
        x, self.names_ = context_features(history)
        if x.shape[1] == 0 or np.unique(codes).size < 2:
            self.frequencies_ = np.bincount(codes, minlength=len(self.grid)) / codes.size
            return self
        from sklearn.linear_model import LogisticRegression

        mean, sd = x.mean(axis=0), x.std(axis=0)
        self.scale_ = (mean, sd)
        self.classifier_ = LogisticRegression(max_iter=1000).fit((x - mean) / sd, codes)
        return self

    def _probabilities(self, history: Any) -> np.ndarray:
        if self.classifier_ is None:
            if self.frequencies_ is None:
                raise NotFittedError("GridLogging has not been fitted; call .fit(history) first.")
            return np.broadcast_to(self.frequencies_, (history.n_rows, len(self.grid)))
        x, _ = context_features(history)
        assert self.scale_ is not None  # fit sets it with classifier_
        mean, sd = self.scale_
        proba = self.classifier_.predict_proba((x - mean) / sd)
        out = np.zeros((history.n_rows, len(self.grid)))
        out[:, self.classifier_.classes_] = proba
        return out

    def density(self, history: Any, prices: np.ndarray) -> np.ndarray:
        """Logging probability of each row's grid price."""
        codes = grid_codes(prices, self.grid, "price")
        return self._probabilities(history)[np.arange(history.n_rows), codes]

    def describe(self) -> str:
        """One line for the output."""
        if self.classifier_ is None:
            return (
                "estimated from the data (the seller's propensities are unknown): the grid "
                "prices' frequencies (no context features)"
            )
        return (
            "estimated from the data (the seller's propensities are unknown): multinomial "
            f"logit of the grid price on {', '.join(self.names_)} (scikit-learn)"
        )


def grid_codes(prices: np.ndarray, grid: Sequence[float], what: str) -> np.ndarray:
    """Index of each price in ``grid`` (relative tolerance 1e-6).

    Raises:
        ConfigError: a price that is not a grid price.
    """
    g = np.asarray(grid, dtype=np.float64)
    p = np.asarray(prices, dtype=np.float64)
    idx = np.argmin(np.abs(p[:, None] - g[None, :]), axis=1)
    off = ~np.isclose(p, g[idx], rtol=_GRID_RTOL, atol=0.0)
    if off.any():
        raise ConfigError(
            f"{what} {p[off][:5].tolist()} (row(s) {np.flatnonzero(off)[:5].tolist()}) not on "
            f"the price grid {g.tolist()}. Fix: pass the grid the prices were chosen from, or "
            "evaluate with continuous prices (grid=None, a kernel)."
        )
    return idx
