"""Price-grid bandits for many independent runs at once (one row per run).

Reproductions and regret curves need hundreds of independent runs of the same
bandit over 10⁴–10⁶ periods; playing :class:`~pricegym.agents.bandits.UCB1` or
:class:`~pricegym.agents.bandits.ThompsonSampling` one run and one period at a
time through an env costs ~50 µs a step in Python. The classes here hold the
same learned statistics as arrays of shape (runs, prices) and apply the same rule
to every row in one numpy operation.

- :class:`BatchUCB1` plays exactly what :class:`~pricegym.agents.bandits.UCB1`
  plays on the same reward stream: untried prices first in index order, then
  ``argmax(mean + scale·sqrt(2 ln n / n_k))`` with ties to the lowest index, with
  the same floating-point operations in the same order (``math.log`` of the
  common count n, IEEE ``sqrt`` and division), so the chosen indices are equal
  (``tests/test_batched_bandits.py`` checks them against the agent).
- :class:`BatchPoissonThompson` is the Gamma–Poisson Thompson sampling of
  :class:`~pricegym.agents.bandits.ThompsonSampling` (``likelihood="poisson"``):
  the same posterior updates (a += units, b += 1) and the same decision (argmax
  of (price − cost)·drawn rate), but all runs draw from one generator, so a row
  is a valid Thompson run, not the agent's run with the agent's seed.

Neither class binds to an env: the caller owns the market (a vectorised
simulation) and passes rewards (UCB1) or units (Thompson) back.
"""

from __future__ import annotations

import math

import numpy as np

from pricegym.errors import ConfigError

__all__ = ["BatchPoissonThompson", "BatchUCB1"]


def _shape(runs: int, n_prices: int) -> tuple[int, int]:
    for name, value in (("runs", runs), ("n_prices", n_prices)):
        if isinstance(value, bool) or int(value) != value or value < 1:
            raise ConfigError(f"{name}={value!r} must be an integer >= 1.")
    return int(runs), int(n_prices)


class BatchUCB1:
    """UCB1 (Auer, Cesa-Bianchi & Fischer 2002) for ``runs`` independent runs.

    Every row follows :class:`~pricegym.agents.bandits.UCB1`'s rule with the
    given ``scale``: try the prices in index order, then charge
    ``argmax_k mean_k + scale·sqrt(2 ln n / n_k)`` (n updates so far, n_k at price
    k; lowest index on ties). All rows are updated every period, so n is common.

    Parameters:
        runs: number of independent runs (rows).
        n_prices: number of prices (arms).
        scale: the reward range the bonus is scaled to (> 0).

    Learned attributes: ``counts_`` and ``means_`` (runs, n_prices), ``t_``.
    """

    def __init__(self, runs: int, n_prices: int, scale: float) -> None:
        self.runs, self.n_prices = _shape(runs, n_prices)
        s = float(scale)
        if not (math.isfinite(s) and s > 0):
            raise ConfigError(f"scale={scale!r} must be finite and > 0 (the reward range).")
        self.scale = s
        self.counts_ = np.zeros((self.runs, self.n_prices))
        self.means_ = np.zeros((self.runs, self.n_prices))
        self.t_ = 0
        self._rows = np.arange(self.runs)

    def indices(self) -> np.ndarray:
        """Upper confidence bounds (runs, n_prices); inf for untried prices."""
        n = max(float(self.t_), 1.0)
        with np.errstate(divide="ignore"):
            bonus = self.scale * np.sqrt(2.0 * math.log(n) / self.counts_)
        return np.where(self.counts_ > 0, self.means_ + bonus, np.inf)

    def act(self) -> np.ndarray:
        """The price index of every run, shape (runs,)."""
        if self.t_ < self.n_prices:  # every row tries the prices in index order
            return np.full(self.runs, self.t_, dtype=np.intp)
        return np.argmax(self.indices(), axis=1)

    def update(self, arms: np.ndarray, rewards: np.ndarray) -> None:
        """Learn one period: run r charged price ``arms[r]`` and earned ``rewards[r]``."""
        rows = self._rows
        self.counts_[rows, arms] += 1.0
        self.t_ += 1
        m = self.means_[rows, arms]
        self.means_[rows, arms] = m + (rewards - m) / self.counts_[rows, arms]


class BatchPoissonThompson:
    """Gamma–Poisson Thompson sampling on a price grid for ``runs`` independent runs.

    Units at price k are Poisson(λ_k) with λ_k ~ Gamma(shape a_k, rate b_k);
    each period every run draws λ from its posterior and charges
    ``argmax_k (price_k − cost)·λ_k`` (lowest index on ties), then updates the
    price charged: a += units, b += 1.

    Parameters:
        prices: the grid, shape (n_prices,), or one grid per run, shape (runs, n_prices).
        runs: number of runs.
        cost: unit cost.
        prior_a: Gamma shape of every price's prior (> 0).
        prior_b: Gamma rate of every price's prior (> 0).
        rng: the one generator all runs draw from.

    Learned attributes: ``a_``, ``b_`` (runs, n_prices), ``t_``.
    """

    def __init__(
        self,
        prices: np.ndarray,
        runs: int,
        cost: float,
        prior_a: float,
        prior_b: float,
        rng: np.random.Generator,
    ) -> None:
        grid = np.asarray(prices, dtype=np.float64)
        if grid.ndim not in (1, 2) or grid.size < 1 or (grid.ndim == 2 and grid.shape[0] != runs):
            raise ConfigError(
                f"prices has shape {grid.shape}; pass a 1-D grid or one row per run ({runs}, n)."
            )
        self.runs, self.n_prices = _shape(runs, grid.shape[-1])
        for name, v in (("prior_a", prior_a), ("prior_b", prior_b)):
            if not (math.isfinite(float(v)) and float(v) > 0):
                raise ConfigError(f"{name}={v!r} must be finite and > 0.")
        self.values = np.broadcast_to(grid - float(cost), (self.runs, self.n_prices))
        self.a_ = np.full((self.runs, self.n_prices), float(prior_a))
        self.b_ = np.full((self.runs, self.n_prices), float(prior_b))
        self.rng = rng
        self.t_ = 0
        self._rows = np.arange(self.runs)

    def act(self) -> np.ndarray:
        """One posterior draw per run and price; the best drawn profit's index, shape (runs,)."""
        drawn = self.rng.gamma(self.a_, 1.0 / self.b_)
        return np.argmax(self.values * drawn, axis=1)

    def update(self, arms: np.ndarray, units: np.ndarray) -> None:
        """Learn one period: run r sold ``units[r]`` at price ``arms[r]``."""
        self.a_[self._rows, arms] += units
        self.b_[self._rows, arms] += 1.0
        self.t_ += 1
