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

- :class:`BatchInventoryThompson` is the inventory-constrained Thompson sampling
  of :class:`~pricegym.agents.bandits.InventoryThompsonSampling` (Bernoulli
  likelihood, shut-off price), its LP solved for all runs at once by
  :func:`inventory_lp_mix`; like the Thompson class it shares one generator, so
  it is compared with the agent in distribution (mean regret), not run by run.

None of the classes binds to an env: the caller owns the market (a vectorised
simulation) and passes rewards (UCB1) or units (Thompson) back.
"""

from __future__ import annotations

import math

import numpy as np

from pricegym.errors import ConfigError

__all__ = ["BatchInventoryThompson", "BatchPoissonThompson", "BatchUCB1", "inventory_lp_mix"]


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


def inventory_lp_mix(values: np.ndarray, demand: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Row-wise optimum x of ``max Σ v·d·x  s.t.  Σ d·x ≤ rate, Σ x ≤ 1, x ≥ 0``.

    ``values`` and ``demand`` have shape (runs, n), ``rate`` (runs,); returns x of
    shape (runs, n) (the rest of the probability, 1 − Σ x, is "no sale"). Hand-written
    for speed (``linprog`` costs ~3 ms a row): with two constraints an optimal basic
    solution is x = 0, one price alone at min(1, rate/d_k), or two prices with both
    constraints binding, so the best of these candidates is the LP optimum (checked
    against ``scipy.optimize.linprog`` in ``tests/test_batched_bandits.py``).
    """
    v = np.asarray(values, dtype=np.float64)
    d = np.maximum(np.asarray(demand, dtype=np.float64), 0.0)
    c = np.asarray(rate, dtype=np.float64)[:, None]
    runs, n = d.shape
    rows = np.arange(runs)
    with np.errstate(divide="ignore", invalid="ignore"):
        alone = np.where(d > 0, np.minimum(1.0, c / d), 1.0)  # (runs, n)
    best_value = (v * d * alone).max(axis=1)
    best_x = np.zeros((runs, n))
    k_alone = (v * d * alone).argmax(axis=1)
    best_x[rows, k_alone] = alone[rows, k_alone]
    none = best_value <= 0.0
    best_x[none] = 0.0
    best_value = np.maximum(best_value, 0.0)
    for k in range(n):
        for j in range(k + 1, n):
            dk, dj = d[:, k], d[:, j]
            with np.errstate(divide="ignore", invalid="ignore"):
                xk = (c[:, 0] - dj) / (dk - dj)
            ok = np.isfinite(xk) & (xk >= 0.0) & (xk <= 1.0)
            value = np.where(ok, v[:, k] * dk * xk + v[:, j] * dj * (1.0 - xk), -np.inf)
            better = value > best_value
            if better.any():
                best_value = np.where(better, value, best_value)
                best_x[better] = 0.0
                best_x[better, k] = xk[better]
                best_x[better, j] = 1.0 - xk[better]
    return best_x


class BatchInventoryThompson:
    """Inventory-constrained Thompson sampling (Ferreira, Simchi-Levi & Wang 2018), batched.

    One customer per period buys at price k with unknown probability θ_k ~ Beta(a_k,
    b_k). Each period every run with stock left draws θ, solves the LP of
    :func:`inventory_lp_mix` with rate c = stock / periods left (``"update"``) or
    initial stock / horizon (``"fixed"``), and charges price k with probability x_k
    (no sale — the shut-off price — with the rest); it then updates the price charged
    (a += sale, b += 1 − sale). A run whose stock is gone charges the shut-off price.
    The rule of :class:`~pricegym.agents.bandits.InventoryThompsonSampling` with the
    Bernoulli likelihood; all runs draw from one generator.

    Parameters:
        prices: the grid without the shut-off price, shape (n,).
        runs: number of runs.
        inventory: initial stock per run.
        horizon: periods per season.
        inventory_rate: ``"update"`` or ``"fixed"``.
        rng: the one generator.

    Learned attributes: ``a_``, ``b_`` (runs, n), ``stock_`` (runs,), ``t_``.
    """

    def __init__(
        self,
        prices: np.ndarray,
        runs: int,
        inventory: float,
        horizon: int,
        inventory_rate: str,
        rng: np.random.Generator,
    ) -> None:
        grid = np.asarray(prices, dtype=np.float64)
        self.runs, self.n_prices = _shape(runs, grid.size)
        if inventory_rate not in ("update", "fixed"):
            raise ConfigError(f"inventory_rate={inventory_rate!r} must be 'update' or 'fixed'.")
        if not (math.isfinite(float(inventory)) and float(inventory) >= 0):
            raise ConfigError(f"inventory={inventory!r} must be finite and >= 0.")
        self.prices = grid
        self.inventory = float(inventory)
        self.horizon = _shape(1, horizon)[1]
        self.inventory_rate = inventory_rate
        self.rng = rng
        self.a_ = np.ones((self.runs, self.n_prices))
        self.b_ = np.ones((self.runs, self.n_prices))
        self.stock_ = np.full(self.runs, self.inventory)
        self.t_ = 0
        self._rows = np.arange(self.runs)

    def act(self) -> np.ndarray:
        """Price index per run, shape (runs,); ``n_prices`` stands for the shut-off price."""
        theta = self.rng.beta(self.a_, self.b_)
        if self.inventory_rate == "update":
            rate = self.stock_ / max(self.horizon - self.t_, 1)
        else:
            rate = np.full(self.runs, self.inventory / self.horizon)
        x = inventory_lp_mix(np.broadcast_to(self.prices, theta.shape), theta, rate)
        u = self.rng.random(self.runs)
        arms = (np.cumsum(x, axis=1) <= u[:, None]).sum(axis=1)  # n_prices = no sale
        return np.where(self.stock_ > 0, arms, self.n_prices)

    def update(self, arms: np.ndarray, sales: np.ndarray) -> None:
        """Learn one period: run r charged ``arms[r]`` (n_prices = shut-off), sold ``sales[r]``."""
        priced = arms < self.n_prices
        rows, k = self._rows[priced], arms[priced]
        self.a_[rows, k] += sales[priced]
        self.b_[rows, k] += 1.0 - sales[priced]
        self.stock_ -= sales
        self.t_ += 1
