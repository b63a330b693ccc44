"""Parametric learners of a linear demand curve, for many independent runs at once.

A seller facing expected demand λ(p) = a − b·p on [p_min, p_max] (a, b unknown,
units observed with noise) and unit cost m has the optimal price
p* = (a/b + m)/2. Two learners of the dynamic-pricing literature, one row per run:

- :class:`BatchGreedyIntercept` — the slope b is known and only a is learned:
  â_t = mean_s (d_s + b·p_s), then charge the certainty-equivalent price
  clip((â_t/b + m)/2). Every price is informative about a (the demand curves of
  different a never cross: Broder & Rusmevichientong 2012's "well-separated"
  case), so greedy pricing learns: E(â_t − a)² = Var(d)/t and the regret grows
  like log T.
- :class:`BatchCILS` — a and b both unknown: ordinary least squares on the
  prices and units seen so far, and the certainty-equivalent price, but
  constrained to differ from the running mean price by at least κ·t^(−1/4)
  (Keskin & Zeevi 2014's constrained iterated least squares). Without the
  constraint the greedy prices can settle where the data cannot tell the slope
  (incomplete learning, den Boer & Zwart 2014); with it the price dispersion
  grows like √t and the regret like √T (up to a logarithm).

Both hold running sums only (O(runs) memory), so 10⁵ periods × 10³ runs are
cheap. They do not bind to an env: the caller passes the units sold back.
"""

from __future__ import annotations

import math

import numpy as np

from pricegym.errors import ConfigError

__all__ = ["BatchCILS", "BatchGreedyIntercept"]


def _bounds(p_min: float, p_max: float) -> tuple[float, float]:
    lo, hi = float(p_min), float(p_max)
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 <= lo < hi):
        raise ConfigError(f"price range [{p_min!r}, {p_max!r}] must be finite, 0 <= p_min < p_max.")
    return lo, hi


def _runs(runs: int) -> int:
    if isinstance(runs, bool) or int(runs) != runs or runs < 1:
        raise ConfigError(f"runs={runs!r} must be an integer >= 1.")
    return int(runs)


class BatchGreedyIntercept:
    """Greedy certainty-equivalent pricing with a known slope b (see the module docstring).

    The first period charges ``start``; afterwards clip((â_t/b + cost)/2, p_min, p_max).

    Parameters:
        runs: number of runs.
        slope: the known b > 0.
        p_min, p_max: the allowed prices.
        cost: unit cost m.
        start: the first price (default: the middle of the range).

    Learned attributes: ``intercept_`` (â per run; NaN before any data), ``t_``.
    """

    def __init__(
        self,
        runs: int,
        slope: float,
        p_min: float,
        p_max: float,
        cost: float = 0.0,
        start: float | None = None,
    ) -> None:
        self.runs = _runs(runs)
        if not (math.isfinite(float(slope)) and float(slope) > 0):
            raise ConfigError(f"slope={slope!r} must be finite and > 0 (the known b).")
        self.slope = float(slope)
        self.p_min, self.p_max = _bounds(p_min, p_max)
        self.cost = float(cost)
        self.start = 0.5 * (self.p_min + self.p_max) if start is None else float(start)
        self._sum = np.zeros(self.runs)
        self.t_ = 0

    @property
    def intercept_(self) -> np.ndarray:
        """â_t per run (NaN before the first observation)."""
        return self._sum / self.t_ if self.t_ else np.full(self.runs, np.nan)

    def act(self) -> np.ndarray:
        """Prices, shape (runs,)."""
        if self.t_ == 0:
            return np.full(self.runs, self.start)
        p = 0.5 * (self.intercept_ / self.slope + self.cost)
        return np.clip(p, self.p_min, self.p_max)

    def update(self, prices: np.ndarray, units: np.ndarray) -> None:
        """Learn one period: run r charged ``prices[r]`` and sold ``units[r]``."""
        self._sum += units + self.slope * prices
        self.t_ += 1


