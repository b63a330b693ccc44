"""Exogenous competitor price processes for a batch of B markets.

A demand kernel may depend on competitor prices (the columns
``kernel.spec.competitors``, m of them). Inside a market those prices follow a
:class:`~pricegym.envs.config.CompetitorConfig`; :class:`CompetitorProcess`
advances one such process for B markets at once, in numpy, drawing all randomness
from the generator passed to each call. It is shared, unchanged, by the single
env (:class:`~pricegym.envs.market.PricingEnv`) and the batched env.

Kinds (the price of period k = 0, 1, ... of a market, counted from its last reset):

- ``"fixed"``: period k's prices are the starting prices (default: the kernel's
  reference competitor prices, i.e. their means in the fitted data). No randomness.
- ``"random_walk"``: the log price is a Gaussian random walk started at
  ``log(prices)`` with step s.d. ``sigma``, reflected into ``[log low, log high]``.
  Period 0 is the starting price; every :meth:`CompetitorProcess.step` draws one
  standard normal per (market, column) — ``rng.standard_normal((B, m))`` — for the
  move to the next period. The reflection folds the unbounded walk ``y`` into the
  interval (``fold(y) = a + w − |((y − a) mod 2w) − w|`` with ``a = log low``,
  ``w = log high − log low``), which has exactly the transition law of a walk
  reflected at the bounds at every step, and lets a whole path be drawn at once.
- ``"replay"``: period k is row ``k mod n`` of ``path`` (n rows): every market
  starts at row 0 after a reset and cycles (``prices`` is not used). No randomness.

With m = 0 (a kernel without competitor columns) every call returns shape
``(B, 0)`` and draws nothing.
"""

from __future__ import annotations

import numpy as np

from pricegym.demand.kernels import DemandKernel
from pricegym.envs.config import CompetitorConfig
from pricegym.errors import ConfigError

__all__ = ["CompetitorProcess"]

#: Default half-width of the random walk's bounds, relative to the starting price.
DEFAULT_BAND = 0.5


class CompetitorProcess:
    """Batched exogenous competitor prices for B markets (see the module docstring).

    Args:
        config: the process (kind, starting prices, sigma, bounds, replayed path).
        kernel: the demand kernel; its ``spec.competitors`` fixes the columns m and
            its ``reference["competitors"]`` the default starting prices.
        batch_size: number of markets B (>= 1).

    Raises:
        ConfigError: prices, bounds or path whose number of columns differs from the
            kernel's competitor columns, bounds with ``low > high``, or starting prices
            outside the random walk's bounds.

    Attributes:
        names: the competitor columns, in the kernel's order.
        start: starting prices, shape (m,).
        low, high: the range the prices can take, shape (m,) (the random walk's
            bounds, the fixed prices, or the replayed path's column minima/maxima).
    """

    def __init__(self, config: CompetitorConfig, kernel: DemandKernel, batch_size: int) -> None:
        if not isinstance(config, CompetitorConfig):
            raise ConfigError(
                f"competitor={config!r} must be a CompetitorConfig (or a mapping inside the "
                "market config); build one with CompetitorConfig(kind=...)."
            )
        b = int(batch_size)
        if b < 1:
            raise ConfigError(f"batch_size={batch_size!r} must be >= 1 market.")
        self.config = config
        self.kind = config.kind
        self.batch_size = b
        self.names: tuple[str, ...] = tuple(kernel.spec.competitors)
        m = len(self.names)
        self.n_competitors = m
        self.sigma = float(config.sigma)

        start = kernel.reference["competitors"] if config.prices is None else config.prices
        self.start = self._columns(start, "competitor.prices")
        if m and np.any(~np.isfinite(self.start) | (self.start <= 0)):
            raise ConfigError(
                f"competitor.prices={self.start.tolist()!r}: every starting price must be > 0; "
                "pass competitor.prices explicitly."
            )
        self._path = np.empty((1, m))
        if self.kind == "replay":
            path = np.asarray(config.path, dtype=np.float64)
            if path.shape[1] != m:
                raise ConfigError(
                    f"competitor.path has {path.shape[1]} column(s) but the demand model has "
                    f"{m} competitor column(s) {list(self.names)}; pass one column per "
                    "competitor, in that order."
                )
            self._path = path
            self.start = path[0].copy()
            self.low, self.high = path.min(axis=0), path.max(axis=0)
        elif self.kind == "random_walk":
            low = self.start * (1 - DEFAULT_BAND) if config.low is None else config.low
            high = self.start * (1 + DEFAULT_BAND) if config.high is None else config.high
            self.low = self._columns(low, "competitor.low")
            self.high = self._columns(high, "competitor.high")
            if np.any(self.low > self.high):
                raise ConfigError(
                    f"competitor.low={self.low.tolist()!r} > competitor.high="
                    f"{self.high.tolist()!r}: the random walk's range is empty; pass low <= high."
                )
            if np.any((self.start < self.low) | (self.start > self.high)):
                raise ConfigError(
                    f"competitor.prices={self.start.tolist()!r} lie outside the random walk's "
                    f"bounds [{self.low.tolist()!r}, {self.high.tolist()!r}]; start inside them "
                    "or widen competitor.low/high."
                )
        else:
            self.low, self.high = self.start.copy(), self.start.copy()
        self._log_low = np.log(self.low) if m else np.empty(0)
        self._width = (np.log(self.high) - self._log_low) if m else np.empty(0)
        self._current = np.tile(self.start, (b, 1))
        self._walk = np.log(self._current) if m else self._current.copy()
        self._row = np.zeros(b, dtype=np.int64)

    def _columns(self, values: object, name: str) -> np.ndarray:
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
        if arr.shape != (self.n_competitors,):
            raise ConfigError(
                f"{name}={np.asarray(values).tolist()!r} has {arr.size} value(s) but the demand "
                f"model has {self.n_competitors} competitor column(s) {list(self.names)}; pass "
                "one value per competitor, in that order."
            )
        return arr

    def _fold(self, walk: np.ndarray) -> np.ndarray:
        """Prices ``exp(fold(walk))``: the unbounded log walk reflected into the bounds."""
        w = self._width
        safe = np.where(w > 0, w, 1.0)
        folded = self._log_low + w - np.abs(np.mod(walk - self._log_low, 2.0 * safe) - w)
        return np.exp(np.where(w > 0, folded, self._log_low))

    # ---------------------------------------------------------------- protocol
    def reset(self, rng: np.random.Generator, mask: np.ndarray | None = None) -> None:
        """Return the markets where ``mask`` is true (all when ``None``) to period 0.

        Period 0's prices are the starting prices (row 0 for ``"replay"``). No
        randomness is drawn; ``rng`` is taken for a uniform interface.
        """
        if mask is None:
            rows: np.ndarray | slice = slice(None)
        else:
            rows = np.asarray(mask, dtype=bool).reshape(-1)
            if rows.shape != (self.batch_size,):
                raise ValueError(
                    f"mask has shape {np.shape(mask)}, expected ({self.batch_size},): one flag "
                    "per market."
                )
        self._current[rows] = self.start
        if self.n_competitors:
            self._walk[rows] = np.log(self.start)
        self._row[rows] = 0

    def step(self, rng: np.random.Generator) -> np.ndarray:
        """This period's prices, shape (B, m), then advance every market one period."""
        out = self._current.copy()
        if not self.n_competitors:
            return out
        if self.kind == "random_walk":
            self._walk = self._walk + self.sigma * rng.standard_normal(self._walk.shape)
            self._current = self._fold(self._walk)
        elif self.kind == "replay":
            self._row += 1
            self._current = self._path[self._row % self._path.shape[0]]
        return out

    def path(self, rng: np.random.Generator, n_periods: int) -> np.ndarray:
        """The next ``n_periods`` periods' prices at once, shape (n_periods, B, m).

        Identical — values, randomness drawn and the state left behind — to
        ``np.stack([self.step(rng) for _ in range(n_periods)])``, but vectorised over
        periods (one ``standard_normal((n_periods, B, m))`` draw for a random walk).
        """
        n = int(n_periods)
        if n < 0:
            raise ValueError(f"n_periods={n_periods!r} must be >= 0.")
        b, m = self._current.shape
        if not m or n == 0:
            return np.empty((n, b, m))
        if self.kind == "fixed":
            return np.broadcast_to(self._current, (n, b, m)).copy()
        if self.kind == "replay":
            rows = (self._row[None, :] + np.arange(n)[:, None]) % self._path.shape[0]
            self._row = self._row + n
            self._current = self._path[self._row % self._path.shape[0]]
            return self._path[rows]
        steps = self.sigma * rng.standard_normal((n, b, m))
        walk = np.cumsum(np.concatenate([self._walk[None], steps]), axis=0)
        out = np.empty((n, b, m))
        out[0] = self._current
        if n > 1:
            out[1:] = self._fold(walk[1:n])
        self._walk = walk[n]
        self._current = self._fold(self._walk)
        return out