class BatchCILS:
    """Constrained iterated least squares (Keskin & Zeevi 2014) for linear demand.

    Periods 1 and 2 charge p_min + ¼(p_max − p_min) and p_max − ¼(p_max − p_min)
    (two distinct prices make the slope estimable). From then on, with (â, b̂) the
    OLS fit of units on price and p̄ the mean price so far, the greedy price is
    φ = clip((â/b̂ + cost)/2) (p_max when b̂ ≤ 0: demand not falling in price); the
    charged price is φ when |φ − p̄| ≥ κ·t^(−1/4), else p̄ ± κ·t^(−1/4) on φ's side,
    or on the other side when φ's side leaves the range (then clipped to the range).

    Parameters:
        runs: number of runs.
        p_min, p_max: the allowed prices.
        cost: unit cost.
        kappa: κ > 0, the size of the forced deviation.

    Learned attributes: ``intercept_``, ``slope_`` (the OLS fit, as the positive b̂ of
    a − b̂·p), ``t_``.
    """

    def __init__(
        self, runs: int, p_min: float, p_max: float, cost: float = 0.0, kappa: float = 0.1
    ) -> None:
        self.runs = _runs(runs)
        self.p_min, self.p_max = _bounds(p_min, p_max)
        self.cost = float(cost)
        if not (math.isfinite(float(kappa)) and float(kappa) > 0):
            raise ConfigError(f"kappa={kappa!r} must be finite and > 0 (the forced deviation).")
        self.kappa = float(kappa)
        z = np.zeros(self.runs)
        self._sp, self._spp, self._sd, self._spd = z.copy(), z.copy(), z.copy(), z.copy()
        self.t_ = 0

    def _fit(self) -> tuple[np.ndarray, np.ndarray]:
        n = float(self.t_)
        mean_p, mean_d = self._sp / n, self._sd / n
        sxx = self._spp - n * mean_p**2
        sxy = self._spd - n * mean_p * mean_d
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = np.where(sxx > 0, -sxy / sxx, np.nan)
        return mean_d + slope * mean_p, slope

    @property
    def intercept_(self) -> np.ndarray:
        """â of the OLS fit (NaN before two distinct prices)."""
        return self._fit()[0] if self.t_ >= 2 else np.full(self.runs, np.nan)

    @property
    def slope_(self) -> np.ndarray:
        """b̂ of the OLS fit λ = â − b̂·p (NaN before two distinct prices)."""
        return self._fit()[1] if self.t_ >= 2 else np.full(self.runs, np.nan)

    def act(self) -> np.ndarray:
        """Prices, shape (runs,)."""
        span = self.p_max - self.p_min
        if self.t_ < 2:
            p0 = self.p_min + 0.25 * span if self.t_ == 0 else self.p_max - 0.25 * span
            return np.full(self.runs, p0)
        a, b = self._fit()
        with np.errstate(divide="ignore", invalid="ignore"):
            greedy = np.where(b > 0, 0.5 * (a / b + self.cost), self.p_max)
        greedy = np.clip(greedy, self.p_min, self.p_max)
        mean_p = self._sp / self.t_
        gap = greedy - mean_p
        step = self.kappa * self.t_ ** (-0.25)
        side = np.where(gap >= 0, 1.0, -1.0)
        forced = mean_p + side * step
        # a deviation that leaves the range goes to the other side of p̄ (clipping it would
        # let the prices pile up at a bound and stop the dispersion from growing)
        outside = (forced > self.p_max) | (forced < self.p_min)
        forced = np.clip(np.where(outside, mean_p - side * step, forced), self.p_min, self.p_max)
        return np.where(np.abs(gap) >= step, greedy, forced)

    def update(self, prices: np.ndarray, units: np.ndarray) -> None:
        """Learn one period: run r charged ``prices[r]`` and sold ``units[r]``."""
        self._sp += prices
        self._spp += prices * prices
        self._sd += units
        self._spd += prices * units
        self.t_ += 1
